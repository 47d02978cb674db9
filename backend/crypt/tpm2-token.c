/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The systemd-tpm2 LUKS2 token: a sealed secret to JSON and back (the
 * JSON is read from a disk header: bounded, every field checked), and the
 * secret as the keyslot passphrase systemd-cryptsetup derives from it. */

#include "config.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <tss2/tss2_esys.h>

#include "json-bounded.h"
#include "macros.h"
#include "secret.h"
#include "tpm2.h"
#include "tpm2-private.h"

JsonObject *
imprint_tpm2_token_new (const ImprintTpm2Sealed *sealed)
{
  JsonObject *o = json_object_new ();
  g_autoptr (JsonArray) pcrs = json_array_new ();
  g_autofree char *blob = g_base64_encode (sealed->blob, sealed->blob_size);
  g_autoptr (GString) hex = g_string_new (NULL);

  for (size_t i = 0; i < sealed->policy_hash_size; i++)
    g_string_append_printf (hex, "%02x", sealed->policy_hash[i]);
  for (int i = 0; i < 24; i++)
    if (sealed->pcr_mask & (UINT32_C (1) << i))
      json_array_add_int_element (pcrs, i);

  /* Field order as systemd's tpm2_make_luks2_json(); "keyslots" is added
   * on import. */
  json_object_set_string_member (o, "type", "systemd-tpm2");
  json_object_set_string_member (o, "tpm2-blob", blob);
  json_object_set_array_member (o, "tpm2-pcrs", g_steal_pointer (&pcrs));
  json_object_set_string_member (o, "tpm2-pcr-bank", imprint_tpm2_hash_alg_to_string (sealed->pcr_bank));
  json_object_set_string_member (o, "tpm2-primary-alg", sealed->primary_alg == TPM2_ALG_RSA ? "rsa" : "ecc");
  json_object_set_string_member (o, "tpm2-policy-hash", hex->str);
  json_object_set_boolean_member (o, "tpm2-pin", sealed->pin);
  /* Signed PCR policy (systemd 252+): the key as base64 of its PEM text. */
  if (sealed->pubkey_pem && sealed->pubkey_pcr_mask != 0)
    {
      g_autoptr (JsonArray) pk_pcrs = json_array_new ();
      g_autofree char *pem64 = g_base64_encode ((const guchar *) sealed->pubkey_pem, strlen (sealed->pubkey_pem));

      for (int i = 0; i < 24; i++)
        if (sealed->pubkey_pcr_mask & (UINT32_C (1) << i))
          json_array_add_int_element (pk_pcrs, i);
      json_object_set_array_member (o, "tpm2_pubkey_pcrs", g_steal_pointer (&pk_pcrs));
      json_object_set_string_member (o, "tpm2_pubkey", pem64);
    }
  return o;
}

/* "tpm2-pcrs": an array of PCR numbers below 24, integers only. */
static int
parse_pcrs (JsonObject *token, uint32_t *ret_mask)
{
  JsonArray *pcrs;
  uint32_t mask = 0;

  if (!json_object_has_member (token, "tpm2-pcrs") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (token, "tpm2-pcrs")))
    return -EBADMSG;
  pcrs = json_object_get_array_member (token, "tpm2-pcrs");
  for (guint i = 0; i < json_array_get_length (pcrs); i++)
    {
      JsonNode *n = json_array_get_element (pcrs, i);
      gint64 v;

      if (json_node_get_value_type (n) != G_TYPE_INT64)
        return -EBADMSG;
      v = json_node_get_int (n);
      if (v < 0 || v >= 24)
        return -EBADMSG;
      mask |= UINT32_C (1) << v;
    }
  *ret_mask = mask;
  return 0;
}

/* The PCR bank and the primary key's algorithm, with the defaults of
 * the fields that came later (systemd 250, 251). */
static int
parse_algs (JsonObject *token, ImprintTpm2Sealed *s)
{
  const char *str;

  str = json_object_get_string_member_with_default (token, "tpm2-pcr-bank", "sha256");
  s->pcr_bank = imprint_tpm2_hash_alg_from_string (str);
  if (s->pcr_bank == 0)
    return -EBADMSG;

  str = json_object_get_string_member_with_default (token, "tpm2-primary-alg", "ecc");
  if (g_ascii_strcasecmp (str, "ecc") == 0)
    s->primary_alg = TPM2_ALG_ECC;
  else if (g_ascii_strcasecmp (str, "rsa") == 0)
    s->primary_alg = TPM2_ALG_RSA;
  else
    return -EBADMSG;
  return 0;
}

/* "tpm2-policy-hash": the SHA-256 policy digest in hex. */
static int
parse_policy_hash (JsonObject *token, ImprintTpm2Sealed *s)
{
  const char *str = json_object_get_string_member_with_default (token, "tpm2-policy-hash", NULL);

  if (!str || strlen (str) != 2 * TPM2_SHA256_DIGEST_SIZE)
    return -EBADMSG;
  for (size_t i = 0; i < TPM2_SHA256_DIGEST_SIZE; i++)
    {
      int hi = g_ascii_xdigit_value (str[2 * i]), lo = g_ascii_xdigit_value (str[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return -EBADMSG;
      s->policy_hash[i] = (uint8_t) (hi << 4 | lo);
    }
  s->policy_hash_size = TPM2_SHA256_DIGEST_SIZE;
  return 0;
}

/* The signed PCR policy's key ("tpm2_pubkey", base64 PEM without NULs)
 * and its PCRs ("tpm2_pubkey_pcrs"), when the token has one. */
static int
parse_pubkey (JsonObject *token, ImprintTpm2Sealed *s)
{
  gsize pem_size = 0;
  g_autofree guchar *pem = NULL;
  JsonNode *pk_pcrs = json_object_get_member (token, "tpm2_pubkey_pcrs");
  const char *str = json_object_get_string_member_with_default (token, "tpm2_pubkey", NULL);

  if (!str)
    return -EBADMSG;
  pem = g_base64_decode (str, &pem_size);
  if (!pem || pem_size == 0 || memchr (pem, 0, pem_size))
    return -EBADMSG;
  if (pk_pcrs)
    {
      JsonArray *a;

      if (!JSON_NODE_HOLDS_ARRAY (pk_pcrs))
        return -EBADMSG;
      a = json_node_get_array (pk_pcrs);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          gint64 v = json_array_get_int_element (a, i);
          if (v < 0 || v >= 24)
            return -EBADMSG;
          s->pubkey_pcr_mask |= UINT32_C (1) << v;
        }
    }
  s->pubkey_pem = g_strndup ((const char *) pem, pem_size);
  return 0;
}

int
imprint_tpm2_token_parse (JsonObject *token, ImprintTpm2Sealed *ret)
{
  static const char *const newer[] = {
    "tpm2_srk", "tpm2_salt", "tpm2_pcrlock", "tpm2_pcrlock_nv",
  };
  ImprintTpm2Sealed s = { 0 };
  const char *str;
  g_autofree guchar *blob = NULL;
  gsize blob_size = 0;
  int r;

  if (!token || g_strcmp0 (json_object_get_string_member_with_default (token, "type", NULL), "systemd-tpm2") != 0)
    return -EINVAL;

  for (size_t i = 0; i < G_N_ELEMENTS (newer); i++)
    if (json_object_has_member (token, newer[i]))
      return -EOPNOTSUPP;

  r = parse_pcrs (token, &s.pcr_mask);
  if (r < 0)
    return r;
  r = parse_algs (token, &s);
  if (r < 0)
    return r;

  s.pin = json_object_get_boolean_member_with_default (token, "tpm2-pin", FALSE);

  str = json_object_get_string_member_with_default (token, "tpm2-blob", NULL);
  if (!str)
    return -EBADMSG;
  blob = g_base64_decode (str, &blob_size);
  if (!blob || blob_size == 0)
    return -EBADMSG;

  r = parse_policy_hash (token, &s);
  if (r < 0)
    return r;
  if (json_object_has_member (token, "tpm2_pubkey"))
    {
      r = parse_pubkey (token, &s);
      if (r < 0)
        return r;
    }

  s.blob = g_steal_pointer (&blob);
  s.blob_size = blob_size;
  *ret = s;
  return 0;
}

int
imprint_tpm2_secret_to_passphrase (const void *secret, size_t size, char **ret)
{
  gint state = 0, save = 0;
  char *b64;
  size_t len;

  if (!secret || size == 0)
    return -EINVAL;

  /* Encoded straight into secret memory: no copy of it on the heap.
   * g_base64_encode_step() wants (len / 3 + 1) * 4 + 4 bytes, and
   * g_base64_encode_close() up to 5 more. */
  if (size / 3 + 1 > (SIZE_MAX - 10) / 4)
    return -ENOMEM;
  b64 = imprint_secret_alloc ((size / 3 + 1) * 4 + 4 + 5 + 1);
  if (b64 == NULL)
    return -ENOMEM;
  len = g_base64_encode_step (secret, size, FALSE, b64, &state, &save);
  len += g_base64_encode_close (FALSE, b64 + len, &state, &save);
  b64[len] = '\0';
  explicit_bzero (&save, sizeof (save));
  *ret = b64;
  return 0;
}

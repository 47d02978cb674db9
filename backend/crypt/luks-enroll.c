/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "json-bounded.h"
#include "luks-enroll.h"
#include "macros.h"
#include "secret.h"

static const struct {
  const char *method;
  const char *token_type;
} method_types[] = {
  { "recovery-key", "systemd-recovery" },
  { "tpm2",         "systemd-tpm2" },
  { "fido2",        "systemd-fido2" },
  { "pkcs11",       "systemd-pkcs11" },
};

const char *
imprint_luks_method_from_token_type (const char *token_type)
{
  if (!token_type)
    return "passphrase";
  for (size_t i = 0; i < ELEMENTSOF (method_types); i++)
    if (g_str_equal (method_types[i].token_type, token_type))
      return method_types[i].method;
  return token_type;
}

const char *
imprint_luks_method_to_token_type (const char *method, bool *ret_known)
{
  bool known = method && g_str_equal (method, "passphrase");
  const char *type = NULL;

  for (size_t i = 0; method && i < ELEMENTSOF (method_types) && !known; i++)
    if (g_str_equal (method_types[i].method, method))
      {
        type = method_types[i].token_type;
        known = true;
      }
  if (ret_known)
    *ret_known = known;
  return type;
}

int
imprint_luks_unlock_tpm2 (struct crypt_device *cd,
                          ImprintTpm2 *tpm,
                          const char *pin,
                          const char *signature_json,
                          char **ret_passphrase)
{
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, last = -ENOENT;

  if (!cd || !tpm || !ret_passphrase)
    return -EINVAL;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  if (r < 0)
    return r;

  for (size_t i = 0; i < n; i++)
    {
      g_autoptr (JsonNode) node = NULL;
      ImprintTpm2Sealed sealed = { 0 };
      char *pass = NULL;
      void *secret = NULL;
      size_t secret_size = 0;

      if (!g_str_equal (tokens[i].type, "systemd-tpm2"))
        continue;

      node = imprint_json_parse (tokens[i].json, NULL);
      if (!node || !JSON_NODE_HOLDS_OBJECT (node))
        {
          last = -EBADMSG;
          continue;
        }
      r = imprint_tpm2_token_parse (json_node_get_object (node), &sealed);
      if (r >= 0)
        r = imprint_tpm2_unseal_full (tpm, &sealed, pin, signature_json, &secret, &secret_size);
      if (r >= 0)
        r = imprint_tpm2_secret_to_passphrase (secret, secret_size, &pass);
      imprint_secret_free (secret);
      imprint_tpm2_sealed_done (&sealed);
      /* The token may be stale (its keyslot replaced): only a passphrase
       * the volume takes counts. */
      if (r >= 0)
        r = imprint_luks_check_passphrase (cd, pass, strlen (pass), NULL);
      if (r >= 0)
        {
          *ret_passphrase = pass;
          last = 0;
          break;
        }
      imprint_secret_freep (&pass);
      last = r;
    }

  imprint_luks_tokens_free (tokens, n);
  return last;
}

int
imprint_luks_add_method (struct crypt_device *cd,
                         const void *unlock, size_t unlock_size,
                         JsonObject *token,
                         const char *passphrase,
                         int *ret_keyslot)
{
  void *vk = NULL;
  size_t vk_size = 0;
  int r, slot = -1, checked = -1;

  if (!cd || !unlock || !passphrase || !*passphrase)
    return -EINVAL;

  r = imprint_luks_volume_key_get (cd, unlock, unlock_size, &vk, &vk_size, NULL);
  if (r < 0)
    return r;
  r = imprint_luks_enroll (cd, vk, vk_size, passphrase, strlen (passphrase),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &slot, NULL);
  imprint_secret_free (vk);
  if (r < 0)
    return r;

  r = imprint_luks_check_passphrase (cd, passphrase, strlen (passphrase), &checked);
  if (r >= 0 && checked != slot)
    r = -EUCLEAN;
  if (r < 0)
    {
      (void) imprint_luks_remove_keyslot (cd, slot);
      return r;
    }

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

static bool
keyslot_active (struct crypt_device *cd, int slot)
{
  crypt_keyslot_info ki = crypt_keyslot_status (cd, slot);
  return ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST;
}

static int
count_active (struct crypt_device *cd)
{
  int n = 0;

  for (int i = 0; i < crypt_keyslot_max (CRYPT_LUKS2); i++)
    if (keyslot_active (cd, i))
      n++;
  return n;
}

int
imprint_luks_remove_method (struct crypt_device *cd,
                            const void *unlock, size_t unlock_size,
                            const char *method,
                            int keyslot,
                            unsigned *ret_removed)
{
  g_autoptr (GArray) victims = g_array_new (FALSE, FALSE, sizeof (int));
  ImprintLuksToken *tokens = NULL;
  const char *type;
  size_t n = 0;
  bool known;
  int r;

  if (!cd || !unlock || !method)
    return -EINVAL;
  type = imprint_luks_method_to_token_type (method, &known);
  if (!known)
    return -EINVAL;

  /* Whoever removes a way in must hold one: the same proof every other
   * change asks for. */
  r = imprint_luks_check_passphrase (cd, unlock, unlock_size, NULL);
  if (r < 0)
    return r;

  if (!type)
    {
      g_autofree int *plain = NULL;

      r = imprint_luks_list_plain_keyslots (cd, &plain, &n);
      if (r < 0)
        return r;
      for (size_t i = 0; i < n; i++)
        if (keyslot < 0 || plain[i] == keyslot)
          g_array_append_val (victims, plain[i]);
    }
  else
    {
      r = imprint_luks_list_tokens (cd, &tokens, &n);
      if (r < 0)
        return r;
      for (size_t i = 0; i < n; i++)
        {
          if (!g_str_equal (tokens[i].type, type))
            continue;
          for (size_t k = 0; k < tokens[i].n_keyslots; k++)
            if ((keyslot < 0 || tokens[i].keyslots[k] == keyslot) &&
                keyslot_active (cd, tokens[i].keyslots[k]))
              g_array_append_val (victims, tokens[i].keyslots[k]);
        }
      imprint_luks_tokens_free (tokens, n);
    }

  if (victims->len == 0)
    return -ENOENT;
  /* Decided before anything is destroyed: never the last way in. */
  if (count_active (cd) <= (int) victims->len)
    return -EBUSY;

  for (guint i = 0; i < victims->len; i++)
    {
      /* Destroys the keyslot and the tokens bound to it. */
      r = imprint_luks_remove_keyslot (cd, g_array_index (victims, int, i));
      if (r < 0)
        return r;
    }

  if (ret_removed)
    *ret_removed = victims->len;
  return 0;
}

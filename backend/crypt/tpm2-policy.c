/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* TPM2 policies as systemd-cryptenroll builds them: PolicyAuthorize over a
 * signed PCR policy (the UKI's .pcrsig/.pcrpkey), PolicyPCR over current
 * values, PolicyAuthValue for a PIN; run as trial sessions to compute a
 * digest, or as real ones to unseal. */

#include "config.h"

#include <errno.h>
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "json-bounded.h"
#include "macros.h"
#include "tpm2.h"
#include "tpm2-private.h"

/* The .pcrpkey (PEM) as the TPM sees it, exactly as systemd 252 builds it
 * (openssl_pubkey_to_tpm2_pubkey): the key's Name goes into the policy
 * digest, so every field matters. Also returns the "pkfp" of signature
 * files: SHA256 of the key's DER encoding from i2d_PublicKey() (for RSA
 * the PKCS#1 RSAPublicKey, as systemd's pubkey_fingerprint()). */
static int
pem_to_tpm2b_public (const char *pem, TPM2B_PUBLIC *ret, uint8_t ret_fp[SHA256_DIGEST_LENGTH])
{
  BIO *bio = BIO_new_mem_buf (pem, -1);
  EVP_PKEY *pk = NULL;
  BIGNUM *n = NULL, *e = NULL;
  unsigned char *der = NULL;
  int der_len, n_bytes, r = -EINVAL;

  if (!bio)
    return -ENOMEM;
  pk = PEM_read_bio_PUBKEY (bio, NULL, NULL, NULL);
  BIO_free (bio);
  if (!pk)
    return -EBADMSG;

  /* systemd 252 accepts RSA keys only. */
  if (EVP_PKEY_base_id (pk) != EVP_PKEY_RSA ||
      !EVP_PKEY_get_bn_param (pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
      !EVP_PKEY_get_bn_param (pk, OSSL_PKEY_PARAM_RSA_E, &e))
    goto finish;

  n_bytes = BN_num_bytes (n);
  if (n_bytes <= 0 || (size_t) n_bytes > sizeof (ret->publicArea.unique.rsa.buffer))
    goto finish;
  /* 252 copies the exponent's big-endian bytes into the 32-bit field,
   * which yields the right number only for the usual 65537. */
  if (!BN_is_word (e, 65537))
    {
      r = -EOPNOTSUPP;
      goto finish;
    }

  *ret = (TPM2B_PUBLIC) { .size = sizeof (TPMT_PUBLIC) };
  ret->publicArea.type = TPM2_ALG_RSA;
  ret->publicArea.nameAlg = TPM2_ALG_SHA256;
  ret->publicArea.objectAttributes = TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH;
  ret->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  ret->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  ret->publicArea.parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS) (n_bytes * 8);
  ret->publicArea.parameters.rsaDetail.exponent = 65537;
  ret->publicArea.unique.rsa.size = (UINT16) n_bytes;
  if (BN_bn2bin (n, ret->publicArea.unique.rsa.buffer) != n_bytes)
    goto finish;

  der_len = i2d_PublicKey (pk, &der);
  if (der_len <= 0)
    goto finish;
  SHA256 (der, (size_t) der_len, ret_fp);
  r = 0;

finish:
  OPENSSL_free (der);
  BN_free (n);
  BN_free (e);
  EVP_PKEY_free (pk);
  return r;
}

static bool
hex_equal (const char *hex, const uint8_t *data, size_t size)
{
  if (!hex || strlen (hex) != size * 2)
    return false;
  for (size_t i = 0; i < size; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0 || (uint8_t) (hi << 4 | lo) != data[i])
        return false;
    }
  return true;
}

/* Finds the signature for (bank, PCR mask, key, policy) in a
 * tpm2-pcr-signature.json as systemd-measure/ukify write it:
 * {"sha256": [{"pcrs": [11], "pkfp": HEX, "pol": HEX, "sig": BASE64}]}. */
static int
find_signature (const char *json, uint16_t bank, uint32_t mask, const uint8_t fp[SHA256_DIGEST_LENGTH],
                const uint8_t *policy, size_t policy_size, guchar **ret_sig, gsize *ret_size)
{
  g_autoptr (JsonNode) root = imprint_json_parse (json, NULL);
  const char *bank_name = imprint_tpm2_hash_alg_to_string (bank);
  JsonObject *o;
  JsonArray *entries;

  if (!root || !JSON_NODE_HOLDS_OBJECT (root) || !bank_name)
    return -EBADMSG;
  o = json_node_get_object (root);
  if (!json_object_has_member (o, bank_name) || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, bank_name)))
    return -ENXIO;
  entries = json_object_get_array_member (o, bank_name);

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonNode *en = json_array_get_element (entries, i);
      JsonObject *e;
      JsonArray *pcrs;
      uint32_t m = 0;

      if (!JSON_NODE_HOLDS_OBJECT (en))
        continue;
      e = json_node_get_object (en);
      if (!json_object_has_member (e, "pcrs") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (e, "pcrs")))
        continue;
      pcrs = json_object_get_array_member (e, "pcrs");
      for (guint k = 0; k < json_array_get_length (pcrs); k++)
        {
          gint64 v = json_array_get_int_element (pcrs, k);
          if (v >= 0 && v < 24)
            m |= UINT32_C (1) << v;
        }
      if (m != mask ||
          !hex_equal (json_object_get_string_member_with_default (e, "pkfp", NULL), fp, SHA256_DIGEST_LENGTH) ||
          !hex_equal (json_object_get_string_member_with_default (e, "pol", NULL), policy, policy_size) ||
          !json_object_get_string_member_with_default (e, "sig", NULL))
        continue;

      *ret_sig = g_base64_decode (json_object_get_string_member (e, "sig"), ret_size);
      return *ret_size > 0 ? 0 : -EBADMSG;
    }
  return -ENXIO;
}

/* A real session: the signature over the approved policy digest from the
 * signature JSON (the UKI's .pcrsig) for this bank, PCRs and key, checked
 * by the TPM against @key; *ret_ticket proves it to PolicyAuthorize. */
static int
verify_policy_signature (ImprintTpm2 *t, ESYS_TR key, const ImprintTpm2PolicySpec *spec,
                         const uint8_t fp[SHA256_DIGEST_LENGTH], const TPM2B_DIGEST *approved,
                         TPMT_TK_VERIFIED **ret_ticket)
{
  g_autofree guchar *sig = NULL;
  gsize sig_size = 0;
  TPM2B_DIGEST hash = { .size = TPM2_SHA256_DIGEST_SIZE };
  TPMT_SIGNATURE signature = {
    .sigAlg = TPM2_ALG_RSASSA,
    .signature.rsassa.hash = TPM2_ALG_SHA256,
  };
  TSS2_RC rc;
  int r;

  if (!spec->signature_json)
    return -ENXIO;
  r = find_signature (spec->signature_json, spec->bank, spec->pubkey_pcr_mask, fp,
                      approved->buffer, approved->size, &sig, &sig_size);
  if (r < 0)
    return r;
  if (sig_size > sizeof (signature.signature.rsassa.sig.buffer))
    return -EBADMSG;
  signature.signature.rsassa.sig.size = (UINT16) sig_size;
  memcpy (signature.signature.rsassa.sig.buffer, sig, sig_size);

  /* The TPM checks the RSA part; the SHA-256 of the policy is ours. */
  SHA256 (approved->buffer, approved->size, hash.buffer);
  rc = Esys_VerifySignature (t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &hash, &signature, ret_ticket);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "VerifySignature");
      return r == -EIO ? -EPERM : r;
    }
  return 0;
}

/* PolicyPCR over the signed PCRs, then PolicyAuthorize of that digest with
 * the key: in a trial session without a ticket (the TPM does not check it
 * there), in a real one with a ticket from VerifySignature. */
static int
apply_signed_policy (ImprintTpm2 *t, ESYS_TR session, bool trial, const ImprintTpm2PolicySpec *spec)
{
  const TPM2B_DIGEST empty = { 0 };
  const TPM2B_NONCE no_ref = { 0 };
  TPM2B_PUBLIC pub;
  uint8_t fp[SHA256_DIGEST_LENGTH];
  ESYS_TR key = ESYS_TR_NONE;
  TPM2B_NAME *name = NULL;
  TPM2B_DIGEST *approved = NULL;
  TPMT_TK_VERIFIED *ticket = NULL;
  TPMT_TK_VERIFIED null_ticket = { .tag = TPM2_ST_VERIFIED, .hierarchy = TPM2_RH_NULL };
  TPML_PCR_SELECTION sel;
  TSS2_RC rc;
  int r;

  r = pem_to_tpm2b_public (spec->pubkey_pem, &pub, fp);
  if (r < 0)
    return r;

  rc = Esys_LoadExternal (t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &pub, ESYS_TR_RH_OWNER, &key);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "LoadExternal");

  rc = Esys_TR_GetName (t->esys, key, &name);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "TR_GetName");
      goto finish;
    }

  imprint_tpm2_pcr_selection (spec->pubkey_pcr_mask, spec->bank, &sel);
  rc = Esys_PolicyPCR (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
  if (rc == TSS2_RC_SUCCESS)
    rc = Esys_PolicyGetDigest (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &approved);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "PolicyPCR(signed)");
      goto finish;
    }

  if (!trial)
    {
      r = verify_policy_signature (t, key, spec, fp, approved, &ticket);
      if (r < 0)
        goto finish;
    }

  rc = Esys_PolicyAuthorize (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             approved, &no_ref, name, ticket ? ticket : &null_ticket);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "PolicyAuthorize");
      goto finish;
    }
  r = 0;

finish:
  Esys_Free (ticket);
  Esys_Free (approved);
  Esys_Free (name);
  imprint_tpm2_flush (t, &key);
  return r;
}

/* Runs the policy commands in session and reads back its digest. */
int
imprint_tpm2_apply_policy (ImprintTpm2 *t, ESYS_TR session, bool trial, const ImprintTpm2PolicySpec *spec,
              uint8_t ret_digest[TPM2_SHA256_DIGEST_SIZE])
{
  TPM2B_DIGEST *digest = NULL;
  TSS2_RC rc;
  int r;

  if (spec->pubkey_pem && spec->pubkey_pcr_mask != 0)
    {
      r = apply_signed_policy (t, session, trial, spec);
      if (r < 0)
        return r;
    }

  if (spec->pcr_mask != 0)
    {
      /* An empty digest: the TPM uses the PCRs' current values. */
      const TPM2B_DIGEST empty = { 0 };
      TPML_PCR_SELECTION sel;

      imprint_tpm2_pcr_selection (spec->pcr_mask, spec->bank, &sel);
      rc = Esys_PolicyPCR (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
      if (rc != TSS2_RC_SUCCESS)
        return imprint_tpm2_tss_error (rc, "PolicyPCR");
    }

  if (spec->pin)
    {
      rc = Esys_PolicyAuthValue (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
      if (rc != TSS2_RC_SUCCESS)
        return imprint_tpm2_tss_error (rc, "PolicyAuthValue");
    }

  rc = Esys_PolicyGetDigest (t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "PolicyGetDigest");

  if (digest->size != TPM2_SHA256_DIGEST_SIZE)
    {
      Esys_Free (digest);
      return -EIO;
    }
  memcpy (ret_digest, digest->buffer, TPM2_SHA256_DIGEST_SIZE);
  Esys_Free (digest);
  return 0;
}

int
imprint_tpm2_start_policy_session (ImprintTpm2 *t, ESYS_TR tpm_key, TPM2_SE type, ESYS_TR *ret)
{
  const TPMT_SYM_DEF sym_aes = {
    .algorithm = TPM2_ALG_AES,
    .keyBits.aes = 128,
    .mode.aes = TPM2_ALG_CFB,
  };
  const TPMT_SYM_DEF sym_null = { .algorithm = TPM2_ALG_NULL };
  TSS2_RC rc;

  rc = Esys_StartAuthSession (t->esys, tpm_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              NULL, type, type == TPM2_SE_TRIAL ? &sym_null : &sym_aes,
                              TPM2_ALG_SHA256, ret);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "StartAuthSession(policy)");
  return 0;
}

int
imprint_tpm2_trial_policy (ImprintTpm2 *t, const ImprintTpm2PolicySpec *spec, uint8_t ret[TPM2_SHA256_DIGEST_SIZE])
{
  ESYS_TR session = ESYS_TR_NONE;
  int r;

  r = imprint_tpm2_start_policy_session (t, ESYS_TR_NONE, TPM2_SE_TRIAL, &session);
  if (r < 0)
    return r;

  r = imprint_tpm2_apply_policy (t, session, true, spec, ret);
  imprint_tpm2_flush (t, &session);
  return r;
}

int
imprint_tpm2_calculate_policy (ImprintTpm2 *t, uint32_t pcr_mask, uint16_t pcr_bank, bool pin,
                               uint8_t ret[TPM2_SHA256_DIGEST_SIZE])
{
  const ImprintTpm2PolicySpec spec = { .pcr_mask = pcr_mask, .bank = pcr_bank, .pin = pin };
  return imprint_tpm2_trial_policy (t, &spec, ret);
}

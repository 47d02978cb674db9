/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Sealing and unsealing with a TPM2, as systemd-cryptenroll does: the
 * primary key, the encrypted session, Create/Load/Unseal with a policy
 * (tpm2-policy.c). Opening the device is tpm2-device.c, the LUKS2 token
 * tpm2-token.c. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <openssl/sha.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "macros.h"
#include "secret.h"
#include "random.h"
#include "tpm2.h"
#include "tpm2-private.h"

/* Maps a TSS2 response code to an errno, logging the decoded text. */
int
imprint_tpm2_tss_error (TSS2_RC rc, const char *what)
{
  TSS2_RC base;

  g_debug ("TPM2 %s failed: %s (0x%" PRIx32 ")", what, Tss2_RC_Decode (rc), rc);

  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
    return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER ? -ENXIO : -EIO;

  /* Format-one codes carry a handle/session/parameter number in the upper
   * bits; strip it to get the error itself. */
  base = (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3f)) : (rc & 0xfff);
  switch (base)
    {
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
      return -EPERM;
    case TPM2_RC_LOCKOUT:
      return -ENOLCK;
    case TPM2_RC_POLICY_FAIL:
    case TPM2_RC_PCR_CHANGED:
      return -ESTALE;
    case TPM2_RC_CURVE:
    case TPM2_RC_ASYMMETRIC:
    case TPM2_RC_HASH:
    case TPM2_RC_KEY_SIZE:
    case TPM2_RC_SYMMETRIC:
      return -EOPNOTSUPP;
    default:
      return -EIO;
    }
}

void
imprint_tpm2_flush (ImprintTpm2 *t, ESYS_TR *h)
{
  if (*h == ESYS_TR_NONE)
    return;
  /* Failures are ignored: a session the TPM already closed leaves an
   * invalid handle, and in error paths there is nothing better to do. */
  (void) Esys_FlushContext (t->esys, *h);
  *h = ESYS_TR_NONE;
}

void
imprint_tpm2_pcr_selection (uint32_t mask, uint16_t bank, TPML_PCR_SELECTION *ret)
{
  /* sizeofSelect 3 (24 PCRs), as systemd: it is part of the marshalled
   * selection and so of the policy digest. */
  *ret = (TPML_PCR_SELECTION) {
    .count = 1,
    .pcrSelections[0] = {
      .hash = bank,
      .sizeofSelect = 3,
      .pcrSelect = { mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff },
    },
  };
}

/* systemd's legacy transient primary key (tpm2_get_legacy_template() /
 * v252 tpm2_make_primary()). Do not change a single field: the key is
 * derived from the template, and a different key cannot load the blob. */
static void
legacy_primary_template (uint16_t alg, TPM2B_PUBLIC *ret)
{
  const TPMA_OBJECT attrs =
    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
  const TPMT_SYM_DEF_OBJECT sym = {
    .algorithm = TPM2_ALG_AES,
    .keyBits.aes = 128,
    .mode.aes = TPM2_ALG_CFB,
  };

  *ret = (TPM2B_PUBLIC) { .size = sizeof (TPMT_PUBLIC) };
  ret->publicArea.type = alg;
  ret->publicArea.nameAlg = TPM2_ALG_SHA256;
  ret->publicArea.objectAttributes = attrs;
  if (alg == TPM2_ALG_ECC)
    {
      ret->publicArea.parameters.eccDetail.symmetric = sym;
      ret->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
      ret->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
      ret->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    }
  else
    {
      ret->publicArea.parameters.rsaDetail.symmetric = sym;
      ret->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
      ret->publicArea.parameters.rsaDetail.keyBits = 2048;
    }
}

static int
create_primary (ImprintTpm2 *t, uint16_t alg, ESYS_TR *ret)
{
  const TPM2B_SENSITIVE_CREATE sensitive = { 0 };
  const TPM2B_DATA outside = { 0 };
  const TPML_PCR_SELECTION creation_pcr = { 0 };
  TPM2B_PUBLIC template;
  TSS2_RC rc;

  legacy_primary_template (alg, &template);
  rc = Esys_CreatePrimary (t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sensitive, &template, &outside, &creation_pcr,
                           ret, NULL, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, alg == TPM2_ALG_ECC ? "CreatePrimary(ECC)" : "CreatePrimary(RSA)");
  return 0;
}

/* An HMAC session salted with the primary key, used to encrypt the secret
 * on its way into and out of the TPM (parameter encryption). */
static int
start_encryption_session (ImprintTpm2 *t, ESYS_TR primary, ESYS_TR *ret)
{
  const TPMT_SYM_DEF sym = {
    .algorithm = TPM2_ALG_AES,
    .keyBits.aes = 128,
    .mode.aes = TPM2_ALG_CFB,
  };
  ESYS_TR s = ESYS_TR_NONE;
  TSS2_RC rc;

  rc = Esys_StartAuthSession (t->esys, primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              NULL, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &s);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "StartAuthSession(HMAC)");

  rc = Esys_TRSess_SetAttributes (t->esys, s,
                                  TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION,
                                  0xff);
  if (rc != TSS2_RC_SUCCESS)
    {
      imprint_tpm2_flush (t, &s);
      return imprint_tpm2_tss_error (rc, "TRSess_SetAttributes");
    }

  *ret = s;
  return 0;
}

static void
hash_pin (const char *pin, TPM2B_AUTH *ret)
{
  /* systemd without tpm2_salt: userAuth = SHA256(PIN as typed). */
  ret->size = TPM2_SHA256_DIGEST_SIZE;
  SHA256 ((const unsigned char *) pin, strlen (pin), ret->buffer);
}

void
imprint_tpm2_sealed_done (ImprintTpm2Sealed *s)
{
  if (!s)
    return;
  g_free (s->blob);
  g_free (s->pubkey_pem);
  if (s->secret)
    imprint_secret_free (s->secret);
  *s = (ImprintTpm2Sealed) { 0 };
}

int
imprint_tpm2_seal (ImprintTpm2 *t, uint32_t pcr_mask, uint16_t pcr_bank, const char *pin,
                   ImprintTpm2Sealed *ret)
{
  const ImprintTpm2SealParams p = { .pcr_mask = pcr_mask, .pcr_bank = pcr_bank, .pin = pin };
  return imprint_tpm2_seal_full (t, &p, ret);
}

/* The bank (the TPM's best for the PCRs when not given), the token's
 * fields and the policy digest, computed in a trial session. */
static int
seal_prepare (ImprintTpm2 *t, const ImprintTpm2SealParams *params, ImprintTpm2Sealed *s)
{
  uint32_t pcr_mask = params->pcr_mask;
  uint16_t pcr_bank = params->pcr_bank;
  uint32_t pubkey_pcr_mask = params->pubkey_pem
    ? (params->pubkey_pcr_mask ? params->pubkey_pcr_mask : IMPRINT_TPM2_DEFAULT_PUBKEY_PCR_MASK)
    : 0;
  ImprintTpm2PolicySpec spec;
  int r;

  if (pcr_mask >= (UINT32_C (1) << 24) || pubkey_pcr_mask >= (UINT32_C (1) << 24))
    return -EINVAL;

  if (pcr_bank == 0)
    {
      ImprintTpm2Info info;

      r = imprint_tpm2_get_info (t, &info);
      if (r < 0)
        return r;
      r = imprint_tpm2_pick_bank (&info, (pcr_mask | pubkey_pcr_mask) ? (pcr_mask | pubkey_pcr_mask) : IMPRINT_TPM2_DEFAULT_PCR_MASK,
                                  &pcr_bank);
      imprint_tpm2_info_done (&info);
      if (r < 0)
        return r;
    }

  s->pcr_mask = pcr_mask;
  s->pcr_bank = pcr_bank;
  s->pin = params->pin != NULL;
  s->policy_hash_size = TPM2_SHA256_DIGEST_SIZE;
  s->pubkey_pcr_mask = pubkey_pcr_mask;
  s->pubkey_pem = g_strdup (params->pubkey_pem);

  spec = (ImprintTpm2PolicySpec) {
    .pcr_mask = pcr_mask,
    .bank = pcr_bank,
    .pin = s->pin,
    .pubkey_pem = params->pubkey_pem,
    .pubkey_pcr_mask = pubkey_pcr_mask,
  };
  return imprint_tpm2_trial_policy (t, &spec, s->policy_hash);
}

/* ECC first, RSA when the TPM cannot do P-256: the alg goes into the
 * token (*ret_alg) so that unlocking recreates the same primary. */
static int
create_seal_primary (ImprintTpm2 *t, uint16_t primary_alg, uint16_t *ret_alg, ESYS_TR *ret)
{
  int r;

  if (primary_alg != 0 && primary_alg != TPM2_ALG_ECC && primary_alg != TPM2_ALG_RSA)
    return -EINVAL;
  *ret_alg = primary_alg ? primary_alg : TPM2_ALG_ECC;
  r = create_primary (t, *ret_alg, ret);
  if (r < 0 && primary_alg == 0)
    {
      *ret_alg = TPM2_ALG_RSA;
      r = create_primary (t, TPM2_ALG_RSA, ret);
    }
  return r;
}

/* The sealed object, as systemd makes it: KEYEDHASH, no scheme, only the
 * policy authorizes use (no USERWITHAUTH), a fresh random secret as its
 * data. s->blob gets its private and public parts marshalled, s->secret
 * the secret (in secret memory). */
static int
create_sealed_object (ImprintTpm2 *t, ESYS_TR primary, ESYS_TR enc, const char *pin, ImprintTpm2Sealed *s)
{
  TPM2B_SENSITIVE_CREATE sensitive = { 0 };
  TPM2B_PUBLIC template = { .size = sizeof (TPMT_PUBLIC) };
  const TPM2B_DATA outside = { 0 };
  const TPML_PCR_SELECTION creation_pcr = { 0 };
  TPM2B_PRIVATE *priv = NULL;
  TPM2B_PUBLIC *pub = NULL;
  uint8_t buf[sizeof (TPM2B_PRIVATE) + sizeof (TPM2B_PUBLIC)];
  size_t off = 0;
  TSS2_RC rc;
  int r;

  template.publicArea.type = TPM2_ALG_KEYEDHASH;
  template.publicArea.nameAlg = TPM2_ALG_SHA256;
  template.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
  template.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  template.publicArea.unique.keyedHash.size = IMPRINT_TPM2_SECRET_SIZE;
  template.publicArea.authPolicy.size = TPM2_SHA256_DIGEST_SIZE;
  memcpy (template.publicArea.authPolicy.buffer, s->policy_hash, TPM2_SHA256_DIGEST_SIZE);

  sensitive.sensitive.data.size = IMPRINT_TPM2_SECRET_SIZE;
  r = imprint_random_bytes (sensitive.sensitive.data.buffer, IMPRINT_TPM2_SECRET_SIZE);
  if (r < 0)
    goto finish;
  if (pin)
    hash_pin (pin, &sensitive.sensitive.userAuth);

  rc = Esys_Create (t->esys, primary, ESYS_TR_PASSWORD, enc, ESYS_TR_NONE,
                    &sensitive, &template, &outside, &creation_pcr,
                    &priv, &pub, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "Create");
      goto finish;
    }

  rc = Tss2_MU_TPM2B_PRIVATE_Marshal (priv, buf, sizeof (buf), &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_PUBLIC_Marshal (pub, buf, sizeof (buf), &off);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "marshalling");
      goto finish;
    }

  s->blob = g_memdup2 (buf, off);
  s->blob_size = off;
  s->secret = (uint8_t *) imprint_secret_memdup0 (sensitive.sensitive.data.buffer, IMPRINT_TPM2_SECRET_SIZE);
  if (s->secret == NULL)
    {
      r = -ENOMEM;
      goto finish;
    }
  s->secret_size = IMPRINT_TPM2_SECRET_SIZE;
  r = 0;

finish:
  explicit_bzero (&sensitive, sizeof (sensitive));
  Esys_Free (priv);
  Esys_Free (pub);
  return r;
}

int
imprint_tpm2_seal_full (ImprintTpm2 *t, const ImprintTpm2SealParams *params, ImprintTpm2Sealed *ret)
{
  ESYS_TR primary = ESYS_TR_NONE, enc = ESYS_TR_NONE;
  ImprintTpm2Sealed s = { 0 };
  int r;

  r = seal_prepare (t, params, &s);
  if (r >= 0)
    r = create_seal_primary (t, params->primary_alg, &s.primary_alg, &primary);
  if (r >= 0)
    r = start_encryption_session (t, primary, &enc);
  if (r >= 0)
    r = create_sealed_object (t, primary, enc, params->pin, &s);
  if (r >= 0)
    {
      *ret = s;
      s = (ImprintTpm2Sealed) { 0 };
      r = 0;
    }
  imprint_tpm2_flush (t, &enc);
  imprint_tpm2_flush (t, &primary);
  imprint_tpm2_sealed_done (&s);
  return r;
}

int
imprint_tpm2_unseal (ImprintTpm2 *t, const ImprintTpm2Sealed *sealed, const char *pin,
                     void **ret_secret, size_t *ret_secret_size)
{
  return imprint_tpm2_unseal_full (t, sealed, pin, NULL, ret_secret, ret_secret_size);
}

/* Runs the sealed object's policy in the real session @policy. As
 * systemd: a digest other than the one sealed means the PCRs moved on;
 * say so (-ESTALE) instead of letting Unseal fail with a policy error. */
static int
satisfy_unseal_policy (ImprintTpm2 *t, const ImprintTpm2Sealed *sealed, const char *signature_json,
                       ESYS_TR policy)
{
  const ImprintTpm2PolicySpec spec = {
    .pcr_mask = sealed->pcr_mask,
    .bank = sealed->pcr_bank,
    .pin = sealed->pin,
    .pubkey_pem = sealed->pubkey_pem,
    .pubkey_pcr_mask = sealed->pubkey_pcr_mask,
    .signature_json = signature_json,
  };
  uint8_t digest[TPM2_SHA256_DIGEST_SIZE];
  int r;

  r = imprint_tpm2_apply_policy (t, policy, false, &spec, digest);
  if (r < 0)
    return r;
  if (sealed->policy_hash_size > 0 &&
      (sealed->policy_hash_size != sizeof (digest) || memcmp (digest, sealed->policy_hash, sizeof (digest)) != 0))
    return -ESTALE;
  return 0;
}

/* Unseal itself, with the PIN as the object's auth when it has one (the
 * PIN only counts when the policy has PolicyAuthValue). */
static int
unseal_object (ImprintTpm2 *t, ESYS_TR object, ESYS_TR policy, ESYS_TR enc, const char *pin,
               void **ret_secret, size_t *ret_secret_size)
{
  TPM2B_SENSITIVE_DATA *out = NULL;
  void *secret;
  TSS2_RC rc;

  if (pin)
    {
      TPM2B_AUTH auth;

      hash_pin (pin, &auth);
      rc = Esys_TR_SetAuth (t->esys, object, &auth);
      explicit_bzero (&auth, sizeof (auth));
      if (rc != TSS2_RC_SUCCESS)
        return imprint_tpm2_tss_error (rc, "TR_SetAuth");
    }

  rc = Esys_Unseal (t->esys, object, policy, enc, ESYS_TR_NONE, &out);
  if (rc != TSS2_RC_SUCCESS)
    return imprint_tpm2_tss_error (rc, "Unseal");

  /* Esys hands the secret back in its own malloc()ed TPM2B: copy it into
   * secret memory at once and wipe Esys's copy before Esys_Free(). */
  secret = imprint_secret_memdup0 (out->buffer, out->size);
  explicit_bzero (out->buffer, out->size);
  if (secret == NULL)
    {
      Esys_Free (out);
      return -ENOMEM;
    }
  *ret_secret = secret;
  *ret_secret_size = out->size;
  Esys_Free (out);
  return 0;
}

int
imprint_tpm2_unseal_full (ImprintTpm2 *t, const ImprintTpm2Sealed *sealed, const char *pin,
                          const char *signature_json, void **ret_secret, size_t *ret_secret_size)
{
  ESYS_TR primary = ESYS_TR_NONE, enc = ESYS_TR_NONE, object = ESYS_TR_NONE, policy = ESYS_TR_NONE;
  TPM2B_PRIVATE priv = { 0 };
  TPM2B_PUBLIC pub = { 0 };
  size_t off = 0;
  TSS2_RC rc;
  int r;

  if (!sealed || !sealed->blob || (sealed->pin && !pin))
    return sealed && sealed->pin && !pin ? -ENOANO : -EINVAL;

  rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal (sealed->blob, sealed->blob_size, &off, &priv);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal (sealed->blob, sealed->blob_size, &off, &pub);
  if (rc != TSS2_RC_SUCCESS)
    {
      (void) imprint_tpm2_tss_error (rc, "unmarshalling");
      return -EBADMSG;
    }

  r = create_primary (t, sealed->primary_alg, &primary);
  if (r < 0)
    return r;

  rc = Esys_Load (t->esys, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &object);
  if (rc != TSS2_RC_SUCCESS)
    {
      r = imprint_tpm2_tss_error (rc, "Load");
      goto finish;
    }

  r = start_encryption_session (t, primary, &enc);
  if (r < 0)
    goto finish;

  r = imprint_tpm2_start_policy_session (t, primary, TPM2_SE_POLICY, &policy);
  if (r < 0)
    goto finish;

  r = satisfy_unseal_policy (t, sealed, signature_json, policy);
  if (r < 0)
    goto finish;
  r = unseal_object (t, object, policy, enc, sealed->pin ? pin : NULL, ret_secret, ret_secret_size);

finish:
  imprint_tpm2_flush (t, &policy);
  imprint_tpm2_flush (t, &enc);
  imprint_tpm2_flush (t, &object);
  imprint_tpm2_flush (t, &primary);
  return r;
}

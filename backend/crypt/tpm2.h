/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* TPM2 sealing on tpm2-tss (ESAPI), producing "systemd-tpm2" LUKS2 tokens
 * that systemd-cryptsetup 252 and newer unlock (src/shared/tpm2-util.c):
 *
 *  - the secret is sealed under the "legacy" transient primary key that
 *    systemd re-creates when a token has no tpm2_srk field (owner
 *    hierarchy, ECC NIST P-256 tried first, RSA-2048 as fallback; exactly
 *    systemd's template, since the primary key derives from it);
 *  - the sealed object's policy is PolicyPCR(pcrs, bank) [+ PolicyAuthValue
 *    with userAuth = SHA256(PIN)], no salt: 252 knows neither tpm2_salt nor
 *    tpm2_srk, and newer versions still honour tokens without them;
 *  - the 32 unsealed bytes, base64-encoded (44 characters), are the LUKS2
 *    keyslot passphrase.
 *
 * Every transient object and session is flushed before returning: there
 * may be no resource manager (swtpm, "device:/dev/tpm0").
 *
 * Errors: negative errno. -ENODEV no TPM, -EPERM wrong PIN, -ESTALE the
 * PCR values differ from the sealed policy, -ENOLCK TPM in dictionary
 * attack lockout, -EOPNOTSUPP a needed algorithm/bank is missing, -EIO
 * other TPM failures (details in the debug log). */

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

typedef struct ImprintTpm2 ImprintTpm2;

#define IMPRINT_TPM2_SECRET_SIZE 32
#define IMPRINT_TPM2_DEFAULT_PCR_MASK (UINT32_C (1) << 7)
#define IMPRINT_TPM2_MAX_BANKS 8

typedef enum {
  IMPRINT_TPM2_DEVICE_DEFAULT = 0,
  /* The emulator TCTIs "swtpm:conf" and "mssim:conf" may be named. They
   * talk to whatever listens on a TCP endpoint of the caller's choosing
   * and trust it with the sealed secret: only for callers who are root
   * already (and tests). */
  IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR = 1 << 0,
} ImprintTpm2DeviceFlags;

/* Checks a device choice by its text alone, before anything is opened:
 * NULL, "" or "auto" = the system's TPM (*ret_tcti = NULL); "/dev/tpm<N>",
 * "/dev/tpmrm<N>" or the same after "device:" (*ret_tcti = "device:NODE");
 * "swtpm:..."/"mssim:..." as is, with IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR
 * only (else -EPERM). Everything else, "cmd:" and other TCTI drivers, other
 * paths, relative names, is -EINVAL. ret_tcti may be NULL. */
int imprint_tpm2_device_check (const char *device, ImprintTpm2DeviceFlags flags, char **ret_tcti);

/* imprint_tpm2_device_check(), then "auto" becomes the first
 * /sys/class/tpmrm device ("device:/dev/tpmrm0"; -ENODEV when there is
 * none). */
int imprint_tpm2_resolve_device (const char *device, ImprintTpm2DeviceFlags flags, char **ret_tcti);

/* Opens the TPM (see above; a device node must be the TPM character
 * device sysfs lists under its name, else -ENODEV) and runs
 * TPM2_Startup(CLEAR) if needed. */
int imprint_tpm2_open (const char *device, ImprintTpm2DeviceFlags flags, ImprintTpm2 **ret);
void imprint_tpm2_close (ImprintTpm2 *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintTpm2, imprint_tpm2_close)

/* The TCTI configuration in use. */
const char *imprint_tpm2_get_tcti (ImprintTpm2 *t);

typedef struct {
  uint16_t alg;          /* TPM2_ALG_SHA1, _SHA256, _SHA384, _SHA512, ... */
  uint32_t pcr_mask;     /* allocated PCRs: bit n = PCR n */
} ImprintTpm2Bank;

typedef struct {
  char *manufacturer;      /* TPM2_PT_MANUFACTURER, e.g. "IBM", "INTC" */
  char *vendor;            /* TPM2_PT_VENDOR_STRING_1..4, may be "" */
  char *firmware_version;  /* "major.minor.a.b" from FIRMWARE_VERSION_1/2 */
  ImprintTpm2Bank banks[IMPRINT_TPM2_MAX_BANKS];
  size_t n_banks;
  bool in_lockout;         /* TPMA_PERMANENT_INLOCKOUT */
  uint32_t lockout_counter;
  uint32_t max_auth_fail;
  uint32_t lockout_interval;  /* seconds until one failure is forgotten */
  uint32_t lockout_recovery;  /* seconds */
} ImprintTpm2Info;

int imprint_tpm2_get_info (ImprintTpm2 *t, ImprintTpm2Info *ret);
void imprint_tpm2_info_done (ImprintTpm2Info *info);

/* "sha256" etc.; NULL for unknown algorithms. */
const char *imprint_tpm2_hash_alg_to_string (uint16_t alg);
/* TPM2_ALG_* for "sha1"/"sha256"/"sha384"/"sha512", else 0. */
uint16_t imprint_tpm2_hash_alg_from_string (const char *s);

/* Picks the bank to bind to: SHA-256 when it has every PCR in pcr_mask
 * allocated (what systemd prefers), else SHA-384, SHA-512, then SHA-1.
 * -EOPNOTSUPP when no bank has them all. */
int imprint_tpm2_pick_bank (const ImprintTpm2Info *info, uint32_t pcr_mask, uint16_t *ret_alg);

/* Parses "7", "0,2,7", "7+11" (systemd's separators ',' and '+'); ""
 * gives 0. Only PCRs 0..23. -EINVAL otherwise. */
int imprint_tpm2_parse_pcr_list (const char *s, uint32_t *ret_mask);

typedef struct {
  uint16_t primary_alg;   /* TPM2_ALG_ECC or TPM2_ALG_RSA */
  uint16_t pcr_bank;      /* TPM2_ALG_SHA256, ... */
  uint32_t pcr_mask;
  bool pin;
  uint8_t *blob;          /* TPM2B_PRIVATE ++ TPM2B_PUBLIC, marshalled */
  size_t blob_size;
  uint8_t policy_hash[TPM2_SHA256_DIGEST_SIZE];
  size_t policy_hash_size;
  char *pubkey_pem;       /* signed PCR policy key (PEM), or NULL */
  uint32_t pubkey_pcr_mask; /* PCRs covered by its signatures */
  uint8_t *secret;        /* the 32 sealed bytes (seal only), secret memory */
  size_t secret_size;
} ImprintTpm2Sealed;

void imprint_tpm2_sealed_done (ImprintTpm2Sealed *s);

/* Seals 32 fresh random bytes (getrandom) to the current values of the
 * PCRs in pcr_mask (0 = unbound) on pcr_bank (0 = imprint_tpm2_pick_bank),
 * plus pin when not NULL. */
int imprint_tpm2_seal (ImprintTpm2 *t,
                       uint32_t pcr_mask,
                       uint16_t pcr_bank,
                       const char *pin,
                       ImprintTpm2Sealed *ret);

/* Unseals what sealed describes (blob, bank, PCRs, primary alg, PIN flag;
 * sealed->secret is ignored), checking the session's policy digest against
 * sealed->policy_hash first, as systemd does. *ret_secret: secret memory
 * (secret.h), imprint_secret_free(). */
int imprint_tpm2_unseal (ImprintTpm2 *t,
                         const ImprintTpm2Sealed *sealed,
                         const char *pin,
                         void **ret_secret,
                         size_t *ret_secret_size);

#define IMPRINT_TPM2_DEFAULT_PUBKEY_PCR_MASK (UINT32_C (1) << 11)

typedef struct {
  uint32_t pcr_mask;          /* bound to current values (tpm2-pcrs) */
  uint16_t pcr_bank;          /* 0 = imprint_tpm2_pick_bank */
  uint16_t primary_alg;       /* TPM2_ALG_ECC/_RSA; 0 = ECC, RSA fallback */
  const char *pin;            /* NULL = none */
  /* Signed PCR policy: the booted UKI's .pcrpkey (PEM, RSA, exponent
   * 65537, as systemd 252 requires). The secret then also needs a
   * signature (the UKI's .pcrsig, tpm2-pcr-signature.json) of the values
   * of pubkey_pcr_mask (0 = PCR 11) to unseal. NULL = no signed policy. */
  const char *pubkey_pem;
  uint32_t pubkey_pcr_mask;
} ImprintTpm2SealParams;

/* imprint_tpm2_seal() with every choice. */
int imprint_tpm2_seal_full (ImprintTpm2 *t,
                            const ImprintTpm2SealParams *params,
                            ImprintTpm2Sealed *ret);

/* Unseal of a signed-policy seal: signature_json is the content of a
 * tpm2-pcr-signature.json holding a signature for the current values of
 * sealed->pubkey_pcr_mask (-ENXIO when none matches). NULL for others. */
int imprint_tpm2_unseal_full (ImprintTpm2 *t,
                              const ImprintTpm2Sealed *sealed,
                              const char *pin,
                              const char *signature_json,
                              void **ret_secret,
                              size_t *ret_secret_size);

/* Computes the policy digest for PolicyPCR(pcr_mask, bank, current values)
 * [+ PolicyAuthValue] in a trial session. ret must hold 32 bytes. */
int imprint_tpm2_calculate_policy (ImprintTpm2 *t,
                                   uint32_t pcr_mask,
                                   uint16_t pcr_bank,
                                   bool pin,
                                   uint8_t ret[TPM2_SHA256_DIGEST_SIZE]);

/* The "systemd-tpm2" token, without "keyslots" (imprint_luks_token_import
 * adds it): type, tpm2-blob, tpm2-pcrs, tpm2-pcr-bank, tpm2-primary-alg,
 * tpm2-policy-hash, tpm2-pin, and with a signed policy tpm2_pubkey_pcrs +
 * tpm2_pubkey. Nothing newer than 252 understands, so one token unlocks on
 * 252 and 257+ alike. */
JsonObject *imprint_tpm2_token_new (const ImprintTpm2Sealed *sealed);

/* Reads a "systemd-tpm2" token back (secret left NULL). Accepts what
 * systemd 252 accepts; refuses tokens that need newer systemd features
 * (tpm2_srk, tpm2_salt, pcrlock policies): -EOPNOTSUPP. */
int imprint_tpm2_token_parse (JsonObject *token, ImprintTpm2Sealed *ret);

/* base64 (standard alphabet, padded, no newline) of the secret: the LUKS2
 * keyslot passphrase. *ret: secret memory, _cleanup_secret_. */
int imprint_tpm2_secret_to_passphrase (const void *secret, size_t size, char **ret);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The encrypted root in one call, for the daemon's Install job, plus the
 * later changes that need the TPM (re-seal after a firmware update).
 *
 * imprint_luks_setup():
 *  1. target: cfg->device (block device, partition node or image file);
 *     with cfg->offset/cfg->size a region of it (a partition inside an
 *     image file) is attached as a loop device for the duration;
 *  2. ENCRYPT_IN_PLACE: optionally mkfs.ext4 (populated from
 *     cfg->fs_source_dir) leaving IMPRINT_LUKS_ENCRYPT_RESERVE free, then
 *     offline in-place encryption (no device-mapper: the path for image
 *     files on hosts without dm). FORMAT: a fresh LUKS2 header (the caller
 *     makes the filesystem inside later, e.g. after activating in the
 *     installed system or in a guest);
 *  3. a random one-time key in a keyslot carries the volume key through
 *     the enrollments and is destroyed at the end;
 *  4. enrollments, each a keyslot + token as systemd-cryptenroll writes
 *     them: recovery key ("systemd-recovery", PBKDF2 minimal), TPM2
 *     ("systemd-tpm2", PBKDF2 minimal), passphrase (no token, argon2id),
 *     extra (cfg->enroll_extra, e.g. FIDO2 from backend/fido2: returns a
 *     token object and the keyslot passphrase; PBKDF2 minimal);
 *  5. every enrolled method is checked to open the volume (the TPM2 one by
 *     unsealing from the token as stored in the header), then the one-time
 *     keyslot is destroyed.
 * Secrets live in secret memory (secret.h), are wiped and never logged. On failure the
 * target is left unusable (half-enrolled); the Job reports the error. */

#include <libcryptsetup.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "luks.h"
#include "tpm2.h"

typedef enum {
  IMPRINT_LUKS_SETUP_FORMAT,
  IMPRINT_LUKS_SETUP_ENCRYPT_IN_PLACE,
} ImprintLuksSetupMode;

/* Hook for enrollments this library does not do itself (FIDO2). Gets the
 * volume and its volume key; returns a token object WITHOUT "keyslots"
 * (added on import) and the keyslot passphrase (NUL-terminated string in
 * secret memory, secret.h; wiped and freed by the caller). Negative errno aborts setup. */
typedef int (*ImprintLuksEnrollFunc) (struct crypt_device *cd,
                                      const void *volume_key, size_t volume_key_size,
                                      JsonObject **ret_token,
                                      char **ret_passphrase,
                                      void *userdata);

/* Progress: fraction 0..1 and a translated sentence about the step. */
typedef void (*ImprintLuksSetupProgress) (double fraction, const char *step, void *userdata);

typedef struct {
  const char *device;          /* required */
  uint64_t offset;             /* bytes into device; 0 = start */
  uint64_t size;               /* bytes; 0 = to the end */
  ImprintLuksSetupMode mode;
  const char *label;           /* LUKS2 label, may be NULL */

  /* ENCRYPT_IN_PLACE: create an ext4 first (else the data already there,
   * which must end IMPRINT_LUKS_ENCRYPT_RESERVE before the region's end). */
  bool mkfs;
  const char *fs_label;        /* may be NULL */
  const char *fs_uuid;         /* may be NULL */
  const char *fs_source_dir;   /* mkfs.ext4 -d; may be NULL */

  /* Methods. The recovery key is required (canonical or as typed: it is
   * normalised); the rest optional. */
  const char *recovery_key;
  const char *passphrase;
  const struct crypt_pbkdf_type *passphrase_pbkdf;  /* NULL = argon2id default */
  bool tpm2;
  const char *tpm2_device;     /* NULL/"auto", node, or TCTI "swtpm:port=2321" */
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what tpm2_device may name */
  uint32_t tpm2_pcr_mask;      /* 0 = IMPRINT_TPM2_DEFAULT_PCR_MASK (PCR 7) */
  const char *tpm2_pin;        /* NULL = no PIN */
  /* Signed PCR policy (optional): the booted UKI's .pcrpkey and .pcrsig,
   * see imprint_security_read_pcr_signing(). With a public key the seal
   * also requires a signature of PCR 11 (tpm2_pubkey_pcr_mask, 0 = PCR
   * 11); the signature JSON, when given, is used to check the enrollment
   * by unsealing (without it only the keyslot is checked). */
  const char *tpm2_pubkey_pem;
  uint32_t tpm2_pubkey_pcr_mask;
  const char *tpm2_signature_json;
  ImprintLuksEnrollFunc enroll_extra;
  void *enroll_extra_userdata;
} ImprintLuksSetup;

typedef struct {
  char *luks_uuid;             /* for crypttab / rd.luks.uuid= */
  int recovery_keyslot;
  int passphrase_keyslot;      /* -1 when none */
  int tpm2_keyslot;            /* -1 when none */
  int extra_keyslot;           /* -1 when none */
  uint16_t tpm2_pcr_bank;      /* TPM2_ALG_*, 0 when none */
  uint16_t tpm2_primary_alg;
  bool tpm2_signed_policy;     /* tpm2_pubkey in the token */
} ImprintLuksSetupResult;

void imprint_luks_setup_result_done (ImprintLuksSetupResult *r);

/* See the top of this file. ret may be NULL. Errors: -EINVAL (bad cfg,
 * invalid recovery key), -ENOSPC (region too small), -ENODEV (no TPM),
 * TPM and libcryptsetup errors, or what enroll_extra returned. */
int imprint_luks_setup (const ImprintLuksSetup *cfg,
                        ImprintLuksSetupProgress progress,
                        void *userdata,
                        ImprintLuksSetupResult *ret);

/* Seals a new secret with tpm as params say, enrolls keyslot +
 * "systemd-tpm2" token, checks the keyslot takes the secret and, by
 * unsealing from the stored token, that the TPM gives it back (for a
 * signed policy only when signature_json is given). ret_sealed (may be
 * NULL) describes the seal, without the secret. */
int imprint_luks_enroll_tpm2 (struct crypt_device *cd,
                              const void *volume_key, size_t volume_key_size,
                              ImprintTpm2 *tpm,
                              const ImprintTpm2SealParams *params,
                              const char *signature_json,
                              int *ret_keyslot,
                              ImprintTpm2Sealed *ret_sealed);

/* Checks that the "systemd-tpm2" token bound to keyslot opens the volume
 * through tpm (unseal, base64, passphrase check). signature_json for
 * signed-policy tokens, else NULL. -ESTALE: the PCRs changed. */
int imprint_luks_verify_tpm2 (struct crypt_device *cd, ImprintTpm2 *tpm, int keyslot,
                              const char *pin, const char *signature_json);

/* Re-seal (e.g. after a firmware update changed PCR 7): unlock with any
 * passphrase/recovery key, enroll a new TPM2 keyslot+token as params say
 * (pcr_mask 0 = PCR 7), then remove the old TPM2 tokens and keyslots. */
int imprint_luks_reseal_tpm2 (const char *device,
                              const void *unlock, size_t unlock_size,
                              const char *tpm2_device,
                              ImprintTpm2DeviceFlags tpm2_flags,
                              const ImprintTpm2SealParams *params,
                              const char *signature_json,
                              int *ret_keyslot);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* imprintd's Enroll and Unenroll as one call each: open an existing LUKS2
 * volume, prove the way in the caller says it has (passphrase or recovery
 * key, the TPM, a FIDO2 key), then add, replace or remove one unlock
 * method (luks-enroll.h, luks-setup.h). The crypt library never removes
 * the last keyslot. Secrets in the struct live in secret memory
 * (secret.h) and are wiped by imprint_luks_change_clear(). */

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libcryptsetup.h>
#include <stdbool.h>
#include <stdint.h>

#include "imprint-fido2.h"
#include "imprint-report.h"
#include "tpm2.h"

G_BEGIN_DECLS

typedef struct {
  char *device;                  /* the volume: a path that reaches it (imprintd: /proc/PID/fd/N or /dev node) */
  char *display;                 /* what the caller typed, for messages only */
  char *method;                  /* "tpm2", "fido2", "recovery-key", "passphrase" (luks-enroll.h) */
  gboolean remove;                 /* Unenroll */
  int keyslot;                   /* Unenroll: only this one; -1 all */

  /* The way in the caller proves: one of them. */
  char *unlock_passphrase;       /* secret; a recovery key in any typed form, or a passphrase */
  gboolean unlock_tpm2;
  char *unlock_tpm2_pin;         /* secret */
  gboolean unlock_fido2;

  char *tpm2_device;
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what tpm2_device may name */
  char *fido2_device;            /* NULL: the one key plugged in */
  char *tpm2_signature;          /* tpm2-pcr-signature.json contents; NULL = the running system's */

  /* The new method. */
  char *passphrase;              /* secret */
  char *recovery_key;            /* secret, canonical form */
  char *tpm2_pin;                /* secret */
  uint32_t tpm2_pcr_mask;
  char *tpm2_public_key;         /* PEM; "" = none; NULL = the replaced token's, else the running system's */
  uint32_t tpm2_pubkey_pcr_mask;
  ImprintFido2LockFlags fido2_lock;

  ImprintFido2PromptFunc fido2_prompt;  /* PIN and touch, may be NULL */
  void *fido2_prompt_data;
} ImprintLuksChange;

void imprint_luks_change_clear (ImprintLuksChange *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImprintLuksChange, imprint_luks_change_clear)

/* Runs c: steps and log lines through report (may be NULL). Enroll:
 * *ret_keyslot is the new keyslot; Unenroll: *ret_removed how many went.
 * Errors in IMPRINT_ERROR, naming what failed. */
gboolean imprint_luks_change (const ImprintLuksChange *c, const ImprintReport *report,
                              int *ret_keyslot, unsigned *ret_removed, GError **error);

/* imprint_luks_open() with an IMPRINT_ERROR naming display: NotFound when
 * it is no LUKS2 volume. */
gboolean imprint_luks_open_named (const char *device, const char *display, struct crypt_device **ret,
                                  GError **error);

/* Enrolls a FIDO2 key for cd (PIN and touch through prompt): the
 * "systemd-fido2" token without "keyslots" and the keyslot passphrase
 * (secret memory; wipe it). Used by Enroll and by the install's root. */
int imprint_luks_fido2_token (struct crypt_device *cd, const char *fido2_device,
                              ImprintFido2LockFlags lock_with,
                              ImprintFido2PromptFunc prompt, void *prompt_data,
                              const ImprintReport *report,
                              JsonObject **ret_token, char **ret_passphrase);

G_END_DECLS

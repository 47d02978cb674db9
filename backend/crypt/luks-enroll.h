/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Later changes to how an existing LUKS2 volume unlocks: each one needs a
 * way in the caller already has (a typed passphrase, the recovery key, or a
 * keyslot passphrase recovered from a TPM2 or FIDO2 token), and none ever
 * leaves the volume without a keyslot.
 *
 * "Methods" are named as in the D-Bus API: "passphrase" (an active keyslot
 * no token refers to), "recovery-key" ("systemd-recovery"), "tpm2"
 * ("systemd-tpm2"), "fido2" ("systemd-fido2"), "pkcs11" ("systemd-pkcs11").
 * Conventions as in luks.h: negative errno, ret_ untouched on failure,
 * secrets wiped. */

#include <libcryptsetup.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "luks.h"
#include "tpm2.h"

/* "systemd-tpm2" -> "tpm2" etc.; other token types map to themselves.
 * NULL (no token) -> "passphrase". */
const char *imprint_luks_method_from_token_type (const char *token_type);
/* "tpm2" -> "systemd-tpm2" etc.; "passphrase" -> NULL; unknown -> NULL
 * with *ret_known false. */
const char *imprint_luks_method_to_token_type (const char *method, bool *ret_known);

/* Recovers the keyslot passphrase of the first "systemd-tpm2" token the TPM
 * unseals (pin for tokens with tpm2-pin; signature_json, a
 * tpm2-pcr-signature.json, for tokens with a signed policy). Errors:
 * -ENOENT no TPM2 token, else the last unseal error (-ESTALE PCRs changed,
 * -EPERM wrong PIN, -ENOANO a PIN is needed, ...). *ret: secret memory, imprint_secret_free(). */
int imprint_luks_unlock_tpm2 (struct crypt_device *cd,
                              ImprintTpm2 *tpm,
                              const char *pin,
                              const char *signature_json,
                              char **ret_passphrase);

/* Adds a keyslot for passphrase (PBKDF2 minimal: a machine-made secret)
 * with token (without "keyslots"; may be NULL) after unlocking with
 * unlock, and checks the new keyslot takes passphrase. */
int imprint_luks_add_method (struct crypt_device *cd,
                             const void *unlock, size_t unlock_size,
                             JsonObject *token,
                             const char *passphrase,
                             int *ret_keyslot);

/* Removes every keyslot of method (with its tokens), or only keyslot when
 * keyslot >= 0 (which must belong to method). unlock must open the volume
 * first (-EPERM otherwise). -ENOENT: nothing of that method; -EBUSY: no
 * keyslot would be left (nothing is changed then). ret_removed (may be
 * NULL): how many keyslots went. */
int imprint_luks_remove_method (struct crypt_device *cd,
                                const void *unlock, size_t unlock_size,
                                const char *method,
                                int keyslot,
                                unsigned *ret_removed);

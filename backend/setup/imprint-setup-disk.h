/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Unlock methods added during setup to a root that first boot sealed to the
 * TPM2 only (OEM machines). Kept apart from imprint-setup.h: these need
 * libcryptsetup and tpm2-tss. */

#include <libcryptsetup.h>
#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "tpm2.h"

G_BEGIN_DECLS

/* The LUKS2 device under the file system holding @path (NULL: "/"):
 * "/dev/<slave>" of its dm-crypt mapping. -ENOMEDIUM when it is not on
 * LUKS2, -ENOTUNIQ when the mapping has several backing devices. */
int imprint_setup_disk_find_root (const char *path, char **ret_device);

/* The volume key, through the first "systemd-tpm2" token the TPM unseals
 * (no PIN; @signature_json for signed policies, may be NULL).
 * *ret_volume_key: secret memory, imprint_secret_free(). -ENOKEY when there is no such token. */
int imprint_setup_disk_unlock_tpm2 (struct crypt_device *cd,
                                    const char *tpm2_device,
                                    ImprintTpm2DeviceFlags tpm2_flags,
                                    const char *signature_json,
                                    void **ret_volume_key,
                                    size_t *ret_volume_key_size);

/* A keyslot for @recovery_key (canonical form) with the minimal PBKDF and
 * a "systemd-recovery" token, checked after writing; removed again when
 * the check fails. */
int imprint_setup_disk_add_recovery_key (struct crypt_device *cd,
                                         const void *volume_key, size_t volume_key_size,
                                         const char *recovery_key,
                                         int *ret_keyslot);

/* Adds a keyslot for @passphrase (minimal PBKDF) unlocked through the
 * "systemd-tpm2" token by libcryptsetup's token plugin (systemd's own
 * code: tokens of any systemd version), binds @token (may be NULL) to it
 * and checks it. For tokens imprint_setup_disk_unlock_tpm2() cannot read
 * (-EOPNOTSUPP). */
int imprint_setup_disk_enroll_by_token (struct crypt_device *cd,
                                        const char *passphrase,
                                        JsonObject *token,
                                        int *ret_keyslot);

/* True when @device is LUKS2 and its only tokens are "systemd-tpm2":
 * what systemd-repart leaves at an OEM machine's first boot. */
bool imprint_setup_disk_is_tpm2_only (const char *device);

G_END_DECLS

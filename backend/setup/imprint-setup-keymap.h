/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The keyboard layout for the disk passphrase prompt at boot (issue 17).
 *
 * The prompt runs in the initrd, inside the signed UKI: its vconsole.conf
 * and command line cannot change per machine. What can is a system
 * credential on the ESP: systemd-stub passes the ESP's loader/credentials/NAME.cred files
 * to the initrd (/.extra/global_credentials/), PID 1 imports them into the
 * encrypted credential store, and systemd-vconsole-setup (253+;
 * ImportCredential=vconsole.* since 254) takes `vconsole.keymap` from there,
 * decrypting it first. So the file is ESP/loader/credentials/
 * vconsole.keymap.cred, encrypted (creds.h): sealed to this machine's TPM2
 * without PCRs, or with the null key where there is no TPM2. systemd 252
 * reads no such credential; the layout must also be in the initrd (kbd's
 * keymaps, loadkeys) for the prompt to use it. */

#include <glib.h>

#include "imprint-setup-apply.h"
#include "tpm2.h"

G_BEGIN_DECLS

#define IMPRINT_KEYMAP_CREDENTIAL "vconsole.keymap"

/* The credential's file content for keymap: sealed to the TPM2
 * (tpm2_device; NULL = the system's) when there is one, else with the null
 * key (*ret_sealed false). */
int imprint_setup_keymap_credential_new (const char *keymap, const char *tpm2_device,
                                         ImprintTpm2DeviceFlags tpm2_flags, char **ret_text,
                                         gboolean *ret_sealed);

/* The running system's ESP: /efi, /boot/efi or /boot, the first holding an
 * EFI directory on a FAT file system (IMPRINTD_TEST_ESP for tests). NULL
 * when none is found. */
const char *imprint_setup_find_esp_dir (void);

/* Writes ESP/loader/credentials/NAME.cred (replacing it) into the ESP
 * mounted at esp_dir. */
int imprint_setup_esp_write_dir (const char *esp_dir, const char *name, const char *text);

/* The same into the ESP partition of disk (a disk device or image file,
 * GPT), through mtools, without mounting; refused (-EBUSY) while the
 * partition is mounted. -ENOENT when the disk has no ESP. */
int imprint_setup_esp_write_disk (const char *disk, const char *name, const char *text);

/* ApplySetup's part: after the keymap is set, the credential for the
 * running system's ESP or the disk's; anything that fails is a line in the
 * log, never a failed setup. */
void imprint_setup_keymap_for_boot (ImprintSetupApply *d, GPtrArray *warnings);

G_END_DECLS

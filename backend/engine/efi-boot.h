/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* EFI boot entries: a Boot#### variable holding an EFI_LOAD_OPTION with a
 * HD(partition, GPT) + File(path) device path, and BootOrder with it first,
 * written through efivarfs. */

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMPRINT_EFIVARS_DIR "/sys/firmware/efi/efivars"
#define IMPRINT_SYSTEMD_BOOT_PATH "\\EFI\\systemd\\systemd-bootx64.efi"
#define IMPRINT_EFI_FALLBACK_PATH "\\EFI\\BOOT\\BOOTX64.EFI"

/* Builds an EFI_LOAD_OPTION (LOAD_OPTION_ACTIVE). Partition start and size
 * in LBAs of the disk's sector size; @part_uuid is the GPT partition UUID. */
GBytes *imprint_efi_load_option_new (const char *description,
                                     guint32     partition_number,
                                     guint64     start_lba,
                                     guint64     size_lba,
                                     const char *part_uuid,
                                     const char *file_path);

/* Writes Boot#### (reusing an identical existing entry) and puts it first
 * in BootOrder. @efivars_dir: NULL for the real one. Returns the entry
 * number through @ret_number. IMPRINT_ERROR_NOT_SUPPORTED when efivars are
 * not there or not writable. */
gboolean imprint_efi_register_boot_entry (const char *efivars_dir,
                                          GBytes     *load_option,
                                          guint16    *ret_number,
                                          GError    **error);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Factory reset: what the installed repart.d definitions erase, and the
 * request for the next boot in whatever form the running systemd reads:
 *  - systemd >= 258: `systemd-factory-reset request` (it writes the
 *    FactoryResetRequest EFI variable, JSON naming this OS and boot);
 *  - before: the FactoryReset EFI variable, a UTF-16 boolean string that
 *    systemd-repart reads in the initrd (efi_get_variable_string +
 *    parse_boolean).
 * Optionally the firmware is asked to clear the TPM (PPI operation 5). */

#include <gio/gio.h>

#include "update.h"

G_BEGIN_DECLS

#define IMPRINT_EFI_SYSTEMD_VENDOR "8cf2644b-4b0b-428f-9387-6d876050dc67"
#define IMPRINT_EFI_FACTORY_RESET "FactoryReset-" IMPRINT_EFI_SYSTEMD_VENDOR
#define IMPRINT_EFI_FACTORY_RESET_REQUEST "FactoryResetRequest-" IMPRINT_EFI_SYSTEMD_VENDOR

/* EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS */
#define IMPRINT_EFI_ATTR_NV_BS_RT 0x00000007u
/* Where efivarfs is when ImprintUpdatePaths.efivars is NULL. */
#define IMPRINT_EFIVARS_DEFAULT "/sys/firmware/efi/efivars"

/* EFI variables (efi-vars.c). What efivarfs holds for a string variable
 * as systemd writes it: 4 bytes of attributes (little endian), then
 * UTF-16LE text with a terminating NUL character. */
int imprint_efi_string_encode (const char *value, guint32 attributes, guint8 **ret, gsize *ret_size);
/* The reverse; the value stops at the first NUL character. */
int imprint_efi_string_decode (const guint8 *data, gsize size, guint32 *ret_attributes, char **ret_value);

/* Variables in an efivarfs directory (write: one write() with the
 * attributes first, as efivarfs wants; the immutable flag efivarfs puts on
 * files is cleared first). */
int imprint_efi_read_string   (const char *efivars, const char *name, char **ret_value);
int imprint_efi_write_string  (const char *efivars, const char *name, const char *value);
int imprint_efi_remove        (const char *efivars, const char *name);

typedef struct {
  char *definition;   /* file name */
  char *type;         /* Type= */
  char *label;        /* Label= (may be NULL) */
  char *description;  /* in words */
} ImprintResetPartition;

void imprint_reset_partition_free (ImprintResetPartition *p);

/* The partitions marked FactoryReset=yes in <root>/{etc,run,usr/local/lib,usr/lib}/repart.d
 * (a file in /etc overrides one of the same name in /usr/lib, as systemd does). */
int imprint_factory_reset_partitions (const char *root, GPtrArray **ret);
/* "root", "home", ... -> a sentence of what is lost. */
char *imprint_factory_reset_describe_type (const char *type);

/* GetFactoryResetInfo, RequestFactoryReset, CancelFactoryReset. */
GVariant *imprint_factory_reset_info    (const ImprintUpdatePaths *paths);
gboolean  imprint_factory_reset_request (const ImprintUpdatePaths *paths, gboolean clear_tpm, GError **error);
gboolean  imprint_factory_reset_cancel  (const ImprintUpdatePaths *paths, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared inside the engine; not part of its API. */

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs @argv (PATH search, C locale) and captures stdout; a non-zero exit
 * becomes IMPRINT_ERROR_FAILED carrying the program's stderr. */
gboolean imprint_run (const char *const *argv, char **ret_stdout, GError **error);

/* Used and free bytes of the FAT file system at @offset of @image (mtools). */
gboolean imprint_vfat_usage (const char *image, guint64 offset, guint64 *ret_used,
                             guint64 *ret_free, GError **error);

/* Type GUID for a systemd-repart type name ("root-x86-64", "esp"...). */
const char *imprint_gpt_type_uuid_from_name (const char *name);

/* Copies the repart.d definitions for systemd-repart into a new temporary
 * directory (returned; the caller removes it): without the partitions
 * Imprint writes itself (ESP, XBOOTLDR, usr slots), and with @for_hook the
 * root definition without Encrypt=, Format=, MakeDirectories=, CopyFiles=
 * (its original path goes to @ret_root_definition). */
/* Of a repart.d definition's text: its Type= (lower case, or NULL) and
 * SizeMinBytes= (0 when absent; saturated at G_MAXUINT64). */
char    *imprint_definition_type     (const char *contents);
guint64  imprint_definition_size_min (const char *contents);

char *imprint_prepare_definitions (const char *dir, gboolean for_hook,
                                   char **ret_root_definition, GError **error);

G_END_DECLS

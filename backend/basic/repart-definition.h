/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* repart.d partition definitions, read as systemd-repart reads them: the
 * one parser the plan, the install, its encryption hook and factory reset
 * share.
 *
 * A file is an INI-style systemd unit file: "[Section]" headers,
 * "Key=Value" assignments (key and value stripped of white space), lines
 * starting with '#' or ';' are comments, a line ending in an odd number of
 * backslashes continues on the next one (the backslash becomes a space),
 * assignments outside a section are ignored. Only the [Partition] section
 * has meaning for systemd-repart; the others are kept but not interpreted.
 *
 * Directories are read as systemd-repart's conf_files_list: every *.conf in
 * each directory, highest priority directory first; a name found in an
 * earlier directory hides the same name in later ones; an empty file or a
 * symlink to /dev/null masks the name; the result is sorted by file name.
 * Each definition's drop-ins (NAME.d/ *.conf in any of the directories,
 * the same precedence and masking) are applied after it, in file name
 * order.
 *
 * The bytes may come from a caller or from an image: every file is opened
 * without following symlinks (a symlink other than the /dev/null mask is
 * refused), must be a regular file of at most IMPRINT_REPART_FILE_MAX
 * bytes, valid UTF-8 without NUL bytes, and a directory set holds at most
 * IMPRINT_REPART_FILES_MAX definitions.
 *
 * Functions return a negative errno on failure: -ELOOP (a symlink),
 * -EFBIG (a file too large), -E2BIG (too many files), -EBADMSG (not UTF-8,
 * a NUL byte, a broken section header), -EISDIR/-ENOTBLK (not a regular
 * file), or what open/read said. */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

G_BEGIN_DECLS

#define IMPRINT_REPART_FILE_MAX  (64u * 1024u)
#define IMPRINT_REPART_FILES_MAX 256u

typedef struct {
  char *section;   /* "Partition", ... */
  char *key;
  char *value;     /* continuation lines joined */
} ImprintRepartAssignment;

typedef struct {
  char      *name;          /* "50-root.conf" */
  GPtrArray *assignments;   /* ImprintRepartAssignment*: the file's, then its drop-ins' */

  /* The [Partition] keys Imprint acts on, as systemd-repart interprets
   * them: the last assignment wins; an empty one clears the value (lists:
   * everything assigned before). */
  char      *type;          /* Type=, lower case; NULL when unset */
  char      *label;         /* Label= */
  char      *format;        /* Format= */
  char      *encrypt;       /* Encrypt= */
  gboolean   factory_reset; /* FactoryReset= (booleans as systemd parses them) */
  guint64    size_min;      /* SizeMinBytes= rounded up to 4096; 0 when unset */
  guint64    size_max;      /* SizeMaxBytes= rounded down to 4096; 0 when unset */
  GStrv      make_directories; /* MakeDirectories=, white-space separated words */
  GStrv      copy_files;    /* CopyFiles=, one "SOURCE[:TARGET]" per assignment */
} ImprintRepartDefinition;

ImprintRepartDefinition *imprint_repart_definition_new  (const char *name);
void                     imprint_repart_definition_free (ImprintRepartDefinition *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintRepartDefinition, imprint_repart_definition_free)

/* Parses @size bytes of @text (one file) and appends its assignments to
 * @def, then updates the interpreted fields. -EBADMSG for bytes that are
 * not UTF-8, hold a NUL, or a "[" line without "]"; @def is then unchanged. */
int imprint_repart_definition_parse (ImprintRepartDefinition *def, const char *text, size_t size);

/* The definition as one file systemd-repart reads the same way (drop-ins
 * folded in, comments dropped), without the [Partition] keys in
 * @omit_partition_keys (NULL-terminated, may be NULL). */
char *imprint_repart_definition_format (const ImprintRepartDefinition *def,
                                        const char *const *omit_partition_keys);

/* "100M", "1.5G", "1G 512M" as systemd's parse_size() with base 1024
 * (suffixes B K M G T P E). -ERANGE on overflow, -EINVAL otherwise. */
int imprint_repart_parse_size (const char *s, guint64 *ret);
/* systemd's parse_boolean(): 1, 0, or -EINVAL. */
int imprint_repart_parse_boolean (const char *s);

/* Opens @name in @dirfd for reading (@flags carry O_NOFOLLOW, O_NONBLOCK,
 * O_CLOEXEC, and O_DIRECTORY for drop-in directories). Returns the fd or a
 * negative errno. NULL in the loaders: openat(). */
typedef int (*ImprintRepartOpenFunc) (int dirfd, const char *name, int flags, void *userdata);

/* Reads the definitions in @dirfds (@n_dirs directories, highest priority
 * first; -1 entries are skipped). @ret: ImprintRepartDefinition*, by name.
 * On failure @ret_bad_name (may be NULL) names the file at fault. */
int imprint_repart_load_fds (const int *dirfds, size_t n_dirs, ImprintRepartOpenFunc open_func,
                             void *userdata, GPtrArray **ret, char **ret_bad_name);

/* The same for directory paths (NULL-terminated); a directory that does
 * not exist counts as empty; @ret_found (may be NULL) says whether any
 * did. */
int imprint_repart_load_dirs (const char *const *dirs, GPtrArray **ret, gboolean *ret_found,
                              char **ret_bad_name);

/* The definition named @name in @defs, or NULL. */
const ImprintRepartDefinition *imprint_repart_find (GPtrArray *defs, const char *name);

/* Writes each definition of @defs for which @keep (may be NULL) returns
 * true as NAME into the directory @dirfd (imprint_repart_definition_format,
 * @omit applied to those for which @strip, may be NULL, returns true). */
typedef bool (*ImprintRepartFilter) (const ImprintRepartDefinition *def, void *userdata);
int imprint_repart_write_dir (GPtrArray *defs, int dirfd, ImprintRepartFilter keep,
                              ImprintRepartFilter strip, const char *const *omit, void *userdata);

G_END_DECLS

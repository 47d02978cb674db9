/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* imprintd's scratch files (extracted UKIs, FAT images, plan images, mount
 * points, trees for mkfs -d) go into a directory of its own: made 0700 by
 * imprintd under $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=, i.e.
 * /run/imprint) or else under $TMPDIR or /tmp, named "imprintd-XXXXXX"
 * and flock()ed for as long as this imprintd runs. TMPDIR is pointed at it,
 * so g_dir_make_tmp() and the tools imprintd runs use it too.
 *
 * Before that, directories of earlier instances that died without cleaning
 * up are removed, and nothing else: only entries named "imprintd-XXXXXX"
 * that are real directories (never symlinks) owned by our own uid and not
 * locked by a running imprintd, emptied through directory fds without
 * following symlinks or crossing into other file systems.
 *
 * Call before any thread starts (it sets TMPDIR) and before anything calls
 * g_get_tmp_dir(). Returns 0 and the directory, or a negative errno. The
 * lock lives as long as the process (the fd is kept open on purpose). */
int imprintd_scratch_setup (char **ret_path);

/* At exit: empties and removes this process's directory (nothing on
 * another file system: a mount still there is left, and said). */
void imprintd_scratch_teardown (void);

/* Removes stale scratch directories in @base_fd (see above). Exposed for
 * the unit test. Returns how many were removed. */
int imprintd_scratch_clean_stale (int base_fd);

G_END_DECLS

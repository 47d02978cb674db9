/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "definitions-snapshot.h"
#include "imprint-error.h"
#include "macros.h"
#include "repart-definition.h"

void
imprint_definitions_snapshot_remove (char *dir)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (dir == NULL)
    return;
  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      (void) g_unlink (p);
    }
  (void) g_rmdir (dir);
  g_free (dir);
}

/* The loader's opener: every file and drop-in directory of the caller's
 * tree is opened as the caller (safe_open_as adds O_NOFOLLOW|O_NONBLOCK). */
static int
open_as_caller (int dirfd, const char *name, int flags, void *userdata)
{
  return safe_open_as (dirfd, name, userdata, flags & (O_ACCMODE | O_DIRECTORY),
                       SAFE_OPEN_TIMEOUT_MS, NULL);
}

static void
set_load_error (GError **error, int r, const char *dir, const char *bad)
{
  const char *name = bad != NULL ? bad : "";

  if (r == -E2BIG)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("“%s” holds more than %u partition definitions."), dir, IMPRINT_REPART_FILES_MAX);
  else if (r == -ELOOP)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("The partition definition %s/%s is a symbolic link."), dir, name);
  else if (r == -EFBIG)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("The partition definition %s/%s is too large."), dir, name);
  else if (r == -EBADMSG)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("The partition definition %s/%s is not valid UTF-8 text."), dir, name);
  else if (r == -EINVAL || r == -ENOTBLK || r == -EISDIR || r == -EPERM || r == -ENOTDIR)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("The partition definition %s/%s is not a regular file."), dir, name);
  else if (bad == NULL)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                 _("Cannot read the directory “%s”: %s"), dir, g_strerror (-r));
  else
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                 _("Cannot read the partition definition %s/%s."), dir, name);
}

char *
imprint_definitions_snapshot (int dfd, const SafeCreds *creds, const char *dir, GError **error)
{
  g_autoptr(GPtrArray) defs = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *snap = NULL;
  _cleanup_close_ int snap_fd = -1;
  int r;

  /* The shared parser reads them (drop-ins and masks as systemd-repart
   * has them); the snapshot is its flat copy, so what systemd-repart
   * reads is exactly what the plan parsed. */
  r = imprint_repart_load_fds (&dfd, 1, open_as_caller, (void *) creds, &defs, &bad);
  if (r < 0)
    {
      set_load_error (error, r, dir, bad);
      return NULL;
    }
  snap = g_dir_make_tmp ("imprint-defs-XXXXXX", error);
  if (snap == NULL)
    return NULL;
  snap_fd = open (snap, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  r = snap_fd < 0 ? -errno : imprint_repart_write_dir (defs, snap_fd, NULL, NULL, NULL, NULL);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot copy the partition definitions: %s"), g_strerror (-r));
      imprint_definitions_snapshot_remove (g_steal_pointer (&snap));
      return NULL;
    }
  return g_steal_pointer (&snap);
}

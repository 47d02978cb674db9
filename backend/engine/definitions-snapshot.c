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

/* Caps for what a caller's definitions may make us read. */
#define DEFINITION_MAX    (64 * 1024)
#define DEFINITIONS_MAX_N 256

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

char *
imprint_definitions_snapshot (int dfd, const SafeCreds *creds, const char *dir, GError **error)
{
  g_autofree char *snap = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *d;
  struct dirent *de;
  int r = 0;
  int dup_fd = fcntl (dfd, F_DUPFD_CLOEXEC, 3);

  d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  if (d == NULL)
    {
      r = -errno;
      if (dup_fd >= 0)
        close (dup_fd);
    }
  else
    {
      while ((de = readdir (d)) != NULL)
        if (de->d_name[0] != '.' && g_str_has_suffix (de->d_name, ".conf"))
          g_ptr_array_add (names, g_strdup (de->d_name));
      closedir (d);
    }
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   _("Cannot read the directory “%s”: %s"), dir, g_strerror (-r));
      return NULL;
    }
  if (names->len > DEFINITIONS_MAX_N)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("“%s” holds more than %d partition definitions."), dir, DEFINITIONS_MAX_N);
      return NULL;
    }

  snap = g_dir_make_tmp ("imprint-defs-XXXXXX", error);
  if (snap == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      _cleanup_close_ int fd = -1;
      g_autofree char *text = NULL;
      g_autofree char *out = NULL;
      gboolean ok;

      fd = safe_open_as (dfd, name, creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
      r = fd < 0 ? fd : safe_fd_check (fd, SAFE_TYPE_REG, NULL);
      if (r >= 0)
        r = safe_read_fd (fd, DEFINITION_MAX, &text, NULL);
      if (r < 0)
        {
          g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                       r == -ELOOP ? _("The partition definition %s/%s is a symbolic link.")
                       : r == -EFBIG ? _("The partition definition %s/%s is too large.")
                       : r == -EINVAL || r == -ENOTBLK || r == -EISDIR || r == -EPERM
                         ? _("The partition definition %s/%s is not a regular file.")
                       : _("Cannot read the partition definition %s/%s."), dir, name);
          imprint_definitions_snapshot_remove (g_steal_pointer (&snap));
          return NULL;
        }
      out = g_build_filename (snap, name, NULL);
      ok = g_file_set_contents (out, text, -1, error);
      if (!ok)
        {
          imprint_definitions_snapshot_remove (g_steal_pointer (&snap));
          return NULL;
        }
    }
  return g_steal_pointer (&snap);
}


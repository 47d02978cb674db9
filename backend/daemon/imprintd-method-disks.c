/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "disk-enumerate.h"
#include "imprint-error.h"
#include "imprint-request.h"
#include "imprintd-methods.h"
#include "safe-open.h"

static void
close_fd_at (void *p)
{
  int *fd = p;

  if (*fd >= 0)
    close (*fd);
}

GVariant *
imprintd_method_list_disks (ImprintdMethodCall *call, GError **error)
{
  ImprintDiskEnumerateOptions opts = { 0 };
  g_auto(ImprintListDisksRequest) req;
  const char *const *files;
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GVariant) disks = NULL;
  int r;

  g_array_set_clear_func (fds, close_fd_at);
  imprint_list_disks_request_init (&req);
  if (!imprint_list_disks_request_from_variant (call->options, &req, error))
    return NULL;
  opts.include_loop = imprint_opt_bool (req.include_loop, FALSE);
  files = (const char *const *) req.include_files;
  if (files != NULL)
    {
      /* Allowed to any active user without a password: only image files
       * the caller can open itself, opened once as the caller (never
       * following a symlink, never blocking on a FIFO) and described from
       * that fd, so that the answer says nothing about files the caller
       * could not read (a root-only file fails like a missing one). */
      for (gsize i = 0; files[i] != NULL; i++)
        {
          int fd = imprintd_open_as_caller (call, files[i], O_RDONLY, SAFE_TYPE_REG, FALSE, error);

          if (fd < 0)
            return NULL;
          g_array_append_val (fds, fd);
        }
      opts.files = files;
      opts.file_fds = (const int *) fds->data;
    }
  opts.min_size = req.min_size;
  opts.probe_shrink = imprint_opt_bool (req.probe_shrink, FALSE);

  r = imprint_disk_enumerate (&opts, &disks);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not list the disks: %s"), g_strerror (-r));
      return NULL;
    }
  return g_variant_new ("(@aa{sv})", disks);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "disk-enumerate.h"
#include "imprint-error.h"
#include "imprintd-methods.h"

GVariant *
imprintd_method_list_disks (ImprintdMethodCall *call, GError **error)
{
  ImprintDiskEnumerateOptions opts = { 0 };
  g_autofree const char **files = NULL;
  g_autoptr(GVariant) disks = NULL;
  int r;

  g_variant_lookup (call->options, "include-loop", "b", &opts.include_loop);
  if (g_variant_lookup (call->options, "include-files", "^a&s", &files))
    {
      for (gsize i = 0; files[i] != NULL; i++)
        if (!imprintd_check_file_access (files[i], call->uid, error))
          return NULL;
      opts.files = (const char * const *) files;
    }
  g_variant_lookup (call->options, "min-size", "t", &opts.min_size);

  r = imprint_disk_enumerate (&opts, &disks);
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not list the disks: %s"), g_strerror (-r));
      return NULL;
    }
  return g_variant_new ("(@aa{sv})", disks);
}

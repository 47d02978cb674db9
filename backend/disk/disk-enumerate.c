/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Walks the block class in sysfs for whole disks and describes each. udevd
 * need not run: libudev enumerates sysfs directly. */

#include "config.h"

#include <libudev.h>

#include "macros.h"
#include "disk-private.h"

static int
compare_devices (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

int
imprint_disk_list_nodes (GPtrArray *ret_nodes)
{
  _cleanup_(udev_unrefp) struct udev *udev = udev_new ();
  _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
  struct udev_list_entry *item;
  int r;

  if (udev == NULL)
    return -ENOMEM;
  e = udev_enumerate_new (udev);
  if (e == NULL)
    return -ENOMEM;
  r = udev_enumerate_add_match_subsystem (e, "block");
  if (r < 0)
    return r;
  r = udev_enumerate_add_match_property (e, "DEVTYPE", "disk");
  if (r < 0)
    return r;
  r = udev_enumerate_scan_devices (e);
  if (r < 0)
    return r;

  udev_list_entry_foreach (item, udev_enumerate_get_list_entry (e))
    {
      _cleanup_(udev_device_unrefp) struct udev_device *dev =
        udev_device_new_from_syspath (udev, udev_list_entry_get_name (item));
      const char *node;

      if (dev == NULL)
        continue;
      if (!imprint_disk_sysfs_listable (udev_device_get_sysname (dev), udev_device_get_syspath (dev)))
        continue;
      node = udev_device_get_devnode (dev);
      if (node != NULL)
        g_ptr_array_add (ret_nodes, g_strdup (node));
    }
  g_ptr_array_sort (ret_nodes, compare_devices);
  return 0;
}

int
imprint_disk_enumerate (const ImprintDiskEnumerateOptions *opts, GVariant **ret_disks)
{
  g_autoptr(ImprintDiskContext) ctx = NULL;
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder b;
  int r;

  g_return_val_if_fail (ret_disks != NULL, -EINVAL);

  r = imprint_disk_context_new (opts, &ctx);
  if (r < 0)
    return r;
  r = imprint_disk_list_nodes (nodes);
  if (r < 0)
    return r;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < nodes->len; i++)
    {
      g_autoptr(GVariant) disk = NULL;

      /* A device may vanish between listing and describing: skip it. */
      r = imprint_disk_describe_with (ctx, nodes->pdata[i], &disk);
      if (r < 0)
        {
          g_debug ("Skipping %s: %s", (const char *) nodes->pdata[i], g_strerror (-r));
          continue;
        }
      g_variant_builder_add_value (&b, disk);
    }

  for (const char * const *f = opts != NULL ? opts->files : NULL; f != NULL && *f != NULL; f++)
    {
      gsize i = f - opts->files;
      g_autoptr(GVariant) disk = NULL;

      /* Files were asked for by name: failing to read one is an error. */
      if (opts->file_fds != NULL && opts->file_fds[i] >= 0)
        r = imprint_disk_describe_fd (ctx, opts->file_fds[i], *f, &disk);
      else
        r = imprint_disk_describe_with (ctx, *f, &disk);
      if (r < 0)
        {
          g_variant_builder_clear (&b);
          return r;
        }
      g_variant_builder_add_value (&b, disk);
    }

  *ret_disks = g_variant_ref_sink (g_variant_builder_end (&b));
  return 0;
}

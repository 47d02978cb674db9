/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reports disks as they come, change and go. Events are gathered for a
 * short while and each affected disk is then looked at once: attaching a
 * loop device or writing a partition table raises a burst of uevents, and
 * what matters is the state after the burst. Mounting or unmounting raises
 * no uevent but changes "usable": the mount table is watched as well, and
 * "disk-changed" is only emitted when the description really changed. */

#include "config.h"

#include <gio/gunixmounts.h>
#include <glib-unix.h>
#include <libudev.h>
#include <sys/stat.h>

#include "macros.h"
#include "disk-private.h"

#define SETTLE_MS 150

struct _ImprintDiskMonitor {
  GObject parent_instance;

  gboolean include_loop;
  guint64 min_size;
  char *live_device;

  struct udev *udev;
  struct udev_monitor *monitor;
  GSource *source;
  GSource *settle;
  GUnixMountMonitor *mounts;
  GHashTable *known;     /* device node -> KnownDisk */
  GHashTable *pending;   /* whole-disk syspath -> device node */
};

enum {
  SIGNAL_DISK_ADDED,
  SIGNAL_DISK_CHANGED,
  SIGNAL_DISK_REMOVED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

typedef struct {
  char *syspath;
  GVariant *last;        /* what was last reported, NULL if nothing yet */
} KnownDisk;

static void
known_disk_free (KnownDisk *k)
{
  g_free (k->syspath);
  g_clear_pointer (&k->last, g_variant_unref);
  g_free (k);
}

G_DEFINE_FINAL_TYPE (ImprintDiskMonitor, imprint_disk_monitor, G_TYPE_OBJECT)

static void
imprint_disk_monitor_finalize (GObject *object)
{
  ImprintDiskMonitor *self = IMPRINT_DISK_MONITOR (object);

  if (self->settle != NULL)
    {
      g_source_destroy (self->settle);
      g_source_unref (self->settle);
    }
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->mounts != NULL)
    g_signal_handlers_disconnect_by_data (self->mounts, self);
  g_clear_object (&self->mounts);
  g_clear_pointer (&self->monitor, udev_monitor_unref);
  g_clear_pointer (&self->udev, udev_unref);
  g_clear_pointer (&self->known, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_free (self->live_device);

  G_OBJECT_CLASS (imprint_disk_monitor_parent_class)->finalize (object);
}

static void
imprint_disk_monitor_class_init (ImprintDiskMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imprint_disk_monitor_finalize;

  signals[SIGNAL_DISK_ADDED] =
    g_signal_new ("disk-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_VARIANT);
  signals[SIGNAL_DISK_CHANGED] =
    g_signal_new ("disk-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_VARIANT);
  signals[SIGNAL_DISK_REMOVED] =
    g_signal_new ("disk-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
imprint_disk_monitor_init (ImprintDiskMonitor *self)
{
  self->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) known_disk_free);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static int
monitor_describe (ImprintDiskMonitor *self, const char *node, GVariant **ret)
{
  ImprintDiskEnumerateOptions opts = {
    .include_loop = self->include_loop,
    .min_size = self->min_size,
    .live_device = self->live_device,
  };

  return imprint_disk_describe (node, &opts, ret);
}

static void
monitor_look_at (ImprintDiskMonitor *self, const char *syspath, const char *node)
{
  g_autofree char *sysname = g_path_get_basename (syspath);
  KnownDisk *known = g_hash_table_lookup (self->known, node);

  if (g_file_test (syspath, G_FILE_TEST_IS_DIR) && imprint_disk_sysfs_listable (sysname, syspath))
    {
      g_autoptr(GVariant) disk = NULL;
      int r = monitor_describe (self, node, &disk);

      if (r < 0)
        {
          g_debug ("Cannot describe %s: %s", node, g_strerror (-r));
          return;
        }
      if (known == NULL)
        {
          known = g_new0 (KnownDisk, 1);
          known->syspath = g_strdup (syspath);
          known->last = g_variant_ref (disk);
          g_hash_table_insert (self->known, g_strdup (node), known);
          g_signal_emit (self, signals[SIGNAL_DISK_ADDED], 0, disk);
        }
      else if (known->last == NULL || !g_variant_equal (known->last, disk))
        {
          g_clear_pointer (&known->last, g_variant_unref);
          known->last = g_variant_ref (disk);
          g_signal_emit (self, signals[SIGNAL_DISK_CHANGED], 0, disk);
        }
    }
  else if (known != NULL)
    {
      /* Gone, or a loop device detached (it stays in sysfs with size 0). */
      g_autofree char *gone = g_strdup (node);

      g_hash_table_remove (self->known, node);
      g_signal_emit (self, signals[SIGNAL_DISK_REMOVED], 0, gone);
    }
}

static gboolean
on_settled (gpointer user_data)
{
  ImprintDiskMonitor *self = user_data;
  g_autoptr(GHashTable) pending = g_steal_pointer (&self->pending);
  g_autoptr(GList) keys = NULL;

  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_clear_pointer (&self->settle, g_source_unref);

  keys = g_list_sort (g_hash_table_get_keys (pending), (GCompareFunc) g_strcmp0);
  g_object_ref (self);
  for (GList *l = keys; l != NULL; l = l->next)
    monitor_look_at (self, l->data, g_hash_table_lookup (pending, l->data));
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
monitor_queue (ImprintDiskMonitor *self, const char *syspath, const char *node)
{
  g_hash_table_replace (self->pending, g_strdup (syspath), g_strdup (node));
  if (self->settle == NULL)
    {
      self->settle = g_timeout_source_new (SETTLE_MS);
      g_source_set_callback (self->settle, on_settled, self, NULL);
      g_source_attach (self->settle, g_main_context_get_thread_default ());
    }
}

static void
on_mounts_changed (GUnixMountMonitor *mounts, gpointer user_data)
{
  ImprintDiskMonitor *self = user_data;
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, self->known);
  while (g_hash_table_iter_next (&it, &key, &value))
    monitor_queue (self, ((KnownDisk *) value)->syspath, key);
}

static gboolean
on_uevent (gint fd, GIOCondition condition, gpointer user_data)
{
  ImprintDiskMonitor *self = user_data;
  struct udev_device *dev;

  /* Drain everything queued; each receive returns one event or NULL. */
  while ((dev = udev_monitor_receive_device (self->monitor)) != NULL)
    {
      const char *subsystem = udev_device_get_subsystem (dev);
      const char *devtype = udev_device_get_devtype (dev);
      const char *syspath = udev_device_get_syspath (dev);

      if (g_strcmp0 (subsystem, "block") == 0 && syspath != NULL)
        {
          if (g_strcmp0 (devtype, "disk") == 0)
            {
              const char *node = udev_device_get_devnode (dev);
              g_autofree char *fallback = NULL;

              if (node == NULL)
                node = fallback = g_strconcat ("/dev/", udev_device_get_sysname (dev), NULL);
              monitor_queue (self, syspath, node);
            }
          else if (g_strcmp0 (devtype, "partition") == 0)
            {
              /* A partition came, changed or went: its disk changed. */
              g_autofree char *parent = g_path_get_dirname (syspath);
              g_autofree char *pname = g_path_get_basename (parent);
              g_autofree char *node = g_strconcat ("/dev/", pname, NULL);

              monitor_queue (self, parent, node);
            }
        }
      udev_device_unref (dev);
    }
  return G_SOURCE_CONTINUE;
}

ImprintDiskMonitor *
imprint_disk_monitor_new (const ImprintDiskEnumerateOptions *opts, GError **error)
{
  g_autoptr(ImprintDiskMonitor) self = g_object_new (IMPRINT_TYPE_DISK_MONITOR, NULL);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func (g_free);
  const char *group;
  int r;

  if (opts != NULL)
    {
      self->include_loop = opts->include_loop;
      self->min_size = opts->min_size;
      self->live_device = g_strdup (opts->live_device);
    }

  self->udev = udev_new ();
  if (self->udev == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "udev_new() failed");
      return NULL;
    }

  /* Without udevd nobody re-broadcasts on the "udev" group: listen to the
   * kernel's own uevents then. */
  group = access ("/run/udev/control", F_OK) >= 0 ? "udev" : "kernel";
  self->monitor = udev_monitor_new_from_netlink (self->udev, group);
  if (self->monitor == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot listen to %s uevents", group);
      return NULL;
    }
  (void) udev_monitor_filter_add_match_subsystem_devtype (self->monitor, "block", NULL);
  r = udev_monitor_enable_receiving (self->monitor);
  if (r < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-r),
                   "Cannot receive %s uevents: %s", group, g_strerror (-r));
      return NULL;
    }

  /* What exists now is not "added" later. */
  r = imprint_disk_list_nodes (nodes);
  if (r < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-r),
                   "Cannot list disks: %s", g_strerror (-r));
      return NULL;
    }
  for (guint i = 0; i < nodes->len; i++)
    {
      const char *node = nodes->pdata[i];
      struct stat st;
      KnownDisk *k;

      if (stat (node, &st) < 0 || !S_ISBLK (st.st_mode))
        continue;
      k = g_new0 (KnownDisk, 1);
      k->syspath = imprint_disk_sysfs_path_for_devnum (st.st_rdev);
      if (k->syspath == NULL)
        {
          known_disk_free (k);
          continue;
        }
      /* The baseline "changed" is measured against. */
      (void) monitor_describe (self, node, &k->last);
      g_hash_table_insert (self->known, g_strdup (node), k);
    }

  self->mounts = g_unix_mount_monitor_get ();
  g_signal_connect (self->mounts, "mounts-changed", G_CALLBACK (on_mounts_changed), self);

  self->source = g_unix_fd_source_new (udev_monitor_get_fd (self->monitor), G_IO_IN);
  g_source_set_callback (self->source, (GSourceFunc) (void (*) (void)) on_uevent, self, NULL);
  g_source_attach (self->source, g_main_context_get_thread_default ());

  return g_steal_pointer (&self);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <blkid.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "imprint-error.h"
#include "macros.h"
#include "update.h"
#include "cleanup-util-linux.h"

#define GPT_USR_X86_64 "8484680c-9521-48c6-9c11-b0720656f69e"
#define GPT_USR_ARM64  "b0e01050-ee5f-4390-949a-9101b17104e9"

static gboolean
is_usr_type (const char *type)
{
  return type != NULL && (g_ascii_strcasecmp (type, GPT_USR_X86_64) == 0 ||
                          g_ascii_strcasecmp (type, GPT_USR_ARM64) == 0);
}

int
imprint_update_slot_versions (const char *disk, const char *image_id, char ***ret_versions)
{
  _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = g_strconcat (image_id ? image_id : "", "_", NULL);
  blkid_partlist pl;
  int n;

  pr = blkid_new_probe_from_filename (disk);
  if (pr == NULL)
    return errno > 0 ? -errno : -EIO;
  blkid_probe_enable_partitions (pr, 1);
  blkid_probe_set_partitions_flags (pr, BLKID_PARTS_ENTRY_DETAILS);
  if (blkid_do_safeprobe (pr) < 0)
    return -EIO;
  pl = blkid_probe_get_partitions (pr);
  if (pl == NULL)
    return -ENXIO;  /* no partition table */
  n = blkid_partlist_numof_partitions (pl);
  for (int i = 0; i < n; i++)
    {
      blkid_partition p = blkid_partlist_get_partition (pl, i);
      const char *name = blkid_partition_get_name (p);

      if (!is_usr_type (blkid_partition_get_type_string (p)) || name == NULL)
        continue;
      /* "_empty" and anything not named by our scheme are free slots. */
      if (image_id == NULL || !g_str_has_prefix (name, prefix) || name[strlen (prefix)] == '\0')
        continue;
      g_ptr_array_add (versions, g_strdup (name + strlen (prefix)));
    }
  g_ptr_array_add (versions, NULL);
  *ret_versions = (char **) g_ptr_array_free (g_steal_pointer (&versions), FALSE);
  return 0;
}

/* Follows a device-mapper device (dm-verity /usr) to the partition under
 * it, then the partition to its disk, all through sysfs. */
int
imprint_update_backing_disk (const char *sysfs, const char *path, char **ret_disk)
{
  struct stat st;
  unsigned maj, min;
  g_autofree char *dev_link = NULL, *resolved = NULL, *name = NULL, *parent = NULL;

  if (stat (path, &st) < 0)
    return -errno;
  maj = major (st.st_dev);
  min = minor (st.st_dev);

  for (int depth = 0; depth < 4; depth++)
    {
      g_autofree char *slaves = NULL;
      g_autoptr(GDir) dir = NULL;
      const char *slave;

      g_free (dev_link);
      dev_link = g_strdup_printf ("%s/dev/block/%u:%u", sysfs ? sysfs : "/sys", maj, min);
      slaves = g_build_filename (dev_link, "slaves", NULL);
      dir = g_dir_open (slaves, 0, NULL);
      slave = dir ? g_dir_read_name (dir) : NULL;
      if (slave == NULL)
        break;
      /* The data device of the verity target comes first alphabetically
       * often enough not to matter: every slave lives on the same disk. */
      {
        g_autofree char *devfile = g_strdup_printf ("%s/%s/dev", slaves, slave);
        g_autofree char *text = NULL;

        if (!g_file_get_contents (devfile, &text, NULL, NULL) || sscanf (text, "%u:%u", &maj, &min) != 2)
          return -ENODEV;
      }
    }

  resolved = realpath (dev_link, NULL);
  if (resolved == NULL)
    return -errno;
  {
    g_autofree char *partition_file = g_build_filename (resolved, "partition", NULL);

    if (g_file_test (partition_file, G_FILE_TEST_EXISTS))
      parent = g_path_get_dirname (resolved);
    else
      parent = g_strdup (resolved);
  }
  name = g_path_get_basename (parent);
  *ret_disk = g_strconcat ("/dev/", name, NULL);
  return 0;
}

/* ---- Automatic updates ---------------------------------------------------- */

#define SYSTEMD1_NAME    "org.freedesktop.systemd1"
#define SYSTEMD1_PATH    "/org/freedesktop/systemd1"
#define SYSTEMD1_MANAGER "org.freedesktop.systemd1.Manager"
#define TIMER_UNIT       "systemd-sysupdate.timer"

int
imprint_update_automatic_get (GDBusConnection *bus, gboolean *ret_enabled, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  const char *state;

  if (bus == NULL)
    return -ENOTCONN;
  reply = g_dbus_connection_call_sync (bus, SYSTEMD1_NAME, SYSTEMD1_PATH, SYSTEMD1_MANAGER,
                                       "GetUnitFileState", g_variant_new ("(s)", TIMER_UNIT),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       10000, NULL, error);
  if (reply == NULL)
    return -EIO;
  g_variant_get (reply, "(&s)", &state);
  *ret_enabled = g_str_has_prefix (state, "enabled");
  return 0;
}

gboolean
imprint_update_automatic_set (GDBusConnection *bus, gboolean enabled, GError **error)
{
  const char *units[] = { TIMER_UNIT, NULL };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local = NULL;

  if (bus == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                           _("The service manager cannot be reached, so automatic updates cannot be changed."));
      return FALSE;
    }

  /* Enable/disable the unit file (persistent), then start/stop the timer
   * so the change holds for this boot too. */
  if (enabled)
    reply = g_dbus_connection_call_sync (bus, SYSTEMD1_NAME, SYSTEMD1_PATH, SYSTEMD1_MANAGER, "EnableUnitFiles",
                                         g_variant_new ("(^asbb)", units, FALSE, FALSE),
                                         G_VARIANT_TYPE ("(ba(sss))"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                         30000, NULL, &local);
  else
    reply = g_dbus_connection_call_sync (bus, SYSTEMD1_NAME, SYSTEMD1_PATH, SYSTEMD1_MANAGER, "DisableUnitFiles",
                                         g_variant_new ("(^asb)", units, FALSE),
                                         G_VARIANT_TYPE ("(a(sss))"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                         30000, NULL, &local);
  if (reply == NULL)
    goto fail;
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, SYSTEMD1_NAME, SYSTEMD1_PATH, SYSTEMD1_MANAGER, "Reload",
                                       NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, 60000, NULL, &local);
  if (reply == NULL)
    goto fail;
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, SYSTEMD1_NAME, SYSTEMD1_PATH, SYSTEMD1_MANAGER,
                                       enabled ? "StartUnit" : "StopUnit",
                                       g_variant_new ("(ss)", TIMER_UNIT, "replace"),
                                       G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       30000, NULL, &local);
  if (reply == NULL)
    goto fail;
  return TRUE;

fail:
  if (g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_UNAVAILABLE,
                         _("The service manager (systemd) is not running, so automatic updates cannot be changed."));
  else
    {
      g_dbus_error_strip_remote_error (local);
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                   enabled ? _("Could not turn on automatic updates: %s") : _("Could not turn off automatic updates: %s"),
                   local->message);
    }
  return FALSE;
}

/* ---- GetUpdateStatus -------------------------------------------------------- */

static gboolean
version_newer (const char *a, const char *b)
{
  /* sysupdate orders versions like strverscmp(); so do we. */
  return strverscmp (a, b) > 0;
}

GVariant *
imprint_update_get_status (const ImprintUpdatePaths *paths, GDBusConnection *bus, GCancellable *cancellable)
{
  g_autoptr(GHashTable) os = NULL;
  g_autoptr(ImprintSysupdate) s = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *disk = NULL, *other = NULL, *pending = NULL;
  g_auto(GStrv) slots = NULL;
  const char *image_id = "", *current = "";
  gboolean automatic = FALSE;
  GVariantBuilder b;
  int r;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);

  r = imprint_os_release_read (paths->root, &os);
  if (r >= 0)
    {
      image_id = g_hash_table_lookup (os, "IMAGE_ID") ?: "";
      current = g_hash_table_lookup (os, "IMAGE_VERSION") ?: "";
    }
  g_variant_builder_add (&b, "{sv}", "image-id", g_variant_new_string (image_id));
  g_variant_builder_add (&b, "{sv}", "current-version", g_variant_new_string (current));

  /* The other slot: the /usr partitions' labels name their versions. */
  if (paths->usr_disk != NULL)
    disk = g_strdup (paths->usr_disk);
  else if (imprint_update_backing_disk (paths->sysfs, "/usr", &disk) < 0)
    g_clear_pointer (&disk, g_free);
  if (disk != NULL && *image_id != '\0' && imprint_update_slot_versions (disk, image_id, &slots) >= 0)
    for (gsize i = 0; slots[i]; i++)
      if (!g_str_equal (slots[i], current) && (other == NULL || version_newer (slots[i], other)))
        {
          g_free (other);
          other = g_strdup (slots[i]);
        }
  g_variant_builder_add (&b, "{sv}", "other-version", g_variant_new_string (other ? other : ""));

  /* Pending: a newer version installed than the one booted. */
  if (other != NULL && *current != '\0' && version_newer (other, current))
    pending = g_strdup (other);
  g_variant_builder_add (&b, "{sv}", "pending-version", g_variant_new_string (pending ? pending : ""));

  if (imprint_update_automatic_get (bus, &automatic, NULL) < 0)
    automatic = FALSE;
  g_variant_builder_add (&b, "{sv}", "automatic", g_variant_new_boolean (automatic));

  if (*image_id == '\0' || *current == '\0')
    {
      g_variant_builder_add (&b, "{sv}", "supported", g_variant_new_boolean (FALSE));
      g_variant_builder_add (&b, "{sv}", "reason", g_variant_new_string (
                               _("This system does not name its image version (IMAGE_ID and IMAGE_VERSION in os-release), so it is not updated as an image.")));
      return g_variant_builder_end (&b);
    }
  s = imprint_sysupdate_new (paths, &error);
  g_variant_builder_add (&b, "{sv}", "supported", g_variant_new_boolean (s != NULL));
  if (s == NULL)
    g_variant_builder_add (&b, "{sv}", "reason", g_variant_new_string (error->message));
  else
    g_variant_builder_add (&b, "{sv}", "backend", g_variant_new_string (imprint_sysupdate_backend (s)));
  return g_variant_builder_end (&b);
}

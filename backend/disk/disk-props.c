/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A disk's properties: for a block device from sysfs (and the udev
 * database when udevd runs: its by-id name), vendor, model, serial (VPD
 * page 0x80 when sysfs has none), transport; for an image file its size,
 * sector size and the loop devices backing it. */
#include "config.h"

#include <blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <libfdisk.h>
#include <libudev.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <glib/gi18n.h>

#include "lba.h"
#include "macros.h"
#include "disk-contents.h"
#include "disk-private.h"
#include "disk-types.h"
#include "disk-usable.h"
#include "cleanup-util-linux.h"

void
imprint_disk_props_clear (ImprintDiskProps *p)
{
  g_free (p->node);
  g_free (p->id);
  g_free (p->vendor);
  g_free (p->model);
  g_free (p->serial);
  g_free (p->transport);
  g_free (p->kernel_name);
  g_free (p->syspath);
  g_clear_pointer (&p->loop_syspaths, g_ptr_array_unref);
}

static char *
strdup_nonempty (const char *s)
{
  return s != NULL && s[0] != '\0' ? g_strdup (s) : NULL;
}

const char *
imprint_disk_guess_transport (const char *sysname, const char *syspath)
{
  if (g_str_has_prefix (sysname, "loop"))
    return "loop";
  if (strstr (syspath, "/usb") != NULL)
    return "usb";
  if (g_str_has_prefix (sysname, "nvme") || strstr (syspath, "/nvme/") != NULL)
    return "nvme";
  if (g_str_has_prefix (sysname, "mmcblk") || strstr (syspath, "/mmc_host/") != NULL)
    return "mmc";
  if (g_str_has_prefix (sysname, "vd") && strstr (syspath, "/virtio") != NULL)
    return "virtio";
  if (strstr (syspath, "/ata") != NULL)
    return "sata";
  if (g_str_has_prefix (sysname, "sd") || strstr (syspath, "/host") != NULL)
    return "scsi";
  return "unknown";
}

/* Like udev's by-id names: blanks become underscores, nothing odd. */
char *
imprint_disk_id_sanitize (const char *s)
{
  GString *out = g_string_new (NULL);

  for (const char *c = s; *c != '\0'; c++)
    {
      if (g_ascii_isalnum (*c) || strchr ("#+-.:=@_", *c) != NULL)
        g_string_append_c (out, *c);
      else if (g_ascii_isspace (*c) || *c == '/')
        {
          if (out->len > 0 && out->str[out->len - 1] != '_')
            g_string_append_c (out, '_');
        }
    }
  while (out->len > 0 && out->str[out->len - 1] == '_')
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

/* Preference among by-id links: bus-model-serial names read best; wwn-
 * and eui names are stable too but say nothing to a person. */
static int
by_id_rank (const char *name)
{
  if (g_str_has_prefix (name, "wwn-") || g_str_has_prefix (name, "nvme-eui.") ||
      g_str_has_prefix (name, "nvme-nvme."))
    return 1;
  if (g_str_has_prefix (name, "dm-") || g_str_has_prefix (name, "md-") || g_str_has_prefix (name, "lvm-"))
    return 2;
  return 0;
}

static char *
udev_by_id (struct udev_device *dev)
{
  struct udev_list_entry *e;
  const char *best = NULL;
  int best_rank = G_MAXINT;

  udev_list_entry_foreach (e, udev_device_get_devlinks_list_entry (dev))
    {
      const char *link = udev_list_entry_get_name (e);
      const char *name;
      int rank;

      if (!g_str_has_prefix (link, "/dev/disk/by-id/"))
        continue;
      name = link + strlen ("/dev/disk/by-id/");
      rank = by_id_rank (name);
      if (rank < best_rank || (rank == best_rank && g_strcmp0 (name, best) < 0))
        {
          best = name;
          best_rank = rank;
        }
    }
  return g_strdup (best);
}

/* SCSI and ATA disks keep their serial in the Unit Serial Number VPD page
 * (0x80): a 4-byte header (byte 1 the page code, bytes 2-3 the length),
 * then the ASCII serial, often padded with blanks. */
char *
imprint_disk_parse_vpd_serial (const void *data, gsize len)
{
  const guint8 *buf = data;
  g_autofree char *serial = NULL;
  gsize n;

  if (buf == NULL || len < 4 || buf[1] != 0x80)
    return NULL;
  n = MIN ((gsize) ((buf[2] << 8) | buf[3]), len - 4);
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isprint (buf[4 + i]))
      return NULL;
  serial = g_strndup ((const char *) buf + 4, n);
  g_strstrip (serial);
  return serial[0] != '\0' ? g_steal_pointer (&serial) : NULL;
}

static char *
sysfs_vpd_serial (const char *syspath)
{
  g_autofree char *path = g_build_filename (syspath, "device", "vpd_pg80", NULL);
  g_autofree char *buf = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &buf, &len, NULL))
    return NULL;
  return imprint_disk_parse_vpd_serial (buf, len);
}

void
imprint_disk_props_from_block (ImprintDiskProps *p, dev_t devnum, const char *syspath)
{
  _cleanup_(udev_unrefp) struct udev *udev = udev_new ();
  _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;
  g_autofree char *wwid = NULL;
  guint64 sectors = 0, v;

  p->syspath = g_strdup (syspath);
  p->kernel_name = g_path_get_basename (syspath);
  p->transport = g_strdup (imprint_disk_guess_transport (p->kernel_name, syspath));

  if (imprint_sysfs_read_u64 (syspath, "size", &sectors))
    p->size = sectors * 512;   /* sysfs counts 512-byte units whatever the sector size */
  p->logical_sector_size = imprint_sysfs_read_u64 (syspath, "queue/logical_block_size", &v) ? (guint32) v : 512;
  p->physical_sector_size = imprint_sysfs_read_u64 (syspath, "queue/physical_block_size", &v) ? (guint32) v : p->logical_sector_size;
  p->removable = imprint_sysfs_read_bool (syspath, "removable");
  p->rotational = imprint_sysfs_read_bool (syspath, "queue/rotational");
  p->read_only = imprint_sysfs_read_bool (syspath, "ro");

  /* SCSI/ATA/USB and NVMe expose model (and SCSI vendor) on the device;
   * MMC calls it "name". virtio and loop have none. */
  p->model = imprint_sysfs_read (syspath, "device/model");
  if (p->model != NULL)
    p->vendor = imprint_sysfs_read (syspath, "device/vendor");
  else if (g_str_equal (p->transport, "mmc"))
    p->model = imprint_sysfs_read (syspath, "device/name");
  p->serial = imprint_sysfs_read (syspath, "serial");
  if (p->serial == NULL)
    p->serial = imprint_sysfs_read (syspath, "device/serial");
  if (p->serial == NULL)
    p->serial = sysfs_vpd_serial (syspath);
  wwid = imprint_sysfs_read (syspath, "wwid");
  if (wwid == NULL)
    wwid = imprint_sysfs_read (syspath, "device/wwid");

  /* The udev database (present when udevd runs) knows the by-id names and
   * serials of devices whose sysfs hides them (SCSI VPD pages). */
  if (udev != NULL && (dev = udev_device_new_from_devnum (udev, 'b', devnum)) != NULL)
    {
      const char *devnode = udev_device_get_devnode (dev);

      if (devnode != NULL)
        p->node = g_strdup (devnode);
      p->id = udev_by_id (dev);
      if (p->serial == NULL)
        p->serial = strdup_nonempty (udev_device_get_property_value (dev, "ID_SERIAL_SHORT"));
      if (p->model == NULL)
        {
          p->model = strdup_nonempty (udev_device_get_property_value (dev, "ID_MODEL"));
          if (p->model != NULL)
            g_strdelimit (p->model, "_", ' ');
        }
      if (p->vendor == NULL)
        {
          p->vendor = strdup_nonempty (udev_device_get_property_value (dev, "ID_VENDOR"));
          if (p->vendor != NULL)
            g_strdelimit (p->vendor, "_", ' ');
        }
    }
  if (p->node == NULL)
    p->node = g_strconcat ("/dev/", p->kernel_name, NULL);

  if (p->id == NULL && p->serial != NULL && p->serial[0] != '\0')
    {
      g_autofree char *raw = p->model != NULL ? g_strdup_printf ("%s_%s", p->model, p->serial)
                                              : g_strdup (p->serial);
      g_autofree char *tail = imprint_disk_id_sanitize (raw);
      p->id = g_strdup_printf ("%s-%s", p->transport, tail);
    }
  if (p->id == NULL && wwid != NULL && wwid[0] != '\0')
    {
      g_autofree char *tail = imprint_disk_id_sanitize (wwid);
      p->id = g_strdup_printf ("%s-%s", p->transport, tail);
    }
  if (p->id == NULL)
    p->id = g_strdup (p->node);
}

/* Loop devices an image file is attached to, so that a file whose loop
 * device is mounted is reported as mounted. */
static GPtrArray *
loops_backed_by (const char *realpath_)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  _cleanup_(closedirp) DIR *d = opendir ("/sys/class/block");
  struct dirent *de;

  while (d != NULL && (de = readdir (d)) != NULL)
    {
      g_autofree char *link = NULL;
      g_autofree char *sys = NULL;
      g_autofree char *backing = NULL;

      if (!g_str_has_prefix (de->d_name, "loop"))
        continue;
      link = g_build_filename ("/sys/class/block", de->d_name, NULL);
      if ((sys = realpath (link, NULL)) == NULL || imprint_sysfs_is_partition (sys))
        continue;
      backing = imprint_sysfs_read (sys, "loop/backing_file");
      if (backing != NULL && g_str_equal (backing, realpath_))
        g_ptr_array_add (out, TAKE_PTR (sys));
    }
  return out;
}

/* A file has no sector size of its own: take the one its GPT was written
 * with (the header sits in LBA 1), else 512. */
static guint32
file_sector_size (int fd)
{
  static const guint32 sizes[] = { 512, 4096 };
  char sig[8];

  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (pread (fd, sig, sizeof sig, sizes[i]) == (ssize_t) sizeof sig && memcmp (sig, "EFI PART", 8) == 0)
      return sizes[i];
  return 512;
}

int
imprint_disk_props_from_file (ImprintDiskProps *p, const char *path, const char *proc_path, int fd, const struct stat *st)
{
  g_autofree char *real = realpath (proc_path, NULL);

  if (real == NULL)
    return negative_errno ();
  p->is_file = TRUE;
  p->node = g_strdup (path);
  p->id = g_strdup (real);
  p->transport = g_strdup ("file");
  p->size = (guint64) st->st_size;
  p->logical_sector_size = p->physical_sector_size = file_sector_size (fd);
  p->read_only = access (proc_path, W_OK) < 0;
  p->loop_syspaths = loops_backed_by (real);
  return 0;
}

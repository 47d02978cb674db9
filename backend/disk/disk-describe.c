/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Describes one disk (block device or image file) as the a{sv} documented
 * at ListDisks: sysfs (and the udev database when udevd runs) for the
 * device's properties, libblkid for signatures, libfdisk for the partition
 * table and free space, libmount, /proc/swaps and holders/ for whether it is
 * in use. */

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

#define MIB (UINT64_C (1024) * 1024)

/* ---- device properties ------------------------------------------------- */

typedef struct {
  char *node;
  char *id;
  char *vendor;
  char *model;
  char *serial;
  char *transport;
  char *kernel_name;     /* NULL for files */
  char *syspath;         /* whole disk in sysfs, NULL for files */
  guint64 size;
  guint32 logical_sector_size;
  guint32 physical_sector_size;
  gboolean removable;
  gboolean rotational;
  gboolean read_only;
  gboolean is_file;
  GPtrArray *loop_syspaths;  /* files: loop devices they are attached to */
} DiskProps;

static void
disk_props_clear (DiskProps *p)
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

static void
props_from_block (DiskProps *p, dev_t devnum, const char *syspath)
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

static int
props_from_file (DiskProps *p, const char *path, const char *proc_path, int fd, const struct stat *st)
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

/* ---- partition table --------------------------------------------------- */

typedef struct {
  guint number;
  guint64 start;
  guint64 size;
  char *type;
  char *type_name;
  char *name;
  char *uuid;
  char *fstype;
  char *fslabel;
  char *fsuuid;
  ImprintPartRole role;
} PartInfo;

static void
part_info_clear (PartInfo *p)
{
  g_free (p->type);
  g_free (p->type_name);
  g_free (p->name);
  g_free (p->uuid);
  g_free (p->fstype);
  g_free (p->fslabel);
  g_free (p->fsuuid);
}

typedef struct {
  char *table;          /* "gpt", "dos", other label name, or "" */
  char *table_uuid;
  ImprintTableState table_state;
  char *whole_fstype;   /* signature on the whole disk when there is no table */
  gboolean zeroed;
  GArray *parts;        /* PartInfo */
  GArray *free;         /* ImprintDiskRegion */
} TableInfo;

static void
table_info_clear (TableInfo *t)
{
  g_free (t->table);
  g_free (t->table_uuid);
  g_free (t->whole_fstype);
  g_clear_pointer (&t->parts, g_array_unref);
  g_clear_pointer (&t->free, g_array_unref);
}

static char *
blkid_value (blkid_probe pr, const char *name)
{
  const char *v = NULL;

  if (blkid_probe_lookup_value (pr, name, &v, NULL) < 0 || v == NULL || v[0] == '\0')
    return NULL;
  return g_strdup (v);
}

/* Filesystem (or crypto, raid, swap) signature in [offset, offset+size). */
static void
probe_filesystem (int fd, guint64 offset, guint64 size, guint32 sector_size, PartInfo *p)
{
  _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe ();
  int r;

  if (pr == NULL || blkid_probe_set_device (pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) < 0)
    return;
  blkid_probe_set_sectorsize (pr, sector_size);
  blkid_probe_enable_partitions (pr, 0);
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);

  r = blkid_do_safeprobe (pr);
  if (r == -2)
    {
      /* Two signatures: report it as unknown rather than guess. */
      p->fstype = g_strdup (IMPRINT_DISK_FSTYPE_AMBIGUOUS);
      return;
    }
  if (r != 0)
    return;
  p->fstype = blkid_value (pr, "TYPE");
  p->fslabel = blkid_value (pr, "LABEL");
  p->fsuuid = blkid_value (pr, "UUID");
}

static gboolean
region_is_zero (int fd, guint64 offset, gsize len)
{
  g_autofree guint8 *buf = g_malloc (len);
  ssize_t n = pread (fd, buf, len, (off_t) offset);

  if (n <= 0)
    return FALSE;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] != 0)
      return FALSE;
  return TRUE;
}

static char *
lowercase_or_null (const char *s)
{
  return s != NULL && s[0] != '\0' ? g_ascii_strdown (s, -1) : NULL;
}

static void
fill_partition_from_fdisk (struct fdisk_context *cxt, struct fdisk_partition *pa,
                           gboolean is_gpt, const char *dos_id, PartInfo *p)
{
  struct fdisk_parttype *type = fdisk_partition_get_type (pa);
  guint64 ss = fdisk_get_sector_size (cxt);
  const char *name;

  p->number = (guint) fdisk_partition_get_partno (pa) + 1;
  /* The table's sector numbers are the disk's word: one that does not
   * convert to bytes shows as an empty partition at 0, never wrapped. */
  if (!imprint_lba_range_to_bytes (fdisk_partition_get_start (pa), fdisk_partition_get_size (pa),
                                   (guint32) ss, &p->start, &p->size))
    p->start = p->size = 0;

  if (is_gpt)
    {
      const char *guid = type != NULL ? fdisk_parttype_get_string (type) : NULL;
      const char *n;

      p->type = lowercase_or_null (guid);
      n = imprint_disk_gpt_type_name (p->type);
      p->type_name = g_strdup (n != NULL ? _(n) : (type != NULL && fdisk_parttype_get_name (type) ? fdisk_parttype_get_name (type) : ""));
      p->role = imprint_disk_gpt_type_role (p->type);
      p->uuid = lowercase_or_null (fdisk_partition_get_uuid (pa));
      name = fdisk_partition_get_name (pa);
      p->name = g_strdup (name != NULL ? name : "");
    }
  else
    {
      guint code = type != NULL ? fdisk_parttype_get_code (type) : 0;
      const char *n = imprint_disk_mbr_type_name (code);

      p->type = g_strdup_printf ("0x%02x", code);
      p->type_name = g_strdup (n != NULL ? _(n) : (type != NULL && fdisk_parttype_get_name (type) ? fdisk_parttype_get_name (type) : ""));
      p->role = imprint_disk_mbr_type_role (code);
      if (fdisk_partition_is_container (pa))
        p->role = IMPRINT_PART_ROLE_EXTENDED;
      /* Same form as the kernel's and blkid's PARTUUID: "<disk id>-<nn>". */
      p->uuid = dos_id != NULL ? g_strdup_printf ("%s-%02x", dos_id, p->number) : NULL;
      p->name = g_strdup ("");
    }
}

static int
read_table_with_fdisk (int fd, const char *path, const DiskProps *props, TableInfo *t)
{
  _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = fdisk_new_context ();
  _cleanup_(fdisk_unref_tablep) struct fdisk_table *tb = NULL;
  _cleanup_(fdisk_unref_tablep) struct fdisk_table *fr = NULL;
  _cleanup_(fdisk_free_iterp) struct fdisk_iter *itr = fdisk_new_iter (FDISK_ITER_FORWARD);
  struct fdisk_partition *pa;
  const char *label_name;
  gboolean is_gpt;
  g_autofree char *dos_id = NULL;
  guint64 ss, grain;
  int r;

  if (cxt == NULL || itr == NULL)
    return -ENOMEM;
  if (props->is_file)
    {
      r = fdisk_save_user_sector_size (cxt, props->physical_sector_size, props->logical_sector_size);
      if (r < 0)
        return r;
    }
  r = fdisk_assign_device_by_fd (cxt, fd, path, 1);
  if (r < 0)
    return r;
  if (!fdisk_has_label (cxt))
    return -ENOMSG;

  label_name = fdisk_label_get_name (fdisk_get_label (cxt, NULL));
  is_gpt = fdisk_is_labeltype (cxt, FDISK_DISKLABEL_GPT);
  g_free (t->table);
  t->table = g_strdup (label_name);
  if (fdisk_is_labeltype (cxt, FDISK_DISKLABEL_DOS) && t->table_uuid != NULL)
    dos_id = g_strdup (t->table_uuid);

  r = fdisk_get_partitions (cxt, &tb);
  if (r < 0)
    return r;
  while (fdisk_table_next_partition (tb, itr, &pa) == 0)
    {
      PartInfo p = { 0 };

      if (!fdisk_partition_is_used (pa) || !fdisk_partition_has_partno (pa))
        continue;
      fill_partition_from_fdisk (cxt, pa, is_gpt, dos_id, &p);
      /* Size 0 would make blkid probe the whole disk. */
      if (p.role != IMPRINT_PART_ROLE_EXTENDED && p.size > 0)
        probe_filesystem (fd, p.start, p.size, props->logical_sector_size, &p);
      g_array_append_val (t->parts, p);
    }

  /* Free space inside the table, on the alignment libfdisk would use for a
   * new partition (1 MiB unless the device asks for more), 1 MiB at least. */
  ss = fdisk_get_sector_size (cxt);
  grain = MAX ((guint64) fdisk_get_grain_size (cxt), MIB);
  if (fdisk_get_freespaces (cxt, &fr) == 0)
    {
      fdisk_reset_iter (itr, FDISK_ITER_FORWARD);
      while (fdisk_table_next_partition (fr, itr, &pa) == 0)
        {
          ImprintDiskRegion reg = { 0 };
          if (!imprint_lba_range_to_bytes (fdisk_partition_get_start (pa), fdisk_partition_get_size (pa),
                                           (guint32) ss, &reg.start, &reg.size))
            continue;
          g_array_append_val (t->free, reg);
        }
      g_array_set_size (t->free, imprint_disk_align_free_regions ((ImprintDiskRegion *) t->free->data,
                                                                  t->free->len, grain, MIB));
    }
  return 0;
}

static void
read_table (int fd, const char *path, const DiskProps *props, TableInfo *t)
{
  _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe ();
  g_autofree char *pttype = NULL;
  int r;

  t->table = g_strdup ("");
  t->parts = g_array_new (FALSE, TRUE, sizeof (PartInfo));
  g_array_set_clear_func (t->parts, (GDestroyNotify) part_info_clear);
  t->free = g_array_new (FALSE, TRUE, sizeof (ImprintDiskRegion));

  if (props->size == 0 || pr == NULL || blkid_probe_set_device (pr, fd, 0, (blkid_loff_t) props->size) < 0)
    return;

  /* blkid first: it tells a partition table from a filesystem on the whole
   * disk (a FAT boot sector looks like an MBR to a naive reader). */
  blkid_probe_set_sectorsize (pr, props->logical_sector_size);
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (pr, BLKID_SUBLKS_TYPE);
  blkid_probe_enable_partitions (pr, 1);
  r = blkid_do_safeprobe (pr);
  if (r == 0)
    {
      pttype = blkid_value (pr, "PTTYPE");
      g_autofree char *ptuuid = blkid_value (pr, "PTUUID");

      t->table_uuid = lowercase_or_null (ptuuid);
      if (pttype == NULL)
        t->whole_fstype = blkid_value (pr, "TYPE");
    }
  else if (r == -2)
    t->whole_fstype = g_strdup (IMPRINT_DISK_FSTYPE_AMBIGUOUS);

  if (pttype == NULL)
    {
      t->zeroed = t->whole_fstype == NULL && region_is_zero (fd, 0, MIN (props->size, MIB));
      return;
    }

  t->table_state = IMPRINT_TABLE_PRESENT;
  g_free (t->table);
  t->table = g_strdup (pttype);
  r = read_table_with_fdisk (fd, path, props, t);
  if (r < 0)
    {
      g_debug ("%s: blkid sees a %s table that libfdisk cannot read: %s", path, pttype, g_strerror (-r));
      t->table_state = IMPRINT_TABLE_UNREADABLE;
      g_array_set_size (t->parts, 0);
      g_array_set_size (t->free, 0);
    }
}

/* ---- putting it together ----------------------------------------------- */

static void
dict_add_str (GVariantBuilder *b, const char *key, const char *value)
{
  g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value != NULL ? value : ""));
}

/* Mount points, holders and swap use of the disk (or, for an image file,
 * of the loop devices it is attached to) and of its partitions. */
typedef struct {
  GPtrArray *mountpoints;
  GPtrArray *holders;
  gboolean swap;
  GHashTable *part_mountpoint;   /* number -> const char* (borrowed from ctx) */
} UseInfo;

static void
use_info_clear (UseInfo *u)
{
  g_clear_pointer (&u->mountpoints, g_ptr_array_unref);
  g_clear_pointer (&u->holders, g_ptr_array_unref);
  g_clear_pointer (&u->part_mountpoint, g_hash_table_unref);
}

static void
collect_use_of_dir (ImprintDiskContext *ctx, const char *dir, dev_t d, UseInfo *u)
{
  g_autoptr(GPtrArray) holders = g_ptr_array_new_with_free_func (g_free);

  imprint_disk_context_add_mounts (ctx, d, u->mountpoints);
  if (g_hash_table_contains (ctx->swaps, DEVNUM_KEY (d)))
    u->swap = TRUE;
  imprint_sysfs_add_holders (dir, holders);
  for (guint i = 0; i < holders->len; i++)
    {
      g_autofree char *hdir = g_build_filename (dir, "holders", holders->pdata[i], NULL);
      dev_t hd;

      /* An opened LUKS volume or LVM volume mounted somewhere: the mount is
       * on the holder, the disk is just as busy. */
      if (imprint_sysfs_read_devnum (hdir, &hd) >= 0)
        imprint_disk_context_add_mounts (ctx, hd, u->mountpoints);
      if (!g_ptr_array_find_with_equal_func (u->holders, holders->pdata[i], g_str_equal, NULL))
        g_ptr_array_add (u->holders, g_strdup (holders->pdata[i]));
    }
}

static void
collect_use (ImprintDiskContext *ctx, const char *syspath, UseInfo *u)
{
  g_autoptr(GArray) parts = imprint_sysfs_partitions (syspath);
  dev_t d;

  if (imprint_sysfs_read_devnum (syspath, &d) < 0)
    return;
  collect_use_of_dir (ctx, syspath, d, u);
  for (guint i = 0; i < parts->len; i++)
    {
      const ImprintSysPart *sp = &g_array_index (parts, ImprintSysPart, i);
      g_autofree char *pdir = g_build_filename (syspath, sp->name, NULL);
      const char *target = imprint_disk_context_first_mount (ctx, sp->devnum);

      collect_use_of_dir (ctx, pdir, sp->devnum, u);
      if (target != NULL && !g_hash_table_contains (u->part_mountpoint, GUINT_TO_POINTER (sp->number)))
        g_hash_table_insert (u->part_mountpoint, GUINT_TO_POINTER (sp->number), (gpointer) target);
    }
}

static GVariant *
build_partitions (const DiskProps *props, const TableInfo *t, const UseInfo *u)
{
  g_autoptr(GArray) sysparts = imprint_sysfs_partitions (props->is_file ? NULL : props->syspath);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < t->parts->len; i++)
    {
      const PartInfo *p = &g_array_index (t->parts, PartInfo, i);
      const ImprintSysPart *sp = imprint_sysfs_parts_find (sysparts, p->number);
      g_autofree char *node = NULL;
      g_autofree char *contents = imprint_disk_partition_contents (p->role, p->fstype);
      const char *mp = g_hash_table_lookup (u->part_mountpoint, GUINT_TO_POINTER (p->number));
      GVariantBuilder pb;

      /* Only nodes that exist: a loop device attached without partition
       * scanning has partitions in its table but none in /dev. */
      if (sp != NULL)
        node = g_strconcat ("/dev/", sp->name, NULL);

      g_variant_builder_init (&pb, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&pb, "{sv}", "number", g_variant_new_uint32 (p->number));
      dict_add_str (&pb, "node", node);
      g_variant_builder_add (&pb, "{sv}", "start", g_variant_new_uint64 (p->start));
      g_variant_builder_add (&pb, "{sv}", "size", g_variant_new_uint64 (p->size));
      dict_add_str (&pb, "type", p->type);
      dict_add_str (&pb, "type-name", p->type_name);
      dict_add_str (&pb, "name", p->name);
      dict_add_str (&pb, "uuid", p->uuid);
      /* The marker stays internal: no filesystem can be named. */
      dict_add_str (&pb, "filesystem", g_strcmp0 (p->fstype, IMPRINT_DISK_FSTYPE_AMBIGUOUS) == 0 ? "" : p->fstype);
      dict_add_str (&pb, "filesystem-label", p->fslabel);
      dict_add_str (&pb, "filesystem-uuid", p->fsuuid);
      dict_add_str (&pb, "contents", contents);
      dict_add_str (&pb, "mountpoint", mp);
      g_variant_builder_add_value (&b, g_variant_builder_end (&pb));
    }
  return g_variant_builder_end (&b);
}

static GVariant *
build_free (const TableInfo *t)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(tt)"));
  for (guint i = 0; i < t->free->len; i++)
    {
      const ImprintDiskRegion *r = &g_array_index (t->free, ImprintDiskRegion, i);
      g_variant_builder_add (&b, "(tt)", r->start, r->size);
    }
  return g_variant_builder_end (&b);
}

static char *
build_summary (const DiskProps *props, const TableInfo *t)
{
  g_autofree ImprintPartContents *pc = g_new0 (ImprintPartContents, MAX (t->parts->len, 1));

  for (guint i = 0; i < t->parts->len; i++)
    {
      const PartInfo *p = &g_array_index (t->parts, PartInfo, i);
      pc[i].role = p->role;
      pc[i].fstype = p->fstype;
    }
  return imprint_disk_contents_summary (props->size, t->table_state, t->whole_fstype, t->zeroed,
                                        pc, t->parts->len);
}

static GVariant *
build_disk (ImprintDiskContext *ctx, const DiskProps *props, const TableInfo *t)
{
  _cleanup_(use_info_clear) UseInfo u = {
    .mountpoints = g_ptr_array_new_with_free_func (g_free),
    .holders = g_ptr_array_new_with_free_func (g_free),
    .part_mountpoint = g_hash_table_new (g_direct_hash, g_direct_equal),
  };
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *contents = build_summary (props, t);
  ImprintDiskFacts facts = { 0 };
  ImprintDiskReasons reasons;
  gboolean live = FALSE;
  GVariantBuilder b;

  if (props->is_file)
    {
      for (guint i = 0; i < props->loop_syspaths->len; i++)
        collect_use (ctx, props->loop_syspaths->pdata[i], &u);
    }
  else
    {
      dev_t d;

      collect_use (ctx, props->syspath, &u);
      live = imprint_sysfs_read_devnum (props->syspath, &d) >= 0 && g_hash_table_contains (ctx->live, DEVNUM_KEY (d));
    }
  g_ptr_array_add (u.mountpoints, NULL);
  g_ptr_array_add (u.holders, NULL);

  facts.kernel_name = props->kernel_name;
  facts.size = props->size;
  facts.read_only = props->read_only;
  facts.live = live;
  facts.mountpoints = (const char * const *) u.mountpoints->pdata;
  facts.holders = (const char * const *) u.holders->pdata;
  facts.swap = u.swap;
  facts.include_loop = ctx->include_loop;
  facts.min_size = ctx->min_size;
  reasons = imprint_disk_compute_reasons (&facts);
  imprint_disk_reasons_describe (reasons, &facts, words, codes);
  g_ptr_array_add (words, NULL);
  g_ptr_array_add (codes, NULL);

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  dict_add_str (&b, "device", props->node);
  dict_add_str (&b, "id", props->id);
  dict_add_str (&b, "vendor", props->vendor);
  dict_add_str (&b, "model", props->model);
  dict_add_str (&b, "serial", props->serial);
  g_variant_builder_add (&b, "{sv}", "size", g_variant_new_uint64 (props->size));
  g_variant_builder_add (&b, "{sv}", "logical-sector-size", g_variant_new_uint32 (props->logical_sector_size));
  g_variant_builder_add (&b, "{sv}", "physical-sector-size", g_variant_new_uint32 (props->physical_sector_size));
  g_variant_builder_add (&b, "{sv}", "removable", g_variant_new_boolean (props->removable));
  g_variant_builder_add (&b, "{sv}", "rotational", g_variant_new_boolean (props->rotational));
  g_variant_builder_add (&b, "{sv}", "read-only", g_variant_new_boolean (props->read_only));
  dict_add_str (&b, "transport", props->transport);
  dict_add_str (&b, "table", t->table);
  dict_add_str (&b, "table-uuid", t->table_uuid);
  dict_add_str (&b, "contents", contents);
  g_variant_builder_add (&b, "{sv}", "partitions", build_partitions (props, t, &u));
  g_variant_builder_add (&b, "{sv}", "free", build_free (t));
  g_variant_builder_add (&b, "{sv}", "usable", g_variant_new_boolean (reasons == 0));
  g_variant_builder_add (&b, "{sv}", "reasons", g_variant_new_strv ((const char * const *) words->pdata, -1));
  g_variant_builder_add (&b, "{sv}", "reason-codes", g_variant_new_strv ((const char * const *) codes->pdata, -1));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

int
imprint_disk_describe_with (ImprintDiskContext *ctx, const char *node_or_file, GVariant **ret_disk)
{
  _cleanup_close_ int pfd = -1;

  g_return_val_if_fail (ctx != NULL, -EINVAL);
  g_return_val_if_fail (node_or_file != NULL, -EINVAL);
  g_return_val_if_fail (ret_disk != NULL, -EINVAL);

  /* Look before opening: opening some character devices (a watchdog)
   * acts. O_PATH opens nothing; the reopen reaches the very inode
   * checked. */
  pfd = open (node_or_file, O_PATH | O_CLOEXEC);
  if (pfd < 0)
    return negative_errno ();
  return imprint_disk_describe_fd (ctx, pfd, node_or_file, ret_disk);
}

int
imprint_disk_describe_fd (ImprintDiskContext *ctx, int pfd, const char *name, GVariant **ret_disk)
{
  _cleanup_(disk_props_clear) DiskProps props = { 0 };
  _cleanup_(table_info_clear) TableInfo t = { 0 };
  _cleanup_close_ int fd = -1;
  g_autofree char *proc_path = NULL;
  struct stat st;
  int r;

  g_return_val_if_fail (ctx != NULL, -EINVAL);
  g_return_val_if_fail (pfd >= 0, -EINVAL);
  g_return_val_if_fail (name != NULL, -EINVAL);
  g_return_val_if_fail (ret_disk != NULL, -EINVAL);

  if (fstat (pfd, &st) < 0)
    return negative_errno ();
  proc_path = g_strdup_printf ("/proc/self/fd/%d", pfd);

  if (S_ISBLK (st.st_mode))
    {
      g_autofree char *syspath = imprint_disk_sysfs_path_for_devnum (st.st_rdev);

      if (syspath == NULL)
        return -ENODEV;
      if (imprint_sysfs_is_partition (syspath))
        return -EINVAL;
      props_from_block (&props, st.st_rdev, syspath);
      /* A drive without medium refuses to open: still describe it. */
      fd = open (proc_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
      if (fd < 0 && props.size > 0)
        g_debug ("%s: cannot open: %m", props.node);
    }
  else if (S_ISREG (st.st_mode))
    {
      fd = open (proc_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        return negative_errno ();
      r = props_from_file (&props, name, proc_path, fd, &st);
      if (r < 0)
        return r;
    }
  else
    return -ENOTBLK;

  if (fd >= 0)
    read_table (fd, props.node, &props, &t);
  else
    {
      t.table = g_strdup ("");
      t.parts = g_array_new (FALSE, TRUE, sizeof (PartInfo));
      t.free = g_array_new (FALSE, TRUE, sizeof (ImprintDiskRegion));
      /* Unreadable is not empty. */
      t.table_state = props.size > 0 ? IMPRINT_TABLE_NO_ACCESS : IMPRINT_TABLE_NONE;
    }

  *ret_disk = build_disk (ctx, &props, &t);
  return 0;
}

int
imprint_disk_describe (const char *node_or_file,
                       const ImprintDiskEnumerateOptions *opts,
                       GVariant **ret_disk)
{
  g_autoptr(ImprintDiskContext) ctx = NULL;
  int r;

  g_return_val_if_fail (node_or_file != NULL, -EINVAL);
  g_return_val_if_fail (ret_disk != NULL, -EINVAL);

  r = imprint_disk_context_new (opts, &ctx);
  if (r < 0)
    return r;
  return imprint_disk_describe_with (ctx, node_or_file, ret_disk);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A disk's partition table as libfdisk reads it, each partition's file
 * system as libblkid probes it (only when the region holds data), and the
 * whole-disk signature when there is no table. */
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

static void
part_info_clear (ImprintPartInfo *p)
{
  g_free (p->type);
  g_free (p->type_name);
  g_free (p->name);
  g_free (p->uuid);
  g_free (p->fstype);
  g_free (p->fslabel);
  g_free (p->fsuuid);
}

void
imprint_table_info_clear (ImprintTableInfo *t)
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
probe_filesystem (int fd, guint64 offset, guint64 size, guint32 sector_size, ImprintPartInfo *p)
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
                           gboolean is_gpt, const char *dos_id, ImprintPartInfo *p)
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
read_table_with_fdisk (int fd, const char *path, const ImprintDiskProps *props, ImprintTableInfo *t)
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
      ImprintPartInfo p = { 0 };

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

void
imprint_disk_read_table (int fd, const char *path, const ImprintDiskProps *props, ImprintTableInfo *t)
{
  _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe ();
  g_autofree char *pttype = NULL;
  int r;

  t->table = g_strdup ("");
  t->parts = g_array_new (FALSE, TRUE, sizeof (ImprintPartInfo));
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

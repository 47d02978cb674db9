/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reading the block class in sysfs: attributes, partitions, holders, and
 * which devices are disks worth listing. */

#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macros.h"
#include "disk-private.h"

/* ---- sysfs ------------------------------------------------------------ */

char *
imprint_sysfs_read (const char *dir, const char *attr)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return g_strdup (g_strstrip (contents));
}

gboolean
imprint_sysfs_read_u64 (const char *dir, const char *attr, guint64 *ret)
{
  g_autofree char *s = imprint_sysfs_read (dir, attr);
  guint64 v;

  if (s == NULL || !g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT64, &v, NULL))
    return FALSE;
  *ret = v;
  return TRUE;
}

gboolean
imprint_sysfs_read_bool (const char *dir, const char *attr)
{
  guint64 v = 0;
  return imprint_sysfs_read_u64 (dir, attr, &v) && v != 0;
}

static int
parse_devnum (const char *s, dev_t *ret)
{
  unsigned maj, min;

  if (s == NULL || sscanf (s, "%u:%u", &maj, &min) != 2)
    return -EINVAL;
  *ret = makedev (maj, min);
  return 0;
}

int
imprint_sysfs_read_devnum (const char *dir, dev_t *ret)
{
  g_autofree char *s = imprint_sysfs_read (dir, "dev");
  return parse_devnum (s, ret);
}

char *
imprint_disk_sysfs_path_for_devnum (dev_t devnum)
{
  g_autofree char *link = g_strdup_printf ("/sys/dev/block/%u:%u", major (devnum), minor (devnum));
  return realpath (link, NULL);
}

gboolean
imprint_sysfs_is_partition (const char *syspath)
{
  g_autofree char *p = g_build_filename (syspath, "partition", NULL);
  return g_file_test (p, G_FILE_TEST_EXISTS);
}

/* The whole disk a block device belongs to (itself unless a partition). */
char *
imprint_sysfs_whole_disk (dev_t devnum)
{
  g_autofree char *path = imprint_disk_sysfs_path_for_devnum (devnum);

  if (path == NULL)
    return NULL;
  if (imprint_sysfs_is_partition (path))
    return g_path_get_dirname (path);
  return TAKE_PTR (path);
}

static void
sys_part_clear (ImprintSysPart *p)
{
  g_free (p->name);
}

/* The partitions the kernel knows of a whole disk (from sysfs). */
GArray *
imprint_sysfs_partitions (const char *syspath)
{
  GArray *parts = g_array_new (FALSE, TRUE, sizeof (ImprintSysPart));
  _cleanup_(closedirp) DIR *d = NULL;
  struct dirent *de;

  g_array_set_clear_func (parts, (GDestroyNotify) sys_part_clear);
  if (syspath == NULL || (d = opendir (syspath)) == NULL)
    return parts;

  while ((de = readdir (d)) != NULL)
    {
      g_autofree char *sub = NULL;
      guint64 number;
      ImprintSysPart p = { 0 };

      if (de->d_name[0] == '.')
        continue;
      sub = g_build_filename (syspath, de->d_name, NULL);
      if (!imprint_sysfs_read_u64 (sub, "partition", &number) || imprint_sysfs_read_devnum (sub, &p.devnum) < 0)
        continue;
      p.number = (guint) number;
      p.name = g_strdup (de->d_name);
      g_array_append_val (parts, p);
    }
  return parts;
}

const ImprintSysPart *
imprint_sysfs_parts_find (GArray *parts, guint number)
{
  for (guint i = 0; i < parts->len; i++)
    if (g_array_index (parts, ImprintSysPart, i).number == number)
      return &g_array_index (parts, ImprintSysPart, i);
  return NULL;
}

void
imprint_sysfs_add_holders (const char *dir, GPtrArray *out)
{
  g_autofree char *hdir = g_build_filename (dir, "holders", NULL);
  _cleanup_(closedirp) DIR *d = opendir (hdir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && !g_ptr_array_find_with_equal_func (out, de->d_name, g_str_equal, NULL))
      g_ptr_array_add (out, g_strdup (de->d_name));
}

gboolean
imprint_disk_sysfs_listable (const char *sysname, const char *syspath)
{
  static const char * const skip_prefixes[] = { "ram", "dm-", "md", "sr", "fd", "mtdblock", "zd" };
  guint64 size = 0;

  if (sysname == NULL || syspath == NULL || imprint_sysfs_is_partition (syspath))
    return FALSE;
  /* dm and md devices sit on disks we list (and mark in use); optical and
   * floppy drives and RAM disks are not install targets. */
  for (size_t i = 0; i < G_N_ELEMENTS (skip_prefixes); i++)
    if (g_str_has_prefix (sysname, skip_prefixes[i]))
      return FALSE;
  /* eMMC hardware boot areas and RPMB are no place for a system. */
  if (g_str_has_prefix (sysname, "mmcblk") && (strstr (sysname, "boot") != NULL || strstr (sysname, "rpmb") != NULL))
    return FALSE;
  /* NVMe multipath hides the per-path namespaces. */
  if (imprint_sysfs_read_bool (syspath, "hidden"))
    return FALSE;
  if (g_str_has_prefix (sysname, "loop"))
    {
      g_autofree char *backing = imprint_sysfs_read (syspath, "loop/backing_file");
      if (backing == NULL || backing[0] == '\0')
        return FALSE;
    }
  /* Unused nbd/loop-like slots report size 0 and are not removable; a card
   * reader without a card is removable and listed as "no media". */
  (void) imprint_sysfs_read_u64 (syspath, "size", &size);
  if (size == 0 && !imprint_sysfs_read_bool (syspath, "removable"))
    return FALSE;
  return TRUE;
}

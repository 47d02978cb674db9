/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What is true for every disk of one listing: the mount table, active swap
 * and which disks the running system lives on. */

#include "config.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macros.h"
#include "disk-private.h"

/* ---- context: mounts, swaps, live medium ------------------------------ */

static int
path_devnum (const char *path, dev_t *ret)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return negative_errno ();
  if (!S_ISBLK (st.st_mode))
    return -ENOTBLK;
  *ret = st.st_rdev;
  return 0;
}

static dev_t
mount_fs_devnum (struct libmnt_fs *fs)
{
  const char *src;
  dev_t d = mnt_fs_get_devno (fs);

  /* btrfs and others report an anonymous device: trust the source then. */
  if (major (d) != 0)
    return d;
  src = mnt_fs_get_srcpath (fs);
  if (src != NULL && g_str_has_prefix (src, "/dev/") && path_devnum (src, &d) >= 0)
    return d;
  return 0;
}

static void
ptr_array_unref (gpointer p)
{
  g_ptr_array_unref (p);
}

static void
context_load_mounts (ImprintDiskContext *ctx)
{
  struct libmnt_iter *itr;
  struct libmnt_fs *fs;

  ctx->mount_targets = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, ptr_array_unref);
  ctx->mounts = mnt_new_table ();
  if (ctx->mounts == NULL || mnt_table_parse_file (ctx->mounts, "/proc/self/mountinfo") < 0)
    {
      g_clear_pointer (&ctx->mounts, mnt_unref_table);
      return;
    }

  itr = mnt_new_iter (MNT_ITER_FORWARD);
  while (itr != NULL && mnt_table_next_fs (ctx->mounts, itr, &fs) == 0)
    {
      dev_t d = mount_fs_devnum (fs);
      const char *target = mnt_fs_get_target (fs);
      GPtrArray *targets;

      if (major (d) == 0 || target == NULL)
        continue;
      targets = g_hash_table_lookup (ctx->mount_targets, DEVNUM_KEY (d));
      if (targets == NULL)
        {
          targets = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (ctx->mount_targets, DEVNUM_KEY (d), targets);
        }
      if (!g_ptr_array_find_with_equal_func (targets, target, g_str_equal, NULL))
        g_ptr_array_add (targets, g_strdup (target));
    }
  mnt_free_iter (itr);
}

static void
context_load_swaps (ImprintDiskContext *ctx)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  ctx->swaps = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (!g_file_get_contents ("/proc/swaps", &contents, NULL, NULL))
    return;
  lines = g_strsplit (contents, "\n", -1);
  /* First line is the header; fields are separated by blanks and the
   * kernel escapes blanks inside the path as \040. */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (lines[i], " \t", 2);
      g_autofree char *path = NULL;
      dev_t d;

      if (fields[0] == NULL || fields[0][0] == '\0')
        continue;
      path = g_strcompress (fields[0]);
      if (path_devnum (path, &d) >= 0)
        g_hash_table_add (ctx->swaps, DEVNUM_KEY (d));
    }
}

/* Adds the whole disks underneath @devnum: the disk itself, and through
 * dm/md slaves and loop backing files the disks those sit on. */
static void
resolve_backing_disks (ImprintDiskContext *ctx, dev_t devnum, GHashTable *out, guint depth)
{
  g_autofree char *whole = NULL;
  g_autofree char *slaves_dir = NULL;
  g_autofree char *name = NULL;
  _cleanup_(closedirp) DIR *d = NULL;
  struct dirent *de;
  dev_t wd;

  if (depth > 8 || (whole = imprint_sysfs_whole_disk (devnum)) == NULL || imprint_sysfs_read_devnum (whole, &wd) < 0)
    return;
  if (g_hash_table_contains (out, DEVNUM_KEY (wd)))
    return;
  g_hash_table_add (out, DEVNUM_KEY (wd));

  slaves_dir = g_build_filename (whole, "slaves", NULL);
  if ((d = opendir (slaves_dir)) != NULL)
    while ((de = readdir (d)) != NULL)
      {
        g_autofree char *sub = NULL;
        dev_t sd;

        if (de->d_name[0] == '.')
          continue;
        sub = g_build_filename (slaves_dir, de->d_name, NULL);
        if (imprint_sysfs_read_devnum (sub, &sd) >= 0)
          resolve_backing_disks (ctx, sd, out, depth + 1);
      }

  name = g_path_get_basename (whole);
  if (g_str_has_prefix (name, "loop"))
    {
      /* A live system often runs from a squashfs in a file on the medium. */
      g_autofree char *backing = imprint_sysfs_read (whole, "loop/backing_file");
      struct stat st;

      if (backing != NULL && stat (backing, &st) >= 0 && major (st.st_dev) != 0)
        resolve_backing_disks (ctx, st.st_dev, out, depth + 1);
    }
}

/* The block device a path's filesystem lives on, 0 when there is none
 * (tmpfs, overlay). */
static dev_t
path_backing_devnum (ImprintDiskContext *ctx, const char *path)
{
  struct stat st;
  struct libmnt_fs *fs;

  if (stat (path, &st) < 0)
    return 0;
  if (major (st.st_dev) != 0)
    return st.st_dev;
  if (ctx->mounts == NULL)
    return 0;
  fs = mnt_table_find_mountpoint (ctx->mounts, path, MNT_ITER_BACKWARD);
  return fs != NULL ? mount_fs_devnum (fs) : 0;
}

static gboolean
is_mountpoint (ImprintDiskContext *ctx, const char *path)
{
  return ctx->mounts != NULL && mnt_table_find_target (ctx->mounts, path, MNT_ITER_BACKWARD) != NULL;
}

static void
context_load_live (ImprintDiskContext *ctx, const char *live_device)
{
  /* Where live systems mount their medium (Debian live, dracut, archiso,
   * Ubiquity-style). Only honoured when actually mounted. */
  static const char * const live_mounts[] = {
    "/run/live/medium", "/run/initramfs/live", "/run/archiso/bootmnt", "/cdrom",
  };
  dev_t d;

  ctx->live = g_hash_table_new (g_direct_hash, g_direct_equal);

  if (live_device != NULL)
    {
      /* An explicit (possibly empty: "none") live device replaces detection. */
      if (live_device[0] != '\0' && path_devnum (live_device, &d) >= 0)
        resolve_backing_disks (ctx, d, ctx->live, 0);
      return;
    }

  d = path_backing_devnum (ctx, "/usr");
  if (major (d) == 0)
    d = path_backing_devnum (ctx, "/");
  if (major (d) != 0)
    resolve_backing_disks (ctx, d, ctx->live, 0);

  for (size_t i = 0; i < G_N_ELEMENTS (live_mounts); i++)
    if (is_mountpoint (ctx, live_mounts[i]) && major (d = path_backing_devnum (ctx, live_mounts[i])) != 0)
      resolve_backing_disks (ctx, d, ctx->live, 0);
}

int
imprint_disk_context_new (const ImprintDiskEnumerateOptions *opts, ImprintDiskContext **ret)
{
  ImprintDiskContext *ctx = g_new0 (ImprintDiskContext, 1);

  ctx->include_loop = opts != NULL && opts->include_loop;
  ctx->min_size = opts != NULL ? opts->min_size : 0;
  ctx->probe_shrink = opts != NULL && opts->probe_shrink;
  context_load_mounts (ctx);
  context_load_swaps (ctx);
  context_load_live (ctx, opts != NULL ? opts->live_device : NULL);
  *ret = ctx;
  return 0;
}

void
imprint_disk_context_free (ImprintDiskContext *ctx)
{
  if (ctx == NULL)
    return;
  g_clear_pointer (&ctx->mounts, mnt_unref_table);
  g_clear_pointer (&ctx->mount_targets, g_hash_table_unref);
  g_clear_pointer (&ctx->swaps, g_hash_table_unref);
  g_clear_pointer (&ctx->live, g_hash_table_unref);
  g_free (ctx);
}

const char *
imprint_disk_context_first_mount (ImprintDiskContext *ctx, dev_t d)
{
  GPtrArray *t = g_hash_table_lookup (ctx->mount_targets, DEVNUM_KEY (d));
  return t != NULL && t->len > 0 ? t->pdata[0] : NULL;
}

void
imprint_disk_context_add_mounts (ImprintDiskContext *ctx, dev_t d, GPtrArray *out)
{
  GPtrArray *t = g_hash_table_lookup (ctx->mount_targets, DEVNUM_KEY (d));

  for (guint i = 0; t != NULL && i < t->len; i++)
    if (!g_ptr_array_find_with_equal_func (out, t->pdata[i], g_str_equal, NULL))
      g_ptr_array_add (out, g_strdup (t->pdata[i]));
}

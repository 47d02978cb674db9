/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Describes one disk (block device or image file) as the a{sv} documented
 * at ListDisks: sysfs (and the udev database when udevd runs) for the
 * device's properties (disk-props.c), libblkid for signatures and libfdisk
 * for the partition table and free space (disk-table.c), libmount,
 * /proc/swaps and holders/ for whether it is in use (here). */

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
#include "imprint-names.h"
#include "ntfs-probe.h"

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

/* Whether and how far an NTFS partition can shrink; NULL for others, for
 * image files and unless asked (ntfsresize reads the whole MFT). */
static GVariant *
build_shrink (ImprintDiskContext *ctx, const ImprintDiskProps *props, int fd, const ImprintPartInfo *p,
              const char *mountpoint)
{
  g_autoptr(GError) error = NULL;
  ImprintNtfsProbe probe;
  gboolean bitlocker = g_strcmp0 (p->fstype, "BitLocker") == 0;

  /* A mounted volume changes under ntfsresize's feet (and the disk says
   * "mounted" already). */
  if (!ctx->probe_shrink || props->is_file || fd < 0 || mountpoint != NULL ||
      (!bitlocker && g_strcmp0 (p->fstype, "ntfs") != 0))
    return NULL;
  if (bitlocker)
    return imprint_ntfs_shrink_variant (NULL, TRUE, p->size, ctx->min_size);
  if (!imprint_ntfs_probe_region (fd, p->start, p->size, &probe, NULL, &error))
    {
      g_debug ("%s partition %u: %s", props->node, p->number, error->message);
      return NULL;
    }
  return imprint_ntfs_shrink_variant (&probe, FALSE, p->size, ctx->min_size);
}

static GVariant *
build_partitions (ImprintDiskContext *ctx, const ImprintDiskProps *props, int fd,
                  const ImprintTableInfo *t, const UseInfo *u)
{
  g_autoptr(GArray) sysparts = imprint_sysfs_partitions (props->is_file ? NULL : props->syspath);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < t->parts->len; i++)
    {
      const ImprintPartInfo *p = &g_array_index (t->parts, ImprintPartInfo, i);
      const ImprintSysPart *sp = imprint_sysfs_parts_find (sysparts, p->number);
      g_autofree char *node = NULL;
      g_autofree char *contents = imprint_disk_partition_contents (p->role, p->fstype);
      const char *mp = g_hash_table_lookup (u->part_mountpoint, GUINT_TO_POINTER (p->number));
      GVariant *shrink;
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
      shrink = build_shrink (ctx, props, fd, p, mp);
      if (shrink != NULL)
        g_variant_builder_add (&pb, "{sv}", IMPRINT_KEY_SHRINK, shrink);
      g_variant_builder_add_value (&b, g_variant_builder_end (&pb));
    }
  return g_variant_builder_end (&b);
}

static GVariant *
build_free (const ImprintTableInfo *t)
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
build_summary (const ImprintDiskProps *props, const ImprintTableInfo *t)
{
  g_autofree ImprintPartContents *pc = g_new0 (ImprintPartContents, MAX (t->parts->len, 1));

  for (guint i = 0; i < t->parts->len; i++)
    {
      const ImprintPartInfo *p = &g_array_index (t->parts, ImprintPartInfo, i);
      pc[i].role = p->role;
      pc[i].fstype = p->fstype;
    }
  return imprint_disk_contents_summary (props->size, t->table_state, t->whole_fstype, t->zeroed,
                                        pc, t->parts->len);
}

static GVariant *
build_disk (ImprintDiskContext *ctx, const ImprintDiskProps *props, int fd, const ImprintTableInfo *t)
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
  g_variant_builder_add (&b, "{sv}", "partitions", build_partitions (ctx, props, fd, t, &u));
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
  _cleanup_(imprint_disk_props_clear) ImprintDiskProps props = { 0 };
  _cleanup_(imprint_table_info_clear) ImprintTableInfo t = { 0 };
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
      imprint_disk_props_from_block (&props, st.st_rdev, syspath);
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
      r = imprint_disk_props_from_file (&props, name, proc_path, fd, &st);
      if (r < 0)
        return r;
    }
  else
    return -ENOTBLK;

  if (fd >= 0)
    imprint_disk_read_table (fd, props.node, &props, &t);
  else
    {
      t.table = g_strdup ("");
      t.parts = g_array_new (FALSE, TRUE, sizeof (ImprintPartInfo));
      t.free = g_array_new (FALSE, TRUE, sizeof (ImprintDiskRegion));
      /* Unreadable is not empty. */
      t.table_state = props.size > 0 ? IMPRINT_TABLE_NO_ACCESS : IMPRINT_TABLE_NONE;
    }

  *ret_disk = build_disk (ctx, &props, fd, &t);
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of backend/disk. */

#include <sys/types.h>
#include <libmount.h>
#include <libudev.h>

#include <blkid.h>
#include <sys/stat.h>

#include "disk-enumerate.h"
#include "disk-contents.h"
#include "disk-types.h"
#include "macros.h"

DEFINE_TRIVIAL_CLEANUP_FUNC (struct udev *, udev_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC (struct udev_enumerate *, udev_enumerate_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC (struct udev_device *, udev_device_unref)

typedef struct {
  gboolean include_loop;
  guint64 min_size;
  gboolean probe_shrink;
  struct libmnt_table *mounts;   /* /proc/self/mountinfo, NULL if unreadable */
  GHashTable *mount_targets;     /* dev_t (as pointer-sized key) -> GPtrArray of char* */
  GHashTable *swaps;             /* set of dev_t of active swap block devices */
  GHashTable *live;              /* set of dev_t of whole disks backing the running system */
} ImprintDiskContext;

int imprint_disk_context_new (const ImprintDiskEnumerateOptions *opts, ImprintDiskContext **ret);
void imprint_disk_context_free (ImprintDiskContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintDiskContext, imprint_disk_context_free)

int imprint_disk_describe_with (ImprintDiskContext *ctx, const char *node_or_file, GVariant **ret_disk);
/* The same for an inode already open (@pfd: any fd, O_PATH is enough; not
 * taken over), shown as @name when it is a file. */
int imprint_disk_describe_fd (ImprintDiskContext *ctx, int pfd, const char *name, GVariant **ret_disk);

/* Whether a whole-disk block device (its kernel name and sysfs dir) is
 * listed at all. Partitions, ram, dm, md, optical drives, unattached loop
 * devices and absent fixed devices are not. */
gboolean imprint_disk_sysfs_listable (const char *sysname, const char *syspath);

/* "/sys/dev/block/M:m" resolved; NULL when it does not exist. */
char *imprint_disk_sysfs_path_for_devnum (dev_t devnum);

#define DEVNUM_KEY(d) ((gpointer) (guintptr) (d))

/* sysfs (disk-sysfs.c). Attribute values come back stripped, NULL when
 * absent. */
typedef struct {
  guint number;
  char *name;       /* kernel name, "loop0p1" */
  dev_t devnum;
} ImprintSysPart;
char *imprint_sysfs_read (const char *dir, const char *attr);
gboolean imprint_sysfs_read_u64 (const char *dir, const char *attr, guint64 *ret);
gboolean imprint_sysfs_read_bool (const char *dir, const char *attr);
int imprint_sysfs_read_devnum (const char *dir, dev_t *ret);
gboolean imprint_sysfs_is_partition (const char *syspath);
char *imprint_sysfs_whole_disk (dev_t devnum);
GArray *imprint_sysfs_partitions (const char *syspath);   /* of ImprintSysPart */
const ImprintSysPart *imprint_sysfs_parts_find (GArray *parts, guint number);
void imprint_sysfs_add_holders (const char *dir, GPtrArray *out);

/* Mount points of one block device (disk-context.c). */
const char *imprint_disk_context_first_mount (ImprintDiskContext *ctx, dev_t d);
void imprint_disk_context_add_mounts (ImprintDiskContext *ctx, dev_t d, GPtrArray *out);

/* Device nodes of every listable whole disk, sorted. */
int imprint_disk_list_nodes (GPtrArray *ret_nodes);

/* Pure helpers, exposed for the unit tests. */
const char *imprint_disk_guess_transport (const char *sysname, const char *syspath);
char *imprint_disk_id_sanitize (const char *s);
char *imprint_disk_parse_vpd_serial (const void *data, gsize len);

/* ---- describing one disk (disk-describe.c, disk-props.c, disk-table.c) -- */

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
} ImprintDiskProps;

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
} ImprintPartInfo;

typedef struct {
  char *table;          /* "gpt", "dos", other label name, or "" */
  char *table_uuid;
  ImprintTableState table_state;
  char *whole_fstype;   /* signature on the whole disk when there is no table */
  gboolean zeroed;
  GArray *parts;        /* ImprintPartInfo */
  GArray *free;         /* ImprintDiskRegion */
} ImprintTableInfo;

/* A disk's properties (disk-props.c): from sysfs and udev for a block
 * device, from the file and its loop devices for an image. */
void imprint_disk_props_clear (ImprintDiskProps *p);
void imprint_disk_props_from_block (ImprintDiskProps *p, dev_t devnum, const char *syspath);
int imprint_disk_props_from_file (ImprintDiskProps *p, const char *path, const char *proc_path, int fd, const struct stat *st);
/* Its partition table, file systems and free space (disk-table.c). */
void imprint_table_info_clear (ImprintTableInfo *t);
void imprint_disk_read_table (int fd, const char *path, const ImprintDiskProps *props, ImprintTableInfo *t);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Disk discovery for ListDisks: every whole disk a system could be installed
 * onto, described as the a{sv} dictionaries documented at ListDisks in
 * data/dev.imprint.Imprint1.xml (and nothing else), plus a monitor that
 * reports disks as they come, change and go. */

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  gboolean include_loop;         /* list loop devices as usable (tests, demos) */
  const char * const *files;     /* NULL-terminated extra image files to describe as disks */
  const int *file_fds;           /* NULL, or per file the open fd to describe (-1: open files[i]);
                                  * files[i] is then only its name (a service opens what a caller
                                  * named itself, as the caller, and never looks it up again) */
  guint64 min_size;              /* bytes; smaller disks get reason "too-small" (0 = no check) */
  const char *live_device;       /* whole-disk node of the live medium; NULL = detect the disk backing /usr (else /) */
  /* NTFS and BitLocker partitions of block devices get "shrink" (runs
   * ntfsresize read-only through a loop device: seconds per volume, root
   * only). Image files named in @files never: their bytes are the
   * caller's, and ntfs-3g would parse them as root. */
  gboolean probe_shrink;
} ImprintDiskEnumerateOptions;

/* live_device: "" means "there is no live medium" (tests). Detection
 * follows dm/md slaves and loop backing files down to whole disks, and also
 * honours the usual live-medium mount points (/run/live/medium,
 * /run/initramfs/live, /run/archiso/bootmnt, /cdrom).
 *
 * Both functions block on disk I/O (a few ms per disk) and keep no global
 * state: run them in a worker thread (GTask) from a service. Strings in the
 * result ("contents", "reasons", "type-name") are translated with the
 * calling thread's locale. */

/* Lists whole disks (never partitions; no ram, dm or md devices; loop
 * devices only while attached) and then opts->files. @opts may be NULL.
 * Returns 0 and a non-floating aa{sv}, or a negative errno. A disk that
 * cannot be read is still listed, with what sysfs knows about it. */
int imprint_disk_enumerate (const ImprintDiskEnumerateOptions *opts, GVariant **ret_disks);

/* Describes one whole-disk block device node or one regular image file.
 * Returns 0 and a non-floating a{sv}; -ENOENT when missing, -EINVAL for a
 * partition node, -ENOTBLK for anything else. */
int imprint_disk_describe (const char *node_or_file,
                           const ImprintDiskEnumerateOptions *opts,
                           GVariant **ret_disk);

#define IMPRINT_TYPE_DISK_MONITOR (imprint_disk_monitor_get_type ())
G_DECLARE_FINAL_TYPE (ImprintDiskMonitor, imprint_disk_monitor, IMPRINT, DISK_MONITOR, GObject)

/* Watches udev (the "udev" netlink group when udevd runs, the kernel's
 * otherwise) in the thread-default main context and emits:
 *   "disk-added"   (GVariant *disk)   a{sv} as imprint_disk_describe()
 *   "disk-changed" (GVariant *disk)   also when one of its partitions changed
 *   "disk-removed" (const char *device)
 * Loop devices are reported while attached (whatever include_loop says;
 * clients filter on "transport"). @opts is copied. */
ImprintDiskMonitor *imprint_disk_monitor_new (const ImprintDiskEnumerateOptions *opts,
                                              GError **error);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One job per disk.
 *
 * Every job that writes to a disk or image file holds an ImprintTargetLock
 * for its whole run. It has two layers:
 *
 *  - a process-wide registry of busy targets, keyed by the whole disk
 *    (st_rdev of the disk a partition belongs to, through sysfs) or by
 *    st_dev + st_ino for image files: a second imprintd job on the same
 *    disk (Install, Enroll, ApplySetup disk:, also one naming a partition
 *    of it) fails at once with IMPRINT_ERROR_BUSY naming the first job;
 *
 *  - with IMPRINT_TARGET_LOCK_DEVICE, the target itself held open
 *    (O_EXCL for a block device: the kernel refuses it while anything on
 *    it is mounted or claimed, and refuses others' exclusive opens) and
 *    flock(LOCK_EX)-ed: the BSD lock on the whole disk is what udev and
 *    systemd's tools honour (systemd's BLOCK_DEVICE_LOCKING.md).
 *
 * The kernel-level part can be given up for a while (suspend/resume) when
 * a tool that takes the same locks itself runs on the target; the registry
 * entry stays until the lock is freed. */

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ImprintTargetLock ImprintTargetLock;

typedef enum {
  IMPRINT_TARGET_LOCK_REGISTRY = 0,      /* the busy marker only */
  IMPRINT_TARGET_LOCK_DEVICE   = 1 << 0, /* plus O_EXCL + flock(LOCK_EX) */
} ImprintTargetLockFlags;

/* Opens @path (never following a symbolic link with _DEVICE, never
 * blocking on a FIFO), checks it is a block device or a regular file and
 * registers it as busy. With _DEVICE the flock() is tried once here; see
 * imprint_target_lock_ensure(). Errors: IMPRINT_ERROR_BUSY (another job,
 * or mounted), INVALID_ARGUMENT, NOT_FOUND, ... */
ImprintTargetLock *imprint_target_lock_acquire    (const char             *path,
                                                   ImprintTargetLockFlags  flags,
                                                   GError                **error);
/* The same for an already open @fd (taken over, also on failure). */
ImprintTargetLock *imprint_target_lock_acquire_fd (int                     fd,
                                                   const char             *path,
                                                   ImprintTargetLockFlags  flags,
                                                   GError                **error);

/* Who holds it, for the Busy error of the next one ("the installation
 * started at 10:02:03 (job /dev/imprint/Imprint1/job/3)"). */
void     imprint_target_lock_set_owner (ImprintTargetLock *lock, const char *owner);

/* Takes the flock() when the first try found it taken (udev holds a shared
 * lock while it probes the disk): waits up to a few seconds, then fails
 * with IMPRINT_ERROR_BUSY. */
gboolean imprint_target_lock_ensure   (ImprintTargetLock *lock, GError **error);

/* The open target (read-write, no O_DIRECT unless the caller sets it), or
 * -1 while suspended or without _DEVICE. */
int      imprint_target_lock_get_fd   (ImprintTargetLock *lock);
gboolean imprint_target_lock_is_block (ImprintTargetLock *lock);
guint64  imprint_target_lock_get_size (ImprintTargetLock *lock);
const char *imprint_target_lock_get_path (ImprintTargetLock *lock);

/* Closes the target (O_EXCL claim and flock gone), the registry entry
 * stays. resume() reopens it, checks it is still the same disk or file
 * and takes the locks again (waiting a little for udev). */
void     imprint_target_lock_suspend  (ImprintTargetLock *lock);
gboolean imprint_target_lock_resume   (ImprintTargetLock *lock, GError **error);

/* Releases everything; NULL is fine. */
void     imprint_target_lock_free     (ImprintTargetLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImprintTargetLock, imprint_target_lock_free)

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Opening a path that someone else named, from a root service.
 *
 * imprintd runs as root; a path in a method call comes from a caller who
 * may not be root. Checking the caller's permissions by name (stat, then
 * open) is racy, follows symlinks and misses parent directories, ACLs and
 * LSMs. Instead the open itself is done WITH THE CALLER'S CREDENTIALS: a
 * forked child takes the caller's uid, gid and supplementary groups, opens
 * the path and hands the file descriptor back over a socket pair. The
 * kernel checks every component as it would for the caller; root learns
 * nothing the caller could not learn itself. Everything afterwards works
 * on that descriptor, never on the name again.
 *
 * The last component must not be a symlink (O_NOFOLLOW); symlinks in the
 * middle are followed, as the caller, with the caller's permissions
 * (refusing them would break /home -> /var/home systems and buys nothing
 * when the kernel checks as the caller). The open never blocks on a FIFO
 * (O_NONBLOCK) and takes at most a bounded time (a FUSE server that never
 * answers only stalls the child, which is killed). Then safe_fd_check()
 * accepts only the file types the use allows, and no files of kernel
 * pseudo file systems (/proc, /sys, ...) or FUSE (a user's FUSE server
 * could stall root's reads forever).
 *
 * All functions return a negative errno on failure. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Whose permissions count. */
typedef struct {
  uid_t  uid;
  gid_t  gid;
  gid_t *groups;      /* supplementary groups; owned (safe_creds_clear) */
  size_t n_groups;
} SafeCreds;

/* The credentials of the account @uid as a login would get them: primary
 * group and supplementary groups from the user database (getgrouplist).
 * An account without a passwd entry gets the overflow group and no
 * supplementary groups. Taken from the database rather than from
 * /proc/PID/status of the bus peer: a peer's PID can be reused by another
 * process before we read it, the database cannot be raced that way, and a
 * caller that dropped groups gains nothing, as it could call from outside
 * its sandbox anyway. */
int  safe_creds_for_uid (uid_t uid, SafeCreds *ret);
void safe_creds_clear   (SafeCreds *creds);

/* Which file types a use accepts. */
typedef enum {
  SAFE_TYPE_REG = 1 << 0,
  SAFE_TYPE_BLK = 1 << 1,
  SAFE_TYPE_DIR = 1 << 2,
} SafeTypes;

#define SAFE_OPEN_TIMEOUT_MS 5000

/* Opens @path relative to @dirfd (AT_FDCWD for none) with @flags (O_RDONLY,
 * O_RDWR, O_PATH, plus O_DIRECTORY as wanted; O_NOFOLLOW, O_NONBLOCK,
 * O_NOCTTY and O_CLOEXEC are always added) as @creds, or as ourselves when
 * @creds is NULL or names uid 0. Returns the fd.
 *
 * @ret_path_fd: when not NULL and the open fails with EACCES/EPERM, an
 * O_PATH descriptor of the same path opened as @creds is returned there (or
 * -1): proof that the caller reached the inode, for a caller that may then
 * be allowed more (a block device after authorisation). */
int safe_open_as (int dirfd, const char *path, const SafeCreds *creds, int flags,
                  int timeout_ms, int *ret_path_fd);

/* Checks an opened fd: its type is one of @types and it does not live on a
 * pseudo file system (-EPERM) or FUSE (-EPERM). Wrong type: -ENOTBLK for a
 * FIFO/socket/character device, -EISDIR/-ENOTDIR for directory mismatches.
 * Clears O_NONBLOCK so later reads block normally. */
int safe_fd_check (int fd, unsigned types, struct stat *ret_st);

/* Reads a whole regular file from @fd (from offset 0) into a NUL
 * terminated buffer of at most @max bytes: -EFBIG when there is more. */
int safe_read_fd (int fd, size_t max, char **ret, size_t *ret_size);

/* "/proc/PID/fd/N": a name that reaches exactly the open fd, also for a
 * child process we spawn (which has its own /proc/self). */
int safe_fd_path (int fd, char **ret);

/* For a block device fd: its kernel node "/dev/NAME" (found through
 * /sys/dev/block/MAJ:MIN and checked to be the same device). /dev is
 * root's, so the name cannot be swapped under us by a user. */
int safe_block_device_node (int fd, char **ret);

#ifdef G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SafeCreds, safe_creds_clear)
#endif

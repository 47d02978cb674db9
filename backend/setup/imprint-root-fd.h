/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* File IO inside a directory tree imprintd (root) does not trust: an
 * installed system's root given by a caller, which that caller may own
 * and fill with symlinks, FIFOs and huge files. The tree is opened once
 * as a directory fd; everything below it is resolved relative to that fd
 * and can never leave it:
 *
 * - reads: openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), so symlinks in
 *   the tree mean what they mean on the installed system (an absolute
 *   link points into the tree, ".." stops at its root); regular files
 *   only (O_NONBLOCK, so a FIFO cannot block the open), size-capped;
 * - writes: directories made with mkdirat and opened O_NOFOLLOW one by
 *   one (no symlinks at all), a new file made under a temporary name with
 *   O_CREAT|O_EXCL|O_NOFOLLOW and its final mode and owner, fchmod/fchown
 *   on the fd, then renameat() over the name (which replaces a symlink
 *   there instead of following it).
 *
 * Where the kernel has no openat2 (ENOSYS), the paths are walked one
 * component at a time with O_NOFOLLOW, refusing every symlink.
 * All functions return 0 or a negative errno; ret_ arguments are left
 * untouched on failure. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The largest configuration file read from a tree (etc/passwd of a big
 * installation is the biggest one read). */
#define IMPRINT_ROOT_READ_MAX (4u * 1024u * 1024u)

/* Opens @path as a directory (O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC): the
 * last component must not be a symlink. -ENOTDIR, -ELOOP otherwise. */
int imprint_root_open (const char *path, int *ret_fd);

/* Whether @uid may read the directory or file behind @fd: root may,
 * the owner may, anyone may when it is world-readable (and, for a
 * directory, world-searchable). -EACCES otherwise. */
int imprint_root_check_reader (int fd, uid_t uid);

/* True when @fd is the same directory as "/" (st_dev and st_ino), however
 * the caller spelled it ("/.", "//", "/usr/..", a symlink to it). */
bool imprint_root_is_host_root (int fd);

/* Opens @path below @root_fd. @follow: symlinks are resolved inside the
 * tree (RESOLVE_IN_ROOT); else none is (RESOLVE_NO_SYMLINKS). Magic links
 * (/proc/PID/fd/N) are never followed. */
int imprint_root_openat (int root_fd, const char *path, int flags, mode_t mode, bool follow, int *ret_fd);

/* Reads a regular file below @root_fd (symlinks inside the tree
 * followed) of at most @max bytes (-EFBIG beyond), NUL-terminated.
 * @reader: 0 = no check, else the file must be readable by that uid
 * (owner or world-readable), -EACCES otherwise. Not a regular file:
 * -EBADFD. *ret: g_free(). */
int imprint_root_read_file (int root_fd, const char *path, size_t max, uid_t reader,
                            char **ret, size_t *ret_size);

/* The target of the symlink @path below @root_fd (read, not followed). */
int imprint_root_read_link (int root_fd, const char *path, char **ret);

/* lstat of @path below @root_fd (the last component not followed,
 * symlinks in its directories resolved inside the tree). */
int imprint_root_lstat (int root_fd, const char *path, struct stat *ret);

/* Makes @path and its parents below @root_fd (mode @mode for new ones;
 * no symlink is followed) and returns an fd of it in *ret_fd (may be
 * NULL). */
int imprint_root_mkdir_p (int root_fd, const char *path, mode_t mode, int *ret_fd);

/* Replaces @path below @root_fd with a file of @size bytes of @data,
 * mode @mode, owned by @uid:@gid ((uid_t) -1: left as created, i.e.
 * imprintd's), synced, atomically (temporary name, then renameat).
 * Missing parent directories are made 0755 (@dir_mode). */
int imprint_root_write_file (int root_fd, const char *path, const void *data, size_t size,
                             mode_t mode, uid_t uid, gid_t gid, mode_t dir_mode);

/* Replaces @path below @root_fd with a symlink to @target, atomically. */
int imprint_root_symlink (int root_fd, const char *path, const char *target);

/* Removes the file @path below @root_fd; -ENOENT when there is none. */
int imprint_root_unlink (int root_fd, const char *path);

/* Tests only: behave as if the kernel had no openat2. */
void imprint_root_set_openat2_disabled (bool disabled);

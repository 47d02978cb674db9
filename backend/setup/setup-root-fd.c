/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "imprint-root-fd.h"
#include "macros.h"

static bool openat2_disabled;

void
imprint_root_set_openat2_disabled (bool disabled)
{
  openat2_disabled = disabled;
}

int
imprint_root_open (const char *path, int *ret_fd)
{
  int fd;

  if (path == NULL || path[0] == '\0')
    return -EINVAL;
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return negative_errno ();
  *ret_fd = fd;
  return 0;
}

int
imprint_root_check_reader (int fd, uid_t uid)
{
  struct stat st;
  mode_t need;

  if (fstat (fd, &st) < 0)
    return negative_errno ();
  if (uid == 0 || st.st_uid == uid)
    return 0;
  /* Group permissions are not counted: which groups the caller is in is
   * not known here, and "other" is what everyone has. */
  need = S_ISDIR (st.st_mode) ? (S_IROTH | S_IXOTH) : S_IROTH;
  return (st.st_mode & need) == need ? 0 : -EACCES;
}

bool
imprint_root_is_host_root (int fd)
{
  struct stat a, b;

  if (fstat (fd, &a) < 0 || stat ("/", &b) < 0)
    return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The path without leading slashes: everything is relative to the tree. */
static const char *
skip_slashes (const char *path)
{
  while (*path == '/')
    path++;
  return path;
}

/* One component at a time, no symlink anywhere (O_NOFOLLOW on each), no
 * "..": what openat2(RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH) does, for
 * kernels without it. */
static int
walk_openat (int root_fd, const char *path, int flags, mode_t mode)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  _cleanup_close_ int cur = -1;
  int last = -1;

  for (int i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0' && !g_str_equal (parts[i], "."))
      last = i;
  if (last < 0)
    {
      int fd = openat (root_fd, ".", flags | O_CLOEXEC, mode);
      return fd < 0 ? negative_errno () : fd;
    }

  for (int i = 0; i <= last; i++)
    {
      const char *p = parts[i];
      int next;

      if (p[0] == '\0' || g_str_equal (p, "."))
        continue;
      if (g_str_equal (p, ".."))
        return -EXDEV;
      if (i < last)
        next = openat (cur >= 0 ? cur : root_fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      else
        next = openat (cur >= 0 ? cur : root_fd, p, flags | O_NOFOLLOW | O_CLOEXEC, mode);
      if (next < 0)
        return negative_errno ();
      closep (&cur);
      cur = next;
    }
  return TAKE_FD (cur);
}

int
imprint_root_openat (int root_fd, const char *path, int flags, mode_t mode, bool follow, int *ret_fd)
{
  const char *rel = skip_slashes (path != NULL ? path : "");
  int fd = -1;

  if (rel[0] == '\0')
    rel = ".";

  if (!openat2_disabled)
    {
      struct open_how how = {
        .flags = (uint64_t) (flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS),
      };

      /* EAGAIN: a rename or mount raced with the lookup; the kernel asks
       * for a retry rather than risk an escape. */
      for (int tries = 0; tries < 8; tries++)
        {
          fd = (int) syscall (SYS_openat2, root_fd, rel, &how, sizeof how);
          if (fd >= 0 || errno != EAGAIN)
            break;
        }
      if (fd >= 0)
        {
          *ret_fd = fd;
          return 0;
        }
      if (errno != ENOSYS)
        return negative_errno ();
    }

  /* No openat2: symlinks are refused even where they would stay in the
   * tree; safe, merely stricter. */
  fd = walk_openat (root_fd, rel, flags, mode);
  if (fd < 0)
    return fd;
  *ret_fd = fd;
  return 0;
}

/* @path (relative to a root fd) split into its directory and its last
 * component, which must name an entry: not empty, ".", ".." or "/". */
static int
split_path (const char *path, char **ret_dir, char **ret_base)
{
  g_autofree char *base = NULL;
  const char *rel = skip_slashes (path);

  if (rel[0] == '\0')
    return -EINVAL;
  base = g_path_get_basename (rel);
  if (g_str_equal (base, ".") || g_str_equal (base, "..") || g_str_equal (base, "/"))
    return -EINVAL;
  *ret_dir = g_path_get_dirname (rel);
  *ret_base = g_steal_pointer (&base);
  return 0;
}

/* Splits @path into its directory (opened, symlinks resolved as @follow
 * says) and its last component. */
static int
open_parent (int root_fd, const char *path, bool follow, int flags, int *ret_dir, char **ret_base)
{
  g_autofree char *dir = NULL, *base = NULL;
  int r;

  r = split_path (path, &dir, &base);
  if (r < 0)
    return r;
  r = imprint_root_openat (root_fd, dir, flags | O_DIRECTORY, 0, follow, ret_dir);
  if (r < 0)
    return r;
  *ret_base = g_steal_pointer (&base);
  return 0;
}

int
imprint_root_read_file (int root_fd, const char *path, size_t max, uid_t reader,
                        char **ret, size_t *ret_size)
{
  _cleanup_close_ int fd = -1;
  g_autofree char *buf = NULL;
  struct stat st;
  size_t n = 0;
  int r;

  if (max == 0 || max > IMPRINT_ROOT_READ_MAX)
    max = IMPRINT_ROOT_READ_MAX;
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
  r = imprint_root_openat (root_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, true, &fd);
  if (r < 0)
    return r;
  if (fstat (fd, &st) < 0)
    return negative_errno ();
  if (!S_ISREG (st.st_mode))
    return -EBADFD;
  if (reader != 0)
    {
      r = imprint_root_check_reader (fd, reader);
      if (r < 0)
        return r;
    }
  if ((uint64_t) st.st_size > max)
    return -EFBIG;

  /* One byte more than allowed tells a file that grew meanwhile. */
  buf = g_malloc (max + 2);
  while (n <= max)
    {
      ssize_t k = read (fd, buf + n, max + 1 - n);
      if (k < 0)
        {
          if (errno == EINTR)
            continue;
          return negative_errno ();
        }
      if (k == 0)
        break;
      n += (size_t) k;
    }
  if (n > max)
    return -EFBIG;
  buf[n] = '\0';
  *ret = g_realloc (g_steal_pointer (&buf), n + 1);
  if (ret_size != NULL)
    *ret_size = n;
  return 0;
}

int
imprint_root_read_link (int root_fd, const char *path, char **ret)
{
  _cleanup_close_ int dir = -1;
  g_autofree char *base = NULL;
  char buf[4096];
  ssize_t n;
  int r;

  r = open_parent (root_fd, path, true, O_PATH, &dir, &base);
  if (r < 0)
    return r;
  n = readlinkat (dir, base, buf, sizeof buf);
  if (n < 0)
    return negative_errno ();
  if ((size_t) n >= sizeof buf)
    return -ENAMETOOLONG;
  *ret = g_strndup (buf, (size_t) n);
  return 0;
}

int
imprint_root_lstat (int root_fd, const char *path, struct stat *ret)
{
  _cleanup_close_ int dir = -1;
  g_autofree char *base = NULL;
  int r;

  r = open_parent (root_fd, path, true, O_PATH, &dir, &base);
  if (r < 0)
    return r;
  if (fstatat (dir, base, ret, AT_SYMLINK_NOFOLLOW) < 0)
    return negative_errno ();
  return 0;
}

int
imprint_root_mkdir_p (int root_fd, const char *path, mode_t mode, int *ret_fd)
{
  g_auto(GStrv) parts = g_strsplit (skip_slashes (path), "/", -1);
  _cleanup_close_ int cur = -1;

  cur = openat (root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0)
    return negative_errno ();
  for (int i = 0; parts[i] != NULL; i++)
    {
      const char *p = parts[i];
      int next;

      if (p[0] == '\0' || g_str_equal (p, "."))
        continue;
      if (g_str_equal (p, ".."))
        return -EINVAL;
      if (mkdirat (cur, p, mode) < 0 && errno != EEXIST)
        return negative_errno ();
      /* A symlink put there (before or after mkdirat) is not followed:
       * ELOOP or ENOTDIR. */
      next = openat (cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return negative_errno ();
      closep (&cur);
      cur = next;
    }
  if (ret_fd != NULL)
    *ret_fd = TAKE_FD (cur);
  return 0;
}

/* A name of its own next to @base in @dir_fd, created O_EXCL. */
static char *
temp_name (const char *base)
{
  return g_strdup_printf (".#%s.%08x", base, g_random_int ());
}

static int
write_all (int fd, const void *data, size_t size)
{
  const char *p = data;

  while (size > 0)
    {
      ssize_t k = write (fd, p, size);
      if (k < 0)
        {
          if (errno == EINTR)
            continue;
          return negative_errno ();
        }
      p += k;
      size -= (size_t) k;
    }
  return 0;
}

/* The directory part of @path made (no symlinks) and opened. */
static int
make_parent (int root_fd, const char *path, mode_t dir_mode, int *ret_dir, char **ret_base)
{
  g_autofree char *dir = NULL, *base = NULL;
  int r;

  r = split_path (path, &dir, &base);
  if (r < 0)
    return r;
  r = imprint_root_mkdir_p (root_fd, dir, dir_mode, ret_dir);
  if (r < 0)
    return r;
  *ret_base = g_steal_pointer (&base);
  return 0;
}

int
imprint_root_write_file (int root_fd, const char *path, const void *data, size_t size,
                         mode_t mode, uid_t uid, gid_t gid, mode_t dir_mode)
{
  _cleanup_close_ int dir = -1, fd = -1;
  g_autofree char *base = NULL, *tmp = NULL;
  int r;

  r = make_parent (root_fd, path, dir_mode, &dir, &base);
  if (r < 0)
    return r;
  for (int tries = 0; tries < 16 && fd < 0; tries++)
    {
      g_free (tmp);
      tmp = temp_name (base);
      /* The final mode from the start: the file is never readable by
       * more than it will be. */
      fd = openat (dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
      if (fd < 0 && errno != EEXIST)
        return negative_errno ();
    }
  if (fd < 0)
    return -EEXIST;

  r = write_all (fd, data, size);
  /* On the fd, before the file has its name: never by name afterwards. */
  if (r >= 0 && fchmod (fd, mode) < 0)
    r = negative_errno ();
  if (r >= 0 && uid != (uid_t) -1 && fchown (fd, uid, gid) < 0)
    r = negative_errno ();
  if (r >= 0 && fsync (fd) < 0)
    r = negative_errno ();
  if (r >= 0 && renameat (dir, tmp, dir, base) < 0)
    r = negative_errno ();
  if (r < 0)
    {
      (void) unlinkat (dir, tmp, 0);
      return r;
    }
  (void) fsync (dir);
  return 0;
}

int
imprint_root_symlink (int root_fd, const char *path, const char *target)
{
  _cleanup_close_ int dir = -1;
  g_autofree char *base = NULL, *tmp = NULL;
  int r;

  r = make_parent (root_fd, path, 0755, &dir, &base);
  if (r < 0)
    return r;
  for (int tries = 0; tries < 16; tries++)
    {
      g_free (tmp);
      tmp = temp_name (base);
      if (symlinkat (target, dir, tmp) == 0)
        break;
      if (errno != EEXIST)
        return negative_errno ();
      g_clear_pointer (&tmp, g_free);
    }
  if (tmp == NULL)
    return -EEXIST;
  if (renameat (dir, tmp, dir, base) < 0)
    {
      r = negative_errno ();
      (void) unlinkat (dir, tmp, 0);
      return r;
    }
  (void) fsync (dir);
  return 0;
}

int
imprint_root_unlink (int root_fd, const char *path)
{
  _cleanup_close_ int dir = -1;
  g_autofree char *base = NULL;
  int r;

  r = open_parent (root_fd, path, false, O_PATH, &dir, &base);
  if (r < 0)
    return r;
  if (unlinkat (dir, base, 0) < 0)
    return negative_errno ();
  return 0;
}

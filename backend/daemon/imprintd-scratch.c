/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"
#include "imprintd-scratch.h"

#define SCRATCH_PREFIX "imprintd-"
#define SCRATCH_SUFFIX_LEN 6
/* Made under this name, locked, then renamed to SCRATCH_PREFIX...: the
 * cleaner of an imprintd starting at the same moment never sees a
 * directory that is ours but not locked yet. */
#define SCRATCH_NEW_PREFIX ".imprintd-"
/* Our own trees are a few levels deep; anything deeper is left alone
 * rather than recursed into without bound. */
#define MAX_DEPTH 32

static gboolean
is_scratch_name (const char *name)
{
  size_t n = strlen (SCRATCH_PREFIX);

  if (strncmp (name, SCRATCH_PREFIX, n) != 0 || strlen (name) != n + SCRATCH_SUFFIX_LEN)
    return FALSE;
  for (const char *p = name + n; *p; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

/* Empties the directory @dfd (on device @dev): unlinkat() relative to
 * directory fds, subdirectories opened O_NOFOLLOW, nothing on another file
 * system (a mount point left behind) touched. Returns 0 when it is empty
 * now, else a negative errno. Consumes @dfd. */
static int
remove_contents (int dfd, dev_t dev, unsigned depth)
{
  DIR *d;
  struct dirent *de;
  int r = 0;

  if (depth > MAX_DEPTH)
    {
      close (dfd);
      return -ELOOP;
    }
  d = fdopendir (dfd);
  if (d == NULL)
    {
      r = -errno;
      close (dfd);
      return r;
    }

  while ((errno = 0, de = readdir (d)) != NULL)
    {
      struct stat st;

      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno != ENOENT)
            r = -errno;
          continue;
        }
      if (S_ISDIR (st.st_mode))
        {
          int sub, k;

          if (st.st_dev != dev)
            {
              r = -EBUSY; /* a mount point: not ours to empty */
              continue;
            }
          sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            {
              r = -errno;
              continue;
            }
          k = remove_contents (sub, dev, depth + 1);
          if (k < 0)
            {
              r = k;
              continue;
            }
          if (unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            r = -errno;
        }
      else if (unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT)
        r = -errno;
    }
  if (errno != 0 && r == 0)
    r = -errno;
  closedir (d);
  return r;
}

/* One candidate: ours (uid, a real directory, the same one we opened) and
 * not locked by a running imprintd. */
static int
remove_stale_one (int base_fd, const char *name)
{
  _cleanup_close_ int fd = -1;
  struct stat st, st2;
  int r;

  if (fstatat (base_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid ())
    return -EPERM;
  fd = openat (base_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (fstat (fd, &st2) < 0)
    return -errno;
  if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || st2.st_uid != geteuid ())
    return -ESTALE;
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return -errno; /* EWOULDBLOCK: a running imprintd's */

  r = remove_contents (fcntl (fd, F_DUPFD_CLOEXEC, 3), st2.st_dev, 0);
  if (r < 0)
    return r;
  if (unlinkat (base_fd, name, AT_REMOVEDIR) < 0)
    return -errno;
  return 0;
}

int
imprintd_scratch_clean_stale (int base_fd)
{
  DIR *d;
  struct dirent *de;
  int dup_fd, removed = 0;

  dup_fd = fcntl (base_fd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0)
    return -errno;
  d = fdopendir (dup_fd);
  if (d == NULL)
    {
      int r = -errno;
      close (dup_fd);
      return r;
    }
  rewinddir (d);
  while ((de = readdir (d)) != NULL)
    {
      int r;

      if (!is_scratch_name (de->d_name))
        continue;
      r = remove_stale_one (base_fd, de->d_name);
      if (r == 0)
        {
          g_debug ("removed the stale scratch directory %s", de->d_name);
          removed++;
        }
      else if (r != -EPERM && r != -EWOULDBLOCK && r != -ENOENT)
        g_debug ("left the scratch directory %s: %s", de->d_name, g_strerror (-r));
    }
  closedir (d);
  return removed;
}

static const char *
scratch_base (void)
{
  const char *e;

  /* systemd's RuntimeDirectory= (a colon-separated list; ours is first). */
  e = g_getenv ("RUNTIME_DIRECTORY");
  if (e != NULL && e[0] == '/')
    {
      static char first[4096];
      size_t n = strcspn (e, ":");

      if (n < sizeof (first))
        {
          memcpy (first, e, n);
          first[n] = '\0';
          return first;
        }
    }
  /* Not g_get_tmp_dir(): it caches what it returns first. */
  e = g_getenv ("TMPDIR");
  if (e != NULL && e[0] == '/')
    return e;
  return "/tmp";
}

static int
make_locked_dir (int base_fd, char **ret_name, int *ret_fd)
{
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  for (unsigned attempt = 0; attempt < 100; attempt++)
    {
      char suffix[SCRATCH_SUFFIX_LEN + 1];
      g_autofree char *tmp_name = NULL;
      g_autofree char *name = NULL;
      _cleanup_close_ int fd = -1;
      struct stat st;

      for (unsigned i = 0; i < SCRATCH_SUFFIX_LEN; i++)
        suffix[i] = chars[g_random_int_range (0, sizeof (chars) - 1)];
      suffix[SCRATCH_SUFFIX_LEN] = '\0';
      tmp_name = g_strconcat (SCRATCH_NEW_PREFIX, suffix, NULL);
      name = g_strconcat (SCRATCH_PREFIX, suffix, NULL);

      if (mkdirat (base_fd, tmp_name, 0700) < 0)
        {
          if (errno == EEXIST)
            continue;
          return -errno;
        }
      fd = openat (base_fd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || fstat (fd, &st) < 0 || st.st_uid != geteuid () ||
          fchmod (fd, 0700) < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
        {
          int r = fd < 0 || errno == 0 ? -EPERM : -errno;
          if (fd >= 0)
            (void) unlinkat (base_fd, tmp_name, AT_REMOVEDIR);
          return r;
        }
      if (renameat2 (base_fd, tmp_name, base_fd, name, RENAME_NOREPLACE) < 0)
        {
          int r = -errno;
          (void) unlinkat (base_fd, tmp_name, AT_REMOVEDIR);
          if (r == -EEXIST)
            continue;
          return r;
        }
      *ret_name = g_steal_pointer (&name);
      *ret_fd = TAKE_FD (fd);
      return 0;
    }
  return -EEXIST;
}

/* This process's directory, for imprintd_scratch_teardown(). */
static int own_base_fd = -1;
static int own_fd = -1;
static char *own_name;

int
imprintd_scratch_setup (char **ret_path)
{
  const char *base = scratch_base ();
  _cleanup_close_ int base_fd = -1;
  g_autofree char *name = NULL;
  int fd = -1, r;

  g_return_val_if_fail (ret_path != NULL, -EINVAL);

  /* The base is the administrator's (a unit setting or the environment),
   * so it may be a symlink; below it, nothing is followed. */
  base_fd = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0)
    return -errno;

  r = imprintd_scratch_clean_stale (base_fd);
  if (r < 0)
    g_debug ("could not look for stale scratch directories in %s: %s", base, g_strerror (-r));

  r = make_locked_dir (base_fd, &name, &fd);
  if (r < 0)
    return r;
  /* fd stays open (and locked) until the process exits: a later imprintd
   * knows this directory is in use. */

  own_fd = fd;
  own_name = g_strdup (name);
  own_base_fd = TAKE_FD (base_fd);

  *ret_path = g_build_filename (base, name, NULL);
  if (!g_setenv ("TMPDIR", *ret_path, TRUE))
    return -ENOMEM;
  return 0;
}

void
imprintd_scratch_teardown (void)
{
  struct stat st;
  int r = -EBADF;

  if (own_fd < 0)
    return;
  /* Jobs remove what they made; this catches what a failed step left. */
  if (fstat (own_fd, &st) == 0)
    r = remove_contents (fcntl (own_fd, F_DUPFD_CLOEXEC, 3), st.st_dev, 0);
  if (r == 0 && unlinkat (own_base_fd, own_name, AT_REMOVEDIR) < 0)
    r = -errno;
  if (r < 0)
    g_warning ("could not remove the scratch directory %s: %s", own_name, g_strerror (-r));
  close (own_fd);
  close (own_base_fd);
  own_fd = own_base_fd = -1;
  g_clear_pointer (&own_name, g_free);
}

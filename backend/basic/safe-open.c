/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#ifdef __has_include
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

#include "macros.h"
#include "safe-open.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif

#define OVERFLOW_GID ((gid_t) 65534)

void
safe_creds_clear (SafeCreds *creds)
{
  free (creds->groups);
  creds->groups = NULL;
  creds->n_groups = 0;
}

int
safe_creds_for_uid (uid_t uid, SafeCreds *ret)
{
  struct passwd pw, *res = NULL;
  _cleanup_free_ char *buf = NULL;
  _cleanup_free_ gid_t *groups = NULL;
  size_t bufsize = 16384;
  int n = 32, r;

  for (;;)
    {
      free (buf);
      buf = malloc (bufsize);
      if (buf == NULL)
        return -ENOMEM;
      r = getpwuid_r (uid, &pw, buf, bufsize, &res);
      if (r != ERANGE || bufsize >= 1024 * 1024)
        break;
      bufsize *= 2;
    }
  if (res == NULL)
    {
      /* No account: the least we can give, no groups at all. */
      *ret = (SafeCreds) { .uid = uid, .gid = OVERFLOW_GID };
      return 0;
    }

  for (int tries = 0; tries < 8; tries++)
    {
      int want = n;
      free (groups);
      groups = calloc ((size_t) n, sizeof (gid_t));
      if (groups == NULL)
        return -ENOMEM;
      if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &n) >= 0)
        {
          *ret = (SafeCreds) { .uid = uid, .gid = pw.pw_gid, .groups = TAKE_PTR (groups),
                               .n_groups = (size_t) n };
          return 0;
        }
      if (n <= want)
        n = want * 2;
      if (n > 65536)
        break;
    }
  return -E2BIG;
}

static int
open_how_flags (int flags)
{
  if (flags & O_PATH)
    return O_PATH | O_NOFOLLOW | O_CLOEXEC | (flags & O_DIRECTORY);
  return flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
}

/* openat2() refusing magic links (/proc/self/fd/N in the middle of a path
 * would reopen whatever we have open); plain openat() on old kernels. Only
 * raw system calls: also used in the forked child. */
static int
open_one (int dirfd, const char *path, int flags)
{
  int fd;

#if defined(HAVE_OPENAT2_H) && defined(SYS_openat2)
  struct open_how how = { .flags = (uint64_t) (unsigned) flags, .resolve = RESOLVE_NO_MAGICLINKS };
  fd = (int) syscall (SYS_openat2, dirfd, path, &how, sizeof (how));
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
    return fd >= 0 ? fd : -errno;
  /* EPERM: a seccomp filter that does not know openat2. */
#endif
  fd = openat (dirfd, path, flags);
  return fd >= 0 ? fd : -errno;
}

static int
open_both (int dirfd, const char *path, int flags, int *ret_path_fd)
{
  int fd = open_one (dirfd, path, open_how_flags (flags));

  if (ret_path_fd != NULL)
    *ret_path_fd = -1;
  if (fd >= 0 || ret_path_fd == NULL || (fd != -EACCES && fd != -EPERM))
    return fd;
  int pfd = open_one (dirfd, path, open_how_flags (O_PATH));
  if (pfd >= 0)
    *ret_path_fd = pfd;
  return fd;
}

/* Closes every fd but those in @keep (ascending). Raw system call:
 * async-signal-safe. */
static void
close_all_but (const int *keep, size_t n)
{
  unsigned from = 3;

  for (size_t i = 0; i < n; i++)
    {
      if (keep[i] < 0 || (unsigned) keep[i] < from)
        continue;
      if ((unsigned) keep[i] > from)
        (void) syscall (SYS_close_range, from, (unsigned) keep[i] - 1, 0);
      from = (unsigned) keep[i] + 1;
    }
  (void) syscall (SYS_close_range, from, ~0U, 0);
}

/* Sends the result (0 or -errno) and up to two fds. */
static int
send_result (int sock, int result, int fd1, int fd2)
{
  int fds[2];
  unsigned nfds = 0;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (fds))];
  } control;
  struct iovec iov = { .iov_base = &result, .iov_len = sizeof (result) };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (fd1 >= 0)
    fds[nfds++] = fd1;
  if (fd2 >= 0)
    fds[nfds++] = fd2;
  if (nfds > 0)
    {
      struct cmsghdr *c;
      memset (&control, 0, sizeof (control));
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
      c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (nfds * sizeof (int));
      memcpy (CMSG_DATA (c), fds, nfds * sizeof (int));
    }
  return sendmsg (sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* In the child: only async-signal-safe calls (the parent has threads). */
_Noreturn static void
child_open (int sock, int dirfd, const char *path, const SafeCreds *creds, int flags,
            bool want_path_fd)
{
  int keep[2] = { sock < dirfd ? sock : dirfd, sock < dirfd ? dirfd : sock };
  int fd, pfd = -1;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* Nothing of ours may be reachable through /proc/self/fd as the caller. */
  close_all_but (keep, 2);

  /* Raw system calls: glibc's wrappers would try to reach the parent's
   * other threads (setxid broadcast); this process has only one. Groups
   * first, then gid, then uid: after setresuid we could not change them. */
  if (syscall (SYS_setgroups, creds->n_groups, creds->groups) < 0 ||
      syscall (SYS_setresgid, creds->gid, creds->gid, creds->gid) < 0 ||
      syscall (SYS_setresuid, creds->uid, creds->uid, creds->uid) < 0)
    {
      (void) send_result (sock, -errno, -1, -1);
      _exit (1);
    }

  fd = open_both (dirfd, path, flags, want_path_fd ? &pfd : NULL);
  (void) send_result (sock, fd < 0 ? fd : 0, fd, pfd);
  _exit (0);
}

static int
receive_result (int sock, int timeout_ms, int *ret_fd, int *ret_pfd)
{
  int result = 0;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE (2 * sizeof (int))];
  } control;
  struct iovec iov = { .iov_base = &result, .iov_len = sizeof (result) };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf, .msg_controllen = sizeof (control.buf) };
  struct pollfd p = { .fd = sock, .events = POLLIN };
  int fds[2] = { -1, -1 };
  size_t nfds = 0;
  ssize_t n;
  int r;

  do
    r = poll (&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -errno;
  if (r == 0)
    return -ETIMEDOUT;

  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); c != NULL; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        nfds = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        if (nfds > 2)
          nfds = 2;
        memcpy (fds, CMSG_DATA (c), nfds * sizeof (int));
      }
  if (n != (ssize_t) sizeof (result) || (mh.msg_flags & MSG_CTRUNC))
    {
      for (size_t i = 0; i < nfds; i++)
        close (fds[i]);
      return -EIO;
    }

  if (result >= 0)
    {
      if (nfds != 1)
        {
          for (size_t i = 0; i < nfds; i++)
            close (fds[i]);
          return -EIO;
        }
      *ret_fd = fds[0];
      return 0;
    }
  /* Failed, perhaps with the O_PATH fd. */
  if (nfds == 1 && ret_pfd != NULL)
    *ret_pfd = fds[0];
  else
    for (size_t i = 0; i < nfds; i++)
      close (fds[i]);
  return result;
}

int
safe_open_as (int dirfd, const char *path, const SafeCreds *creds, int flags, int timeout_ms,
              int *ret_path_fd)
{
  _cleanup_close_ int sock_parent = -1, sock_child = -1;
  int socks[2], fd = -1, pfd = -1, r, status;
  pid_t pid;

  if (ret_path_fd != NULL)
    *ret_path_fd = -1;
  if (path == NULL || *path == '\0')
    return -ENOENT;
  if (creds == NULL || creds->uid == 0)
    return open_both (dirfd, path, flags, ret_path_fd);

  if (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, socks) < 0)
    return -errno;
  sock_parent = socks[0];
  sock_child = socks[1];

  pid = fork ();
  if (pid < 0)
    return -errno;
  if (pid == 0)
    child_open (sock_child, dirfd, path, creds, flags, ret_path_fd != NULL);

  close (TAKE_FD (sock_child));
  r = receive_result (sock_parent, timeout_ms, &fd, &pfd);
  if (r == -ETIMEDOUT)
    (void) kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    {
      if (ret_path_fd != NULL)
        *ret_path_fd = pfd;
      else if (pfd >= 0)
        close (pfd);
      return r;
    }
  return fd;
}

static bool
is_pseudo_fs (const struct statfs *sfs)
{
  static const long magics[] = {
    PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, SECURITYFS_MAGIC, TRACEFS_MAGIC,
    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC, EFIVARFS_MAGIC, CONFIGFS_MAGIC,
    PSTOREFS_MAGIC, FUSE_SUPER_MAGIC,
  };

  for (size_t i = 0; i < ELEMENTSOF (magics); i++)
    if ((long) sfs->f_type == magics[i])
      return true;
  return false;
}

int
safe_fd_check (int fd, unsigned types, struct stat *ret_st)
{
  struct stat st;
  struct statfs sfs;
  int fl;

  if (fstat (fd, &st) < 0)
    return -errno;
  if (S_ISDIR (st.st_mode))
    {
      if (!(types & SAFE_TYPE_DIR))
        return -EISDIR;
    }
  else if (S_ISREG (st.st_mode))
    {
      if (!(types & SAFE_TYPE_REG))
        return (types & SAFE_TYPE_DIR) ? -ENOTDIR : -EINVAL;
    }
  else if (S_ISBLK (st.st_mode))
    {
      if (!(types & SAFE_TYPE_BLK))
        return (types & SAFE_TYPE_DIR) ? -ENOTDIR : -EINVAL;
    }
  else
    return (types & SAFE_TYPE_DIR) && !(types & (SAFE_TYPE_REG | SAFE_TYPE_BLK)) ? -ENOTDIR : -ENOTBLK;

  /* Device nodes live on devtmpfs; a block device node elsewhere is the
   * same device, so only files and directories are checked. */
  if (!S_ISBLK (st.st_mode))
    {
      if (fstatfs (fd, &sfs) < 0)
        return -errno;
      if (is_pseudo_fs (&sfs))
        return -EPERM;
    }

  fl = fcntl (fd, F_GETFL);
  if (fl >= 0 && !(fl & O_PATH) && (fl & O_NONBLOCK))
    if (fcntl (fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
      return -errno;

  if (ret_st != NULL)
    *ret_st = st;
  return 0;
}

int
safe_read_fd (int fd, size_t max, char **ret, size_t *ret_size)
{
  _cleanup_free_ char *buf = NULL;
  size_t have = 0;

  if (max >= SIZE_MAX - 1)
    return -EINVAL;
  buf = malloc (max + 2);
  if (buf == NULL)
    return -ENOMEM;
  /* One byte more than allowed tells "too big" from "exactly max". */
  while (have < max + 1)
    {
      ssize_t n = pread (fd, buf + have, max + 1 - have, (off_t) have);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      if (n == 0)
        break;
      have += (size_t) n;
    }
  if (have > max)
    return -EFBIG;
  buf[have] = '\0';
  *ret = TAKE_PTR (buf);
  if (ret_size != NULL)
    *ret_size = have;
  return 0;
}

int
safe_fd_path (int fd, char **ret)
{
  char *p = NULL;

  if (fd < 0)
    return -EBADF;
  if (asprintf (&p, "/proc/%d/fd/%d", (int) getpid (), fd) < 0)
    return -ENOMEM;
  *ret = p;
  return 0;
}

int
safe_block_device_node (int fd, char **ret)
{
  struct stat st, st2;
  char link[64], target[4096];
  _cleanup_free_ char *node = NULL;
  const char *base;
  ssize_t n;

  if (fstat (fd, &st) < 0)
    return -errno;
  if (!S_ISBLK (st.st_mode))
    return -ENOTBLK;
  snprintf (link, sizeof (link), "/sys/dev/block/%u:%u", major (st.st_rdev), minor (st.st_rdev));
  n = readlink (link, target, sizeof (target) - 1);
  if (n < 0)
    return -errno;
  target[n] = '\0';
  base = strrchr (target, '/');
  base = base ? base + 1 : target;
  if (*base == '\0' || *base == '.')
    return -ENODEV;
  if (asprintf (&node, "/dev/%s", base) < 0)
    return -ENOMEM;
  /* sysfs spells '/' in device names as '!' (cciss!c0d0). */
  for (char *c = node + 5; *c; c++)
    if (*c == '!')
      *c = '/';
  if (stat (node, &st2) < 0)
    return -errno;
  if (!S_ISBLK (st2.st_mode) || st2.st_rdev != st.st_rdev)
    return -ENODEV;
  *ret = TAKE_PTR (node);
  return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"
#include "safe-open.h"

#define NOBODY 65534

static char *
make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *d = g_dir_make_tmp ("test-safe-open-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_true (chmod (d, 0755) == 0);
  return d;
}

static void
write_file (const char *path, const char *text, mode_t mode)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (chmod (path, mode) == 0);
}

static void
rm_rf (const char *dir)
{
  const char *argv[] = { "rm", "-rf", dir, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

static void
test_regular_and_types (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *file = g_build_filename (dir, "f", NULL);
  g_autofree char *text = NULL;
  _cleanup_close_ int fd = -1, dfd = -1;
  size_t size = 0;
  struct stat st;

  write_file (file, "hello", 0644);
  fd = safe_open_as (AT_FDCWD, file, NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (safe_fd_check (fd, SAFE_TYPE_DIR, NULL), ==, -ENOTDIR);
  g_assert_cmpint (safe_fd_check (fd, SAFE_TYPE_REG | SAFE_TYPE_BLK, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_false (fcntl (fd, F_GETFL) & O_NONBLOCK);
  g_assert_cmpint (safe_read_fd (fd, 5, &text, &size), ==, 0);
  g_assert_cmpstr (text, ==, "hello");
  g_assert_cmpuint (size, ==, 5);
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (safe_read_fd (fd, 4, &text, &size), ==, -EFBIG);
  g_assert_null (text);

  dfd = safe_open_as (AT_FDCWD, dir, NULL, O_RDONLY | O_DIRECTORY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (dfd, >=, 0);
  g_assert_cmpint (safe_fd_check (dfd, SAFE_TYPE_REG, NULL), ==, -EISDIR);
  g_assert_cmpint (safe_fd_check (dfd, SAFE_TYPE_DIR, NULL), ==, 0);
  /* Relative to a directory fd. */
  {
    _cleanup_close_ int f2 = safe_open_as (dfd, "f", NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
    g_assert_cmpint (f2, >=, 0);
  }
  rm_rf (dir);
}

static void
test_fifo_does_not_block (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  _cleanup_close_ int fd = -1;
  gint64 start = g_get_monotonic_time ();

  g_assert_true (mkfifo (fifo, 0666) == 0);
  fd = safe_open_as (AT_FDCWD, fifo, NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (safe_fd_check (fd, SAFE_TYPE_REG | SAFE_TYPE_BLK, NULL), ==, -ENOTBLK);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  rm_rf (dir);
}

static void
test_symlink_refused (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *file = g_build_filename (dir, "f", NULL);
  g_autofree char *link = g_build_filename (dir, "l", NULL);

  write_file (file, "x", 0644);
  g_assert_true (symlink (file, link) == 0);
  g_assert_cmpint (safe_open_as (AT_FDCWD, link, NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL), ==, -ELOOP);
  g_assert_cmpint (safe_open_as (AT_FDCWD, "/dev/stdin", NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL), ==, -ELOOP);
  rm_rf (dir);
}

static void
test_pseudo_and_char (void)
{
  _cleanup_close_ int p = -1, z = -1;

  p = safe_open_as (AT_FDCWD, "/proc/self/status", NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (p, >=, 0);
  g_assert_cmpint (safe_fd_check (p, SAFE_TYPE_REG, NULL), ==, -EPERM);
  z = safe_open_as (AT_FDCWD, "/dev/zero", NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (z, >=, 0);
  g_assert_cmpint (safe_fd_check (z, SAFE_TYPE_REG | SAFE_TYPE_BLK, NULL), ==, -ENOTBLK);
}

static void
test_fd_path (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *file = g_build_filename (dir, "f", NULL);
  g_autofree char *again = g_build_filename (dir, "g", NULL);
  g_autofree char *p = NULL;
  g_autofree char *text = NULL;
  _cleanup_close_ int fd = -1;

  write_file (file, "first", 0644);
  fd = safe_open_as (AT_FDCWD, file, NULL, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (safe_fd_path (fd, &p), ==, 0);
  /* The name is replaced: the fd path still reaches what was opened. */
  write_file (again, "second", 0644);
  g_assert_true (rename (again, file) == 0);
  g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "first");
  rm_rf (dir);
}

static void
test_as_user (void)
{
  g_autofree char *dir = NULL, *priv = NULL, *secret = NULL, *hidden = NULL, *mine = NULL;
  g_auto(SafeCreds) creds = { 0 };
  int pfd = -1;
  int fd;

  if (getuid () != 0)
    {
      g_test_skip ("needs root to act as another user");
      return;
    }
  dir = make_tmpdir ();
  priv = g_build_filename (dir, "priv", NULL);
  secret = g_build_filename (dir, "secret", NULL);
  hidden = g_build_filename (priv, "hidden", NULL);
  mine = g_build_filename (dir, "mine", NULL);
  g_assert_true (mkdir (priv, 0700) == 0);
  write_file (secret, "root only", 0600);
  write_file (hidden, "behind a 0700 directory", 0644);
  write_file (mine, "nobody's", 0600);
  g_assert_true (chown (mine, NOBODY, NOBODY) == 0);

  g_assert_cmpint (safe_creds_for_uid (NOBODY, &creds), ==, 0);
  g_assert_cmpuint (creds.uid, ==, NOBODY);

  /* A root-only file: EACCES as the caller, the O_PATH fd on request. */
  g_assert_cmpint (safe_open_as (AT_FDCWD, secret, &creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL), ==, -EACCES);
  g_assert_cmpint (safe_open_as (AT_FDCWD, secret, &creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, &pfd), ==, -EACCES);
  g_assert_cmpint (pfd, >=, 0);
  g_assert_true (fcntl (pfd, F_GETFL) & O_PATH);
  close (pfd);

  /* Readable itself, but its directory is not searchable: the same
   * answer as for a file that does not exist there. */
  g_assert_cmpint (safe_open_as (AT_FDCWD, hidden, &creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, &pfd), ==, -EACCES);
  g_assert_cmpint (pfd, ==, -1);
  {
    g_autofree char *none = g_build_filename (priv, "none", NULL);
    g_assert_cmpint (safe_open_as (AT_FDCWD, none, &creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL), ==, -EACCES);
  }

  /* The caller's own file opens, read-write too. */
  fd = safe_open_as (AT_FDCWD, mine, &creds, O_RDWR, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (safe_fd_check (fd, SAFE_TYPE_REG, NULL), ==, 0);
  close (fd);
  /* ... but not a file it may only read: no write as root for it. */
  g_assert_true (chmod (mine, 0444) == 0);
  g_assert_true (chown (mine, 0, 0) == 0);
  g_assert_cmpint (safe_open_as (AT_FDCWD, mine, &creds, O_RDWR, SAFE_OPEN_TIMEOUT_MS, NULL), ==, -EACCES);
  fd = safe_open_as (AT_FDCWD, mine, &creds, O_RDONLY, SAFE_OPEN_TIMEOUT_MS, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);

  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safe-open/regular-and-types", test_regular_and_types);
  g_test_add_func ("/safe-open/fifo-does-not-block", test_fifo_does_not_block);
  g_test_add_func ("/safe-open/symlink-refused", test_symlink_refused);
  g_test_add_func ("/safe-open/pseudo-and-char", test_pseudo_and_char);
  g_test_add_func ("/safe-open/fd-path", test_fd_path);
  g_test_add_func ("/safe-open/as-user", test_as_user);
  return g_test_run ();
}

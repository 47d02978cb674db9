/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imprint_loop_attach(): a region of a file as a loop device, read-only
 * or read-write. Needs root and /dev/loop-control; skipped without. */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loop.h"
#include "macros.h"

#define KiB 1024u

static char *
make_file (int *ret_fd)
{
  g_autofree char *path = NULL;
  g_autofree guint8 *bytes = g_malloc (64 * KiB);
  int fd = g_file_open_tmp ("imprint-test-loop-XXXXXX", &path, NULL);

  g_assert_cmpint (fd, >=, 0);
  for (guint i = 0; i < 64 * KiB; i++)
    bytes[i] = (guint8) (i / KiB);   /* each KiB holds its own number */
  g_assert_cmpint (write (fd, bytes, 64 * KiB), ==, 64 * KiB);
  *ret_fd = fd;
  return g_steal_pointer (&path);
}

static gboolean
can_attach (void)
{
  if (geteuid () != 0 || access ("/dev/loop-control", R_OK | W_OK) < 0)
    {
      g_test_skip ("needs root and /dev/loop-control");
      return FALSE;
    }
  return TRUE;
}

static guint64
device_size (int fd)
{
  off_t end = lseek (fd, 0, SEEK_END);

  g_assert_cmpint (end, >=, 0);
  return (guint64) end;
}

static void
test_read_only (void)
{
  _cleanup_close_ int fd = -1, loop = -1;
  g_autofree char *path = NULL, *node = NULL;
  guint8 byte = 0;
  int r;

  if (!can_attach ())
    return;
  path = make_file (&fd);
  r = imprint_loop_attach (fd, 16 * KiB, 8 * KiB, true, &loop, &node);
  g_assert_cmpint (r, ==, 0);
  g_assert_true (g_str_has_prefix (node, "/dev/loop"));
  g_assert_cmpuint (device_size (loop), ==, 8 * KiB);
  /* The region starts at the offset: the 16th KiB. */
  g_assert_cmpint (pread (loop, &byte, 1, 0), ==, 1);
  g_assert_cmpuint (byte, ==, 16);
  g_assert_cmpint (pread (loop, &byte, 1, 8 * KiB - 1), ==, 1);
  g_assert_cmpuint (byte, ==, 23);
  /* Read-only: the device refuses writes, even opened for writing by root. */
  {
    _cleanup_close_ int rw = open (node, O_RDWR | O_CLOEXEC);

    g_assert_true (rw < 0 || pwrite (rw, &byte, 1, 0) < 0);
  }
  g_unlink (path);
}

static void
test_read_write (void)
{
  _cleanup_close_ int fd = -1, loop = -1;
  g_autofree char *path = NULL, *node = NULL;
  const guint8 mark = 0xa5;
  guint8 byte = 0;

  if (!can_attach ())
    return;
  path = make_file (&fd);
  /* size 0: to the end of the file. */
  g_assert_cmpint (imprint_loop_attach (fd, 60 * KiB, 0, false, &loop, &node), ==, 0);
  g_assert_cmpuint (device_size (loop), ==, 4 * KiB);
  g_assert_cmpint (pwrite (loop, &mark, 1, 0), ==, 1);
  g_assert_cmpint (fsync (loop), ==, 0);
  g_assert_cmpint (pread (fd, &byte, 1, 60 * KiB), ==, 1);
  g_assert_cmpuint (byte, ==, mark);
  g_unlink (path);
}

static void
test_bad_fd (void)
{
  int loop = -7;
  char *node = (char *) "untouched";

  /* Outputs stay untouched on failure. */
  g_assert_cmpint (imprint_loop_attach (-1, 0, 0, true, &loop, &node), ==, -EBADF);
  g_assert_cmpint (loop, ==, -7);
  g_assert_cmpstr (node, ==, "untouched");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/loop/read-only", test_read_only);
  g_test_add_func ("/loop/read-write", test_read_write);
  g_test_add_func ("/loop/bad-fd", test_bad_fd);
  return g_test_run ();
}

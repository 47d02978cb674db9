/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprint-root-fd.h"
#include "macros.h"

/* Every test runs twice: with openat2 and with the per-component walk
 * used where the kernel has none. */
typedef struct {
  char *dir;      /* scratch: root/ (the tree) and outside/ (everything else) */
  char *root;
  char *outside;
  int root_fd;
} Fixture;

static void
put (const char *dir, const char *file, const char *text)
{
  g_autofree char *p = g_build_filename (dir, file, NULL);
  g_autofree char *d = g_path_get_dirname (p);
  g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
}

static void
link_in (const char *dir, const char *file, const char *target)
{
  g_autofree char *p = g_build_filename (dir, file, NULL);
  g_autofree char *d = g_path_get_dirname (p);
  g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
  g_assert_cmpint (symlink (target, p), ==, 0);
}

static char *
slurp (const char *dir, const char *file)
{
  g_autofree char *p = g_build_filename (dir, file, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
  return text;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  imprint_root_set_openat2_disabled (GPOINTER_TO_INT (data));
  f->dir = g_dir_make_tmp ("imprint-root-fd-XXXXXX", &error);
  g_assert_no_error (error);
  f->root = g_build_filename (f->dir, "root", NULL);
  f->outside = g_build_filename (f->dir, "outside", NULL);
  g_assert_cmpint (g_mkdir (f->root, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->outside, 0755), ==, 0);
  put (f->outside, "secret", "SECRET\n");
  g_assert_cmpint (imprint_root_open (f->root, &f->root_fd), ==, 0);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  const char *argv[] = { "rm", "-rf", "--one-file-system", f->dir, NULL };

  close (f->root_fd);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (f->dir);
  g_free (f->root);
  g_free (f->outside);
  imprint_root_set_openat2_disabled (false);
}

static void
test_open (Fixture *f, gconstpointer data)
{
  _cleanup_close_ int fd = -1, fd2 = -1;
  g_autofree char *link = g_build_filename (f->dir, "link", NULL);

  g_assert_false (imprint_root_is_host_root (f->root_fd));
  g_assert_cmpint (imprint_root_open ("/.", &fd), ==, 0);
  g_assert_true (imprint_root_is_host_root (fd));
  g_assert_cmpint (imprint_root_open ("/usr/..", &fd2), ==, 0);
  g_assert_true (imprint_root_is_host_root (fd2));
  /* The last component may not be a symlink. */
  g_assert_cmpint (symlink ("/", link), ==, 0);
  g_assert_cmpint (imprint_root_open (link, &fd), <, 0);
  g_assert_cmpint (imprint_root_open ("", &fd), ==, -EINVAL);
}

/* Reading below an untrusted root: symlinks, size cap, FIFOs,
 * unreadable files, links read but not followed.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_read (Fixture *f, gconstpointer data)
{
  bool fallback = GPOINTER_TO_INT (data);
  g_autofree char *text = NULL, *abs_secret = g_build_filename (f->outside, "secret", NULL);
  g_autofree char *big = g_strnfill (5000, 'x');
  size_t n = 0;
  char *t = NULL;
  int r;

  put (f->root, "etc/hostname", "anna\n");
  g_assert_cmpint (imprint_root_read_file (f->root_fd, "etc/hostname", 0, 0, &text, &n), ==, 0);
  g_assert_cmpstr (text, ==, "anna\n");
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpint (imprint_root_read_file (f->root_fd, "/etc/hostname", 0, 0, &t, NULL), ==, 0);
  g_free (t);

  /* Symlinks out of the tree: an absolute one means ROOT/that path, a
   * relative one stops at the root; never the file outside. */
  link_in (f->root, "etc/abs", abs_secret);
  t = NULL;
  r = imprint_root_read_file (f->root_fd, "etc/abs", 0, 0, &t, NULL);
  g_assert_cmpint (r, <, 0);
  g_assert_null (t);
  link_in (f->root, "etc/rel", "../../outside/secret");
  r = imprint_root_read_file (f->root_fd, "etc/rel", 0, 0, &t, NULL);
  g_assert_cmpint (r, <, 0);
  g_assert_null (t);
  g_assert_cmpint (imprint_root_read_file (f->root_fd, "../outside/secret", 0, 0, &t, NULL), <, 0);
  g_assert_null (t);
  link_in (f->dir, "root/lnkdir", f->outside);
  g_assert_cmpint (imprint_root_read_file (f->root_fd, "lnkdir/secret", 0, 0, &t, NULL), <, 0);
  g_assert_null (t);

  /* Inside the tree an absolute link means what it means there
   * (os-release -> /usr/lib/os-release); without openat2 every symlink
   * is refused. */
  put (f->root, "usr/lib/os-release", "ID=test\n");
  link_in (f->root, "etc/os-release", "/usr/lib/os-release");
  r = imprint_root_read_file (f->root_fd, "etc/os-release", 0, 0, &t, NULL);
  if (fallback)
    g_assert_cmpint (r, ==, -ELOOP);
  else
    {
      g_assert_cmpint (r, ==, 0);
      g_assert_cmpstr (t, ==, "ID=test\n");
      g_clear_pointer (&t, g_free);
    }

  /* Size cap. */
  put (f->root, "big", big);
  g_assert_cmpint (imprint_root_read_file (f->root_fd, "big", 4096, 0, &t, NULL), ==, -EFBIG);
  g_assert_null (t);

  /* A FIFO: refused at once, no hang; a directory likewise. */
  {
    g_autofree char *fifo = g_build_filename (f->root, "fifo", NULL);
    g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
    g_assert_cmpint (imprint_root_read_file (f->root_fd, "fifo", 0, 0, &t, NULL), ==, -EBADFD);
    g_assert_cmpint (imprint_root_read_file (f->root_fd, "etc", 0, 0, &t, NULL), <, 0);
    g_assert_null (t);
  }

  /* Someone else's unreadable file. */
  {
    g_autofree char *p = g_build_filename (f->root, "etc/hostname", NULL);
    uid_t other = getuid () == 0 ? 1 : getuid () + 1;
    g_assert_cmpint (chmod (p, 0600), ==, 0);
    g_assert_cmpint (imprint_root_read_file (f->root_fd, "etc/hostname", 0, other, &t, NULL), ==, -EACCES);
    g_assert_cmpint (chmod (p, 0644), ==, 0);
    g_assert_cmpint (imprint_root_read_file (f->root_fd, "etc/hostname", 0, other, &t, NULL), ==, 0);
    g_clear_pointer (&t, g_free);
    g_assert_cmpint (imprint_root_check_reader (f->root_fd, other), ==, 0);
    g_assert_cmpint (chmod (f->root, 0700), ==, 0);
    g_assert_cmpint (imprint_root_check_reader (f->root_fd, other), ==, -EACCES);
    g_assert_cmpint (imprint_root_check_reader (f->root_fd, getuid ()), ==, 0);
    g_assert_cmpint (chmod (f->root, 0755), ==, 0);
  }

  /* Links are read, not followed. */
  g_assert_cmpint (imprint_root_read_link (f->root_fd, "etc/abs", &t), ==, 0);
  g_assert_cmpstr (t, ==, abs_secret);
  g_free (t);
}

static void
assert_secret_untouched (Fixture *f)
{
  g_autofree char *s = slurp (f->outside, "secret");
  g_autofree char *p = g_build_filename (f->outside, "hostname", NULL);
  g_assert_cmpstr (s, ==, "SECRET\n");
  g_assert_false (g_file_test (p, G_FILE_TEST_EXISTS));
}

static void
test_write (Fixture *f, gconstpointer data)
{
  g_autofree char *abs_secret = g_build_filename (f->outside, "secret", NULL);
  g_autofree char *p = NULL, *text = NULL;
  struct stat st;

  g_assert_cmpint (imprint_root_write_file (f->root_fd, "etc/hostname", "anna\n", 5, 0644, (uid_t) -1, (gid_t) -1, 0755), ==, 0);
  text = slurp (f->root, "etc/hostname");
  g_assert_cmpstr (text, ==, "anna\n");

  /* A symlink at the name is replaced, not written through. */
  link_in (f->root, "etc/locale.conf", abs_secret);
  g_assert_cmpint (imprint_root_write_file (f->root_fd, "etc/locale.conf", "LANG=C\n", 7, 0600, (uid_t) -1, (gid_t) -1, 0755), ==, 0);
  p = g_build_filename (f->root, "etc/locale.conf", NULL);
  g_assert_cmpint (lstat (p, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
  assert_secret_untouched (f);

  /* A symlinked directory is not entered. */
  link_in (f->root, "var", f->outside);
  g_assert_cmpint (imprint_root_write_file (f->root_fd, "var/hostname", "x", 1, 0644, (uid_t) -1, (gid_t) -1, 0755), <, 0);
  g_assert_cmpint (imprint_root_mkdir_p (f->root_fd, "var/lib/imprint", 0755, NULL), <, 0);
  g_assert_cmpint (imprint_root_symlink (f->root_fd, "var/hostname", "x"), <, 0);
  g_assert_cmpint (imprint_root_unlink (f->root_fd, "var/secret"), <, 0);
  g_assert_cmpint (imprint_root_write_file (f->root_fd, "../outside/hostname", "x", 1, 0644, (uid_t) -1, (gid_t) -1, 0755), <, 0);
  assert_secret_untouched (f);

  /* Symlinks made relative to the tree, atomically over what is there. */
  g_assert_cmpint (imprint_root_symlink (f->root_fd, "etc/localtime", "../usr/share/zoneinfo/UTC"), ==, 0);
  g_assert_cmpint (imprint_root_symlink (f->root_fd, "etc/localtime", "../usr/share/zoneinfo/Europe/Berlin"), ==, 0);
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (imprint_root_read_link (f->root_fd, "etc/localtime", &text), ==, 0);
  g_assert_cmpstr (text, ==, "../usr/share/zoneinfo/Europe/Berlin");

  /* New directories, then removal. */
  g_assert_cmpint (imprint_root_mkdir_p (f->root_fd, "a/b/c", 0700, NULL), ==, 0);
  g_clear_pointer (&p, g_free);
  p = g_build_filename (f->root, "a/b/c", NULL);
  g_assert_true (g_file_test (p, G_FILE_TEST_IS_DIR));
  g_assert_cmpint (imprint_root_lstat (f->root_fd, "etc/hostname", &st), ==, 0);
  g_assert_cmpint (imprint_root_unlink (f->root_fd, "etc/hostname"), ==, 0);
  g_assert_cmpint (imprint_root_unlink (f->root_fd, "etc/hostname"), ==, -ENOENT);
  g_assert_cmpint (imprint_root_lstat (f->root_fd, "etc/hostname", &st), ==, -ENOENT);

  /* No temporary files are left behind. */
  {
    g_autoptr(GDir) d = NULL;
    const char *name;
    g_clear_pointer (&p, g_free);
    p = g_build_filename (f->root, "etc", NULL);
    d = g_dir_open (p, 0, NULL);
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_false (g_str_has_prefix (name, ".#"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int fallback = 0; fallback < 2; fallback++)
    {
      const char *kind = fallback ? "walk" : "openat2";
      g_autofree char *a = g_strdup_printf ("/root-fd/%s/open", kind);
      g_autofree char *b = g_strdup_printf ("/root-fd/%s/read", kind);
      g_autofree char *c = g_strdup_printf ("/root-fd/%s/write", kind);

      g_test_add (a, Fixture, GINT_TO_POINTER (fallback), setup, test_open, teardown);
      g_test_add (b, Fixture, GINT_TO_POINTER (fallback), setup, test_read, teardown);
      g_test_add (c, Fixture, GINT_TO_POINTER (fallback), setup, test_write, teardown);
    }
  return g_test_run ();
}

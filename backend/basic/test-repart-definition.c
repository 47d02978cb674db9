/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "repart-definition.h"

static ImprintRepartDefinition *
parse (const char *text, int expect)
{
  ImprintRepartDefinition *def = imprint_repart_definition_new ("t.conf");

  g_assert_cmpint (imprint_repart_definition_parse (def, text, strlen (text)), ==, expect);
  return def;
}

static void
test_sections (void)
{
  g_autoptr(ImprintRepartDefinition) d = parse (
    "Type=esp\n"                      /* outside a section: ignored */
    "# Type=home\n; Label=x\n"
    "[Other]\nType=swap\nLabel=other\n"
    "[Partition]\n  Type = Root \nLabel=first\nno equals sign\n=no key\n"
    "[Partition]\nLabel=second\n", 0);

  g_assert_cmpstr (d->type, ==, "root");
  g_assert_cmpstr (d->label, ==, "second");
  g_assert_cmpuint (d->assignments->len, ==, 5);
}

static void
test_last_and_empty (void)
{
  g_autoptr(ImprintRepartDefinition) d = parse (
    "[Partition]\nType=root\nLabel=a\nLabel=\nFormat=ext4\nEncrypt=tpm2\n"
    "FactoryReset=yes\nFactoryReset=maybe\n"
    "MakeDirectories=/a /b\nMakeDirectories=\nMakeDirectories=/c \"/d e\"\nMakeDirectories=/f\n"
    "CopyFiles=/x:/y\nCopyFiles=\nCopyFiles=/etc:/etc\n", 0);

  g_assert_null (d->label);
  g_assert_cmpstr (d->format, ==, "ext4");
  g_assert_cmpstr (d->encrypt, ==, "tpm2");
  g_assert_true (d->factory_reset);   /* "maybe" is ignored, as systemd does */
  g_assert_cmpuint (g_strv_length (d->make_directories), ==, 3);
  g_assert_cmpstr (d->make_directories[0], ==, "/c");
  g_assert_cmpstr (d->make_directories[1], ==, "/d e");
  g_assert_cmpstr (d->make_directories[2], ==, "/f");
  g_assert_cmpuint (g_strv_length (d->copy_files), ==, 1);
  g_assert_cmpstr (d->copy_files[0], ==, "/etc:/etc");
}

static void
test_continuation (void)
{
  g_autoptr(ImprintRepartDefinition) d = parse (
    "[Partition]\r\nMakeDirectories=/a \\\n# a comment inside\n  /b\\\\\nLabel=x\\\n", 0);

  g_assert_cmpuint (g_strv_length (d->make_directories), ==, 2);
  g_assert_cmpstr (d->make_directories[1], ==, "/b\\");
  g_assert_cmpstr (d->label, ==, "x");
}

static void
test_sizes (void)
{
  const struct { const char *s; int r; guint64 v; } cases[] = {
    { "16K", 0, 16384 }, { "1G", 0, 1ull << 30 }, { "1.5M", 0, 3ull << 19 },
    { "1G 512M", 0, (1ull << 30) + (1ull << 29) }, { "512M 1G", -EINVAL, 0 },
    { "100", 0, 100 }, { "12B", 0, 12 }, { "1m", -EINVAL, 0 }, { "", -EINVAL, 0 },
    { "-1", -EINVAL, 0 }, { "16E", -ERANGE, 0 }, { "99999999999999999999", -ERANGE, 0 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint64 v = 0;
      g_assert_cmpint (imprint_repart_parse_size (cases[i].s, &v), ==, cases[i].r);
      if (cases[i].r == 0)
        g_assert_cmpuint (v, ==, cases[i].v);
    }
  g_autoptr(ImprintRepartDefinition) d = parse (
    "[Partition]\nSizeMinBytes=1G\nSizeMinBytes=junk\nSizeMaxBytes=5000\n", 0);
  g_assert_cmpuint (d->size_min, ==, 1ull << 30);
  g_assert_cmpuint (d->size_max, ==, 4096);
  g_autoptr(ImprintRepartDefinition) e = parse ("[Partition]\nSizeMinBytes=5000\n", 0);
  g_assert_cmpuint (e->size_min, ==, 8192);
}

static void
test_refused (void)
{
  const char nul[] = "[Partition]\nType=root\0x\n";
  g_autoptr(ImprintRepartDefinition) d = imprint_repart_definition_new ("t.conf");

  g_assert_cmpint (imprint_repart_definition_parse (d, nul, sizeof (nul) - 1), ==, -EBADMSG);
  g_assert_cmpint (imprint_repart_definition_parse (d, "[Partition]\nLabel=\xff\n", 20), ==, -EBADMSG);
  g_assert_cmpint (imprint_repart_definition_parse (d, "[Partition\nType=root\n", 21), ==, -EBADMSG);
  g_assert_cmpuint (d->assignments->len, ==, 0);
  g_assert_null (d->type);
}

static void
test_format (void)
{
  const char *omit[] = { "Encrypt", "Format", NULL };
  g_autoptr(ImprintRepartDefinition) d = parse (
    "# c\n[Partition]\nType=root\nFormat=ext4\n[X-Extra]\nA=b\n[Partition]\nEncrypt=tpm2\nLabel=r\\\nx\n", 0);
  g_autofree char *all = imprint_repart_definition_format (d, NULL);
  g_autofree char *some = imprint_repart_definition_format (d, omit);
  g_autoptr(ImprintRepartDefinition) again = parse (all, 0);
  g_autofree char *all2 = imprint_repart_definition_format (again, NULL);

  g_assert_cmpstr (all, ==, "[Partition]\nType=root\nFormat=ext4\n[X-Extra]\nA=b\n"
                            "[Partition]\nEncrypt=tpm2\nLabel=r x\n");
  g_assert_cmpstr (all2, ==, all);
  g_assert_cmpstr (some, ==, "[Partition]\nType=root\n[X-Extra]\nA=b\n[Partition]\nLabel=r x\n");
}

/* Only systemd's WHITESPACE (" \t\n\r") is stripped: a form feed stays
 * part of the key, so "\f;=" is not a ";" assignment that would read
 * back as a comment. */
static void
test_whitespace (void)
{
  g_autoptr(ImprintRepartDefinition) d = parse ("[Partition]\n\f;=\nLabel=\va\v \n", 0);
  const ImprintRepartAssignment *a = d->assignments->pdata[0];
  g_autofree char *flat = imprint_repart_definition_format (d, NULL);
  g_autoptr(ImprintRepartDefinition) again = parse (flat, 0);

  g_assert_cmpstr (a->key, ==, "\f;");
  g_assert_cmpstr (d->label, ==, "\va\v");
  g_assert_cmpuint (again->assignments->len, ==, 2);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (p, text, -1, &error));
}

static void
test_dirs (void)
{
  g_autofree char *top = g_dir_make_tmp ("test-repart-XXXXXX", NULL);
  g_autofree char *etc = g_build_filename (top, "etc", NULL);
  g_autofree char *usr = g_build_filename (top, "usr", NULL);
  g_autofree char *none = g_build_filename (top, "none", NULL);
  g_autofree char *dropins = g_build_filename (usr, "20-home.conf.d", NULL);
  g_autofree char *link = g_build_filename (etc, "40-mask.conf", NULL);
  const char *dirs[] = { etc, none, usr, NULL };
  g_autoptr(GPtrArray) defs = NULL;
  g_autofree char *bad = NULL;
  gboolean found = FALSE;

  g_assert_cmpint (g_mkdir (etc, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (usr, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (dropins, 0755), ==, 0);
  write_file (usr, "10-root.conf", "[Partition]\nType=root\n");
  write_file (etc, "10-root.conf", "[Partition]\nType=root\nFactoryReset=yes\n");
  write_file (usr, "20-home.conf", "[Partition]\nType=home\nLabel=home\n");
  write_file (dropins, "b.conf", "[Partition]\nLabel=from-b\n");
  write_file (dropins, "a.conf", "[Partition]\nLabel=from-a\nFactoryReset=yes\n");
  write_file (usr, "30-empty.conf", "");
  write_file (usr, "40-mask.conf", "[Partition]\nType=swap\n");
  g_assert_cmpint (symlink ("/dev/null", link), ==, 0);
  write_file (usr, "README", "[Partition]\nType=swap\n");

  g_assert_cmpint (imprint_repart_load_dirs (dirs, &defs, &found, &bad), ==, 0);
  g_assert_true (found);
  g_assert_cmpuint (defs->len, ==, 2);
  const ImprintRepartDefinition *root = defs->pdata[0], *home = defs->pdata[1];
  g_assert_cmpstr (root->name, ==, "10-root.conf");
  g_assert_true (root->factory_reset);
  g_assert_cmpstr (home->label, ==, "from-b");
  g_assert_true (home->factory_reset);
  g_assert_true (imprint_repart_find (defs, "20-home.conf") == home);

  /* A symlink anywhere else is refused, a large file too. */
  g_assert_cmpint (unlink (link), ==, 0);
  g_assert_cmpint (symlink ("/etc/passwd", link), ==, 0);
  g_clear_pointer (&defs, g_ptr_array_unref);
  g_assert_cmpint (imprint_repart_load_dirs (dirs, &defs, NULL, &bad), ==, -ELOOP);
  g_assert_cmpstr (bad, ==, "40-mask.conf");
  g_assert_cmpint (unlink (link), ==, 0);
  {
    g_autofree char *big = g_strnfill (IMPRINT_REPART_FILE_MAX + 1, '#');
    write_file (etc, "50-big.conf", big);
  }
  g_assert_cmpint (imprint_repart_load_dirs (dirs, &defs, NULL, NULL), ==, -EFBIG);

  /* The snapshot systemd-repart is given. */
  {
    const char *only_none[] = { none, NULL };
    g_clear_pointer (&defs, g_ptr_array_unref);
    g_assert_cmpint (imprint_repart_load_dirs (only_none, &defs, &found, NULL), ==, 0);
    g_assert_false (found);
    g_assert_cmpuint (defs->len, ==, 0);
  }
  {
    const char *u[] = { usr, NULL };
    const char *omit[] = { "Label", NULL };
    g_autofree char *snap = g_build_filename (top, "snap", NULL);
    g_autofree char *text = NULL;
    g_autofree char *p = g_build_filename (snap, "20-home.conf", NULL);
    int dfd;

    g_clear_pointer (&defs, g_ptr_array_unref);
    g_assert_cmpint (imprint_repart_load_dirs (u, &defs, NULL, NULL), ==, 0);
    g_assert_cmpint (g_mkdir (snap, 0700), ==, 0);
    dfd = open (snap, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint (imprint_repart_write_dir (defs, dfd, NULL, NULL, omit, NULL), ==, 0);
    close (dfd);
    g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
    g_assert_cmpstr (text, ==, "[Partition]\nType=home\nLabel=home\nLabel=from-a\nFactoryReset=yes\nLabel=from-b\n");
  }
  {
    const char *argv[] = { "rm", "-rf", top, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                 NULL, NULL, NULL, NULL));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/repart/sections", test_sections);
  g_test_add_func ("/repart/last-and-empty", test_last_and_empty);
  g_test_add_func ("/repart/continuation", test_continuation);
  g_test_add_func ("/repart/sizes", test_sizes);
  g_test_add_func ("/repart/refused", test_refused);
  g_test_add_func ("/repart/format", test_format);
  g_test_add_func ("/repart/whitespace", test_whitespace);
  g_test_add_func ("/repart/dirs", test_dirs);
  return g_test_run ();
}

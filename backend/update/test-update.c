/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "factory-reset.h"
#include "update.h"

static char *
recorded (const char *name)
{
  g_autofree char *path = g_build_filename (RECORDED_DIR, name, NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
test_os_release (void)
{
  g_autoptr(GHashTable) t = NULL;
  const char *text =
    "# comment\n"
    "NAME=\"Imprint OS\"\n"
    "ID=imprintos\n"
    "PRETTY_NAME='Imprint OS 2 (test)'\n"
    "IMAGE_ID=ImprintOS\n"
    "IMAGE_VERSION=\"2.1\"\n"
    "ESCAPED=\"a \\\"quoted\\\" word\"\n"
    "BROKEN=\"unterminated\n"
    "not an assignment\n";

  g_assert_cmpint (imprint_os_release_parse (text, &t), ==, 0);
  g_assert_cmpstr (g_hash_table_lookup (t, "NAME"), ==, "Imprint OS");
  g_assert_cmpstr (g_hash_table_lookup (t, "ID"), ==, "imprintos");
  g_assert_cmpstr (g_hash_table_lookup (t, "PRETTY_NAME"), ==, "Imprint OS 2 (test)");
  g_assert_cmpstr (g_hash_table_lookup (t, "IMAGE_ID"), ==, "ImprintOS");
  g_assert_cmpstr (g_hash_table_lookup (t, "IMAGE_VERSION"), ==, "2.1");
  g_assert_cmpstr (g_hash_table_lookup (t, "ESCAPED"), ==, "a \"quoted\" word");
  g_assert_null (g_hash_table_lookup (t, "BROKEN"));
}

static void
test_os_release_root (void)
{
  g_autofree char *root = g_dir_make_tmp ("imprint-osr-XXXXXX", NULL);
  g_autofree char *usrlib = g_build_filename (root, "usr/lib", NULL);
  g_autofree char *etc = g_build_filename (root, "etc", NULL);
  g_autofree char *f1 = g_build_filename (usrlib, "os-release", NULL);
  g_autofree char *f2 = g_build_filename (etc, "os-release", NULL);
  g_autoptr(GHashTable) t = NULL, t2 = NULL;

  g_assert_cmpint (imprint_os_release_read (root, &t), ==, -ENOENT);
  g_assert_cmpint (g_mkdir_with_parents (usrlib, 0755), ==, 0);
  g_assert_true (g_file_set_contents (f1, "IMAGE_VERSION=1\n", -1, NULL));
  g_assert_cmpint (imprint_os_release_read (root, &t), ==, 0);
  g_assert_cmpstr (g_hash_table_lookup (t, "IMAGE_VERSION"), ==, "1");
  /* /etc/os-release wins, as in os-release(5). */
  g_assert_cmpint (g_mkdir_with_parents (etc, 0755), ==, 0);
  g_assert_true (g_file_set_contents (f2, "IMAGE_VERSION=7\n", -1, NULL));
  g_assert_cmpint (imprint_os_release_read (root, &t2), ==, 0);
  g_assert_cmpstr (g_hash_table_lookup (t2, "IMAGE_VERSION"), ==, "7");
  g_unlink (f1);
  g_unlink (f2);
  g_rmdir (etc);
  g_rmdir (usrlib);
  {
    g_autofree char *usr = g_build_filename (root, "usr", NULL);
    g_rmdir (usr);
  }
  g_rmdir (root);
}

/* Real output of systemd-sysupdate 257 (tests/update/recorded-257). */
static void
test_sysupdate_list (void)
{
  g_autofree char *json = recorded ("list-json.out");
  g_autofree char *pretty = recorded ("list-json-pretty.out");
  g_autofree char *after = recorded ("list-after-json.out");
  g_autofree char *current = NULL, *current2 = NULL, *current3 = NULL;
  g_auto(GStrv) all = NULL, all2 = NULL, all3 = NULL;

  g_assert_cmpint (imprint_sysupdate_parse_list (json, &current, &all), ==, 0);
  g_assert_cmpstr (current, ==, "1");
  g_assert_cmpuint (g_strv_length (all), ==, 3);
  g_assert_cmpstr (all[0], ==, "3");
  g_assert_cmpstr (all[2], ==, "1");
  g_assert_cmpint (imprint_sysupdate_parse_list (pretty, &current2, &all2), ==, 0);
  g_assert_cmpstr (current2, ==, "1");
  g_assert_true (g_strv_equal ((const char *const *) all, (const char *const *) all2));
  /* After installing 2, sysupdate calls the newest installed "current". */
  g_assert_cmpint (imprint_sysupdate_parse_list (after, &current3, &all3), ==, 0);
  g_assert_cmpstr (current3, ==, "2");
}

static void
test_sysupdate_list_refuses_tables (void)
{
  g_autofree char *table = recorded ("list-table.out");
  g_autofree char *version = recorded ("list-v1-json.out");

  /* What sysupdate < 257 prints even with --json: a table, not JSON. */
  g_assert_cmpint (imprint_sysupdate_parse_list (table, NULL, NULL), ==, -EBADMSG);
  /* A version object is not a list. */
  g_assert_cmpint (imprint_sysupdate_parse_list (version, NULL, NULL), ==, -EBADMSG);
  g_assert_cmpint (imprint_sysupdate_parse_list ("{\"all\":[1,2]}", NULL, NULL), ==, -EBADMSG);
}

static void
test_sysupdate_version (void)
{
  g_autofree char *v1 = recorded ("list-v1-json.out");
  g_autofree char *v2 = recorded ("list-v2-json.out");
  g_autofree char *v2after = recorded ("list-after-v2-json.out");
  g_autoptr(ImprintUpdateVersion) a = NULL, b = NULL, c = NULL;
  g_autoptr(GVariant) var = NULL;
  gboolean installed = TRUE;

  g_assert_cmpint (imprint_sysupdate_parse_version (v1, &a), ==, 0);
  g_assert_cmpstr (a->version, ==, "1");
  g_assert_true (a->installed);
  g_assert_false (a->available);
  g_assert_true (a->protected_);
  g_assert_false (a->incomplete);
  g_assert_cmpuint (g_strv_length (a->changelog_urls), ==, 0);

  g_assert_cmpint (imprint_sysupdate_parse_version (v2, &b), ==, 0);
  g_assert_cmpstr (b->version, ==, "2");
  g_assert_false (b->installed);
  g_assert_true (b->available);

  g_assert_cmpint (imprint_sysupdate_parse_version (v2after, &c), ==, 0);
  g_assert_true (c->installed);
  g_assert_true (c->available);
  g_assert_true (c->newest);

  var = g_variant_ref_sink (imprint_update_version_to_variant (b));
  g_assert_true (g_variant_lookup (var, "installed", "b", &installed));
  g_assert_false (installed);

  g_assert_cmpint (imprint_sysupdate_parse_version ("{\"version\":\"\"}", &a), ==, -EBADMSG);
  g_assert_cmpint (imprint_sysupdate_parse_version ("not json", &a), ==, -EBADMSG);
}

static void
test_sysupdate_check_new (void)
{
  g_autofree char *json = recorded ("check-new-json.out");
  g_autofree char *available = NULL, *none = NULL;

  g_assert_cmpint (imprint_sysupdate_parse_check_new (json, &available), ==, 0);
  g_assert_cmpstr (available, ==, "3");
  /* Nothing new: sysupdate prints null there. */
  g_assert_cmpint (imprint_sysupdate_parse_check_new ("{\"available\":null}", &none), ==, 0);
  g_assert_null (none);
}

static void
test_sysupdate_notify (void)
{
  g_autofree char *text = recorded ("update-3.notify");
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  int last = -1, n_progress = 0;
  g_autofree char *seen_version = NULL;

  for (gsize i = 0; lines[i]; i++)
    {
      g_autofree char *datagram = NULL;
      g_autofree char *version = NULL;
      g_auto(GStrv) parts = NULL;
      int percent;

      if (*lines[i] == '\0')
        continue;
      /* The recording shows newlines as \n. */
      parts = g_strsplit (lines[i], "\\n", -1);
      datagram = g_strjoinv ("\n", parts);
      if (imprint_sysupdate_parse_notify (datagram, &percent, &version) <= 0)
        continue;
      if (version)
        {
          g_free (seen_version);
          seen_version = g_steal_pointer (&version);
        }
      if (percent >= 0)
        {
          g_assert_cmpint (percent, >=, last);
          last = percent;
          n_progress++;
        }
    }
  g_assert_cmpstr (seen_version, ==, "3");
  g_assert_cmpint (n_progress, >=, 3);
  g_assert_cmpint (last, >, 0);
}

static void
test_sysupdate_misc (void)
{
  g_autofree char *v = recorded ("version.txt");
  g_autofree char *missing = recorded ("update-missing.err");
  g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;

  g_assert_cmpint (imprint_sysupdate_parse_systemd_version (v), ==, 257);
  g_assert_cmpint (imprint_sysupdate_parse_systemd_version ("systemd 252 (252.39-1~deb12u1)"), ==, 252);
  g_assert_cmpint (imprint_sysupdate_parse_systemd_version ("garbage"), <, 0);

  g_assert_true (imprint_sysupdate_version_is_valid ("2"));
  g_assert_true (imprint_sysupdate_version_is_valid ("257.4-1~deb13u1+b2"));
  g_assert_false (imprint_sysupdate_version_is_valid (""));
  g_assert_false (imprint_sysupdate_version_is_valid ("--definitions=/tmp/x"));
  g_assert_false (imprint_sysupdate_version_is_valid ("-h"));
  g_assert_false (imprint_sysupdate_version_is_valid ("1/../2"));
  g_assert_false (imprint_sysupdate_version_is_valid ("1 2"));
  g_assert_false (imprint_sysupdate_version_is_valid ("1\n2"));

  s1 = imprint_sysupdate_explain_failure (missing, 1);
  g_assert_nonnull (strstr (s1, "not available"));
  s2 = imprint_sysupdate_explain_failure ("Transfer failed: Could not resolve host: updates.example\n", 1);
  g_assert_nonnull (strstr (s2, "network"));
  s3 = imprint_sysupdate_explain_failure ("DOWNLOAD INVALID: Signature verification failed.\n", 1);
  g_assert_nonnull (strstr (s3, "signature"));
  s4 = imprint_sysupdate_explain_failure ("No available partition of a suitable size found.\n", 1);
  g_assert_nonnull (strstr (s4, "free space"));
}

/* ---- factory reset --------------------------------------------------------- */

static void
test_efi_encoding (void)
{
  static const guint8 expected[] = { 0x07, 0x00, 0x00, 0x00, '1', 0x00, 0x00, 0x00 };
  g_autofree guint8 *buf = NULL;
  g_autofree char *back = NULL;
  gsize size;
  guint32 attrs;

  g_assert_cmpint (imprint_efi_string_encode ("1", IMPRINT_EFI_ATTR_NV_BS_RT, &buf, &size), ==, 0);
  g_assert_cmpmem (buf, size, expected, sizeof (expected));
  g_assert_cmpint (imprint_efi_string_decode (buf, size, &attrs, &back), ==, 0);
  g_assert_cmpuint (attrs, ==, 7);
  g_assert_cmpstr (back, ==, "1");
  /* Without the NUL (what some tools write) it reads the same. */
  g_clear_pointer (&back, g_free);
  g_assert_cmpint (imprint_efi_string_decode (expected, 6, NULL, &back), ==, 0);
  g_assert_cmpstr (back, ==, "1");
  g_assert_cmpint (imprint_efi_string_decode (expected, 5, NULL, &back), ==, -EBADMSG);
}

static void
test_efi_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("imprint-efivars-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, IMPRINT_EFI_FACTORY_RESET, NULL);
  g_autofree char *data = NULL, *value = NULL;
  gsize size;

  g_assert_cmpint (imprint_efi_read_string (dir, IMPRINT_EFI_FACTORY_RESET, &value), ==, -ENOENT);
  g_assert_cmpint (imprint_efi_write_string (dir, IMPRINT_EFI_FACTORY_RESET, "1"), ==, 0);
  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  g_assert_cmpuint (size, ==, 8);
  g_assert_cmpmem (data, 8, "\x07\x00\x00\x00" "1\x00\x00\x00", 8);
  g_assert_cmpint (imprint_efi_read_string (dir, IMPRINT_EFI_FACTORY_RESET, &value), ==, 0);
  g_assert_cmpstr (value, ==, "1");
  g_assert_cmpint (imprint_efi_remove (dir, IMPRINT_EFI_FACTORY_RESET), ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (imprint_efi_remove (dir, IMPRINT_EFI_FACTORY_RESET), ==, 0);
  g_rmdir (dir);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
}

static void
test_repart_definitions (void)
{
  g_autofree char *root = g_dir_make_tmp ("imprint-repart-XXXXXX", NULL);
  g_autofree char *usrlib = g_build_filename (root, "usr/lib/repart.d", NULL);
  g_autofree char *etc = g_build_filename (root, "etc/repart.d", NULL);
  g_autoptr(GPtrArray) parts = NULL, parts2 = NULL;
  g_autoptr(GDir) dir = g_dir_open (REPART_D_DIR, 0, NULL);
  const char *name;
  ImprintResetPartition *p;

  /* The product's definitions (repart.d/): only the root is reset. */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (REPART_D_DIR, name, NULL);
      g_autofree char *text = NULL;
      g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
      write_file (usrlib, name, text);
    }
  g_assert_cmpint (imprint_factory_reset_partitions (root, &parts), ==, 0);
  g_assert_cmpuint (parts->len, ==, 1);
  p = g_ptr_array_index (parts, 0);
  g_assert_cmpstr (p->definition, ==, "50-root.conf");
  g_assert_cmpstr (p->type, ==, "root");
  g_assert_cmpstr (p->label, ==, "root");
  g_assert_nonnull (strstr (p->description, "/etc"));

  /* /etc overrides /usr/lib by name; a separate home joins. */
  write_file (etc, "50-root.conf", "[Partition]\nType=root\nFactoryReset=no\n");
  write_file (etc, "60-home.conf", "# home\n[Partition]\nType=home\nLabel=home\nFactoryReset=yes\n");
  g_assert_cmpint (imprint_factory_reset_partitions (root, &parts2), ==, 0);
  g_assert_cmpuint (parts2->len, ==, 1);
  p = g_ptr_array_index (parts2, 0);
  g_assert_cmpstr (p->definition, ==, "60-home.conf");
  g_assert_cmpstr (p->type, ==, "home");

  /* A drop-in (here from /usr/lib) applies after the file, as repart reads it. */
  {
    g_autofree char *dropins = g_build_filename (usrlib, "60-home.conf.d", NULL);
    g_autoptr(GPtrArray) parts3 = NULL;
    write_file (dropins, "keep.conf", "[Partition]\nFactoryReset=no\n");
    g_assert_cmpint (imprint_factory_reset_partitions (root, &parts3), ==, 0);
    g_assert_cmpuint (parts3->len, ==, 0);
  }

  {
    const char *argv[] = { "rm", "-rf", root, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
}

static void
test_sysupdate_definitions_shipped (void)
{
  /* The shipped transfers match repart.d's slots and mkosi's UKI name. */
  g_autoptr(GDir) dir = g_dir_open (SYSUPDATE_D_DIR, 0, NULL);
  const char *name;
  guint n_partition = 0, n_uki = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (SYSUPDATE_D_DIR, name, NULL);
      g_autoptr(GKeyFile) kf = g_key_file_new ();
      g_autofree char *type = NULL, *pattern = NULL;

      if (!g_str_has_suffix (name, ".conf"))
        continue;  /* README.md */
      g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL));
      type = g_key_file_get_string (kf, "Target", "Type", NULL);
      pattern = g_key_file_get_string (kf, "Target", "MatchPattern", NULL);
      g_assert_nonnull (type);
      if (g_str_equal (type, "partition"))
        {
          g_assert_cmpstr (pattern, ==, "ImprintOS_@v");
          n_partition++;
        }
      else
        {
          g_assert_nonnull (strstr (pattern, "ImprintOS_@v.efi"));
          n_uki++;
        }
    }
  g_assert_cmpuint (n_partition, ==, 3);
  g_assert_cmpuint (n_uki, ==, 1);
}

static void
test_slot_versions (void)
{
  g_autofree char *dir = g_dir_make_tmp ("imprint-slots-XXXXXX", NULL);
  g_autofree char *img = g_build_filename (dir, "disk.raw", NULL);
  g_autofree char *gpt = g_build_filename (RECORDED_DIR, "gpt-after.txt", NULL);
  g_autofree char *dump = NULL, *cmd = NULL;
  g_auto(GStrv) versions = NULL;
  int status = -1;

  /* The partition table sysupdate 257 left after installing version 2
   * (recorded), replayed onto an image file. */
  g_assert_true (g_file_get_contents (gpt, &dump, NULL, NULL));
  cmd = g_strdup_printf ("sh -c 'truncate -s 64M %s && grep -v -e ^device: -e ^label-id: %s | sed s,/dev/loop[0-9]*p,%sp, | sfdisk -q %s'",
                         img, gpt, img, img);
  if (!g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) || !g_spawn_check_wait_status (status, NULL))
    {
      g_test_skip ("sfdisk could not write the recorded partition table");
      g_unlink (img);
      g_rmdir (dir);
      return;
    }
  g_assert_cmpint (imprint_update_slot_versions (img, "ImprintOS", &versions), ==, 0);
  g_assert_cmpuint (g_strv_length (versions), ==, 2);
  g_assert_cmpstr (versions[0], ==, "1");
  g_assert_cmpstr (versions[1], ==, "2");
  g_unlink (img);
  g_rmdir (dir);
}

static void
make_link (const char *target, const char *link)
{
  g_autofree char *dir = g_path_get_dirname (link);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (symlink (target, link), ==, 0);
}

static void
test_backing_disk (void)
{
  g_autofree char *sysfs = g_dir_make_tmp ("imprint-sysfs-XXXXXX", NULL);
  g_autofree char *dm = g_build_filename (sysfs, "devices/virtual/block/dm-0", NULL);
  g_autofree char *part = g_build_filename (sysfs, "devices/pci0000:00/block/vda/vda3", NULL);
  g_autofree char *dm_link = NULL, *part_link = NULL, *slave = NULL, *disk = NULL, *rm = NULL;
  struct stat st;

  /* A dm-verity /usr (dm-0) over vda3: the disk is vda. The device
   * numbers of dm-0 are those of the file system this test runs on. */
  g_assert_cmpint (stat ("/", &st), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dm, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (part, 0755), ==, 0);
  write_file (part, "dev", "254:3\n");
  write_file (part, "partition", "3\n");
  dm_link = g_strdup_printf ("%s/dev/block/%u:%u", sysfs, major (st.st_dev), minor (st.st_dev));
  make_link (dm, dm_link);
  part_link = g_strdup_printf ("%s/dev/block/254:3", sysfs);
  make_link (part, part_link);
  slave = g_build_filename (dm, "slaves", "vda3", NULL);
  make_link (part, slave);

  g_assert_cmpint (imprint_update_backing_disk (sysfs, "/", &disk), ==, 0);
  g_assert_cmpstr (disk, ==, "/dev/vda");

  rm = g_strdup_printf ("rm -rf %s", sysfs);
  g_assert_true (g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/update/os-release/parse", test_os_release);
  g_test_add_func ("/update/os-release/root", test_os_release_root);
  g_test_add_func ("/update/sysupdate/list", test_sysupdate_list);
  g_test_add_func ("/update/sysupdate/list-refuses-tables", test_sysupdate_list_refuses_tables);
  g_test_add_func ("/update/sysupdate/version", test_sysupdate_version);
  g_test_add_func ("/update/sysupdate/check-new", test_sysupdate_check_new);
  g_test_add_func ("/update/sysupdate/notify", test_sysupdate_notify);
  g_test_add_func ("/update/sysupdate/misc", test_sysupdate_misc);
  g_test_add_func ("/update/sysupdate/definitions", test_sysupdate_definitions_shipped);
  g_test_add_func ("/update/slots", test_slot_versions);
  g_test_add_func ("/update/backing-disk", test_backing_disk);
  g_test_add_func ("/factory-reset/efi-encoding", test_efi_encoding);
  g_test_add_func ("/factory-reset/efi-files", test_efi_files);
  g_test_add_func ("/factory-reset/repart-definitions", test_repart_definitions);
  return g_test_run ();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The keymap credential for the passphrase prompt at boot
 * (imprint-setup-keymap.h): written into an ESP directory, and into the ESP
 * partition of a GPT disk image through mtools; read back and decrypted by
 * the host's own systemd-creds. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "imprint-setup-keymap.h"
#include "test-crypt-util.h"

#define MiB (UINT64_C (1024) * 1024)
#define ESP_OFFSET (1 * MiB)

static char *
decrypt_file (const char *path)
{
  g_autofree char *out = NULL;
  const char *argv[] = { "timeout", "60", "systemd-creds", "decrypt", "--name=vconsole.keymap", "--newline=no",
                         path, "-", NULL };

  return test_spawn (argv, &out) == 0 ? g_steal_pointer (&out) : NULL;
}

static gboolean
can_run (void)
{
  if (!test_have_program ("systemd-creds") || !test_have_program ("mcopy") || !test_have_program ("sfdisk"))
    {
      g_test_skip ("needs systemd-creds, mtools and sfdisk");
      return FALSE;
    }
  return TRUE;
}

static void
test_esp_dir (void)
{
  g_autofree char *dir = NULL, *text = NULL, *path = NULL, *plain = NULL, *back = NULL;
  gboolean sealed = TRUE;

  if (!can_run ())
    return;
  dir = test_make_tmpdir ();
  /* No TPM2 in a test (none named, the host has none): the null key. */
  g_assert_cmpint (imprint_setup_keymap_credential_new ("de", "swtpm:host=127.0.0.1,port=9",
                                                        IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &text, &sealed), <, 0);
  if (g_file_test ("/dev/tpmrm0", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("this host has a TPM2: the null key path is not taken");
      test_rm_rf (dir);
      return;
    }
  g_assert_cmpint (imprint_setup_keymap_credential_new ("de", NULL, 0, &text, &sealed), ==, 0);
  g_assert_false (sealed);
  g_assert_cmpint (imprint_setup_esp_write_dir (dir, IMPRINT_KEYMAP_CREDENTIAL, text), ==, 0);
  path = g_build_filename (dir, "loader", "credentials", "vconsole.keymap.cred", NULL);
  g_assert_true (g_file_get_contents (path, &back, NULL, NULL));
  g_assert_cmpstr (back, ==, text);
  plain = decrypt_file (path);
  g_assert_cmpstr (plain, ==, "de");
  test_rm_rf (dir);
}

/* A GPT image: ESP (FAT, 32 MiB) at 1 MiB, then a root partition. */
static char *
make_disk (const char *dir)
{
  char *img = g_build_filename (dir, "disk.img", NULL);
  g_autofree char *spec = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, img, ESP_OFFSET);
  g_autofree char *table = g_strdup_printf ("printf 'label: gpt\\nstart=2048, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\\n"
                                            "size=8192, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\\n' | "
                                            "timeout 60 sfdisk -q %s", img);
  const char *sfdisk[] = { "sh", "-c", table, NULL };
  const char *mformat[] = { "env", "MTOOLS_SKIP_CHECK=1", "timeout", "60", "mformat", "-i", spec, "-F", "::", NULL };

  test_make_file (img, 48 * MiB);
  test_run (sfdisk);
  test_run (mformat);
  return img;
}

static char *
read_back (const char *dir, const char *img)
{
  g_autofree char *spec = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, img, ESP_OFFSET);
  char *local = g_build_filename (dir, "back.cred", NULL);
  const char *get[] = { "env", "MTOOLS_SKIP_CHECK=1", "timeout", "60", "mcopy", "-o", "-n", "-i", spec,
                        "::/loader/credentials/vconsole.keymap.cred", local, NULL };

  (void) g_unlink (local);
  test_run (get);
  return local;
}

static void
test_esp_partition (void)
{
  g_autofree char *dir = NULL, *img = NULL, *text = NULL, *text2 = NULL, *local = NULL, *plain = NULL;
  g_autofree char *blank = NULL;

  if (!can_run () || g_file_test ("/dev/tpmrm0", G_FILE_TEST_EXISTS))
    {
      if (g_file_test ("/dev/tpmrm0", G_FILE_TEST_EXISTS))
        g_test_skip ("this host has a TPM2");
      return;
    }
  dir = test_make_tmpdir ();
  img = make_disk (dir);
  g_assert_cmpint (imprint_setup_keymap_credential_new ("de-nodeadkeys", NULL, 0, &text, NULL), ==, 0);
  g_assert_cmpint (imprint_setup_esp_write_disk (img, IMPRINT_KEYMAP_CREDENTIAL, text), ==, 0);
  local = read_back (dir, img);
  plain = decrypt_file (local);
  g_assert_cmpstr (plain, ==, "de-nodeadkeys");

  /* Written again (another setup): replaced, not refused. */
  g_assert_cmpint (imprint_setup_keymap_credential_new ("fr", NULL, 0, &text2, NULL), ==, 0);
  g_assert_cmpint (imprint_setup_esp_write_disk (img, IMPRINT_KEYMAP_CREDENTIAL, text2), ==, 0);
  g_free (local);
  g_free (plain);
  local = read_back (dir, img);
  plain = decrypt_file (local);
  g_assert_cmpstr (plain, ==, "fr");

  /* A disk without an ESP. */
  blank = g_build_filename (dir, "blank.img", NULL);
  test_make_file (blank, 4 * MiB);
  g_assert_cmpint (imprint_setup_esp_write_disk (blank, IMPRINT_KEYMAP_CREDENTIAL, text), ==, -ENOENT);
  g_assert_cmpint (imprint_setup_esp_write_disk (img, "../x", text), ==, -EINVAL);
  test_rm_rf (dir);
}

static TestSwtpm *swtpm;

static void
test_sealed (void)
{
  g_autofree char *dir = NULL, *text = NULL, *path = NULL, *out = NULL, *dev = NULL;
  gboolean sealed = FALSE;

  if (!can_run () || swtpm == NULL)
    {
      if (swtpm == NULL)
        g_test_skip ("swtpm not installed");
      return;
    }
  dir = test_make_tmpdir ();
  g_assert_cmpint (imprint_setup_keymap_credential_new ("de", swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
                                                        &text, &sealed), ==, 0);
  g_assert_true (sealed);
  g_assert_cmpint (imprint_setup_esp_write_dir (dir, IMPRINT_KEYMAP_CREDENTIAL, text), ==, 0);
  path = g_build_filename (dir, "loader", "credentials", "vconsole.keymap.cred", NULL);
  dev = g_strdup_printf ("--tpm2-device=%s", swtpm->tcti);
  {
    const char *argv[] = { "timeout", "60", "systemd-creds", "decrypt", "--name=vconsole.keymap", dev, path, "-", NULL };
    g_assert_cmpint (test_spawn (argv, &out), ==, 0);
  }
  g_assert_cmpstr (g_strchomp (out), ==, "de");
  test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);
  swtpm = test_swtpm_start ();
  g_test_add_func ("/setup-keymap/sealed", test_sealed);
  g_test_add_func ("/setup-keymap/esp-dir", test_esp_dir);
  g_test_add_func ("/setup-keymap/esp-partition", test_esp_partition);
  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}

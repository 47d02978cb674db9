/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include "imprint-setup-disk.h"
#include "luks.h"
#include "macros.h"
#include "recovery-key.h"
#include "luks-setup.h"
#include "test-crypt-util.h"
#include "cleanup-cryptsetup.h"

#define MiB (UINT64_C (1024) * 1024)

static TestSwtpm *swtpm;

/* What first boot leaves on an OEM machine: a LUKS2 volume whose only
 * keyslot is the TPM2 one. */
static char *
make_tpm2_only_volume (const char *dir)
{
  char *image = g_build_filename (dir, "root.img", NULL);
  _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
  ImprintTpm2 *tpm = NULL;
  void *vk = NULL;
  size_t vk_size = 0;
  int slot0 = -1, slot = -1;

  test_make_file (image, 32 * MiB);
  g_assert_cmpint (imprint_luks_format (image, "root", "one-time", 8, &cd, &slot0), ==, 0);
  g_assert_cmpint (imprint_luks_volume_key_get (cd, "one-time", 8, &vk, &vk_size, NULL), ==, 0);
  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &tpm), ==, 0);
  g_assert_cmpint (imprint_luks_enroll_tpm2 (cd, vk, vk_size, tpm,
                                             &(ImprintTpm2SealParams) { .pcr_mask = 1u << 7 },
                                             NULL, &slot, NULL), ==, 0);
  imprint_tpm2_close (tpm);
  g_assert_cmpint (imprint_luks_remove_keyslot (cd, slot0), ==, 0);
  imprint_secret_free (vk);
  return image;
}

static void
test_add_recovery_key (void)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *image = NULL;
  _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
  _cleanup_secret_ char *key = NULL;
  ImprintLuksToken *tokens = NULL;
  size_t n = 0, recovery = 0;
  void *vk = NULL;
  size_t vk_size = 0;
  int slot = -1, checked = -1;

  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  image = make_tpm2_only_volume (dir);
  g_assert_true (imprint_setup_disk_is_tpm2_only (image));
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_setup_disk_unlock_tpm2 (cd, swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, NULL, &vk, &vk_size), ==, 0);
  g_assert_cmpuint (vk_size, ==, IMPRINT_LUKS_VOLUME_KEY_SIZE);

  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);
  g_assert_cmpint (imprint_setup_disk_add_recovery_key (cd, vk, vk_size, "not-a-key", NULL), ==, -EINVAL);
  g_assert_cmpint (imprint_setup_disk_add_recovery_key (cd, vk, vk_size, key, &slot), ==, 0);
  imprint_secret_free (vk);

  /* A fresh look at the header: the key opens its slot, and the slot is
   * marked the way systemd-cryptenroll marks recovery keys. */
  crypt_free (cd);
  cd = NULL;
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key, strlen (key), &checked), ==, 0);
  g_assert_cmpint (checked, ==, slot);
  g_assert_cmpint (imprint_luks_list_tokens (cd, &tokens, &n), ==, 0);
  for (size_t i = 0; i < n; i++)
    if (g_strcmp0 (tokens[i].type, "systemd-recovery") == 0)
      {
        recovery++;
        g_assert_cmpuint (tokens[i].n_keyslots, ==, 1);
        g_assert_cmpint (tokens[i].keyslots[0], ==, slot);
      }
  g_assert_cmpuint (recovery, ==, 1);
  imprint_luks_tokens_free (tokens, n);
  g_assert_false (imprint_setup_disk_is_tpm2_only (image));

  /* cryptsetup itself agrees, when it is installed. */
  if (test_have_program ("cryptsetup"))
    {
      g_autofree char *keyfile = g_build_filename (dir, "key", NULL);
      g_assert_true (g_file_set_contents (keyfile, key, -1, NULL));
      const char *argv[] = { "cryptsetup", "open", "--test-passphrase", "--key-file", keyfile, image, NULL };
      test_run (argv);
    }
  test_rm_rf (dir);
}

static void
test_no_tpm2_token (void)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *image = g_build_filename (dir, "plain.img", NULL);
  _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
  void *vk = NULL;
  size_t vk_size = 0;
  int slot = -1;

  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  test_make_file (image, 32 * MiB);
  g_assert_cmpint (imprint_luks_format (image, "root", "typed passphrase", 16, &cd, &slot), ==, 0);
  g_assert_cmpint (imprint_setup_disk_unlock_tpm2 (cd, swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, NULL, &vk, &vk_size), ==, -ENOKEY);
  g_assert_false (imprint_setup_disk_is_tpm2_only (image));
  g_assert_false (imprint_setup_disk_is_tpm2_only (dir));
  test_rm_rf (dir);
}

static void
test_find_root (void)
{
  g_autofree char *dev = NULL;

  /* The test host's root is not on dm-crypt. */
  g_assert_cmpint (imprint_setup_disk_find_root ("/", &dev), ==, -ENOMEDIUM);
  g_assert_null (dev);
  g_assert_cmpint (imprint_setup_disk_find_root ("/nonexistent/x", &dev), ==, -ENOENT);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);
  swtpm = test_swtpm_start ();

  g_test_add_func ("/setup-disk/add-recovery-key", test_add_recovery_key);
  g_test_add_func ("/setup-disk/no-tpm2-token", test_no_tpm2_token);
  g_test_add_func ("/setup-disk/find-root", test_find_root);

  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}

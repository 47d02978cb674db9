/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "luks-setup.h"
#include "luks-enroll.h"
#include "test-crypt-util.h"
#include "cleanup-cryptsetup.h"

#define MiB (UINT64_C (1024) * 1024)

static TestSwtpm *swtpm;


static bool
can_run (bool need_tpm, bool need_loop)
{
  if (getuid () != 0)
    {
      g_test_skip ("needs root (libcryptsetup locks, loop devices)");
      return false;
    }
  if (need_tpm && !swtpm)
    {
      g_test_skip ("swtpm not installed");
      return false;
    }
  if (need_loop && access ("/dev/loop-control", W_OK) < 0)
    {
      g_test_skip ("no /dev/loop-control: loop devices unavailable");
      return false;
    }
  if (need_loop && !test_have_program ("mkfs.ext4"))
    {
      g_test_skip ("mkfs.ext4 not installed");
      return false;
    }
  return true;
}

static void
fill_file (const char *path, guint64 size, guint8 byte)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_autofree guint8 *buf = g_malloc (MiB);

  memset (buf, byte, MiB);
  g_assert_cmpint (fd, >=, 0);
  for (guint64 off = 0; off < size; off += MiB)
    g_assert_cmpint (write (fd, buf, MiB), ==, (ssize_t) MiB);
  close (fd);
}

static bool
range_is (const char *path, guint64 offset, guint64 size, guint8 byte)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  g_autofree guint8 *buf = g_malloc (size);
  bool ok = true;

  g_assert_cmpint (pread (fd, buf, size, (off_t) offset), ==, (ssize_t) size);
  close (fd);
  for (guint64 i = 0; i < size && ok; i++)
    ok = buf[i] == byte;
  return ok;
}

static void
copy_range (const char *from, guint64 offset, guint64 size, const char *to)
{
  int in = open (from, O_RDONLY | O_CLOEXEC), out = open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_autofree guint8 *buf = g_malloc (MiB);

  g_assert_cmpint (in, >=, 0);
  g_assert_cmpint (out, >=, 0);
  for (guint64 off = 0; off < size; off += MiB)
    {
      g_assert_cmpint (pread (in, buf, MiB, (off_t) (offset + off)), ==, (ssize_t) MiB);
      g_assert_cmpint (write (out, buf, MiB), ==, (ssize_t) MiB);
    }
  close (in);
  close (out);
}

typedef struct {
  GPtrArray *steps;
  double last;
} Progress;

static void
on_progress (double fraction, const char *step, void *userdata)
{
  Progress *p = userdata;

  g_assert_cmpfloat (fraction, >=, p->last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  g_assert_nonnull (step);
  p->last = fraction;
  if (p->steps->len == 0 || !g_str_equal (g_ptr_array_index (p->steps, p->steps->len - 1), step))
    g_ptr_array_add (p->steps, g_strdup (step));
}

/* Stands in for the FIDO2 enrollment of backend/fido2: a token of a type
 * no plugin handles, and its keyslot passphrase. */
static int
fake_extra_enroll (struct crypt_device *cd, const void *vk, size_t vk_size,
                   JsonObject **ret_token, char **ret_passphrase, void *userdata)
{
  JsonObject *o = json_object_new ();

  g_assert_nonnull (cd);
  g_assert_cmpuint (vk_size, ==, IMPRINT_LUKS_VOLUME_KEY_SIZE);
  json_object_set_string_member (o, "type", "imprint-test-extra");
  json_object_set_string_member (o, "note", "from the test");
  *ret_token = o;
  *ret_passphrase = imprint_secret_strdup (userdata);
  return 0;
}

/* imprint_luks_setup() on a partition inside an image file: mkfs,
 * encrypt in place, every keyslot opened again.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_in_place_region (void)
{
  g_autofree char *dir = NULL, *image = NULL, *region = NULL, *content = NULL, *file = NULL;
  _cleanup_secret_ char *key = NULL;
  g_autofree char *typed = NULL;
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  g_autoptr (GPtrArray) steps = g_ptr_array_new_with_free_func (g_free);
  ImprintLuksSetupResult res = { 0 };
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  Progress p = { steps, 0 };
  const guint64 off = 4 * MiB, size = 64 * MiB, total = 72 * MiB;
  const char *extra_pass = "extra-secret-0123456789abcdef";

  if (!can_run (true, true))
    return;

  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  region = g_build_filename (dir, "region.img", NULL);
  content = g_build_filename (dir, "content", NULL);
  file = g_build_filename (content, "os-release", NULL);
  g_assert_cmpint (g_mkdir (content, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, "ID=imprint\n", -1, NULL));
  fill_file (image, total, 0xab);

  /* As a person would type it: upper case, spaces, no dashes. */
  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);
  {
    g_autoptr (GString) s = g_string_new (NULL);
    for (const char *c = key; *c; c++)
      if (*c == '-')
        g_string_append_c (s, ' ');
      else
        g_string_append_c (s, g_ascii_toupper (*c));
    typed = g_string_free (g_steal_pointer (&s), FALSE);
  }

  ImprintLuksSetup cfg = {
    .device = image,
    .offset = off,
    .size = size,
    .mode = IMPRINT_LUKS_SETUP_ENCRYPT_IN_PLACE,
    .label = "root",
    .mkfs = true,
    .fs_label = "root",
    .fs_source_dir = content,
    .recovery_key = typed,
    .passphrase = "a passphrase for the test",
    .passphrase_pbkdf = test_cheap_argon2id (),
    .tpm2 = true,
    .tpm2_device = swtpm->tcti,
    .tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
    .tpm2_pin = "8642",
    .enroll_extra = fake_extra_enroll,
    .enroll_extra_userdata = (void *) extra_pass,
  };

  g_assert_cmpint (imprint_luks_setup (&cfg, on_progress, &p, &res), ==, 0);
  g_assert_cmpfloat (p.last, ==, 1.0);
  for (guint i = 0; i < steps->len; i++)
    g_test_message ("step: %s", (char *) g_ptr_array_index (steps, i));
  g_assert_cmpuint (steps->len, >=, 6);
  g_assert_nonnull (res.luks_uuid);
  g_assert_cmpint (res.recovery_keyslot, >=, 0);
  g_assert_cmpint (res.tpm2_keyslot, >=, 0);
  g_assert_cmpint (res.passphrase_keyslot, >=, 0);
  g_assert_cmpint (res.extra_keyslot, >=, 0);
  g_assert_cmpuint (res.tpm2_pcr_bank, ==, TPM2_ALG_SHA256);

  /* Nothing outside the region was touched. */
  g_assert_true (range_is (image, 0, off, 0xab));
  g_assert_true (range_is (image, off + size, total - off - size, 0xab));

  copy_range (image, off, size, region);
  g_assert_cmpint (imprint_luks_open (region, &cd), ==, 0);
  g_assert_cmpstr (crypt_get_uuid (cd), ==, res.luks_uuid);
  g_assert_cmpstr (crypt_get_label (cd), ==, "root");

  /* The data is the filesystem made from the source directory. */
  if (test_have_program ("debugfs"))
    {
      g_autofree char *plain = g_build_filename (dir, "plain.img", NULL);
      g_autofree char *out = NULL;
      void *vk = NULL;
      size_t vk_size = 0;

      g_assert_cmpint (imprint_luks_volume_key_get (cd, key, strlen (key), &vk, &vk_size, NULL), ==, 0);
      decrypt_volume (region, IMPRINT_LUKS_HEADER_SIZE, size - IMPRINT_LUKS_ENCRYPT_RESERVE, vk, vk_size, plain);
      imprint_secret_free (vk);
      test_run ((const char *[]) { "e2fsck", "-f", "-n", plain, NULL });
      out = test_run_output ((const char *[]) { "debugfs", "-R", "cat /os-release", plain, NULL });
      g_assert_cmpstr (out, ==, "ID=imprint\n");
    }

  /* Every method opens it; nothing else does. */
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key, strlen (key), NULL), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, cfg.passphrase, strlen (cfg.passphrase), NULL), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, extra_pass, strlen (extra_pass), NULL), ==, 0);
  {
    g_autoptr (ImprintTpm2) t = NULL;
    g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
    g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, "8642", NULL), ==, 0);
    g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, "1111", NULL), ==, -EPERM);
  }

  /* Four keyslots (one-time slot gone), four tokens of the right types. */
  {
    g_autofree int *plain = NULL;
    size_t n_plain = 0;
    g_assert_cmpint (imprint_luks_list_plain_keyslots (cd, &plain, &n_plain), ==, 0);
    g_assert_cmpuint (n_plain, ==, 1);
    g_assert_cmpint (plain[0], ==, res.passphrase_keyslot);
  }
  g_assert_cmpint (imprint_luks_list_tokens (cd, &tokens, &n), ==, 0);
  g_assert_cmpuint (n, ==, 3);
  for (size_t i = 0; i < n; i++)
    {
      g_assert_cmpuint (tokens[i].n_keyslots, ==, 1);
      if (g_str_equal (tokens[i].type, "systemd-recovery"))
        g_assert_cmpint (tokens[i].keyslots[0], ==, res.recovery_keyslot);
      else if (g_str_equal (tokens[i].type, "systemd-tpm2"))
        g_assert_cmpint (tokens[i].keyslots[0], ==, res.tpm2_keyslot);
      else
        {
          g_assert_cmpstr (tokens[i].type, ==, "imprint-test-extra");
          g_assert_cmpint (tokens[i].keyslots[0], ==, res.extra_keyslot);
          g_assert_nonnull (strstr (tokens[i].json, "\"note\":\"from the test\""));
        }
    }
  imprint_luks_tokens_free (tokens, n);
  crypt_free (g_steal_pointer (&cd));

  imprint_luks_setup_result_done (&res);
  test_rm_rf (dir);
}

/* Later changes (luks-enroll.c): unlock through the TPM2 token, add and
 * remove methods, never the last keyslot.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_enroll_changes (void)
{
  g_autofree char *dir = NULL, *image = NULL;
  _cleanup_secret_ char *key = NULL, *tpm_pass = NULL, *key2 = NULL;
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  g_autoptr (ImprintTpm2) t = NULL;
  ImprintLuksSetupResult res = { 0 };
  g_autofree int *plain = NULL;
  size_t n_plain = 0;
  unsigned removed = 0;
  bool known = false;
  int slot = -1;

  g_assert_cmpstr (imprint_luks_method_from_token_type ("systemd-tpm2"), ==, "tpm2");
  g_assert_cmpstr (imprint_luks_method_from_token_type (NULL), ==, "passphrase");
  g_assert_cmpstr (imprint_luks_method_from_token_type ("x-other"), ==, "x-other");
  g_assert_cmpstr (imprint_luks_method_to_token_type ("recovery-key", &known), ==, "systemd-recovery");
  g_assert_true (known);
  g_assert_null (imprint_luks_method_to_token_type ("passphrase", &known));
  g_assert_true (known);
  g_assert_null (imprint_luks_method_to_token_type ("pkcs12", &known));
  g_assert_false (known);

  if (!can_run (true, false))
    return;

  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  test_make_file (image, 32 * MiB);
  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);
  ImprintLuksSetup cfg = {
    .device = image,
    .mode = IMPRINT_LUKS_SETUP_FORMAT,
    .recovery_key = key,
    .passphrase = "first passphrase",
    .passphrase_pbkdf = test_cheap_argon2id (),
    .tpm2 = true,
    .tpm2_device = swtpm->tcti,
    .tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
  };
  g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, &res), ==, 0);
  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);

  /* The TPM gives back the keyslot passphrase, which opens the volume. */
  g_assert_cmpint (imprint_luks_unlock_tpm2 (cd, t, NULL, NULL, &tpm_pass), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, tpm_pass, strlen (tpm_pass), &slot), ==, 0);
  g_assert_cmpint (slot, ==, res.tpm2_keyslot);

  /* A wrong secret proves nothing; unknown methods and foreign keyslots
   * are refused; nothing of a method is -ENOENT. */
  g_assert_cmpint (imprint_luks_remove_method (cd, "nope", 4, "passphrase", -1, NULL), ==, -EPERM);
  g_assert_cmpint (imprint_luks_remove_method (cd, key, strlen (key), "pkcs12", -1, NULL), ==, -EINVAL);
  g_assert_cmpint (imprint_luks_remove_method (cd, key, strlen (key), "fido2", -1, NULL), ==, -ENOENT);
  g_assert_cmpint (imprint_luks_remove_method (cd, key, strlen (key), "tpm2", res.recovery_keyslot, NULL), ==, -ENOENT);

  /* An extra machine-made secret, then the typed passphrase goes. */
  g_assert_cmpint (imprint_luks_add_method (cd, tpm_pass, strlen (tpm_pass), NULL, "extra secret", &slot), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, "extra secret", 12, NULL), ==, 0);
  g_assert_cmpint (imprint_luks_remove_method (cd, tpm_pass, strlen (tpm_pass), "passphrase", res.passphrase_keyslot,
                                               &removed), ==, 0);
  g_assert_cmpuint (removed, ==, 1);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, "first passphrase", 16, NULL), ==, -EPERM);

  /* A recovery key the caller made replaces the old one. */
  g_assert_cmpint (imprint_luks_set_recovery_key (cd, key, strlen (key), "not-a-key", NULL), ==, -EINVAL);
  g_assert_cmpint (imprint_recovery_key_generate (&key2), ==, 0);
  g_assert_cmpint (imprint_luks_set_recovery_key (cd, key, strlen (key), key2, &slot), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key, strlen (key), NULL), ==, -EPERM);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key2, strlen (key2), NULL), ==, 0);

  /* Down to the last keyslot: its removal is refused and changes nothing. */
  g_assert_cmpint (imprint_luks_remove_method (cd, key2, strlen (key2), "tpm2", -1, &removed), ==, 0);
  g_assert_cmpint (imprint_luks_remove_method (cd, key2, strlen (key2), "passphrase", -1, &removed), ==, 0);
  g_assert_cmpint (imprint_luks_remove_method (cd, key2, strlen (key2), "recovery-key", -1, NULL), ==, -EBUSY);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key2, strlen (key2), NULL), ==, 0);
  g_assert_cmpint (imprint_luks_list_plain_keyslots (cd, &plain, &n_plain), ==, 0);
  g_assert_cmpuint (n_plain, ==, 0);
  g_assert_cmpint (imprint_luks_unlock_tpm2 (cd, t, NULL, NULL, &tpm_pass), ==, -ENOENT);

  imprint_luks_setup_result_done (&res);
  test_rm_rf (dir);
}

static void
test_format_and_reseal (void)
{
  g_autofree char *dir = NULL, *image = NULL;
  _cleanup_secret_ char *key = NULL;
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  g_autoptr (ImprintTpm2) t = NULL;
  ImprintLuksSetupResult res = { 0 };
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int slot = -1;

  if (!can_run (true, false))
    return;

  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  test_make_file (image, 32 * MiB);
  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);

  ImprintLuksSetup cfg = {
    .device = image,
    .mode = IMPRINT_LUKS_SETUP_FORMAT,
    .recovery_key = key,
    .tpm2 = true,
    .tpm2_device = swtpm->tcti,
    .tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
  };
  g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, &res), ==, 0);
  g_assert_cmpint (res.passphrase_keyslot, ==, -1);
  g_assert_cmpint (res.extra_keyslot, ==, -1);

  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (crypt_get_data_offset (cd) * 512, ==, IMPRINT_LUKS_HEADER_SIZE);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, NULL), ==, 0);
  crypt_free (g_steal_pointer (&cd));

  /* A "firmware update": PCR 7 moves, the seal no longer opens. */
  test_tpm2_extend_pcr (swtpm->tcti, 7, 0x17);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, NULL), ==, -ESTALE);
  crypt_free (g_steal_pointer (&cd));

  /* Re-seal with the recovery key (a wrong one is refused). */
  g_assert_cmpint (imprint_luks_reseal_tpm2 (image, "nope", 4, swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &(ImprintTpm2SealParams) { 0 }, NULL, &slot), ==, -EPERM);
  g_assert_cmpint (imprint_luks_reseal_tpm2 (image, key, strlen (key), swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &(ImprintTpm2SealParams) { 0 }, NULL, &slot), ==, 0);

  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, slot, NULL, NULL), ==, 0);
  g_assert_cmpint (imprint_luks_list_tokens (cd, &tokens, &n), ==, 0);
  g_assert_cmpuint (n, ==, 2); /* recovery + the new TPM2 token only */
  for (size_t i = 0; i < n; i++)
    if (g_str_equal (tokens[i].type, "systemd-tpm2"))
      g_assert_cmpint (tokens[i].keyslots[0], ==, slot);
  imprint_luks_tokens_free (tokens, n);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key, strlen (key), NULL), ==, 0);

  imprint_luks_setup_result_done (&res);
  test_rm_rf (dir);
}

static void
test_signed_policy (void)
{
  g_autofree char *dir = NULL, *image = NULL, *pem = NULL, *sig = NULL, *sig2 = NULL;
  _cleanup_secret_ char *key = NULL;
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  g_autoptr (ImprintTpm2) t = NULL;
  ImprintLuksSetupResult res = { 0 };
  EVP_PKEY *pk;

  if (!can_run (true, false))
    return;

  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  test_make_file (image, 32 * MiB);
  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);
  g_assert_cmpint (imprint_tpm2_open (swtpm->tcti, IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR, &t), ==, 0);
  pk = make_signing_key (&pem);
  sig = make_signature_json (t, pk, 1u << 11);

  ImprintLuksSetup cfg = {
    .device = image,
    .mode = IMPRINT_LUKS_SETUP_FORMAT,
    .recovery_key = key,
    .tpm2 = true,
    .tpm2_device = swtpm->tcti,
    .tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
    .tpm2_pubkey_pem = pem,
    .tpm2_signature_json = sig,
  };
  g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, &res), ==, 0);
  g_assert_true (res.tpm2_signed_policy);

  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, sig), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, NULL), ==, -ENXIO);

  /* An updated UKI (PCR 11 moves) with its new signature still opens. */
  test_tpm2_extend_pcr (swtpm->tcti, 11, 0x17);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, sig), ==, -ENXIO);
  sig2 = make_signature_json (t, pk, 1u << 11);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, sig2), ==, 0);
  crypt_free (g_steal_pointer (&cd));

  /* Without the signature at hand, setup still enrolls (keyslot checked). */
  imprint_luks_setup_result_done (&res);
  cfg.tpm2_signature_json = NULL;
  g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, &res), ==, 0);
  g_assert_cmpint (imprint_luks_open (image, &cd), ==, 0);
  g_assert_cmpint (imprint_luks_verify_tpm2 (cd, t, res.tpm2_keyslot, NULL, sig2), ==, 0);

  EVP_PKEY_free (pk);
  imprint_luks_setup_result_done (&res);
  test_rm_rf (dir);
}

static void
test_refusals (void)
{
  g_autofree char *dir = NULL, *image = NULL;
  _cleanup_secret_ char *key = NULL;

  if (!can_run (false, false))
    return;

  dir = test_make_tmpdir ();
  image = g_build_filename (dir, "disk.img", NULL);
  fill_file (image, 32 * MiB, 0x5a);
  g_assert_cmpint (imprint_recovery_key_generate (&key), ==, 0);

  /* Not a recovery key. */
  {
    ImprintLuksSetup cfg = { .device = image, .recovery_key = "hello" };
    g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, NULL), ==, -EINVAL);
  }
  /* No recovery key at all. */
  {
    ImprintLuksSetup cfg = { .device = image };
    g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, NULL), ==, -EINVAL);
  }
  /* A TPM that is not there: refused before the disk is touched. */
  {
    ImprintLuksSetup cfg = {
      .device = image,
      .recovery_key = key,
      .tpm2 = true,
      .tpm2_device = "swtpm:host=127.0.0.1,port=9",
      .tpm2_device_flags = IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR,
    };
    g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, NULL), <, 0);
  }
  /* Region outside the file. */
  {
    ImprintLuksSetup cfg = { .device = image, .recovery_key = key, .offset = 64 * MiB, .size = MiB };
    g_assert_cmpint (imprint_luks_setup (&cfg, NULL, NULL, NULL), ==, -ERANGE);
  }
  g_assert_true (range_is (image, 0, 32 * MiB, 0x5a));
  test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);
  swtpm = test_swtpm_start ();

  g_test_add_func ("/luks-setup/in-place-region", test_in_place_region);
  g_test_add_func ("/luks-setup/format-and-reseal", test_format_and_reseal);
  g_test_add_func ("/luks-setup/enroll-changes", test_enroll_changes);
  g_test_add_func ("/luks-setup/signed-policy", test_signed_policy);
  g_test_add_func ("/luks-setup/refusals", test_refusals);

  r = g_test_run ();
  test_swtpm_stop (swtpm);
  return r;
}

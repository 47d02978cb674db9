/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "luks.h"
#include "macros.h"
#include "recovery-key.h"
#include "test-crypt-util.h"
#include "cleanup-cryptsetup.h"

#define MiB (UINT64_C (1024) * 1024)

typedef struct {
  char *dir;
  char *image;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = test_make_tmpdir ();
  f->image = g_build_filename (f->dir, "disk.img", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->image);
}

static char *
token_json_of_type (struct crypt_device *cd, const char *type, int *ret_id)
{
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  char *json = NULL;

  g_assert_cmpint (imprint_luks_list_tokens (cd, &tokens, &n), ==, 0);
  for (size_t i = 0; i < n; i++)
    if (g_str_equal (tokens[i].type, type))
      {
        g_assert_null (json); /* exactly one */
        json = g_strdup (tokens[i].json);
        if (ret_id)
          *ret_id = tokens[i].id;
      }
  imprint_luks_tokens_free (tokens, n);
  return json;
}

/* Format, enroll the recovery key and a passphrase, remove the one-time
 * key, and open the volume with each.
 * (Over 80 lines on purpose: one scenario whose steps build on the state
 * the previous ones left; split up, it would only be harder to follow.) */
static void
test_format_and_enroll (Fixture *f, gconstpointer data)
{
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  _cleanup_secret_ char *recovery = NULL;
  g_autoptr (JsonObject) token = imprint_luks_recovery_token_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *json = NULL;
  g_autofree int *plain = NULL;
  const char *onetime = "0123456789abcdef0123456789abcdef";
  const char *passphrase = "correct horse battery staple";
  void *vk = NULL;
  size_t vk_size = 0, n_plain = 0;
  int slot0, rslot, pslot, slot, tok;
  JsonObject *o;
  JsonArray *ks;

  test_make_file (f->image, 32 * MiB);
  g_assert_cmpint (imprint_luks_format (f->image, "root", onetime, strlen (onetime), &cd, &slot0), ==, 0);
  g_assert_cmpstr (crypt_get_type (cd), ==, CRYPT_LUKS2);
  g_assert_cmpuint (crypt_get_data_offset (cd) * 512, ==, IMPRINT_LUKS_HEADER_SIZE);

  g_assert_cmpint (imprint_luks_volume_key_get (cd, onetime, strlen (onetime), &vk, &vk_size, NULL), ==, 0);
  g_assert_cmpuint (vk_size, ==, IMPRINT_LUKS_VOLUME_KEY_SIZE);

  g_assert_cmpint (imprint_recovery_key_generate (&recovery), ==, 0);
  g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, recovery, strlen (recovery),
                                        IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &rslot, &tok), ==, 0);
  g_assert_cmpint (tok, >=, 0);
  g_assert_cmpint (imprint_luks_enroll (cd, vk, vk_size, passphrase, strlen (passphrase),
                                        IMPRINT_LUKS_PBKDF_DEFAULT, test_cheap_argon2id (), NULL, &pslot, &tok), ==, 0);
  g_assert_cmpint (tok, ==, -1);
  imprint_secret_free (vk);

  /* Recovery key keyslot: PBKDF2-SHA512 1000 iterations as systemd. */
  {
    struct crypt_pbkdf_type pbkdf;
    g_assert_cmpint (crypt_keyslot_get_pbkdf (cd, rslot, &pbkdf), ==, 0);
    g_assert_cmpstr (pbkdf.type, ==, CRYPT_KDF_PBKDF2);
    g_assert_cmpstr (pbkdf.hash, ==, "sha512");
    g_assert_cmpuint (pbkdf.iterations, ==, 1000);
    g_assert_cmpint (crypt_keyslot_get_pbkdf (cd, pslot, &pbkdf), ==, 0);
    g_assert_cmpstr (pbkdf.type, ==, CRYPT_KDF_ARGON2ID);
  }

  /* The one-time slot goes; the others stay. */
  g_assert_cmpint (imprint_luks_list_plain_keyslots (cd, &plain, &n_plain), ==, 0);
  g_assert_cmpuint (n_plain, ==, 2);
  g_assert_cmpint (imprint_luks_remove_keyslot (cd, slot0), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, onetime, strlen (onetime), NULL), ==, -EPERM);

  /* Reload from disk: what counts is what was written. */
  crypt_free (g_steal_pointer (&cd));
  g_assert_cmpint (imprint_luks_open (f->image, &cd), ==, 0);

  g_assert_cmpint (imprint_luks_check_passphrase (cd, recovery, strlen (recovery), &slot), ==, 0);
  g_assert_cmpint (slot, ==, rslot);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, passphrase, strlen (passphrase), &slot), ==, 0);
  g_assert_cmpint (slot, ==, pslot);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, "wrong", 5, NULL), ==, -EPERM);

  /* The normalised form of what a person types opens it too. */
  {
    g_autofree char *typed = g_ascii_strup (recovery, -1);
    _cleanup_secret_ char *norm = NULL;
    g_assert_cmpint (imprint_luks_check_passphrase (cd, typed, strlen (typed), NULL), ==, -EPERM);
    g_assert_cmpint (imprint_recovery_key_normalize (typed, &norm), ==, 0);
    g_assert_cmpint (imprint_luks_check_passphrase (cd, norm, strlen (norm), NULL), ==, 0);
  }

  /* Token: exactly {"type":"systemd-recovery","keyslots":["N"]}. */
  json = token_json_of_type (cd, "systemd-recovery", NULL);
  g_assert_nonnull (json);
  node = json_from_string (json, NULL);
  o = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (o), ==, 2);
  ks = json_object_get_array_member (o, "keyslots");
  g_assert_cmpuint (json_array_get_length (ks), ==, 1);
  {
    g_autofree char *expect = g_strdup_printf ("%d", rslot);
    g_assert_cmpstr (json_array_get_string_element (ks, 0), ==, expect);
  }

  /* Removing the recovery token removes its keyslot; the last keyslot
   * cannot go. */
  g_assert_cmpint (imprint_luks_remove_keyslot (cd, rslot), ==, 0);
  g_assert_null (token_json_of_type (cd, "systemd-recovery", NULL));
  g_assert_cmpint (imprint_luks_remove_keyslot (cd, pslot), ==, -EBUSY);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, passphrase, strlen (passphrase), NULL), ==, 0);
}

static void
test_existing_volume_changes (Fixture *f, gconstpointer data)
{
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  _cleanup_secret_ char *rk1 = NULL, *rk2 = NULL;
  const char *onetime = "one-time-key-for-the-test-000000";
  const char *pw1 = "first passphrase here", *pw2 = "second passphrase there";
  int slot0, tok = -1;
  g_autofree char *json = NULL;

  test_make_file (f->image, 32 * MiB);
  g_assert_cmpint (imprint_luks_format (f->image, NULL, onetime, strlen (onetime), &cd, &slot0), ==, 0);

  /* Recovery key from "nothing": unlock with the one-time key. */
  g_assert_cmpint (imprint_luks_regenerate_recovery_key (cd, onetime, strlen (onetime), &rk1), ==, 0);
  g_assert_true (imprint_recovery_key_is_valid (rk1));
  g_assert_cmpint (imprint_luks_set_passphrase (cd, rk1, strlen (rk1), pw1, test_cheap_argon2id (), NULL), ==, 0);
  /* set_passphrase replaced the token-less one-time slot. */
  g_assert_cmpint (imprint_luks_check_passphrase (cd, onetime, strlen (onetime), NULL), ==, -EPERM);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, pw1, strlen (pw1), NULL), ==, 0);

  /* New recovery key, unlocked by the passphrase: the old one stops. */
  g_assert_cmpint (imprint_luks_regenerate_recovery_key (cd, pw1, strlen (pw1), &rk2), ==, 0);
  g_assert_cmpstr (rk1, !=, rk2);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, rk1, strlen (rk1), NULL), ==, -EPERM);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, rk2, strlen (rk2), NULL), ==, 0);
  json = token_json_of_type (cd, "systemd-recovery", &tok);
  g_assert_nonnull (json);

  /* Change passphrase with the recovery key. */
  g_assert_cmpint (imprint_luks_set_passphrase (cd, rk2, strlen (rk2), pw2, test_cheap_argon2id (), NULL), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, pw1, strlen (pw1), NULL), ==, -EPERM);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, pw2, strlen (pw2), NULL), ==, 0);

  /* Wrong unlock is refused and changes nothing. */
  g_assert_cmpint (imprint_luks_set_passphrase (cd, pw1, strlen (pw1), "x y z w v", test_cheap_argon2id (), NULL), ==, -EPERM);

  /* Remove the passphrase: the recovery key remains... */
  g_assert_cmpint (imprint_luks_set_passphrase (cd, rk2, strlen (rk2), NULL, NULL, NULL), ==, 0);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, pw2, strlen (pw2), NULL), ==, -EPERM);
  /* ...and as the only way in, its token cannot be removed. */
  g_assert_cmpint (imprint_luks_remove_token (cd, tok), ==, -EBUSY);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, rk2, strlen (rk2), NULL), ==, 0);
}

static bool
progress_cb (double fraction, void *userdata)
{
  double *last = userdata;

  g_assert_cmpfloat (fraction, >=, *last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  *last = fraction;
  return true;
}

static void
test_encrypt_in_place (Fixture *f, gconstpointer data)
{
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  g_autofree char *content = g_build_filename (f->dir, "content", NULL);
  g_autofree char *hello = g_build_filename (content, "hello.txt", NULL);
  g_autofree char *plain = g_build_filename (f->dir, "plain.img", NULL);
  g_autofree char *out = NULL, *fs_size = NULL;
  const char *key = "in-place-one-time-key-0123456789";
  const uint64_t size = 64 * MiB;
  double last = 0;
  void *vk = NULL;
  size_t vk_size = 0;
  int slot;

  if (!test_have_program ("mkfs.ext4") || !test_have_program ("debugfs") || !test_have_program ("e2fsck"))
    {
      g_test_skip ("e2fsprogs (mkfs.ext4, debugfs, e2fsck) not installed");
      return;
    }

  g_assert_cmpint (g_mkdir (content, 0755), ==, 0);
  g_assert_true (g_file_set_contents (hello, "Imprint was here\n", -1, NULL));

  /* The filesystem leaves IMPRINT_LUKS_ENCRYPT_RESERVE free at the end. */
  test_make_file (f->image, size);
  fs_size = g_strdup_printf ("%" G_GUINT64_FORMAT "k", (size - IMPRINT_LUKS_ENCRYPT_RESERVE) / 1024);
  test_run ((const char *[]) { "mkfs.ext4", "-q", "-F", "-L", "root", "-d", content, f->image, fs_size, NULL });

  g_assert_cmpint (imprint_luks_encrypt_in_place (f->image, "root", key, strlen (key),
                                                  progress_cb, &last, &cd, &slot), ==, 0);
  g_assert_cmpfloat (last, >, 0.0);
  crypt_free (g_steal_pointer (&cd));

  g_assert_cmpint (imprint_luks_open (f->image, &cd), ==, 0);
  g_assert_cmpuint (crypt_get_data_offset (cd) * 512, ==, IMPRINT_LUKS_HEADER_SIZE);
  g_assert_cmpstr (crypt_get_cipher (cd), ==, "aes");
  g_assert_cmpstr (crypt_get_cipher_mode (cd), ==, "xts-plain64");
  g_assert_cmpint (crypt_reencrypt_status (cd, NULL), ==, CRYPT_REENCRYPT_NONE);
  g_assert_cmpint (imprint_luks_check_passphrase (cd, key, strlen (key), NULL), ==, 0);
  g_assert_cmpint (imprint_luks_volume_key_get (cd, key, strlen (key), &vk, &vk_size, NULL), ==, 0);

  /* The header replaced the ext4 superblock area: no plaintext left. */
  test_run_expect_fail ((const char *[]) { "debugfs", "-R", "cat /hello.txt", f->image, NULL });
  {
    g_autofree char *raw = NULL;
    gsize raw_size = 0;
    g_assert_true (g_file_get_contents (f->image, &raw, &raw_size, NULL));
    g_assert_null (memmem (raw, raw_size, "Imprint was here", 16));
  }

  decrypt_volume (f->image, IMPRINT_LUKS_HEADER_SIZE, size - IMPRINT_LUKS_ENCRYPT_RESERVE, vk, vk_size, plain);
  imprint_secret_free (vk);

  test_run ((const char *[]) { "e2fsck", "-f", "-n", plain, NULL });
  out = test_run_output ((const char *[]) { "debugfs", "-R", "cat /hello.txt", plain, NULL });
  g_assert_cmpstr (out, ==, "Imprint was here\n");
}

static void
test_fs_too_large (Fixture *f, gconstpointer data)
{
  struct crypt_device *cd = NULL;
  const char *key = "k";
  g_autofree char *out = NULL;

  if (!test_have_program ("mkfs.ext4") || !test_have_program ("e2fsck"))
    {
      g_test_skip ("e2fsprogs not installed");
      return;
    }

  /* A filesystem over the whole region: the header shift would destroy
   * its end, so nothing may be written. */
  test_make_file (f->image, 64 * MiB);
  test_run ((const char *[]) { "mkfs.ext4", "-q", "-F", f->image, NULL });
  g_assert_cmpint (imprint_luks_encrypt_in_place (f->image, NULL, key, 1, NULL, NULL, &cd, NULL), ==, -ENOSPC);
  g_assert_null (cd);
  test_run ((const char *[]) { "e2fsck", "-f", "-n", f->image, NULL });
}

static void
test_too_small (Fixture *f, gconstpointer data)
{
  struct crypt_device *cd = NULL;
  const char *key = "k";

  test_make_file (f->image, IMPRINT_LUKS_ENCRYPT_RESERVE);
  g_assert_cmpint (imprint_luks_encrypt_in_place (f->image, NULL, key, 1, NULL, NULL, &cd, NULL), ==, -ENOSPC);
  g_assert_null (cd);
}

static void
test_skip_not_root (void)
{
  g_test_skip ("LUKS tests need root (libcryptsetup locks in /run/cryptsetup)");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (getuid () != 0)
    {
      /* libcryptsetup takes its locks in /run/cryptsetup. */
      g_test_add_func ("/luks/needs-root", test_skip_not_root);
      return g_test_run ();
    }

  g_test_add ("/luks/format-and-enroll", Fixture, NULL, fixture_setup, test_format_and_enroll, fixture_teardown);
  g_test_add ("/luks/existing-volume-changes", Fixture, NULL, fixture_setup, test_existing_volume_changes, fixture_teardown);
  g_test_add ("/luks/encrypt-in-place", Fixture, NULL, fixture_setup, test_encrypt_in_place, fixture_teardown);
  g_test_add ("/luks/encrypt-in-place-too-small", Fixture, NULL, fixture_setup, test_too_small, fixture_teardown);
  g_test_add ("/luks/encrypt-in-place-fs-too-large", Fixture, NULL, fixture_setup, test_fs_too_large, fixture_teardown);
  return g_test_run ();
}

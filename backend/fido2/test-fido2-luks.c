/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A FIDO2 key enrolled into a LUKS2 image file (the systemd-fido2 token)
 * against the soft authenticator, opened with the base64 passphrase, and
 * by systemd's own token plugin where it is installed. */

#include "config.h"

#include "test-fido2-util.h"

/* ---- LUKS2 on an image file, with libcryptsetup directly ---- */

static void
crypt_log_collect (int level, const char *msg, void *usrptr)
{
  GString *dump = usrptr;

  if (level == CRYPT_LOG_ERROR)
    g_test_message ("libcryptsetup: %s", msg);
  else if (dump != NULL)
    g_string_append (dump, msg);
}

/* When systemd's own token plugin is installed (Debian ships it), libcryptsetup
 * hands "systemd-fido2" tokens to it for validation and luksDump: a token it
 * did not like would not have been imported, and its dump shows the fields as
 * systemd-cryptsetup parsed them. */
static void
check_with_systemd_plugin (struct crypt_device *cd, int token, const ImprintFido2Enrollment *e)
{
  g_autofree char *plugin = NULL;
  g_autoptr (GString) dump = g_string_new (NULL);
  const char *path = crypt_token_external_path ();
  static const char broken[] =
    "{\"type\":\"systemd-fido2\",\"keyslots\":[\"0\"],\"fido2-credential\":\"!!\","
    "\"fido2-salt\":\"AAAA\",\"fido2-rp\":\"io.systemd.cryptsetup\"}";

  plugin = g_build_filename (path != NULL ? path : "/nonexistent", "libcryptsetup-token-systemd-fido2.so", NULL);
  if (!g_file_test (plugin, G_FILE_TEST_EXISTS))
    {
      g_test_message ("systemd's FIDO2 token plugin is not installed (%s): not cross-checked", plugin);
      return;
    }

  /* the plugin validates: a broken token is refused */
  g_assert_cmpint (crypt_token_json_set (cd, CRYPT_ANY_TOKEN, broken), <, 0);

  crypt_set_log_callback (cd, crypt_log_collect, dump);
  g_assert_cmpint (crypt_dump (cd), ==, 0);
  crypt_set_log_callback (cd, crypt_log_collect, NULL);
  g_test_message ("%s", dump->str);
  g_assert_nonnull (strstr (dump->str, "systemd-fido2"));
  g_assert_nonnull (strstr (dump->str, "fido2-rp:   io.systemd.cryptsetup"));
  g_assert_nonnull (strstr (dump->str, "fido2-credential:"));
  g_assert_nonnull (strstr (dump->str, "fido2-salt:"));
  g_assert_true (g_regex_match_simple ("fido2-clientPin-required:\\s+true", dump->str, 0, 0));
  g_assert_true (g_regex_match_simple ("fido2-up-required:\\s+true", dump->str, 0, 0));
  g_assert_true (g_regex_match_simple ("fido2-uv-required:\\s+false", dump->str, 0, 0));
  (void) token;
  (void) e;
}

static void
test_luks (Fixture *f, gconstpointer data)
{
  static const char initial[] = "initial passphrase";
  struct crypt_pbkdf_type pbkdf = {
    .type = CRYPT_KDF_PBKDF2,
    .hash = "sha512",
    .iterations = 1000,
    .flags = CRYPT_PBKDF_NO_BENCHMARK,
  };
  struct crypt_params_luks2 params = { .sector_size = 512 };
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL, *image = NULL, *json = NULL;
  _cleanup_secret_ char *pass = NULL, *from_token = NULL;
  const char *read_json = NULL;
  struct crypt_device *cd = NULL;
  int fd, slot, token, r;

  dir = g_dir_make_tmp ("imprint-fido2-XXXXXX", &error);
  g_assert_no_error (error);
  image = g_build_filename (dir, "luks.img", NULL);
  fd = open (image, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 32 * 1024 * 1024), ==, 0);
  close (fd);

  crypt_set_log_callback (NULL, crypt_log_collect, NULL);
  r = crypt_init (&cd, image);
  if (r < 0)
    {
      g_test_skip ("libcryptsetup cannot use an image file here");
      goto finish;
    }
  g_assert_cmpint (crypt_set_pbkdf_type (cd, &pbkdf), ==, 0);
  params.pbkdf = &pbkdf;
  g_assert_cmpint (crypt_format (cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params), ==, 0);
  g_assert_cmpint (crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, NULL, 0, initial, strlen (initial)), ==, 0);

  g_ptr_array_add (f->pins, g_strdup ("123456"));
  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, crypt_get_uuid (cd), image,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, 0);
  g_assert_cmpint (imprint_fido2_passphrase (e->secret, e->secret_size, &pass), ==, 0);

  /* what systemd-cryptenroll does: a keyslot with the passphrase and minimal PBKDF */
  slot = crypt_keyslot_add_by_passphrase (cd, CRYPT_ANY_SLOT, initial, strlen (initial), pass, strlen (pass));
  g_assert_cmpint (slot, >, 0);
  g_assert_cmpint (imprint_fido2_luks_token_json (e, slot, &json), ==, 0);
  token = crypt_token_json_set (cd, CRYPT_ANY_TOKEN, json);
  g_assert_cmpint (token, >=, 0);
  crypt_free (cd);
  cd = NULL;

  /* read it back from disk like systemd-cryptsetup */
  g_assert_cmpint (crypt_init (&cd, image), ==, 0);
  g_assert_cmpint (crypt_load (cd, CRYPT_LUKS2, NULL), ==, 0);
  g_assert_cmpint (crypt_token_json_get (cd, token, &read_json), ==, token);
  check_luks_token (e, read_json, slot);
  g_assert_cmpint (crypt_token_is_assigned (cd, token, slot), ==, 0);
  check_with_systemd_plugin (cd, token, e);

  g_assert_cmpint (imprint_fido2_unlock_luks_token (f->dev, NULL, read_json, prompt, f, &from_token), ==, 0);
  g_assert_cmpstr (from_token, ==, pass);
  g_assert_cmpint (crypt_activate_by_passphrase (cd, NULL, CRYPT_ANY_SLOT, from_token, strlen (from_token), 0), ==, slot);
  g_assert_cmpint (crypt_activate_by_passphrase (cd, NULL, CRYPT_ANY_SLOT, "wrong", 5, 0), <, 0);

finish:
  crypt_free (cd);
  g_unlink (image);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/fido2/luks-image", Fixture, NULL, fixture_setup, test_luks, fixture_teardown);

  return g_test_run ();
}

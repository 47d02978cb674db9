/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Enrollment and unlocking against the soft CTAP2 authenticator
 * (tests/fido2-soft) through libfido2 with in-process I/O, and the result
 * checked the way systemd-cryptsetup uses it: an independent libfido2
 * assertion. The LUKS2 image opened with the base64 passphrase is
 * test-fido2-luks.c. */

#include "config.h"

#include "test-fido2-util.h"

static void
test_list (Fixture *f, gconstpointer data)
{
  fido_dev_info_t *list = fido_dev_info_new (2);
  g_autoptr (GVariant) v = NULL, v2 = NULL;
  g_autoptr (GVariant) d0 = NULL, d1 = NULL;
  SoftFido2 *old = soft_fido2_new (NULL);
  SoftFido2Config config;
  gboolean b;
  const char *s;

  g_assert_cmpint (soft_fido2_io_dev_info (list, 0, f->path), ==, 0);
  g_assert_cmpint (imprint_fido2_list_devices_from (list, 1, &v), ==, 0);
  g_assert_true (g_variant_is_of_type (v, G_VARIANT_TYPE ("aa{sv}")));
  g_assert_cmpuint (g_variant_n_children (v), ==, 1);
  d0 = g_variant_get_child_value (v, 0);
  g_assert_true (g_variant_lookup (d0, "path", "&s", &s));
  g_assert_cmpstr (s, ==, f->path);
  g_assert_true (g_variant_lookup (d0, "product", "&s", &s));
  g_assert_cmpstr (s, ==, "Soft FIDO2 key");
  g_assert_true (g_variant_lookup (d0, "manufacturer", "&s", &s));
  {
    g_autofree char *printed = g_variant_print (d0, TRUE);
    g_test_message ("%s", printed);
  }
  g_assert_true (g_variant_lookup (d0, "hmac-secret", "b", &b) && b);
  g_assert_true (g_variant_lookup (d0, "client-pin", "b", &b) && !b);
  g_assert_true (g_variant_lookup (d0, "uv", "b", &b) && !b);
  g_assert_true (g_variant_lookup (d0, "rk", "b", &b) && !b);
  g_assert_true (g_variant_lookup (d0, "up", "b", &b) && b);
  g_assert_true (g_variant_lookup (d0, "available", "b", &b) && b);
  /* no PIN: usable, with a caveat the user can act on */
  g_assert_true (g_variant_lookup (d0, "reason", "&s", &s));
  g_assert_cmpstr (s, !=, "");

  /* a key without hmac-secret, next to one with a PIN */
  soft_fido2_free (old);
  soft_fido2_config_default (&config);
  config.hmac_secret = false;
  old = soft_fido2_new (&config);
  g_assert_cmpint (soft_fido2_io_register ("soft:old", old), ==, 0);
  g_assert_cmpint (soft_fido2_io_dev_info (list, 1, "soft:old"), ==, 0);
  g_assert_cmpint (soft_fido2_set_pin_direct (f->sk, "123456"), ==, 0);
  g_assert_cmpint (imprint_fido2_list_devices_from (list, 2, &v2), ==, 0);
  g_assert_cmpuint (g_variant_n_children (v2), ==, 2);
  g_clear_pointer (&d0, g_variant_unref);
  d0 = g_variant_get_child_value (v2, 0);
  d1 = g_variant_get_child_value (v2, 1);
  g_assert_true (g_variant_lookup (d0, "client-pin", "b", &b) && b);
  g_assert_true (g_variant_lookup (d0, "reason", "&s", &s));
  g_assert_cmpstr (s, ==, "");
  g_assert_true (g_variant_lookup (d1, "hmac-secret", "b", &b) && !b);
  g_assert_true (g_variant_lookup (d1, "available", "b", &b) && !b);
  g_assert_true (g_variant_lookup (d1, "reason", "&s", &s));
  g_assert_cmpstr (s, !=, "");

  soft_fido2_io_unregister ("soft:old");
  soft_fido2_free (old);
  fido_dev_info_free (&list, 2);
}

static void
test_enroll_no_pin (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  g_autofree char *json = NULL;
  _cleanup_secret_ char *pass = NULL, *pass2 = NULL;
  _cleanup_secret_ uint8_t *secret = NULL;
  uint8_t other_salt[32], direct[32];
  size_t size = 0;

  /* The default asks for PIN+touch; without a PIN on the key the PIN lock
   * is dropped, as systemd-cryptenroll does. */
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, "/dev/vda3",
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, 0);
  g_assert_cmpint (e->lock_with, ==, IMPRINT_FIDO2_LOCK_UP);
  g_assert_cmpuint (f->pin_asked, ==, 0);
  g_assert_cmpuint (f->touch_asked, ==, 2);
  g_assert_null (e->pin);
  g_assert_cmpuint (e->secret_size, ==, 32);
  g_assert_cmpstr (e->rp_id, ==, "io.systemd.cryptsetup");

  g_assert_cmpint (imprint_fido2_luks_token_json (e, 1, &json), ==, 0);
  check_luks_token (e, json, 1);
  check_passphrase (e);

  /* a second assertion with the same salt gives the same secret */
  independent_assertion (f->dev, e, NULL, direct);
  g_assert_cmpmem (direct, 32, e->secret, e->secret_size);
  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, e->rp_id, e->credential_id, e->credential_id_size,
                                         e->salt, sizeof (e->salt), e->lock_with, prompt, f,
                                         &secret, &size), ==, 0);
  g_assert_cmpmem (secret, size, e->secret, e->secret_size);
  g_clear_pointer (&secret, imprint_secret_free);

  g_assert_cmpint (imprint_fido2_unlock_luks_token (f->dev, NULL, json, prompt, f, &pass), ==, 0);
  g_assert_cmpint (imprint_fido2_passphrase (e->secret, e->secret_size, &pass2), ==, 0);
  g_assert_cmpstr (pass, ==, pass2);

  /* another salt, another secret */
  memcpy (other_salt, e->salt, 32);
  other_salt[31] ^= 0x80;
  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, e->rp_id, e->credential_id, e->credential_id_size,
                                         other_salt, sizeof (other_salt), e->lock_with, NULL, NULL,
                                         &secret, &size), ==, 0);
  g_assert_true (memcmp (secret, e->secret, 32) != 0);
}

static void
test_enroll_pin (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  g_autofree char *json = NULL;
  _cleanup_secret_ char *pass = NULL, *expected = NULL;
  SoftFido2Config config;
  uint8_t direct[32];

  soft_fido2_config_default (&config);
  config.presence = SOFT_FIDO2_PRESENCE_TOUCH;
  if (data != NULL)
    {
      /* an older key: CTAP 2.0, PIN protocol 1 */
      config.ctap21 = false;
      config.pin_protocol_2 = false;
    }
  fixture_reopen (f, &config);
  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);
  g_ptr_array_add (f->pins, g_strdup ("123456"));
  f->touch_arms_key = true;

  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, "/dev/vda3",
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, 0);
  g_assert_cmpint (e->lock_with, ==, IMPRINT_FIDO2_LOCK_PIN | IMPRINT_FIDO2_LOCK_UP);
  g_assert_cmpuint (f->pin_asked, ==, 1);
  g_assert_cmpstr (e->pin, ==, "123456");
  /* one touch to create the credential, one for the secret */
  g_assert_cmpuint (soft_fido2_get_touches_used (f->sk), ==, 2);
  g_assert_cmpuint (f->touch_asked, ==, 2);

  g_assert_cmpint (imprint_fido2_luks_token_json (e, 2, &json), ==, 0);
  check_luks_token (e, json, 2);
  check_passphrase (e);

  soft_fido2_touch (f->sk, 1);
  independent_assertion (f->dev, e, "123456", direct);
  g_assert_cmpmem (direct, 32, e->secret, e->secret_size);

  /* unlocking from the token asks for the PIN and a touch again */
  g_assert_cmpint (imprint_fido2_unlock_luks_token (f->dev, NULL, json, prompt, f, &pass), ==, 0);
  g_assert_cmpint (imprint_fido2_passphrase (e->secret, e->secret_size, &expected), ==, 0);
  g_assert_cmpstr (pass, ==, expected);
  g_assert_cmpuint (f->pin_asked, ==, 2);
  g_assert_cmpuint (soft_fido2_get_touches_used (f->sk), ==, 4);

  /* nobody touches the key: a clear timeout */
  f->touch_arms_key = false;
  g_clear_pointer (&pass, imprint_secret_free);
  g_assert_cmpint (imprint_fido2_unlock_luks_token (f->dev, NULL, json, prompt, f, &pass), ==, -ENOSTR);
  g_assert_nonnull (imprint_fido2_strerror (-ENOSTR));
}

/* A key with a PIN, enrolled without the PIN lock: creating the credential
 * needs the PIN, the secret does not, and it differs from the secret with
 * PIN (keys keep one per verification state). The token must say so. */
static void
test_pin_set_no_pin_lock (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autofree char *json = NULL, *legacy = NULL;
  _cleanup_secret_ char *pass = NULL, *expected = NULL;
  _cleanup_secret_ uint8_t *secret = NULL, *secret_uv = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  size_t size = 0;
  JsonObject *o;

  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);
  g_ptr_array_add (f->pins, g_strdup ("123456"));

  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_UP, prompt, f, &e), ==, 0);
  g_assert_cmpuint (f->pin_asked, ==, 1);
  g_assert_cmpint (e->lock_with, ==, IMPRINT_FIDO2_LOCK_UP);
  g_assert_null (e->pin);

  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, e->rp_id, e->credential_id, e->credential_id_size,
                                         e->salt, sizeof (e->salt), IMPRINT_FIDO2_LOCK_UP, prompt, f,
                                         &secret, &size), ==, 0);
  g_assert_cmpmem (secret, size, e->secret, e->secret_size);
  g_assert_cmpuint (f->pin_asked, ==, 1);

  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, e->rp_id, e->credential_id, e->credential_id_size,
                                         e->salt, sizeof (e->salt), IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f,
                                         &secret_uv, &size), ==, 0);
  g_assert_cmpuint (size, ==, 32);
  g_assert_true (memcmp (secret_uv, e->secret, 32) != 0);

  /* the token says no PIN; a v248-style token without the flags still works */
  g_assert_cmpint (imprint_fido2_luks_token_json (e, 0, &json), ==, 0);
  check_luks_token (e, json, 0);
  o = parse_object (json, &parser);
  json_object_remove_member (o, "fido2-clientPin-required");
  json_object_remove_member (o, "fido2-up-required");
  json_object_remove_member (o, "fido2-uv-required");
  json_object_remove_member (o, "fido2-rp");
  json_generator_set_root (gen, json_parser_get_root (parser));
  legacy = json_generator_to_data (gen, NULL);
  g_assert_cmpint (imprint_fido2_unlock_luks_token (f->dev, NULL, legacy, prompt, f, &pass), ==, 0);
  g_assert_cmpint (imprint_fido2_passphrase (e->secret, e->secret_size, &expected), ==, 0);
  g_assert_cmpstr (pass, ==, expected);
  g_assert_cmpuint (f->pin_asked, ==, 2);
}

static void
test_wrong_pin (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  int retries = -1;

  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);
  g_ptr_array_add (f->pins, g_strdup ("000000"));
  g_ptr_array_add (f->pins, g_strdup ("123456"));

  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, 0);
  g_assert_cmpuint (f->pin_asked, ==, 2);
  /* the second request says why and how many tries are left */
  g_assert_nonnull (strstr (g_ptr_array_index (f->pin_messages, 1), "Wrong PIN"));
  g_assert_nonnull (strstr (g_ptr_array_index (f->pin_messages, 1), "7 attempts"));
  g_assert_cmpint (fido_dev_get_retry_count (f->dev, &retries), ==, FIDO_OK);
  g_assert_cmpint (retries, ==, SOFT_FIDO2_MAX_PIN_RETRIES);
}

static void
test_pin_blocked (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  int retries = -1;

  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);

  /* no way to ask: a clear "PIN needed" */
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, NULL, NULL, &e), ==, -ENOANO);

  /* the user cancels */
  f->prompt_error = -ECANCELED;
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, -ECANCELED);
  f->prompt_error = 0;

  /* always wrong: the key blocks after three attempts in a row */
  g_ptr_array_add (f->pins, g_strdup ("000000"));
  f->pin_asked = 0;
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, -EOWNERDEAD);
  g_assert_null (e);
  g_assert_cmpuint (f->pin_asked, ==, 3);
  g_assert_nonnull (strstr (g_ptr_array_index (f->pin_messages, f->pin_messages->len - 1), "6 attempts"));
  g_assert_cmpint (fido_dev_get_retry_count (f->dev, &retries), ==, FIDO_OK);
  g_assert_cmpint (retries, ==, SOFT_FIDO2_MAX_PIN_RETRIES - 3);
  g_assert_nonnull (imprint_fido2_strerror (-EOWNERDEAD));

  /* still blocked until the key is re-plugged */
  f->pin_asked = 0;
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, -EOWNERDEAD);
  g_assert_cmpuint (f->pin_asked, ==, 1);

  /* re-plugged, three more wrong PINs, re-plugged, two more: blocked for good */
  soft_fido2_power_cycle (f->sk);
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, -EOWNERDEAD);
  soft_fido2_power_cycle (f->sk);
  f->pin_asked = 0;
  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, -EKEYREVOKED);
  g_assert_cmpuint (f->pin_asked, ==, 2);
  g_assert_nonnull (strstr (g_ptr_array_index (f->pin_messages, f->pin_messages->len - 1), "1 attempt left"));
  g_assert_cmpint (fido_dev_get_retry_count (f->dev, &retries), ==, FIDO_OK);
  g_assert_cmpint (retries, ==, 0);
  g_assert_nonnull (imprint_fido2_strerror (-EKEYREVOKED));
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  _cleanup_secret_ uint8_t *secret = NULL;
  size_t size = 0;

  g_assert_cmpint (imprint_fido2_enroll_luks (f->dev, NULL, LUKS_UUID, NULL,
                                              IMPRINT_FIDO2_LOCK_UP, prompt, f, &e), ==, 0);
  fixture_reopen (f, NULL);
  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, e->rp_id, e->credential_id, e->credential_id_size,
                                         e->salt, sizeof (e->salt), e->lock_with, prompt, f,
                                         &secret, &size), ==, -EBADSLT);
  g_assert_null (secret);
}

static void
test_homed (Fixture *f, gconstpointer data)
{
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autofree char *json = NULL;
  g_autofree guchar *cid = NULL;
  _cleanup_secret_ uint8_t *secret = NULL;
  gsize cid_len = 0;
  size_t size = 0;
  JsonObject *o;

  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);
  g_ptr_array_add (f->pins, g_strdup ("123456"));
  g_assert_cmpint (imprint_fido2_enroll_homed (f->dev, NULL, "alice", NULL, "Alice Liddell",
                                               IMPRINT_FIDO2_LOCK_DEFAULT, prompt, f, &e), ==, 0);
  g_assert_cmpstr (e->rp_id, ==, "io.systemd.home");
  g_assert_cmpstr (e->pin, ==, "123456");

  g_assert_cmpint (imprint_fido2_homed_salt_json (e, "$6$salt$hash", &json), ==, 0);
  o = parse_object (json, &parser);
  g_assert_cmpuint (json_object_get_size (o), ==, 6);
  cid = g_base64_decode (json_object_get_string_member (o, "credential"), &cid_len);
  g_assert_cmpmem (cid, cid_len, e->credential_id, e->credential_id_size);
  g_assert_cmpstr (json_object_get_string_member (o, "hashedPassword"), ==, "$6$salt$hash");
  g_assert_true (json_object_get_boolean_member (o, "up"));
  g_assert_false (json_object_get_boolean_member (o, "uv"));
  g_assert_true (json_object_get_boolean_member (o, "clientPin"));

  /* the credential is bound to the homed relying party */
  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, "io.systemd.cryptsetup", e->credential_id,
                                         e->credential_id_size, e->salt, sizeof (e->salt), e->lock_with,
                                         prompt, f, &secret, &size), ==, -EBADSLT);
  g_assert_cmpint (imprint_fido2_unlock (f->dev, NULL, "io.systemd.home", e->credential_id,
                                         e->credential_id_size, e->salt, sizeof (e->salt), e->lock_with,
                                         prompt, f, &secret, &size), ==, 0);
  g_assert_cmpmem (secret, size, e->secret, e->secret_size);
}

static void
test_host_devices (void)
{
  g_autoptr (GVariant) v = NULL;
  fido_dev_t *dev = NULL;

  /* whatever is plugged into this machine: a well-formed answer */
  g_assert_cmpint (imprint_fido2_list_devices (&v), ==, 0);
  g_assert_true (g_variant_is_of_type (v, G_VARIANT_TYPE ("aa{sv}")));

  g_assert_cmpint (imprint_fido2_open_device ("/nonexistent/hidraw", &dev), ==, -ENODEV);
  g_assert_null (dev);
  g_assert_nonnull (imprint_fido2_strerror (-ENODEV));
  g_assert_null (imprint_fido2_strerror (-ENOENT));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fido2/host-devices", test_host_devices);
  g_test_add ("/fido2/list", Fixture, NULL, fixture_setup, test_list, fixture_teardown);
  g_test_add ("/fido2/enroll/no-pin", Fixture, NULL, fixture_setup, test_enroll_no_pin, fixture_teardown);
  g_test_add ("/fido2/enroll/pin-touch", Fixture, NULL, fixture_setup, test_enroll_pin, fixture_teardown);
  g_test_add ("/fido2/enroll/pin-touch-ctap20-protocol1", Fixture, "p1", fixture_setup, test_enroll_pin, fixture_teardown);
  g_test_add ("/fido2/enroll/pin-set-no-pin-lock", Fixture, NULL, fixture_setup, test_pin_set_no_pin_lock, fixture_teardown);
  g_test_add ("/fido2/enroll/wrong-pin", Fixture, NULL, fixture_setup, test_wrong_pin, fixture_teardown);
  g_test_add ("/fido2/enroll/pin-blocked", Fixture, NULL, fixture_setup, test_pin_blocked, fixture_teardown);
  g_test_add ("/fido2/unlock/wrong-key", Fixture, NULL, fixture_setup, test_wrong_key, fixture_teardown);
  g_test_add ("/fido2/homed", Fixture, NULL, fixture_setup, test_homed, fixture_teardown);

  return g_test_run ();
}

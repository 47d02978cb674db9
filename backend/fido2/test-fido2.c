/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Enrollment and unlocking against the soft CTAP2 authenticator
 * (tests/fido2-soft) through libfido2 with in-process I/O, and the result
 * checked the way systemd-cryptsetup uses it: an independent libfido2
 * assertion, and a LUKS2 image file opened with the base64 passphrase. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libcryptsetup.h>
#include <string.h>
#include <unistd.h>

#include "imprint-fido2.h"
#include "secret.h"
#include "soft-fido2.h"
#include "soft-fido2-io.h"

#define LUKS_UUID "8a3b5f0e-4c1d-4e2a-9f6b-0123456789ab"

typedef struct {
  SoftFido2 *sk;
  fido_dev_t *dev;
  char *path;
  /* prompt bookkeeping */
  GPtrArray *pin_messages;
  GPtrArray *pins;            /* answers, in order; the last one repeats */
  unsigned pin_asked;
  unsigned touch_asked;
  bool touch_arms_key;        /* a touch prompt "touches" the soft key */
  int prompt_error;           /* returned by the prompt when != 0 */
} Fixture;

static unsigned path_counter;

static void
fixture_open (Fixture *f, const SoftFido2Config *config)
{
  f->sk = soft_fido2_new (config);
  g_assert_nonnull (f->sk);
  f->path = g_strdup_printf ("soft:%u", path_counter++);
  g_assert_cmpint (soft_fido2_io_register (f->path, f->sk), ==, 0);
  g_assert_cmpint (soft_fido2_io_open (f->path, &f->dev), ==, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  SoftFido2Config config;

  soft_fido2_config_default (&config);
  memset (f, 0, sizeof (*f));
  f->pin_messages = g_ptr_array_new_with_free_func (g_free);
  f->pins = g_ptr_array_new_with_free_func (g_free);
  fixture_open (f, &config);
}

static void
fixture_close (Fixture *f)
{
  fido_dev_close (f->dev);
  fido_dev_free (&f->dev);
  soft_fido2_io_unregister (f->path);
  soft_fido2_free (f->sk);
  g_clear_pointer (&f->path, g_free);
}

static void
fixture_reopen (Fixture *f, const SoftFido2Config *config)
{
  fixture_close (f);
  fixture_open (f, config);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  fixture_close (f);
  g_ptr_array_unref (f->pin_messages);
  g_ptr_array_unref (f->pins);
}

static int
prompt (ImprintFido2Prompt kind, const char *message, char **ret_answer, void *userdata)
{
  Fixture *f = userdata;

  g_assert_nonnull (message);
  g_assert_cmpstr (message, !=, "");

  if (kind == IMPRINT_FIDO2_PROMPT_TOUCH)
    {
      g_assert_null (ret_answer);
      f->touch_asked++;
      if (f->touch_arms_key)
        soft_fido2_touch (f->sk, 1);
      return 0;
    }

  g_assert_cmpint (kind, ==, IMPRINT_FIDO2_PROMPT_PIN);
  g_assert_nonnull (ret_answer);
  g_ptr_array_add (f->pin_messages, g_strdup (message));
  f->pin_asked++;
  if (f->prompt_error != 0)
    return f->prompt_error;
  g_assert_cmpuint (f->pins->len, >, 0);
  *ret_answer = imprint_secret_strdup (g_ptr_array_index (f->pins, MIN (f->pin_asked, f->pins->len) - 1));
  return 0;
}

/* What systemd-cryptsetup does at boot, written directly against libfido2. */
static void
independent_assertion (fido_dev_t *dev, const ImprintFido2Enrollment *e, const char *pin,
                       uint8_t out[32])
{
  static const unsigned char zero[32];
  fido_assert_t *a = fido_assert_new ();

  g_assert_cmpint (fido_assert_set_rp (a, e->rp_id), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_clientdata_hash (a, zero, sizeof (zero)), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_allow_cred (a, e->credential_id, e->credential_id_size), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_extensions (a, FIDO_EXT_HMAC_SECRET), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_hmac_salt (a, e->salt, sizeof (e->salt)), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_up (a, (e->lock_with & IMPRINT_FIDO2_LOCK_UP) ? FIDO_OPT_TRUE : FIDO_OPT_FALSE), ==, FIDO_OK);
  g_assert_cmpint (fido_dev_get_assert (dev, a, pin), ==, FIDO_OK);
  g_assert_cmpuint (fido_assert_hmac_secret_len (a, 0), ==, 32);
  memcpy (out, fido_assert_hmac_secret_ptr (a, 0), 32);
  fido_assert_free (&a);
}

static JsonObject *
parse_object (const char *json, JsonParser **ret_parser)
{
  JsonParser *parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  *ret_parser = parser;
  return json_node_get_object (json_parser_get_root (parser));
}

static void
check_luks_token (const ImprintFido2Enrollment *e, const char *json, int keyslot)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_object (json, &parser);
  JsonArray *slots;
  g_autofree char *slot = g_strdup_printf ("%d", keyslot);
  g_autofree guchar *cid = NULL, *salt = NULL;
  gsize cid_len = 0, salt_len = 0;

  g_assert_cmpuint (json_object_get_size (o), ==, 8);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "systemd-fido2");
  slots = json_object_get_array_member (o, "keyslots");
  g_assert_cmpuint (json_array_get_length (slots), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (slots, 0), ==, slot);
  cid = g_base64_decode (json_object_get_string_member (o, "fido2-credential"), &cid_len);
  g_assert_cmpmem (cid, cid_len, e->credential_id, e->credential_id_size);
  salt = g_base64_decode (json_object_get_string_member (o, "fido2-salt"), &salt_len);
  g_assert_cmpmem (salt, salt_len, e->salt, 32);
  g_assert_cmpstr (json_object_get_string_member (o, "fido2-rp"), ==, "io.systemd.cryptsetup");
  g_assert_cmpint (json_object_get_boolean_member (o, "fido2-clientPin-required"), ==,
                   (e->lock_with & IMPRINT_FIDO2_LOCK_PIN) != 0);
  g_assert_cmpint (json_object_get_boolean_member (o, "fido2-up-required"), ==,
                   (e->lock_with & IMPRINT_FIDO2_LOCK_UP) != 0);
  g_assert_cmpint (json_object_get_boolean_member (o, "fido2-uv-required"), ==,
                   (e->lock_with & IMPRINT_FIDO2_LOCK_UV) != 0);
}

static void
check_passphrase (const ImprintFido2Enrollment *e)
{
  _cleanup_secret_ char *pass = NULL;
  g_autofree guchar *raw = NULL;
  gsize len = 0;

  g_assert_cmpint (imprint_fido2_passphrase (e->secret, e->secret_size, &pass), ==, 0);
  /* secret memory, sized to the string (imprint_secret_size() would stop
   * the process for any other pointer) */
  g_assert_cmpuint (imprint_secret_size (pass), ==, strlen (pass) + 1);
  g_assert_cmpuint (imprint_secret_size (e->secret), ==, e->secret_size);
  g_assert_cmpuint (strlen (pass), ==, 44);   /* 32 bytes: 43 chars + '=' */
  g_assert_null (strchr (pass, '\n'));
  raw = g_base64_decode (pass, &len);
  g_assert_cmpmem (raw, len, e->secret, e->secret_size);
}

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
  g_test_add ("/fido2/luks-image", Fixture, NULL, fixture_setup, test_luks, fixture_teardown);

  return g_test_run ();
}

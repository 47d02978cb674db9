/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the FIDO2 tests share: a soft authenticator opened through
 * libfido2 with in-process I/O (the fixture), the prompt that answers
 * PINs and "touches" the key, and the checks systemd would make. */

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

static inline void
fixture_open (Fixture *f, const SoftFido2Config *config)
{
  f->sk = soft_fido2_new (config);
  g_assert_nonnull (f->sk);
  f->path = g_strdup_printf ("soft:%u", path_counter++);
  g_assert_cmpint (soft_fido2_io_register (f->path, f->sk), ==, 0);
  g_assert_cmpint (soft_fido2_io_open (f->path, &f->dev), ==, 0);
}

static inline void
fixture_setup (Fixture *f, gconstpointer data)
{
  SoftFido2Config config;

  soft_fido2_config_default (&config);
  memset (f, 0, sizeof (*f));
  f->pin_messages = g_ptr_array_new_with_free_func (g_free);
  f->pins = g_ptr_array_new_with_free_func (g_free);
  fixture_open (f, &config);
}

static inline void
fixture_close (Fixture *f)
{
  fido_dev_close (f->dev);
  fido_dev_free (&f->dev);
  soft_fido2_io_unregister (f->path);
  soft_fido2_free (f->sk);
  g_clear_pointer (&f->path, g_free);
}

static inline void
fixture_reopen (Fixture *f, const SoftFido2Config *config)
{
  fixture_close (f);
  fixture_open (f, config);
}

static inline void
fixture_teardown (Fixture *f, gconstpointer data)
{
  fixture_close (f);
  g_ptr_array_unref (f->pin_messages);
  g_ptr_array_unref (f->pins);
}

static inline int
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
static inline void
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

static inline JsonObject *
parse_object (const char *json, JsonParser **ret_parser)
{
  JsonParser *parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  *ret_parser = parser;
  return json_node_get_object (json_parser_get_root (parser));
}

static inline void
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

static inline void
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Checks the soft authenticator against libfido2 itself: what libfido2
 * accepts and verifies here is what the Imprint FIDO2 code will see. */

#include <glib.h>
#include <fido.h>
#include <fido/es256.h>
#include <string.h>

#include "soft-ctaphid.h"
#include "soft-fido2.h"
#include "soft-fido2-io.h"

#define PATH "soft:test"

typedef struct {
  SoftFido2 *sk;
  fido_dev_t *dev;
} Fixture;

static void
fixture_setup_config (Fixture *f, const SoftFido2Config *config)
{
  f->sk = soft_fido2_new (config);
  g_assert_nonnull (f->sk);
  g_assert_cmpint (soft_fido2_io_register (PATH, f->sk), ==, 0);
  g_assert_cmpint (soft_fido2_io_open (PATH, &f->dev), ==, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  SoftFido2Config config;

  soft_fido2_config_default (&config);
  if (data != NULL)
    {
      /* protocol 1 only, CTAP 2.0 */
      config.pin_protocol_2 = false;
      config.ctap21 = false;
    }
  fixture_setup_config (f, &config);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  fido_dev_close (f->dev);
  fido_dev_free (&f->dev);
  soft_fido2_io_unregister (PATH);
  soft_fido2_free (f->sk);
}

static const unsigned char zero_cdh[32];

static fido_cred_t *
make_cred (fido_dev_t *dev, const char *pin, int *ret_r)
{
  fido_cred_t *c = fido_cred_new ();

  g_assert_cmpint (fido_cred_set_type (c, COSE_ES256), ==, FIDO_OK);
  g_assert_cmpint (fido_cred_set_rp (c, "io.systemd.cryptsetup", "Encrypted Volume"), ==, FIDO_OK);
  g_assert_cmpint (fido_cred_set_user (c, (const unsigned char *) "uuid", 4, "uuid", NULL, NULL), ==, FIDO_OK);
  g_assert_cmpint (fido_cred_set_clientdata_hash (c, zero_cdh, sizeof (zero_cdh)), ==, FIDO_OK);
  g_assert_cmpint (fido_cred_set_extensions (c, FIDO_EXT_HMAC_SECRET), ==, FIDO_OK);
  g_assert_cmpint (fido_cred_set_rk (c, FIDO_OPT_FALSE), ==, FIDO_OK);
  *ret_r = fido_dev_make_cred (dev, c, pin);
  return c;
}

static int
get_hmac (fido_dev_t *dev, const fido_cred_t *c, const unsigned char salt[32], const char *pin,
          fido_opt_t up, unsigned char out[32])
{
  fido_assert_t *a = fido_assert_new ();
  int r;

  g_assert_cmpint (fido_assert_set_rp (a, "io.systemd.cryptsetup"), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_clientdata_hash (a, zero_cdh, sizeof (zero_cdh)), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_allow_cred (a, fido_cred_id_ptr (c), fido_cred_id_len (c)), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_extensions (a, FIDO_EXT_HMAC_SECRET), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_hmac_salt (a, salt, 32), ==, FIDO_OK);
  g_assert_cmpint (fido_assert_set_up (a, up), ==, FIDO_OK);
  r = fido_dev_get_assert (dev, a, pin);
  if (r == FIDO_OK)
    {
      es256_pk_t *pk = es256_pk_new ();

      g_assert_cmpuint (fido_assert_hmac_secret_len (a, 0), ==, 32);
      memcpy (out, fido_assert_hmac_secret_ptr (a, 0), 32);
      /* the signature is made with the credential's key */
      g_assert_cmpint (es256_pk_from_ptr (pk, fido_cred_pubkey_ptr (c), fido_cred_pubkey_len (c)), ==, FIDO_OK);
      g_assert_cmpint (fido_assert_verify (a, 0, COSE_ES256, pk), ==, FIDO_OK);
      es256_pk_free (&pk);
    }
  fido_assert_free (&a);
  return r;
}

static void
test_info (Fixture *f, gconstpointer data)
{
  fido_cbor_info_t *ci = fido_cbor_info_new ();
  gboolean hmac = FALSE;

  g_assert_true (fido_dev_is_fido2 (f->dev));
  g_assert_cmpint (fido_dev_get_cbor_info (f->dev, ci), ==, FIDO_OK);
  for (size_t i = 0; i < fido_cbor_info_extensions_len (ci); i++)
    if (g_str_equal (fido_cbor_info_extensions_ptr (ci)[i], "hmac-secret"))
      hmac = TRUE;
  g_assert_true (hmac);
  g_assert_false (fido_dev_has_pin (f->dev));
  fido_cbor_info_free (&ci);
}

static void
test_cred_and_hmac (Fixture *f, gconstpointer data)
{
  unsigned char salt[32], s1[32], s2[32], s3[32], other[32];
  fido_cred_t *c;
  int r;

  memset (salt, 0x5a, sizeof (salt));
  c = make_cred (f->dev, NULL, &r);
  g_assert_cmpint (r, ==, FIDO_OK);
  g_assert_cmpint (fido_cred_verify_self (c), ==, FIDO_OK);

  g_assert_cmpint (get_hmac (f->dev, c, salt, NULL, FIDO_OPT_TRUE, s1), ==, FIDO_OK);
  g_assert_cmpint (get_hmac (f->dev, c, salt, NULL, FIDO_OPT_FALSE, s2), ==, FIDO_OK);
  g_assert_cmpmem (s1, 32, s2, 32);
  salt[0] ^= 1;
  g_assert_cmpint (get_hmac (f->dev, c, salt, NULL, FIDO_OPT_TRUE, other), ==, FIDO_OK);
  g_assert_true (memcmp (s1, other, 32) != 0);

  /* With a PIN the uv variant of the secret is used, as on real keys. */
  g_assert_cmpint (fido_dev_set_pin (f->dev, "1234", NULL), ==, FIDO_OK);
  salt[0] ^= 1;
  g_assert_cmpint (get_hmac (f->dev, c, salt, "1234", FIDO_OPT_TRUE, s3), ==, FIDO_OK);
  g_assert_true (memcmp (s1, s3, 32) != 0);
  fido_cred_free (&c);
}

static void
test_pin (Fixture *f, gconstpointer data)
{
  unsigned char salt[32] = { 1 }, s[32];
  fido_cred_t *c;
  int r, retries = -1;

  g_assert_cmpint (fido_dev_set_pin (f->dev, "12", NULL), ==, FIDO_ERR_PIN_POLICY_VIOLATION);
  g_assert_cmpint (fido_dev_set_pin (f->dev, "123456", NULL), ==, FIDO_OK);
  g_assert_true (fido_dev_has_pin (f->dev));

  c = make_cred (f->dev, NULL, &r);
  g_assert_cmpint (r, ==, FIDO_ERR_PIN_REQUIRED);
  fido_cred_free (&c);

  c = make_cred (f->dev, "000000", &r);
  g_assert_cmpint (r, ==, FIDO_ERR_PIN_INVALID);
  fido_cred_free (&c);
  g_assert_cmpint (fido_dev_get_retry_count (f->dev, &retries), ==, FIDO_OK);
  g_assert_cmpint (retries, ==, SOFT_FIDO2_MAX_PIN_RETRIES - 1);

  c = make_cred (f->dev, "123456", &r);
  g_assert_cmpint (r, ==, FIDO_OK);
  g_assert_cmpint (fido_dev_get_retry_count (f->dev, &retries), ==, FIDO_OK);
  g_assert_cmpint (retries, ==, SOFT_FIDO2_MAX_PIN_RETRIES);

  g_assert_cmpint (get_hmac (f->dev, c, salt, "654321", FIDO_OPT_TRUE, s), ==, FIDO_ERR_PIN_INVALID);
  g_assert_cmpint (get_hmac (f->dev, c, salt, "654321", FIDO_OPT_TRUE, s), ==, FIDO_ERR_PIN_INVALID);
  g_assert_cmpint (get_hmac (f->dev, c, salt, "654321", FIDO_OPT_TRUE, s), ==, FIDO_ERR_PIN_AUTH_BLOCKED);
  g_assert_cmpint (get_hmac (f->dev, c, salt, "123456", FIDO_OPT_TRUE, s), ==, FIDO_ERR_PIN_AUTH_BLOCKED);
  soft_fido2_power_cycle (f->sk);
  g_assert_cmpint (get_hmac (f->dev, c, salt, "123456", FIDO_OPT_TRUE, s), ==, FIDO_OK);
  fido_cred_free (&c);
}

static void
test_touch (Fixture *f, gconstpointer data)
{
  SoftFido2Config config;
  unsigned char salt[32] = { 2 }, s[32];
  fido_cred_t *c;
  int r;

  fixture_teardown (f, NULL);
  soft_fido2_config_default (&config);
  config.presence = SOFT_FIDO2_PRESENCE_TOUCH;
  fixture_setup_config (f, &config);

  c = make_cred (f->dev, NULL, &r);
  g_assert_cmpint (r, ==, FIDO_ERR_USER_ACTION_TIMEOUT);
  fido_cred_free (&c);

  soft_fido2_touch (f->sk, 1);
  c = make_cred (f->dev, NULL, &r);
  g_assert_cmpint (r, ==, FIDO_OK);
  g_assert_cmpuint (soft_fido2_get_touches_used (f->sk), ==, 1);

  /* up=false needs no touch (systemd's pre-flight), up=true does */
  g_assert_cmpint (get_hmac (f->dev, c, salt, NULL, FIDO_OPT_FALSE, s), ==, FIDO_OK);
  g_assert_cmpint (get_hmac (f->dev, c, salt, NULL, FIDO_OPT_TRUE, s), ==, FIDO_ERR_USER_ACTION_TIMEOUT);
  soft_fido2_touch (f->sk, 1);
  g_assert_cmpint (get_hmac (f->dev, c, salt, NULL, FIDO_OPT_TRUE, s), ==, FIDO_OK);
  g_assert_cmpuint (soft_fido2_get_touches_used (f->sk), ==, 2);
  fido_cred_free (&c);
}

static void
test_wrong_rp (Fixture *f, gconstpointer data)
{
  fido_assert_t *a = fido_assert_new ();
  fido_cred_t *c;
  int r;

  c = make_cred (f->dev, NULL, &r);
  g_assert_cmpint (r, ==, FIDO_OK);
  fido_assert_set_rp (a, "io.systemd.home");
  fido_assert_set_clientdata_hash (a, zero_cdh, sizeof (zero_cdh));
  fido_assert_allow_cred (a, fido_cred_id_ptr (c), fido_cred_id_len (c));
  g_assert_cmpint (fido_dev_get_assert (f->dev, a, NULL), ==, FIDO_ERR_NO_CREDENTIALS);
  fido_assert_free (&a);
  fido_cred_free (&c);
}


/* ---- CTAPHID framing, report by report ---- */

static void
collect_report (const uint8_t report[SOFT_CTAPHID_REPORT_LEN], void *userdata)
{
  g_byte_array_append (userdata, report, SOFT_CTAPHID_REPORT_LEN);
}

static void
send_init_packet (SoftCtapHid *h, uint32_t cid, uint8_t cmd, size_t total, const uint8_t *data, size_t n)
{
  uint8_t r[64] = { cid >> 24, cid >> 16, cid >> 8, cid, 0x80 | cmd, total >> 8, total };

  if (n > 0)
    memcpy (r + 7, data, n);
  soft_ctaphid_handle_report (h, r);
}

static void
send_cont_packet (SoftCtapHid *h, uint32_t cid, uint8_t seq, const uint8_t *data, size_t n)
{
  uint8_t r[64] = { cid >> 24, cid >> 16, cid >> 8, cid, seq };

  memcpy (r + 5, data, n);
  soft_ctaphid_handle_report (h, r);
}

static uint32_t
report_cid (const GByteArray *out, size_t i)
{
  const uint8_t *r = out->data + 64 * i;
  return (uint32_t) r[0] << 24 | (uint32_t) r[1] << 16 | (uint32_t) r[2] << 8 | r[3];
}

static uint32_t
open_channel (SoftCtapHid *h, GByteArray *out)
{
  static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  const uint8_t *r;

  g_byte_array_set_size (out, 0);
  send_init_packet (h, 0xffffffffU, 0x06, 8, nonce, 8);
  g_assert_cmpuint (out->len, ==, 64);
  r = out->data;
  g_assert_cmpuint (report_cid (out, 0), ==, 0xffffffffU);
  g_assert_cmpuint (r[4], ==, 0x86);
  g_assert_cmpuint (r[5] << 8 | r[6], ==, 17);
  g_assert_cmpmem (r + 7, 8, nonce, 8);
  g_assert_cmpuint (r[7 + 12], ==, 2);          /* CTAPHID protocol version */
  g_assert_cmpuint (r[7 + 16] & 0x04, !=, 0);   /* CAPABILITY_CBOR */
  g_assert_cmpuint (r[7 + 16] & 0x08, !=, 0);   /* CAPABILITY_NMSG */
  return (uint32_t) r[15] << 24 | (uint32_t) r[16] << 16 | (uint32_t) r[17] << 8 | r[18];
}

static void
assert_error (GByteArray *out, uint32_t cid, uint8_t code)
{
  g_assert_cmpuint (out->len, ==, 64);
  g_assert_cmpuint (report_cid (out, 0), ==, cid);
  g_assert_cmpuint (out->data[4], ==, 0xbf);
  g_assert_cmpuint (out->data[6], ==, 1);
  g_assert_cmpuint (out->data[7], ==, code);
}

static void
test_ctaphid (void)
{
  SoftFido2 *sk = soft_fido2_new (NULL);
  GByteArray *out = g_byte_array_new ();
  SoftCtapHid *h = soft_ctaphid_new (sk, collect_report, out);
  uint8_t data[100], echo[100], get_info = 0x04;
  uint32_t a, b;

  for (size_t i = 0; i < sizeof (data); i++)
    data[i] = (uint8_t) i;

  a = open_channel (h, out);
  b = open_channel (h, out);
  g_assert_cmpuint (a, !=, 0);
  g_assert_cmpuint (a, !=, b);

  /* PING over two packets is echoed over two packets */
  g_byte_array_set_size (out, 0);
  send_init_packet (h, a, 0x01, sizeof (data), data, 57);
  g_assert_cmpuint (out->len, ==, 0);
  send_cont_packet (h, a, 0, data + 57, sizeof (data) - 57);
  g_assert_cmpuint (out->len, ==, 128);
  g_assert_cmpuint (out->data[4], ==, 0x81);
  g_assert_cmpuint (out->data[5] << 8 | out->data[6], ==, sizeof (data));
  g_assert_cmpuint (out->data[64 + 4], ==, 0);
  memcpy (echo, out->data + 7, 57);
  memcpy (echo + 57, out->data + 64 + 5, sizeof (data) - 57);
  g_assert_cmpmem (echo, sizeof (echo), data, sizeof (data));

  /* another channel while a message is being assembled: busy */
  g_byte_array_set_size (out, 0);
  send_init_packet (h, a, 0x01, sizeof (data), data, 57);
  send_init_packet (h, b, 0x01, 1, data, 1);
  assert_error (out, b, 0x06);
  /* a wrong sequence number aborts the message */
  g_byte_array_set_size (out, 0);
  send_cont_packet (h, a, 1, data + 57, sizeof (data) - 57);
  assert_error (out, a, 0x04);

  /* unknown channel, unknown command, U2F MSG */
  g_byte_array_set_size (out, 0);
  send_init_packet (h, 0x12345678, 0x10, 1, &get_info, 1);
  assert_error (out, 0x12345678, 0x0b);
  g_byte_array_set_size (out, 0);
  send_init_packet (h, a, 0x55, 0, NULL, 0);
  assert_error (out, a, 0x01);
  g_byte_array_set_size (out, 0);
  send_init_packet (h, a, 0x03, 1, data, 1);
  assert_error (out, a, 0x01);

  /* CANCEL with nothing pending: no answer */
  g_byte_array_set_size (out, 0);
  send_init_packet (h, a, 0x11, 0, NULL, 0);
  g_assert_cmpuint (out->len, ==, 0);

  /* CBOR getInfo: status 0 and a CBOR map */
  send_init_packet (h, b, 0x10, 1, &get_info, 1);
  g_assert_cmpuint (out->len, >=, 64);
  g_assert_cmpuint (report_cid (out, 0), ==, b);
  g_assert_cmpuint (out->data[4], ==, 0x90);
  g_assert_cmpuint (out->data[7], ==, 0x00);
  g_assert_cmpuint (out->data[8] & 0xe0, ==, 0xa0);

  soft_ctaphid_free (h);
  g_byte_array_unref (out);
  soft_fido2_free (sk);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  fido_init (0);

  g_test_add_func ("/soft-fido2/ctaphid", test_ctaphid);
  g_test_add ("/soft-fido2/info", Fixture, NULL, fixture_setup, test_info, fixture_teardown);
  g_test_add ("/soft-fido2/cred-hmac/protocol2", Fixture, NULL, fixture_setup, test_cred_and_hmac, fixture_teardown);
  g_test_add ("/soft-fido2/cred-hmac/protocol1", Fixture, "p1", fixture_setup, test_cred_and_hmac, fixture_teardown);
  g_test_add ("/soft-fido2/pin/protocol2", Fixture, NULL, fixture_setup, test_pin, fixture_teardown);
  g_test_add ("/soft-fido2/pin/protocol1", Fixture, "p1", fixture_setup, test_pin, fixture_teardown);
  g_test_add ("/soft-fido2/touch", Fixture, NULL, fixture_setup, test_touch, fixture_teardown);
  g_test_add ("/soft-fido2/wrong-rp", Fixture, NULL, fixture_setup, test_wrong_rp, fixture_teardown);

  return g_test_run ();
}

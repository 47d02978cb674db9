/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Software CTAP2 authenticator core (test double). Written from the CTAP 2.1
 * specification; see soft-fido2.h for the scope. */

#include "soft-fido2.h"

#include <cbor.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* CTAP2 commands */
#define CMD_MAKE_CREDENTIAL 0x01
#define CMD_GET_ASSERTION   0x02
#define CMD_GET_INFO        0x04
#define CMD_CLIENT_PIN      0x06

/* CTAP2 status codes */
#define ST_OK                    0x00
#define ST_INVALID_COMMAND       0x01
#define ST_INVALID_PARAMETER     0x02
#define ST_INVALID_LENGTH        0x03
#define ST_CBOR_UNEXPECTED_TYPE  0x11
#define ST_INVALID_CBOR          0x12
#define ST_MISSING_PARAMETER     0x14
#define ST_UNSUPPORTED_ALGORITHM 0x26
#define ST_KEEPALIVE_CANCEL      0x2D
#define ST_NO_CREDENTIALS        0x2E
#define ST_USER_ACTION_TIMEOUT   0x2F
#define ST_NOT_ALLOWED           0x30
#define ST_PIN_INVALID           0x31
#define ST_PIN_BLOCKED           0x32
#define ST_PIN_AUTH_INVALID      0x33
#define ST_PIN_AUTH_BLOCKED      0x34
#define ST_PIN_NOT_SET           0x35
#define ST_PIN_REQUIRED          0x36
#define ST_PIN_POLICY_VIOLATION  0x37
#define ST_UNSUPPORTED_OPTION    0x2B
#define ST_INVALID_OPTION        0x2C
#define ST_INVALID_SUBCOMMAND    0x3E
#define ST_OTHER                 0x7F

#define PERM_MC 0x01
#define PERM_GA 0x02

#define FLAG_UP 0x01
#define FLAG_UV 0x04
#define FLAG_AT 0x40
#define FLAG_ED 0x80

#define COSE_ES256 (-7)
#define COSE_ECDH_ES_HKDF_256 (-25)

#define WRAP_NONCE_LEN 12
#define WRAP_TAG_LEN 16

struct SoftFido2 {
  SoftFido2Config config;
  uint8_t aaguid[16];
  uint8_t master_key[32];      /* wraps credential ids */
  uint32_t sign_count;

  bool pin_set;
  uint8_t pin_hash[16];        /* LEFT(SHA-256(pin), 16) */
  int pin_retries;
  int pin_consecutive_failures;

  EVP_PKEY *key_agreement;     /* P-256, per power cycle */
  uint8_t pin_token[32];
  bool pin_token_valid;
  uint8_t pin_token_permissions;
  char *pin_token_rp_id;

  unsigned touches_armed;
  unsigned touches_used;
  SoftFido2WaitTouchFunc wait_touch;
  void *wait_touch_userdata;
  bool cancelled;
};

/* ---- small helpers ---- */

static void
cbor_decrefp (cbor_item_t **p)
{
  if (*p != NULL)
    cbor_decref (p);
}
#define _cleanup_cbor_ __attribute__((cleanup(cbor_decrefp)))

static void
evp_pkey_freep (EVP_PKEY **p)
{
  EVP_PKEY_free (*p);
}
#define _cleanup_pkey_ __attribute__((cleanup(evp_pkey_freep)))

static void
freep_sk (void *p)
{
  free (*(void **) p);
}
#define _cleanup_free_sk_ __attribute__((cleanup(freep_sk)))

static bool
map_add (cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
  bool ok;

  if (key == NULL || value == NULL)
    {
      if (key != NULL)
        cbor_decref (&key);
      if (value != NULL)
        cbor_decref (&value);
      return false;
    }
  ok = cbor_map_add (map, (struct cbor_pair) { .key = key, .value = value });
  cbor_decref (&key);
  cbor_decref (&value);
  return ok;
}

/* Integers in their shortest encoding, as CTAP2 canonical CBOR wants. */
static cbor_item_t *
build_int (int64_t v)
{
  uint64_t u = v >= 0 ? (uint64_t) v : (uint64_t) (-1 - v);
  cbor_item_t *item;

  if (u <= UINT8_MAX)
    item = cbor_build_uint8 ((uint8_t) u);
  else if (u <= UINT16_MAX)
    item = cbor_build_uint16 ((uint16_t) u);
  else if (u <= UINT32_MAX)
    item = cbor_build_uint32 ((uint32_t) u);
  else
    item = cbor_build_uint64 (u);
  if (item != NULL && v < 0)
    cbor_mark_negint (item);
  return item;
}

static const cbor_item_t *
map_get_int (const cbor_item_t *map, int64_t key)
{
  struct cbor_pair *pairs = cbor_map_handle (map);
  size_t n = cbor_map_size (map);

  for (size_t i = 0; i < n; i++)
    {
      const cbor_item_t *k = pairs[i].key;
      if (key >= 0 && cbor_isa_uint (k) && cbor_get_int (k) == (uint64_t) key)
        return pairs[i].value;
      if (key < 0 && cbor_isa_negint (k) && cbor_get_int (k) == (uint64_t) (-1 - key))
        return pairs[i].value;
    }
  return NULL;
}

static const cbor_item_t *
map_get_str (const cbor_item_t *map, const char *key)
{
  struct cbor_pair *pairs = cbor_map_handle (map);
  size_t n = cbor_map_size (map);
  size_t l = strlen (key);

  for (size_t i = 0; i < n; i++)
    {
      const cbor_item_t *k = pairs[i].key;
      if (cbor_isa_string (k) && cbor_string_is_definite (k) &&
          cbor_string_length (k) == l && memcmp (cbor_string_handle (k), key, l) == 0)
        return pairs[i].value;
    }
  return NULL;
}

static bool
get_bytes (const cbor_item_t *item, const uint8_t **ret, size_t *ret_len)
{
  if (item == NULL || !cbor_isa_bytestring (item) || !cbor_bytestring_is_definite (item))
    return false;
  *ret = cbor_bytestring_handle (item);
  *ret_len = cbor_bytestring_length (item);
  return true;
}

static char *
get_string (const cbor_item_t *item)
{
  char *s;

  if (item == NULL || !cbor_isa_string (item) || !cbor_string_is_definite (item))
    return NULL;
  s = malloc (cbor_string_length (item) + 1);
  if (s == NULL)
    return NULL;
  memcpy (s, cbor_string_handle (item), cbor_string_length (item));
  s[cbor_string_length (item)] = 0;
  return s;
}

static bool
get_uint (const cbor_item_t *item, uint64_t *ret)
{
  if (item == NULL || !cbor_isa_uint (item))
    return false;
  *ret = cbor_get_int (item);
  return true;
}

static bool
get_bool (const cbor_item_t *item, bool *ret)
{
  if (item == NULL || !cbor_is_bool (item))
    return false;
  *ret = cbor_get_bool (item);
  return true;
}

static int
respond (uint8_t status, const cbor_item_t *body, uint8_t **ret, size_t *ret_len)
{
  uint8_t *out;
  size_t len = 1;

  if (body != NULL)
    {
      unsigned char *buf = NULL;
      size_t alloc = 0, n;

      n = cbor_serialize_alloc (body, &buf, &alloc);
      if (n == 0)
        return -ENOMEM;
      out = malloc (n + 1);
      if (out == NULL)
        {
          free (buf);
          return -ENOMEM;
        }
      memcpy (out + 1, buf, n);
      OPENSSL_cleanse (buf, n);
      free (buf);
      len += n;
    }
  else
    {
      out = malloc (1);
      if (out == NULL)
        return -ENOMEM;
    }

  out[0] = status;
  *ret = out;
  *ret_len = len;
  return 0;
}

static void
sha256 (const void *data, size_t len, uint8_t out[32])
{
  SHA256 (data, len, out);
}

static bool
hmac_sha256 (const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t out[32])
{
  unsigned int out_len = 32;
  return HMAC (EVP_sha256 (), key, (int) key_len, data, len, out, &out_len) != NULL && out_len == 32;
}

static bool
aes256_cbc (const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out, bool encrypt)
{
  EVP_CIPHER_CTX *ctx;
  int n = 0, m = 0;
  bool ok;

  if (len == 0 || len % 16 != 0)
    return false;
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx == NULL)
    return false;
  ok = EVP_CipherInit_ex (ctx, EVP_aes_256_cbc (), NULL, key, iv, encrypt ? 1 : 0) == 1 &&
       EVP_CIPHER_CTX_set_padding (ctx, 0) == 1 &&
       EVP_CipherUpdate (ctx, out, &n, in, (int) len) == 1 &&
       EVP_CipherFinal_ex (ctx, out + n, &m) == 1 &&
       (size_t) (n + m) == len;
  EVP_CIPHER_CTX_free (ctx);
  return ok;
}

static EVP_PKEY *
p256_generate (void)
{
  return EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
}

/* x and y of a P-256 public key. */
static bool
p256_get_xy (EVP_PKEY *pkey, uint8_t x[32], uint8_t y[32])
{
  uint8_t buf[65];
  size_t len = 0;

  if (EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof (buf), &len) != 1 ||
      len != 65 || buf[0] != 0x04)
    return false;
  memcpy (x, buf + 1, 32);
  memcpy (y, buf + 33, 32);
  return true;
}

static EVP_PKEY *
p256_from_xy (const uint8_t *x, const uint8_t *y)
{
  OSSL_PARAM params[3];
  EVP_PKEY_CTX *ctx;
  EVP_PKEY *pkey = NULL;
  uint8_t buf[65];
  char group[] = "prime256v1";

  buf[0] = 0x04;
  memcpy (buf + 1, x, 32);
  memcpy (buf + 33, y, 32);
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof (buf));
  params[2] = OSSL_PARAM_construct_end ();

  ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (ctx == NULL)
    return NULL;
  if (EVP_PKEY_fromdata_init (ctx) != 1 ||
      EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  EVP_PKEY_CTX_free (ctx);
  return pkey;
}

/* COSE_Key map for a P-256 public key, keys in CTAP2 canonical order. */
static cbor_item_t *
cose_key_encode (EVP_PKEY *pkey, int alg)
{
  uint8_t x[32], y[32];
  cbor_item_t *map;

  if (!p256_get_xy (pkey, x, y))
    return NULL;
  map = cbor_new_definite_map (5);
  if (map == NULL)
    return NULL;
  if (!map_add (map, build_int (1), build_int (2)) ||            /* kty: EC2 */
      !map_add (map, build_int (3), build_int (alg)) ||
      !map_add (map, build_int (-1), build_int (1)) ||           /* crv: P-256 */
      !map_add (map, build_int (-2), cbor_build_bytestring (x, 32)) ||
      !map_add (map, build_int (-3), cbor_build_bytestring (y, 32)))
    {
      cbor_decref (&map);
      return NULL;
    }
  return map;
}

static EVP_PKEY *
cose_key_decode (const cbor_item_t *item)
{
  const uint8_t *x, *y;
  size_t xl, yl;
  uint64_t kty;

  if (item == NULL || !cbor_isa_map (item))
    return NULL;
  if (!get_uint (map_get_int (item, 1), &kty) || kty != 2 ||
      !get_bytes (map_get_int (item, -2), &x, &xl) || xl != 32 ||
      !get_bytes (map_get_int (item, -3), &y, &yl) || yl != 32)
    return NULL;
  return p256_from_xy (x, y);
}

static bool
hkdf_sha256 (const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t out[32])
{
  static const uint8_t salt[32] = { 0 };
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id (EVP_PKEY_HKDF, NULL);
  size_t out_len = 32;
  bool ok;

  if (ctx == NULL)
    return false;
  ok = EVP_PKEY_derive_init (ctx) == 1 &&
       EVP_PKEY_CTX_set_hkdf_md (ctx, EVP_sha256 ()) == 1 &&
       EVP_PKEY_CTX_set1_hkdf_salt (ctx, salt, sizeof (salt)) == 1 &&
       EVP_PKEY_CTX_set1_hkdf_key (ctx, ikm, (int) ikm_len) == 1 &&
       EVP_PKEY_CTX_add1_hkdf_info (ctx, (const unsigned char *) info, (int) strlen (info)) == 1 &&
       EVP_PKEY_derive (ctx, out, &out_len) == 1 && out_len == 32;
  EVP_PKEY_CTX_free (ctx);
  return ok;
}

/* ---- PIN/UV auth protocols ---- */

typedef struct {
  int protocol;
  uint8_t hmac_key[32];
  uint8_t aes_key[32];
} SharedSecret;

static void
shared_secret_wipe (SharedSecret *s)
{
  OPENSSL_cleanse (s, sizeof (*s));
}

static bool
protocol_supported (SoftFido2 *sk, uint64_t protocol)
{
  return (protocol == 1 && sk->config.pin_protocol_1) ||
         (protocol == 2 && sk->config.pin_protocol_2);
}

/* ECDH with the platform's key, then the protocol's KDF. */
static bool
shared_secret_derive (SoftFido2 *sk, int protocol, const cbor_item_t *platform_key, SharedSecret *ret)
{
  _cleanup_pkey_ EVP_PKEY *peer = NULL;
  EVP_PKEY_CTX *ctx;
  uint8_t z[32];
  size_t z_len = sizeof (z);
  bool ok;

  peer = cose_key_decode (platform_key);
  if (peer == NULL)
    return false;

  ctx = EVP_PKEY_CTX_new (sk->key_agreement, NULL);
  if (ctx == NULL)
    return false;
  ok = EVP_PKEY_derive_init (ctx) == 1 &&
       EVP_PKEY_derive_set_peer (ctx, peer) == 1 &&
       EVP_PKEY_derive (ctx, z, &z_len) == 1 && z_len == 32;
  EVP_PKEY_CTX_free (ctx);
  if (!ok)
    return false;

  ret->protocol = protocol;
  if (protocol == 1)
    {
      sha256 (z, 32, ret->hmac_key);
      memcpy (ret->aes_key, ret->hmac_key, 32);
    }
  else
    ok = hkdf_sha256 (z, 32, "CTAP2 HMAC key", ret->hmac_key) &&
         hkdf_sha256 (z, 32, "CTAP2 AES key", ret->aes_key);
  OPENSSL_cleanse (z, sizeof (z));
  return ok;
}

/* Protocol 1: IV of zeros. Protocol 2: a random IV, prepended. */
static bool
pp_encrypt (const SharedSecret *s, const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
  static const uint8_t zero_iv[16] = { 0 };
  size_t off = s->protocol == 2 ? 16 : 0;
  uint8_t *out = malloc (len + off);

  if (out == NULL)
    return false;
  if (s->protocol == 2 && RAND_bytes (out, 16) != 1)
    {
      free (out);
      return false;
    }
  if (!aes256_cbc (s->aes_key, off ? out : zero_iv, in, len, out + off, true))
    {
      free (out);
      return false;
    }
  *ret = out;
  *ret_len = len + off;
  return true;
}

static bool
pp_decrypt (const SharedSecret *s, const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
  static const uint8_t zero_iv[16] = { 0 };
  const uint8_t *iv = zero_iv;
  uint8_t *out;

  if (s->protocol == 2)
    {
      if (len < 16)
        return false;
      iv = in;
      in += 16;
      len -= 16;
    }
  out = malloc (len ? len : 1);
  if (out == NULL)
    return false;
  if (!aes256_cbc (s->aes_key, iv, in, len, out, false))
    {
      free (out);
      return false;
    }
  *ret = out;
  *ret_len = len;
  return true;
}

/* Checks an authentication tag: 16 bytes for protocol 1, 32 for 2. */
static bool
pp_verify (int protocol, const uint8_t *key, const uint8_t *msg, size_t msg_len,
           const uint8_t *tag, size_t tag_len)
{
  uint8_t mac[32];
  size_t want = protocol == 1 ? 16 : 32;
  bool ok;

  if (tag_len != want || !hmac_sha256 (key, 32, msg, msg_len, mac))
    return false;
  ok = CRYPTO_memcmp (mac, tag, want) == 0;
  OPENSSL_cleanse (mac, sizeof (mac));
  return ok;
}

/* ---- credential wrapping ---- */

typedef struct {
  uint8_t rp_id_hash[32];
  uint8_t cred_protect;
  uint8_t cred_random_uv[32];
  uint8_t cred_random_no_uv[32];
  EVP_PKEY *key;
} Credential;

static void
credential_done (Credential *c)
{
  EVP_PKEY_free (c->key);
  OPENSSL_cleanse (c, sizeof (*c));
}

static bool
credential_wrap (SoftFido2 *sk, const Credential *c, uint8_t **ret, size_t *ret_len)
{
  unsigned char *der = NULL;
  uint8_t *plain = NULL, *out = NULL;
  size_t plain_len, out_len;
  EVP_CIPHER_CTX *ctx = NULL;
  int der_len, n = 0, m = 0;
  bool ok = false;

  der_len = i2d_PrivateKey (c->key, &der);
  if (der_len <= 0)
    return false;

  plain_len = 32 + 1 + 32 + 32 + (size_t) der_len;
  plain = malloc (plain_len);
  out_len = WRAP_NONCE_LEN + plain_len + WRAP_TAG_LEN;
  out = malloc (out_len);
  if (plain == NULL || out == NULL)
    goto finish;
  memcpy (plain, c->rp_id_hash, 32);
  plain[32] = c->cred_protect;
  memcpy (plain + 33, c->cred_random_uv, 32);
  memcpy (plain + 65, c->cred_random_no_uv, 32);
  memcpy (plain + 97, der, (size_t) der_len);

  if (RAND_bytes (out, WRAP_NONCE_LEN) != 1)
    goto finish;
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx == NULL ||
      EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, sk->master_key, out) != 1 ||
      EVP_EncryptUpdate (ctx, out + WRAP_NONCE_LEN, &n, plain, (int) plain_len) != 1 ||
      EVP_EncryptFinal_ex (ctx, out + WRAP_NONCE_LEN + n, &m) != 1 ||
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, WRAP_TAG_LEN, out + WRAP_NONCE_LEN + plain_len) != 1)
    goto finish;

  *ret = out;
  *ret_len = out_len;
  out = NULL;
  ok = true;
finish:
  EVP_CIPHER_CTX_free (ctx);
  if (plain != NULL)
    OPENSSL_cleanse (plain, plain_len);
  free (plain);
  free (out);
  OPENSSL_clear_free (der, (size_t) der_len);
  return ok;
}

static bool
credential_unwrap (SoftFido2 *sk, const uint8_t *id, size_t id_len, Credential *ret)
{
  uint8_t *plain;
  size_t plain_len;
  const unsigned char *p;
  EVP_CIPHER_CTX *ctx;
  int n = 0, m = 0;
  bool ok;

  if (id_len <= WRAP_NONCE_LEN + WRAP_TAG_LEN + 97)
    return false;
  plain_len = id_len - WRAP_NONCE_LEN - WRAP_TAG_LEN;
  plain = malloc (plain_len);
  if (plain == NULL)
    return false;

  ctx = EVP_CIPHER_CTX_new ();
  ok = ctx != NULL &&
       EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, sk->master_key, id) == 1 &&
       EVP_DecryptUpdate (ctx, plain, &n, id + WRAP_NONCE_LEN, (int) plain_len) == 1 &&
       EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, WRAP_TAG_LEN,
                            (void *) (id + WRAP_NONCE_LEN + plain_len)) == 1 &&
       EVP_DecryptFinal_ex (ctx, plain + n, &m) == 1;
  EVP_CIPHER_CTX_free (ctx);

  if (ok)
    {
      memset (ret, 0, sizeof (*ret));
      memcpy (ret->rp_id_hash, plain, 32);
      ret->cred_protect = plain[32];
      memcpy (ret->cred_random_uv, plain + 33, 32);
      memcpy (ret->cred_random_no_uv, plain + 65, 32);
      p = plain + 97;
      ret->key = d2i_PrivateKey (EVP_PKEY_EC, NULL, &p, (long) (plain_len - 97));
      ok = ret->key != NULL;
    }
  OPENSSL_cleanse (plain, plain_len);
  free (plain);
  return ok;
}

static bool
es256_sign (EVP_PKEY *key, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
            uint8_t **ret, size_t *ret_len)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  uint8_t *sig = NULL;
  size_t sig_len = 0;
  bool ok;

  ok = ctx != NULL &&
       EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, key) == 1 &&
       EVP_DigestSignUpdate (ctx, a, a_len) == 1 &&
       EVP_DigestSignUpdate (ctx, b, b_len) == 1 &&
       EVP_DigestSignFinal (ctx, NULL, &sig_len) == 1 &&
       (sig = malloc (sig_len)) != NULL &&
       EVP_DigestSignFinal (ctx, sig, &sig_len) == 1;
  EVP_MD_CTX_free (ctx);
  if (!ok)
    {
      free (sig);
      return false;
    }
  *ret = sig;
  *ret_len = sig_len;
  return true;
}

/* ---- user presence and PIN tokens ---- */

static uint8_t
user_presence (SoftFido2 *sk)
{
  if (sk->config.presence == SOFT_FIDO2_PRESENCE_ALWAYS)
    {
      sk->touches_used++;
      return ST_OK;
    }
  if (sk->touches_armed > 0)
    {
      sk->touches_armed--;
      sk->touches_used++;
      return ST_OK;
    }
  sk->cancelled = false;
  if (sk->wait_touch != NULL && sk->wait_touch (sk, sk->wait_touch_userdata))
    {
      if (sk->touches_armed > 0)
        sk->touches_armed--;
      sk->touches_used++;
      return ST_OK;
    }
  return sk->cancelled ? ST_KEEPALIVE_CANCEL : ST_USER_ACTION_TIMEOUT;
}

/* Verifies pinUvAuthParam over the client data hash with the current token. */
static uint8_t
check_pin_uv_auth (SoftFido2 *sk, const cbor_item_t *param, const cbor_item_t *protocol_item,
                   const uint8_t *cdh, size_t cdh_len, uint8_t permission, const char *rp_id)
{
  const uint8_t *tag;
  size_t tag_len;
  uint64_t protocol;

  if (!get_uint (protocol_item, &protocol))
    return ST_MISSING_PARAMETER;
  if (!protocol_supported (sk, protocol))
    return ST_INVALID_PARAMETER;
  if (!get_bytes (param, &tag, &tag_len))
    return ST_CBOR_UNEXPECTED_TYPE;
  if (!sk->pin_set)
    return ST_PIN_NOT_SET;
  if (!sk->pin_token_valid ||
      !pp_verify ((int) protocol, sk->pin_token, cdh, cdh_len, tag, tag_len))
    return ST_PIN_AUTH_INVALID;
  if ((sk->pin_token_permissions & permission) == 0)
    return ST_PIN_AUTH_INVALID;
  if (sk->pin_token_rp_id != NULL && strcmp (sk->pin_token_rp_id, rp_id) != 0)
    return ST_PIN_AUTH_INVALID;
  if (sk->pin_token_rp_id == NULL)
    sk->pin_token_rp_id = strdup (rp_id);
  return ST_OK;
}

static void
reset_pin_token (SoftFido2 *sk)
{
  RAND_bytes (sk->pin_token, sizeof (sk->pin_token));
  sk->pin_token_valid = false;
  sk->pin_token_permissions = 0;
  free (sk->pin_token_rp_id);
  sk->pin_token_rp_id = NULL;
}

static bool
regenerate_key_agreement (SoftFido2 *sk)
{
  EVP_PKEY_free (sk->key_agreement);
  sk->key_agreement = p256_generate ();
  return sk->key_agreement != NULL;
}

/* ---- authenticatorGetInfo ---- */

static int
get_info (SoftFido2 *sk, uint8_t **ret, size_t *ret_len)
{
  _cleanup_cbor_ cbor_item_t *m = cbor_new_definite_map (6);
  cbor_item_t *versions, *extensions, *options, *protocols;

  if (m == NULL)
    return -ENOMEM;

  versions = cbor_new_definite_array (2);
  cbor_array_push (versions, cbor_move (cbor_build_string ("FIDO_2_0")));
  if (sk->config.ctap21)
    cbor_array_push (versions, cbor_move (cbor_build_string ("FIDO_2_1")));
  map_add (m, build_int (1), versions);

  extensions = cbor_new_definite_array (2);
  cbor_array_push (extensions, cbor_move (cbor_build_string ("credProtect")));
  if (sk->config.hmac_secret)
    cbor_array_push (extensions, cbor_move (cbor_build_string ("hmac-secret")));
  map_add (m, build_int (2), extensions);

  map_add (m, build_int (3), cbor_build_bytestring (sk->aaguid, sizeof (sk->aaguid)));

  /* canonical order: by length, then bytewise */
  options = cbor_new_definite_map (5);
  map_add (options, cbor_build_string ("rk"), cbor_build_bool (false));
  map_add (options, cbor_build_string ("up"), cbor_build_bool (true));
  map_add (options, cbor_build_string ("plat"), cbor_build_bool (false));
  map_add (options, cbor_build_string ("clientPin"), cbor_build_bool (sk->pin_set));
  if (sk->config.ctap21)
    map_add (options, cbor_build_string ("pinUvAuthToken"), cbor_build_bool (true));
  map_add (m, build_int (4), options);

  map_add (m, build_int (5), build_int (1200));

  protocols = cbor_new_definite_array (2);
  if (sk->config.pin_protocol_2)
    cbor_array_push (protocols, cbor_move (build_int (2)));
  if (sk->config.pin_protocol_1)
    cbor_array_push (protocols, cbor_move (build_int (1)));
  map_add (m, build_int (6), protocols);

  return respond (ST_OK, m, ret, ret_len);
}

/* ---- authenticatorClientPIN ---- */

static uint8_t
pin_check_blocked (SoftFido2 *sk)
{
  if (sk->pin_retries <= 0)
    return ST_PIN_BLOCKED;
  if (sk->pin_consecutive_failures >= 3)
    return ST_PIN_AUTH_BLOCKED;
  return ST_OK;
}

static int
client_pin (SoftFido2 *sk, const cbor_item_t *req, uint8_t **ret, size_t *ret_len)
{
  uint64_t protocol = 0, subcommand;
  SharedSecret ss = { 0 };
  uint8_t status;
  int r;

  if (!get_uint (map_get_int (req, 2), &subcommand))
    return respond (ST_MISSING_PARAMETER, NULL, ret, ret_len);

  if (subcommand == 0x01)       /* getPINRetries */
    {
      _cleanup_cbor_ cbor_item_t *m = cbor_new_definite_map (1);
      map_add (m, build_int (3), build_int (sk->pin_retries));
      return respond (ST_OK, m, ret, ret_len);
    }

  if (!get_uint (map_get_int (req, 1), &protocol))
    return respond (ST_MISSING_PARAMETER, NULL, ret, ret_len);
  if (!protocol_supported (sk, protocol))
    return respond (ST_INVALID_PARAMETER, NULL, ret, ret_len);

  if (subcommand == 0x02)       /* getKeyAgreement */
    {
      _cleanup_cbor_ cbor_item_t *m = cbor_new_definite_map (1);
      if (!map_add (m, build_int (1), cose_key_encode (sk->key_agreement, COSE_ECDH_ES_HKDF_256)))
        return respond (ST_OTHER, NULL, ret, ret_len);
      return respond (ST_OK, m, ret, ret_len);
    }

  if (!shared_secret_derive (sk, (int) protocol, map_get_int (req, 3), &ss))
    return respond (ST_INVALID_PARAMETER, NULL, ret, ret_len);

  if (subcommand == 0x03)       /* setPIN */
    {
      const uint8_t *new_pin_enc, *tag;
      size_t new_pin_enc_len, tag_len, pin_len;
      uint8_t *padded = NULL;
      size_t padded_len = 0;

      if (!get_bytes (map_get_int (req, 5), &new_pin_enc, &new_pin_enc_len) ||
          !get_bytes (map_get_int (req, 4), &tag, &tag_len))
        status = ST_MISSING_PARAMETER;
      else if (sk->pin_set)
        status = ST_NOT_ALLOWED;
      else if (!pp_verify ((int) protocol, ss.hmac_key, new_pin_enc, new_pin_enc_len, tag, tag_len))
        status = ST_PIN_AUTH_INVALID;
      else if (!pp_decrypt (&ss, new_pin_enc, new_pin_enc_len, &padded, &padded_len) || padded_len < 64)
        status = ST_PIN_AUTH_INVALID;
      else
        {
          pin_len = strnlen ((const char *) padded, padded_len);
          if (pin_len < 4 || pin_len > 63)
            status = ST_PIN_POLICY_VIOLATION;
          else
            {
              uint8_t h[32];
              sha256 (padded, pin_len, h);
              memcpy (sk->pin_hash, h, 16);
              OPENSSL_cleanse (h, sizeof (h));
              sk->pin_set = true;
              sk->pin_retries = SOFT_FIDO2_MAX_PIN_RETRIES;
              sk->pin_consecutive_failures = 0;
              status = ST_OK;
            }
        }
      if (padded != NULL)
        OPENSSL_cleanse (padded, padded_len);
      free (padded);
      shared_secret_wipe (&ss);
      return respond (status, NULL, ret, ret_len);
    }

  if (subcommand == 0x05 || subcommand == 0x09)  /* getPinToken, ...UsingPinWithPermissions */
    {
      const uint8_t *pin_hash_enc;
      size_t pin_hash_enc_len;
      uint8_t *pin_hash = NULL, *token_enc = NULL;
      size_t pin_hash_len = 0, token_enc_len = 0;
      uint64_t permissions = PERM_MC | PERM_GA;
      _cleanup_free_sk_ char *rp_id = NULL;

      if (subcommand == 0x09)
        {
          if (!sk->config.ctap21)
            {
              shared_secret_wipe (&ss);
              return respond (ST_INVALID_SUBCOMMAND, NULL, ret, ret_len);
            }
          if (!get_uint (map_get_int (req, 9), &permissions) || permissions == 0)
            {
              shared_secret_wipe (&ss);
              return respond (ST_MISSING_PARAMETER, NULL, ret, ret_len);
            }
          rp_id = get_string (map_get_int (req, 10));
        }

      if (!get_bytes (map_get_int (req, 6), &pin_hash_enc, &pin_hash_enc_len))
        status = ST_MISSING_PARAMETER;
      else if (!sk->pin_set)
        status = ST_PIN_NOT_SET;
      else if ((status = pin_check_blocked (sk)) != ST_OK)
        ;
      else
        {
          /* The retry counter goes down before the comparison, so that
           * pulling the key mid-way does not give a free try. */
          sk->pin_retries--;
          if (!pp_decrypt (&ss, pin_hash_enc, pin_hash_enc_len, &pin_hash, &pin_hash_len) ||
              pin_hash_len != 16 || CRYPTO_memcmp (pin_hash, sk->pin_hash, 16) != 0)
            {
              sk->pin_consecutive_failures++;
              regenerate_key_agreement (sk);
              if (sk->pin_retries <= 0)
                status = ST_PIN_BLOCKED;
              else if (sk->pin_consecutive_failures >= 3)
                status = ST_PIN_AUTH_BLOCKED;
              else
                status = ST_PIN_INVALID;
            }
          else
            {
              sk->pin_retries = SOFT_FIDO2_MAX_PIN_RETRIES;
              sk->pin_consecutive_failures = 0;
              reset_pin_token (sk);
              sk->pin_token_valid = true;
              sk->pin_token_permissions = (uint8_t) permissions;
              sk->pin_token_rp_id = rp_id;
              rp_id = NULL;
              status = pp_encrypt (&ss, sk->pin_token, sizeof (sk->pin_token), &token_enc, &token_enc_len)
                       ? ST_OK : ST_OTHER;
            }
        }
      if (pin_hash != NULL)
        OPENSSL_cleanse (pin_hash, pin_hash_len);
      free (pin_hash);
      shared_secret_wipe (&ss);

      if (status != ST_OK)
        return respond (status, NULL, ret, ret_len);

      {
        _cleanup_cbor_ cbor_item_t *m = cbor_new_definite_map (1);
        map_add (m, build_int (2), cbor_build_bytestring (token_enc, token_enc_len));
        free (token_enc);
        r = respond (ST_OK, m, ret, ret_len);
      }
      return r;
    }

  shared_secret_wipe (&ss);
  return respond (ST_INVALID_SUBCOMMAND, NULL, ret, ret_len);
}

/* ---- authenticatorMakeCredential ---- */

static int
make_credential (SoftFido2 *sk, const cbor_item_t *req, uint8_t **ret, size_t *ret_len)
{
  const cbor_item_t *rp, *user, *params, *ext, *opts, *pin_param;
  const uint8_t *cdh;
  size_t cdh_len;
  _cleanup_free_sk_ char *rp_id = NULL;
  bool alg_ok = false, want_hmac = false, uv = false, b;
  uint64_t cred_protect = 0;
  Credential cred = { 0 };
  uint8_t *cred_id = NULL, *auth_data = NULL, *sig = NULL;
  size_t cred_id_len = 0, auth_data_len = 0, sig_len = 0;
  uint8_t x[32], y[32], status;
  _cleanup_cbor_ cbor_item_t *pub = NULL, *exts = NULL, *att = NULL, *m = NULL;
  unsigned char *pub_buf = NULL, *ext_buf = NULL;
  size_t pub_len = 0, ext_len = 0, alloc;
  int r;

  if (!get_bytes (map_get_int (req, 1), &cdh, &cdh_len) ||
      (rp = map_get_int (req, 2)) == NULL || !cbor_isa_map (rp) ||
      (user = map_get_int (req, 3)) == NULL || !cbor_isa_map (user) ||
      (params = map_get_int (req, 4)) == NULL || !cbor_isa_array (params))
    return respond (ST_MISSING_PARAMETER, NULL, ret, ret_len);

  rp_id = get_string (map_get_str (rp, "id"));
  if (rp_id == NULL)
    return respond (ST_MISSING_PARAMETER, NULL, ret, ret_len);

  for (size_t i = 0; i < cbor_array_size (params); i++)
    {
      cbor_item_t *p = cbor_array_get (params, i);
      const cbor_item_t *alg = map_get_str (p, "alg");
      if (alg != NULL && cbor_isa_negint (alg) && cbor_get_int (alg) == (uint64_t) (-1 - COSE_ES256))
        alg_ok = true;
      cbor_decref (&p);
    }
  if (!alg_ok)
    return respond (ST_UNSUPPORTED_ALGORITHM, NULL, ret, ret_len);

  ext = map_get_int (req, 6);
  if (ext != NULL && cbor_isa_map (ext))
    {
      if (get_bool (map_get_str (ext, "hmac-secret"), &b) && b && sk->config.hmac_secret)
        want_hmac = true;
      if (get_uint (map_get_str (ext, "credProtect"), &cred_protect) &&
          (cred_protect < 1 || cred_protect > 3))
        return respond (ST_INVALID_OPTION, NULL, ret, ret_len);
    }

  opts = map_get_int (req, 7);
  if (opts != NULL && cbor_isa_map (opts))
    {
      if (get_bool (map_get_str (opts, "rk"), &b) && b)
        return respond (ST_UNSUPPORTED_OPTION, NULL, ret, ret_len);
      if (get_bool (map_get_str (opts, "uv"), &b) && b)
        return respond (ST_INVALID_OPTION, NULL, ret, ret_len);
      if (map_get_str (opts, "up") != NULL)
        return respond (ST_INVALID_OPTION, NULL, ret, ret_len);
    }

  pin_param = map_get_int (req, 8);
  if (pin_param != NULL)
    {
      status = check_pin_uv_auth (sk, pin_param, map_get_int (req, 9), cdh, cdh_len, PERM_MC, rp_id);
      if (status != ST_OK)
        return respond (status, NULL, ret, ret_len);
      uv = true;
    }
  else if (sk->pin_set)
    return respond (ST_PIN_REQUIRED, NULL, ret, ret_len);

  status = user_presence (sk);
  if (status != ST_OK)
    return respond (status, NULL, ret, ret_len);

  sha256 (rp_id, strlen (rp_id), cred.rp_id_hash);
  cred.cred_protect = (uint8_t) cred_protect;
  cred.key = p256_generate ();
  if (cred.key == NULL ||
      RAND_bytes (cred.cred_random_uv, 32) != 1 ||
      RAND_bytes (cred.cred_random_no_uv, 32) != 1 ||
      !credential_wrap (sk, &cred, &cred_id, &cred_id_len) ||
      !p256_get_xy (cred.key, x, y))
    {
      r = respond (ST_OTHER, NULL, ret, ret_len);
      goto finish;
    }

  pub = cose_key_encode (cred.key, COSE_ES256);
  if (pub == NULL || (pub_len = cbor_serialize_alloc (pub, &pub_buf, &alloc)) == 0)
    {
      r = -ENOMEM;
      goto finish;
    }

  if (want_hmac || cred_protect != 0)
    {
      exts = cbor_new_definite_map (2);
      if (cred_protect != 0)
        map_add (exts, cbor_build_string ("credProtect"), build_int ((int64_t) cred_protect));
      if (want_hmac)
        map_add (exts, cbor_build_string ("hmac-secret"), cbor_build_bool (true));
      if ((ext_len = cbor_serialize_alloc (exts, &ext_buf, &alloc)) == 0)
        {
          r = -ENOMEM;
          goto finish;
        }
    }

  /* rpIdHash | flags | signCount | aaguid | credIdLen | credId | pubkey | extensions */
  auth_data_len = 32 + 1 + 4 + 16 + 2 + cred_id_len + pub_len + ext_len;
  auth_data = malloc (auth_data_len);
  if (auth_data == NULL)
    {
      r = -ENOMEM;
      goto finish;
    }
  {
    uint8_t *p = auth_data;
    uint32_t count = ++sk->sign_count;

    memcpy (p, cred.rp_id_hash, 32); p += 32;
    *p++ = FLAG_UP | (uv ? FLAG_UV : 0) | FLAG_AT | (ext_len ? FLAG_ED : 0);
    *p++ = (uint8_t) (count >> 24); *p++ = (uint8_t) (count >> 16);
    *p++ = (uint8_t) (count >> 8);  *p++ = (uint8_t) count;
    memcpy (p, sk->aaguid, 16); p += 16;
    *p++ = (uint8_t) (cred_id_len >> 8); *p++ = (uint8_t) cred_id_len;
    memcpy (p, cred_id, cred_id_len); p += cred_id_len;
    memcpy (p, pub_buf, pub_len); p += pub_len;
    if (ext_len)
      memcpy (p, ext_buf, ext_len);
  }

  /* "packed" self attestation: signed with the credential key itself. */
  if (!es256_sign (cred.key, auth_data, auth_data_len, cdh, cdh_len, &sig, &sig_len))
    {
      r = respond (ST_OTHER, NULL, ret, ret_len);
      goto finish;
    }
  att = cbor_new_definite_map (2);
  map_add (att, cbor_build_string ("alg"), build_int (COSE_ES256));
  map_add (att, cbor_build_string ("sig"), cbor_build_bytestring (sig, sig_len));

  m = cbor_new_definite_map (3);
  map_add (m, build_int (1), cbor_build_string ("packed"));
  map_add (m, build_int (2), cbor_build_bytestring (auth_data, auth_data_len));
  map_add (m, build_int (3), cbor_incref (att));
  r = respond (ST_OK, m, ret, ret_len);

finish:
  credential_done (&cred);
  free (cred_id);
  free (auth_data);
  free (sig);
  free (pub_buf);
  free (ext_buf);
  return r;
}

/* ---- authenticatorGetAssertion ---- */

/* Computes the encrypted hmac-secret output, or returns a status. */
static uint8_t
hmac_secret_output (SoftFido2 *sk, const cbor_item_t *in, const Credential *cred, bool uv,
                    uint8_t **ret, size_t *ret_len)
{
  const uint8_t *salt_enc, *salt_auth;
  size_t salt_enc_len, salt_auth_len, salts_len = 0;
  uint64_t protocol = 1;
  SharedSecret ss = { 0 };
  uint8_t *salts = NULL, out[64];
  uint8_t status;

  if (!cbor_isa_map (in) ||
      !get_bytes (map_get_int (in, 2), &salt_enc, &salt_enc_len) ||
      !get_bytes (map_get_int (in, 3), &salt_auth, &salt_auth_len))
    return ST_MISSING_PARAMETER;
  if (map_get_int (in, 4) != NULL && !get_uint (map_get_int (in, 4), &protocol))
    return ST_CBOR_UNEXPECTED_TYPE;
  if (!protocol_supported (sk, protocol))
    return ST_INVALID_PARAMETER;
  if (!shared_secret_derive (sk, (int) protocol, map_get_int (in, 1), &ss))
    return ST_INVALID_PARAMETER;

  if (!pp_verify ((int) protocol, ss.hmac_key, salt_enc, salt_enc_len, salt_auth, salt_auth_len))
    status = ST_PIN_AUTH_INVALID;
  else if (!pp_decrypt (&ss, salt_enc, salt_enc_len, &salts, &salts_len) ||
           (salts_len != 32 && salts_len != 64))
    status = ST_INVALID_LENGTH;
  else
    {
      const uint8_t *cr = uv ? cred->cred_random_uv : cred->cred_random_no_uv;
      bool ok = hmac_sha256 (cr, 32, salts, 32, out);
      if (ok && salts_len == 64)
        ok = hmac_sha256 (cr, 32, salts + 32, 32, out + 32);
      status = ok && pp_encrypt (&ss, out, salts_len, ret, ret_len) ? ST_OK : ST_OTHER;
    }

  OPENSSL_cleanse (out, sizeof (out));
  if (salts != NULL)
    OPENSSL_cleanse (salts, salts_len);
  free (salts);
  shared_secret_wipe (&ss);
  return status;
}

static int
get_assertion (SoftFido2 *sk, const cbor_item_t *req, uint8_t **ret, size_t *ret_len)
{
  const cbor_item_t *allow, *ext, *opts, *pin_param, *hmac_in = NULL;
  const uint8_t *cdh, *cred_id = NULL;
  size_t cdh_len, cred_id_len = 0;
  _cleanup_free_sk_ char *rp_id = NULL;
  uint8_t rp_id_hash[32], status;
  bool up = true, uv = false, b, found = false;
  Credential cred = { 0 };
  uint8_t *hmac_enc = NULL, *auth_data = NULL, *sig = NULL;
  size_t hmac_enc_len = 0, auth_data_len, sig_len = 0, ext_len = 0, alloc;
  unsigned char *ext_buf = NULL;
  _cleanup_cbor_ cbor_item_t *m = NULL, *cred_map = NULL;
  int r;

  rp_id = get_string (map_get_int (req, 1));
  if (rp_id == NULL || !get_bytes (map_get_int (req, 2), &cdh, &cdh_len))
    return respond (ST_MISSING_PARAMETER, NULL, ret, ret_len);
  sha256 (rp_id, strlen (rp_id), rp_id_hash);

  opts = map_get_int (req, 5);
  if (opts != NULL && cbor_isa_map (opts))
    {
      if (get_bool (map_get_str (opts, "up"), &b))
        up = b;
      if (get_bool (map_get_str (opts, "uv"), &b) && b)
        return respond (ST_INVALID_OPTION, NULL, ret, ret_len);
      if (get_bool (map_get_str (opts, "rk"), &b))
        return respond (ST_INVALID_OPTION, NULL, ret, ret_len);
    }

  pin_param = map_get_int (req, 6);
  if (pin_param != NULL)
    {
      status = check_pin_uv_auth (sk, pin_param, map_get_int (req, 7), cdh, cdh_len, PERM_GA, rp_id);
      if (status != ST_OK)
        return respond (status, NULL, ret, ret_len);
      uv = true;
    }

  /* No resident credentials: only the allow list can name one. */
  allow = map_get_int (req, 3);
  if (allow != NULL && cbor_isa_array (allow))
    for (size_t i = 0; i < cbor_array_size (allow) && !found; i++)
      {
        cbor_item_t *d = cbor_array_get (allow, i);
        if (cbor_isa_map (d) && get_bytes (map_get_str (d, "id"), &cred_id, &cred_id_len) &&
            credential_unwrap (sk, cred_id, cred_id_len, &cred))
          {
            if (CRYPTO_memcmp (cred.rp_id_hash, rp_id_hash, 32) == 0 &&
                !(cred.cred_protect == 3 && !uv))
              found = true;
            else
              credential_done (&cred);
          }
        cbor_decref (&d);
      }
  if (!found)
    return respond (ST_NO_CREDENTIALS, NULL, ret, ret_len);

  if (up)
    {
      status = user_presence (sk);
      if (status != ST_OK)
        {
          r = respond (status, NULL, ret, ret_len);
          goto finish;
        }
    }

  ext = map_get_int (req, 4);
  if (ext != NULL && cbor_isa_map (ext))
    hmac_in = map_get_str (ext, "hmac-secret");
  if (hmac_in != NULL && sk->config.hmac_secret)
    {
      _cleanup_cbor_ cbor_item_t *exts = cbor_new_definite_map (1);

      status = hmac_secret_output (sk, hmac_in, &cred, uv, &hmac_enc, &hmac_enc_len);
      if (status != ST_OK)
        {
          r = respond (status, NULL, ret, ret_len);
          goto finish;
        }
      map_add (exts, cbor_build_string ("hmac-secret"), cbor_build_bytestring (hmac_enc, hmac_enc_len));
      if ((ext_len = cbor_serialize_alloc (exts, &ext_buf, &alloc)) == 0)
        {
          r = -ENOMEM;
          goto finish;
        }
    }

  auth_data_len = 32 + 1 + 4 + ext_len;
  auth_data = malloc (auth_data_len);
  if (auth_data == NULL)
    {
      r = -ENOMEM;
      goto finish;
    }
  {
    uint8_t *p = auth_data;
    uint32_t count = ++sk->sign_count;

    memcpy (p, rp_id_hash, 32); p += 32;
    *p++ = (up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0) | (ext_len ? FLAG_ED : 0);
    *p++ = (uint8_t) (count >> 24); *p++ = (uint8_t) (count >> 16);
    *p++ = (uint8_t) (count >> 8);  *p++ = (uint8_t) count;
    if (ext_len)
      memcpy (p, ext_buf, ext_len);
  }

  if (!es256_sign (cred.key, auth_data, auth_data_len, cdh, cdh_len, &sig, &sig_len))
    {
      r = respond (ST_OTHER, NULL, ret, ret_len);
      goto finish;
    }

  cred_map = cbor_new_definite_map (2);
  map_add (cred_map, cbor_build_string ("id"), cbor_build_bytestring (cred_id, cred_id_len));
  map_add (cred_map, cbor_build_string ("type"), cbor_build_string ("public-key"));

  m = cbor_new_definite_map (3);
  map_add (m, build_int (1), cbor_incref (cred_map));
  map_add (m, build_int (2), cbor_build_bytestring (auth_data, auth_data_len));
  map_add (m, build_int (3), cbor_build_bytestring (sig, sig_len));
  r = respond (ST_OK, m, ret, ret_len);

finish:
  credential_done (&cred);
  if (hmac_enc != NULL)
    OPENSSL_cleanse (hmac_enc, hmac_enc_len);
  free (hmac_enc);
  free (auth_data);
  free (sig);
  free (ext_buf);
  return r;
}

/* ---- public API ---- */

void
soft_fido2_config_default (SoftFido2Config *config)
{
  *config = (SoftFido2Config) {
    .presence = SOFT_FIDO2_PRESENCE_ALWAYS,
    .pin_protocol_1 = true,
    .pin_protocol_2 = true,
    .ctap21 = true,
    .hmac_secret = true,
  };
}

SoftFido2 *
soft_fido2_new (const SoftFido2Config *config)
{
  SoftFido2 *sk = calloc (1, sizeof (*sk));

  if (sk == NULL)
    return NULL;
  if (config != NULL)
    sk->config = *config;
  else
    soft_fido2_config_default (&sk->config);

  if (RAND_bytes (sk->aaguid, sizeof (sk->aaguid)) != 1 ||
      RAND_bytes (sk->master_key, sizeof (sk->master_key)) != 1 ||
      !regenerate_key_agreement (sk))
    {
      soft_fido2_free (sk);
      return NULL;
    }
  sk->pin_retries = SOFT_FIDO2_MAX_PIN_RETRIES;
  reset_pin_token (sk);
  return sk;
}

void
soft_fido2_free (SoftFido2 *sk)
{
  if (sk == NULL)
    return;
  EVP_PKEY_free (sk->key_agreement);
  free (sk->pin_token_rp_id);
  OPENSSL_cleanse (sk, sizeof (*sk));
  free (sk);
}

int
soft_fido2_set_pin_direct (SoftFido2 *sk, const char *pin)
{
  uint8_t h[32];

  if (strlen (pin) < 4 || strlen (pin) > 63)
    return -EINVAL;
  sha256 (pin, strlen (pin), h);
  memcpy (sk->pin_hash, h, 16);
  sk->pin_set = true;
  sk->pin_retries = SOFT_FIDO2_MAX_PIN_RETRIES;
  sk->pin_consecutive_failures = 0;
  return 0;
}

int
soft_fido2_get_pin_retries (SoftFido2 *sk)
{
  return sk->pin_retries;
}

void
soft_fido2_power_cycle (SoftFido2 *sk)
{
  regenerate_key_agreement (sk);
  reset_pin_token (sk);
  sk->pin_consecutive_failures = 0;
}

void
soft_fido2_touch (SoftFido2 *sk, unsigned n)
{
  sk->touches_armed += n;
}

unsigned
soft_fido2_get_touches_used (SoftFido2 *sk)
{
  return sk->touches_used;
}

void
soft_fido2_set_wait_touch (SoftFido2 *sk, SoftFido2WaitTouchFunc func, void *userdata)
{
  sk->wait_touch = func;
  sk->wait_touch_userdata = userdata;
}

void
soft_fido2_cancel (SoftFido2 *sk)
{
  sk->cancelled = true;
}

bool
soft_fido2_is_cancelled (SoftFido2 *sk)
{
  return sk->cancelled;
}

int
soft_fido2_handle_cbor (SoftFido2 *sk, const uint8_t *req, size_t req_len,
                        uint8_t **ret_resp, size_t *ret_resp_len)
{
  _cleanup_cbor_ cbor_item_t *params = NULL;
  struct cbor_load_result res;

  if (req_len < 1)
    return respond (ST_INVALID_LENGTH, NULL, ret_resp, ret_resp_len);

  if (req[0] == CMD_GET_INFO)
    return get_info (sk, ret_resp, ret_resp_len);

  if (req_len > 1)
    {
      params = cbor_load (req + 1, req_len - 1, &res);
      if (params == NULL || res.error.code != CBOR_ERR_NONE)
        return respond (ST_INVALID_CBOR, NULL, ret_resp, ret_resp_len);
      if (!cbor_isa_map (params))
        return respond (ST_CBOR_UNEXPECTED_TYPE, NULL, ret_resp, ret_resp_len);
    }
  else
    return respond (ST_MISSING_PARAMETER, NULL, ret_resp, ret_resp_len);

  switch (req[0])
    {
    case CMD_MAKE_CREDENTIAL:
      return make_credential (sk, params, ret_resp, ret_resp_len);
    case CMD_GET_ASSERTION:
      return get_assertion (sk, params, ret_resp, ret_resp_len);
    case CMD_CLIENT_PIN:
      return client_pin (sk, params, ret_resp, ret_resp_len);
    default:
      return respond (ST_INVALID_COMMAND, NULL, ret_resp, ret_resp_len);
    }
}

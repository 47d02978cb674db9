/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "creds.h"
#include "random.h"
#include "secret.h"

/* Key types (creds-util.h): CRED_AES256_GCM_BY_TPM2_HMAC and
 * CRED_AES256_GCM_BY_TPM2_ABSENT (the "null" key). */
static const uint8_t ID_TPM2_HMAC[16] = { 0x0c, 0x7c, 0xc0, 0x7b, 0x11, 0x76, 0x45, 0x91,
                                          0x9c, 0x4b, 0x0b, 0xea, 0x08, 0xbc, 0x20, 0xfe };
static const uint8_t ID_TPM2_ABSENT[16] = { 0x05, 0x84, 0x69, 0xda, 0xf6, 0xf5, 0x43, 0x24,
                                            0x80, 0x05, 0x49, 0xda, 0x0f, 0x8e, 0xa2, 0xfb };

#define KEY_SIZE 32
#define IV_SIZE 12
#define TAG_SIZE 16
#define NAME_MAX_LEN 255
#define PAYLOAD_MAX (1024 * 1024)
#define ALIGN8(n) (((n) + 7) & ~(size_t) 7)

static void
put_le16 (GByteArray *b, uint16_t v)
{
  v = htole16 (v);
  g_byte_array_append (b, (const guint8 *) &v, sizeof v);
}

static void
put_le32 (GByteArray *b, uint32_t v)
{
  v = htole32 (v);
  g_byte_array_append (b, (const guint8 *) &v, sizeof v);
}

static void
put_le64 (GByteArray *b, uint64_t v)
{
  v = htole64 (v);
  g_byte_array_append (b, (const guint8 *) &v, sizeof v);
}

static void
pad8 (GByteArray *b)
{
  static const guint8 zeros[8];

  g_byte_array_append (b, zeros, ALIGN8 (b->len) - b->len);
}

/* The clear part: main header, and the TPM2 header when sealed. */
static void
clear_headers (GByteArray *out, const ImprintTpm2Sealed *sealed, const uint8_t iv[IV_SIZE])
{
  g_byte_array_append (out, sealed ? ID_TPM2_HMAC : ID_TPM2_ABSENT, 16);
  put_le32 (out, KEY_SIZE);
  put_le32 (out, 1);            /* AES-GCM is a stream mode: block size 1 */
  put_le32 (out, IV_SIZE);
  put_le32 (out, TAG_SIZE);
  g_byte_array_append (out, iv, IV_SIZE);
  pad8 (out);
  if (sealed == NULL)
    return;
  put_le64 (out, sealed->pcr_mask);
  put_le16 (out, sealed->pcr_bank);
  put_le16 (out, sealed->primary_alg);
  put_le32 (out, (uint32_t) sealed->blob_size);
  put_le32 (out, (uint32_t) sealed->policy_hash_size);
  g_byte_array_append (out, sealed->blob, sealed->blob_size);
  g_byte_array_append (out, sealed->policy_hash, sealed->policy_hash_size);
  pad8 (out);
}

/* The metadata header that starts the plaintext. */
static GByteArray *
metadata (const char *name)
{
  GByteArray *m = g_byte_array_new ();
  size_t len = strlen (name);

  put_le64 (m, UINT64_MAX);     /* timestamp: none */
  put_le64 (m, UINT64_MAX);     /* not_after: none */
  put_le32 (m, (uint32_t) len);
  g_byte_array_append (m, (const guint8 *) name, len);
  pad8 (m);
  return m;
}

static int
gcm_encrypt (const uint8_t key[KEY_SIZE], const uint8_t iv[IV_SIZE], GByteArray *out,
             GByteArray *meta, const void *data, size_t size)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  size_t aad = out->len;
  int n = 0, r = -EIO;

  if (ctx == NULL)
    return -ENOMEM;
  /* Room for the ciphertext (as long as the plaintext) and the tag. */
  g_byte_array_set_size (out, aad + meta->len + size + TAG_SIZE);
  if (EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_IVLEN, IV_SIZE, NULL) != 1 ||
      EVP_EncryptInit_ex (ctx, NULL, NULL, key, iv) != 1 ||
      EVP_EncryptUpdate (ctx, NULL, &n, out->data, (int) aad) != 1 ||
      EVP_EncryptUpdate (ctx, out->data + aad, &n, meta->data, (int) meta->len) != 1 || (size_t) n != meta->len ||
      EVP_EncryptUpdate (ctx, out->data + aad + meta->len, &n, data, (int) size) != 1 || (size_t) n != size ||
      EVP_EncryptFinal_ex (ctx, out->data + aad + meta->len + size, &n) != 1 || n != 0 ||
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, out->data + aad + meta->len + size) != 1)
    goto out;
  r = 0;
out:
  EVP_CIPHER_CTX_free (ctx);
  return r;
}

int
imprint_creds_encrypt (const char *name, const void *data, size_t size, ImprintTpm2 *tpm, char **ret)
{
  ImprintTpm2Sealed sealed = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) meta = NULL;
  uint8_t iv[IV_SIZE], *key;
  unsigned int key_len = 0;
  int r;

  if (name == NULL || *name == '\0' || strlen (name) > NAME_MAX_LEN || strchr (name, '/') != NULL ||
      (data == NULL && size > 0) || size > PAYLOAD_MAX || ret == NULL)
    return -EINVAL;
  key = imprint_secret_alloc (KEY_SIZE);
  if (key == NULL)
    return -ENOMEM;
  r = imprint_random_bytes (iv, sizeof iv);
  /* No PCRs: the seal opens whatever booted, on this TPM only. */
  if (r >= 0 && tpm != NULL)
    r = imprint_tpm2_seal (tpm, 0, 0, NULL, &sealed);
  /* The AES key: SHA-256 of the TPM2 secret, or of nothing (null key). */
  if (r >= 0 && EVP_Digest (tpm ? sealed.secret : NULL, tpm ? sealed.secret_size : 0, key, &key_len,
                            EVP_sha256 (), NULL) != 1)
    r = -EIO;
  if (r >= 0)
    {
      clear_headers (out, tpm ? &sealed : NULL, iv);
      meta = metadata (name);
      r = gcm_encrypt (key, iv, out, meta, data, size);
    }
  if (r >= 0)
    *ret = g_base64_encode (out->data, out->len);
  imprint_secret_free (key);
  imprint_tpm2_sealed_done (&sealed);
  return r;
}

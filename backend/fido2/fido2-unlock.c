/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unlocking with a FIDO2 key: an hmac-secret assertion over the stored
 * salt (the token JSON comes from a disk header: bounded and checked),
 * and the secret as the passphrase systemd-cryptsetup derives. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "json-bounded.h"
#include "imprint-fido2.h"
#include "fido2-private.h"
#include "macros.h"
#include "secret.h"

static int
op_get_assert (fido_dev_t *dev, const char *pin, void *data)
{
  return fido_dev_get_assert (dev, data, pin);
}

int
imprint_fido2_assert_set_basics (fido_assert_t *a, const char *rp_id, const void *cid, size_t cid_size,
                   const void *salt, size_t salt_size)
{
  int r;

  if ((r = fido_assert_set_extensions (a, FIDO_EXT_HMAC_SECRET)) != FIDO_OK ||
      (r = fido_assert_set_hmac_salt (a, salt, salt_size)) != FIDO_OK ||
      (r = fido_assert_set_rp (a, rp_id)) != FIDO_OK ||
      (r = fido_assert_set_clientdata_hash (a, zero_client_data_hash, sizeof (zero_client_data_hash))) != FIDO_OK ||
      (r = fido_assert_allow_cred (a, cid, cid_size)) != FIDO_OK)
    return imprint_fido2_fido_fail ("assertion parameters", r);
  return 0;
}

/* Runs the hmac-secret assertion like systemd. Presence and PIN the key asks
 * for are switched on (and added to *io_lock) when `if_needed` allows it:
 * enrollment always does; at boot systemd does only for fields missing from
 * the token (tokens from v248), so an explicit "false" fails there too. */
int
imprint_fido2_hmac_assertion (fido_dev_t *dev, const ImprintFido2Features *f, fido_assert_t *a, const ImprintFido2Prompter *p,
                ImprintFido2LockFlags *io_lock, char **io_pin, ImprintFido2LockFlags if_needed)
{
  const char *touch = _("Please touch the security key.");
  int r, fr;

  if (f->up && (r = fido_assert_set_up (a, (*io_lock & IMPRINT_FIDO2_LOCK_UP) ? FIDO_OPT_TRUE : FIDO_OPT_FALSE)) != FIDO_OK)
    return imprint_fido2_fido_fail ("set up", r);
  if (f->uv && (r = fido_assert_set_uv (a, (*io_lock & IMPRINT_FIDO2_LOCK_UV) ? FIDO_OPT_TRUE : FIDO_OPT_FALSE)) != FIDO_OK)
    return imprint_fido2_fido_fail ("set uv", r);

  for (;;)
    {
      if (*io_lock & IMPRINT_FIDO2_LOCK_PIN)
        {
          r = imprint_fido2_run_with_pin (dev, p, (*io_lock & IMPRINT_FIDO2_LOCK_UP) ? touch : NULL,
                            op_get_assert, a, io_pin, &fr);
          if (r < 0)
            return r;
        }
      else
        {
          if (*io_lock & IMPRINT_FIDO2_LOCK_UP)
            {
              r = imprint_fido2_notify_touch (p, touch);
              if (r < 0)
                return r;
            }
          fr = fido_dev_get_assert (dev, a, NULL);
        }

      if ((fr == FIDO_ERR_UP_REQUIRED || fr == FIDO_ERR_UNSUPPORTED_OPTION) &&
          f->up && (if_needed & IMPRINT_FIDO2_LOCK_UP) && !(*io_lock & IMPRINT_FIDO2_LOCK_UP))
        {
          /* some keys do not allow switching presence off */
          if ((r = fido_assert_set_up (a, FIDO_OPT_TRUE)) != FIDO_OK)
            return imprint_fido2_fido_fail ("set up", r);
          *io_lock |= IMPRINT_FIDO2_LOCK_UP;
          continue;
        }
      if (fr == FIDO_ERR_PIN_REQUIRED && f->client_pin && (if_needed & IMPRINT_FIDO2_LOCK_PIN) &&
          !(*io_lock & IMPRINT_FIDO2_LOCK_PIN))
        {
          *io_lock |= IMPRINT_FIDO2_LOCK_PIN;
          continue;
        }
      break;
    }

  if (fr != FIDO_OK)
    return imprint_fido2_fido_fail ("getAssertion", fr);
  if (fido_assert_hmac_secret_ptr (a, 0) == NULL || fido_assert_hmac_secret_len (a, 0) == 0)
    return -EIO;
  return 0;
}

/* ---- unlocking ---- */

/* systemd's pre-flight: a silent assertion tells whether the credential is
 * on this key at all, before bothering the user. */
static int
preflight (fido_dev_t *dev, const ImprintFido2Features *f, const char *rp_id, const void *cid, size_t cid_size)
{
  _cleanup_(imprint_fido2_fido_assert_freep) fido_assert_t *a = fido_assert_new ();
  int fr;

  if (a == NULL)
    return -ENOMEM;
  if ((fr = fido_assert_set_rp (a, rp_id)) != FIDO_OK ||
      (fr = fido_assert_set_clientdata_hash (a, zero_client_data_hash, sizeof (zero_client_data_hash))) != FIDO_OK ||
      (fr = fido_assert_allow_cred (a, cid, cid_size)) != FIDO_OK ||
      (fr = fido_assert_set_up (a, f->up ? FIDO_OPT_FALSE : FIDO_OPT_OMIT)) != FIDO_OK)
    return imprint_fido2_fido_fail ("pre-flight parameters", fr);

  fr = fido_dev_get_assert (dev, a, NULL);
  if (fr == FIDO_OK)
    return 0;
  return imprint_fido2_fido_fail ("pre-flight", fr);
}

static int
unlock_internal (fido_dev_t *given, const char *path, const char *rp_id,
                 const void *credential_id, size_t credential_id_size,
                 const void *salt, size_t salt_size, ImprintFido2LockFlags lock_with,
                 ImprintFido2LockFlags if_needed, ImprintFido2PromptFunc prompt, void *userdata,
                 uint8_t **ret_secret, size_t *ret_secret_size)
{
  _cleanup_fido_dev_ fido_dev_t *owned = NULL;
  _cleanup_(imprint_fido2_fido_assert_freep) fido_assert_t *a = NULL;
  _cleanup_secret_ char *pin = NULL;
  ImprintFido2Prompter p = { prompt, userdata };
  ImprintFido2LockFlags lock = lock_with;
  fido_dev_t *dev;
  uint8_t *secret;
  size_t size;
  ImprintFido2Features f;
  int r;

  g_return_val_if_fail (rp_id != NULL && credential_id != NULL && credential_id_size > 0, -EINVAL);
  g_return_val_if_fail (salt != NULL && salt_size > 0, -EINVAL);
  g_return_val_if_fail (ret_secret != NULL && ret_secret_size != NULL, -EINVAL);

  r = imprint_fido2_acquire_hmac_device (given, path, &owned, &dev, &f);
  if (r < 0)
    return r;
  if (((lock & IMPRINT_FIDO2_LOCK_PIN) && !f.client_pin) ||
      ((lock & IMPRINT_FIDO2_LOCK_UP) && !f.up) ||
      ((lock & IMPRINT_FIDO2_LOCK_UV) && !f.uv))
    return -EHWPOISON;

  /* Keys may refuse silent requests that need verification. */
  if (!(lock & IMPRINT_FIDO2_LOCK_UV))
    {
      r = preflight (dev, &f, rp_id, credential_id, credential_id_size);
      if (r < 0)
        return r;
    }

  a = fido_assert_new ();
  if (a == NULL)
    return -ENOMEM;
  r = imprint_fido2_assert_set_basics (a, rp_id, credential_id, credential_id_size, salt, salt_size);
  if (r < 0)
    return r;
  r = imprint_fido2_hmac_assertion (dev, &f, a, &p, &lock, &pin, if_needed);
  if (r < 0)
    return r;

  size = fido_assert_hmac_secret_len (a, 0);
  /* libfido2 keeps its own copy, freed (and wiped) with the assertion. */
  secret = imprint_secret_alloc (size);
  if (secret == NULL)
    return -ENOMEM;
  memcpy (secret, fido_assert_hmac_secret_ptr (a, 0), size);
  *ret_secret = secret;
  *ret_secret_size = size;
  return 0;
}

int
imprint_fido2_unlock (fido_dev_t *dev, const char *path, const char *rp_id,
                      const void *credential_id, size_t credential_id_size,
                      const void *salt, size_t salt_size, ImprintFido2LockFlags lock_with,
                      ImprintFido2PromptFunc prompt, void *userdata,
                      uint8_t **ret_secret, size_t *ret_secret_size)
{
  return unlock_internal (dev, path, rp_id, credential_id, credential_id_size, salt, salt_size,
                          lock_with, 0, prompt, userdata, ret_secret, ret_secret_size);
}

static int
json_get_bool (JsonObject *o, const char *key, bool *ret)
{
  JsonNode *n = json_object_get_member (o, key);

  if (n == NULL)
    return 0;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return -EINVAL;
  *ret = json_node_get_boolean (n);
  return 1;
}

static int
json_get_base64 (JsonObject *o, const char *key, guchar **ret, gsize *ret_size)
{
  JsonNode *n = json_object_get_member (o, key);
  const char *s;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return -EINVAL;
  s = json_node_get_string (n);
  if (s == NULL || s[0] == '\0')
    return -EINVAL;
  *ret = g_base64_decode (s, ret_size);
  return *ret_size > 0 ? 0 : -EINVAL;
}

int
imprint_fido2_unlock_luks_token (fido_dev_t *dev, const char *path, const char *token_json,
                                 ImprintFido2PromptFunc prompt, void *userdata, char **ret_passphrase)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree guchar *cid = NULL, *salt = NULL;
  gsize cid_size = 0, salt_size = 0;
  ImprintFido2LockFlags lock = 0, if_needed = 0;
  const char *rp_id = IMPRINT_FIDO2_RP_ID_LUKS;
  uint8_t *secret = NULL;
  size_t secret_size = 0;
  JsonObject *o;
  JsonNode *n;
  bool b;
  int r;

  g_return_val_if_fail (token_json != NULL && ret_passphrase != NULL, -EINVAL);

  /* The token comes from the disk's LUKS2 header. */
  o = imprint_json_parse_object (token_json, -1, IMPRINT_JSON_MAX_BYTES, &root, NULL);
  if (o == NULL)
    return -EINVAL;
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "type", NULL), IMPRINT_FIDO2_TOKEN_TYPE) != 0)
    return -EMEDIUMTYPE;
  if (json_get_base64 (o, "fido2-credential", &cid, &cid_size) < 0 ||
      json_get_base64 (o, "fido2-salt", &salt, &salt_size) < 0)
    return -EINVAL;
  n = json_object_get_member (o, "fido2-rp");
  if (n != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return -EINVAL;
      rp_id = json_node_get_string (n);
    }
  /* A missing flag means "if the key asks", as systemd reads tokens written
   * by v248. */
  if ((r = json_get_bool (o, "fido2-clientPin-required", &b)) < 0)
    return r;
  if (r == 0)
    if_needed |= IMPRINT_FIDO2_LOCK_PIN;
  else if (b)
    lock |= IMPRINT_FIDO2_LOCK_PIN;
  if ((r = json_get_bool (o, "fido2-up-required", &b)) < 0)
    return r;
  if (r == 0)
    if_needed |= IMPRINT_FIDO2_LOCK_UP;
  else if (b)
    lock |= IMPRINT_FIDO2_LOCK_UP;
  if ((r = json_get_bool (o, "fido2-uv-required", &b)) < 0)
    return r;
  if (r > 0 && b)
    lock |= IMPRINT_FIDO2_LOCK_UV;

  r = unlock_internal (dev, path, rp_id, cid, cid_size, salt, salt_size, lock, if_needed,
                       prompt, userdata, &secret, &secret_size);
  if (r < 0)
    return r;
  r = imprint_fido2_passphrase (secret, secret_size, ret_passphrase);
  imprint_secret_free (secret);
  return r;
}

/* ---- formats ---- */

int
imprint_fido2_passphrase (const void *secret, size_t secret_size, char **ret)
{
  char *s;
  int n;

  g_return_val_if_fail (secret != NULL && secret_size > 0 && secret_size < 4096, -EINVAL);

  s = imprint_secret_alloc (4 * ((secret_size + 2) / 3) + 1);
  if (s == NULL)
    return -ENOMEM;
  n = EVP_EncodeBlock ((unsigned char *) s, secret, (int) secret_size);
  if (n <= 0)
    {
      imprint_secret_free (s);
      return -EIO;
    }
  s[n] = '\0';
  *ret = s;
  return 0;
}

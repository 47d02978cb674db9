/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Enrolling a FIDO2 key: a new hmac-secret credential and its first
 * secret, and what systemd stores of it (the systemd-fido2 LUKS2 token,
 * homed's fido2HmacSalt entry). */
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

/* ---- enrollment ---- */

static int
op_make_cred (fido_dev_t *dev, const char *pin, void *data)
{
  return fido_dev_make_cred (dev, data, pin);
}

void
imprint_fido2_enrollment_free (ImprintFido2Enrollment *e)
{
  if (e == NULL)
    return;
  free (e->credential_id);
  imprint_secret_free (e->secret);
  imprint_secret_freep (&e->pin);
  free (e->rp_id);
  explicit_bzero (e, sizeof (*e));
  free (e);
}

/* The credential to make: hmac-secret, ES256, not resident, no UV
 * unless the lock asks for it (then credProtect too, where the key knows
 * it). */
static int
new_credential (const ImprintFido2EnrollParams *params, const ImprintFido2Features *f,
                ImprintFido2LockFlags lock, fido_cred_t **ret)
{
  _cleanup_(imprint_fido2_fido_cred_freep) fido_cred_t *c = NULL;
  int fr, ext = FIDO_EXT_HMAC_SECRET;

  c = fido_cred_new ();
  if (c == NULL)
    return -ENOMEM;
  if (lock & IMPRINT_FIDO2_LOCK_UV)
    {
      /* a key without credProtect ignores it */
      ext |= FIDO_EXT_CRED_PROTECT;
      if (fido_cred_set_prot (c, FIDO_CRED_PROT_UV_REQUIRED) != FIDO_OK)
        g_debug ("FIDO2: cannot set credProtect, ignoring");
    }
  if ((fr = fido_cred_set_extensions (c, ext)) != FIDO_OK ||
      (fr = fido_cred_set_rp (c, params->rp_id, params->rp_name)) != FIDO_OK ||
      (fr = fido_cred_set_type (c, COSE_ES256)) != FIDO_OK ||
      (fr = fido_cred_set_user (c, params->user_id, params->user_id_size, params->user_name,
                                params->user_display_name, NULL)) != FIDO_OK ||
      (fr = fido_cred_set_clientdata_hash (c, zero_client_data_hash, sizeof (zero_client_data_hash))) != FIDO_OK ||
      (f->rk && (fr = fido_cred_set_rk (c, FIDO_OPT_FALSE)) != FIDO_OK) ||
      (f->uv && (fr = fido_cred_set_uv (c, FIDO_OPT_FALSE)) != FIDO_OK))
    return imprint_fido2_fido_fail ("credential parameters", fr);
  *ret = TAKE_PTR (c);
  return 0;
}

/* makeCredential, with the PIN when the key wants one (*io_pin keeps it
 * for the assertion that follows). With a PIN lock the same PIN must go
 * to the assertion (else the key uses its "no verification" secret), so
 * it is asked for up front. */
static int
make_credential (fido_dev_t *dev, fido_cred_t *c, const ImprintFido2Features *f,
                 const ImprintFido2Prompter *p, ImprintFido2LockFlags lock, char **io_pin)
{
  int r, fr;

  if (lock & IMPRINT_FIDO2_LOCK_PIN)
    fr = FIDO_ERR_PIN_REQUIRED;
  else
    {
      r = imprint_fido2_notify_touch (p, _("Please touch the security key to create the credential."));
      if (r < 0)
        return r;
      fr = fido_dev_make_cred (dev, c, NULL);
    }
  if (fr == FIDO_ERR_PIN_REQUIRED)
    {
      if (!f->client_pin)
        return -EIO;
      r = imprint_fido2_run_with_pin (dev, p, f->up ? _("Please touch the security key to create the credential.") : NULL,
                                      op_make_cred, c, io_pin, &fr);
      if (r < 0)
        return r;
    }
  if (fr != FIDO_OK)
    return imprint_fido2_fido_fail ("makeCredential", fr);
  return 0;
}

/* The first hmac-secret of the new credential over the salt: what the
 * LUKS2 keyslot or homed's hash is made from. */
static int
first_secret (fido_dev_t *dev, const ImprintFido2EnrollParams *params, const ImprintFido2Features *f,
              const ImprintFido2Prompter *p, ImprintFido2LockFlags *io_lock, ImprintFido2Enrollment *e)
{
  _cleanup_(imprint_fido2_fido_assert_freep) fido_assert_t *a = NULL;
  int r;

  a = fido_assert_new ();
  if (a == NULL)
    return -ENOMEM;
  r = imprint_fido2_assert_set_basics (a, params->rp_id, e->credential_id, e->credential_id_size,
                                       e->salt, sizeof (e->salt));
  if (r < 0)
    return r;
  r = imprint_fido2_hmac_assertion (dev, f, a, p, io_lock, &e->pin, IMPRINT_FIDO2_LOCK_PIN | IMPRINT_FIDO2_LOCK_UP);
  if (r < 0)
    return r;

  e->secret_size = fido_assert_hmac_secret_len (a, 0);
  e->secret = imprint_secret_alloc (e->secret_size);
  if (e->secret == NULL)
    return -ENOMEM;
  memcpy (e->secret, fido_assert_hmac_secret_ptr (a, 0), e->secret_size);
  return 0;
}

int
imprint_fido2_enroll (fido_dev_t *given, const char *path, const ImprintFido2EnrollParams *params,
                      ImprintFido2Enrollment **ret)
{
  _cleanup_fido_dev_ fido_dev_t *owned = NULL;
  _cleanup_(imprint_fido2_fido_cred_freep) fido_cred_t *c = NULL;
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  ImprintFido2LockFlags lock;
  fido_dev_t *dev;
  ImprintFido2Features f;
  ImprintFido2Prompter p;
  int r;

  g_return_val_if_fail (params != NULL && params->rp_id != NULL && params->user_id != NULL &&
                        params->user_id_size > 0 && params->user_name != NULL, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);

  p = (ImprintFido2Prompter) { params->prompt, params->userdata };
  lock = params->lock_with;

  r = imprint_fido2_acquire_hmac_device (given, path, &owned, &dev, &f);
  if (r < 0)
    return r;

  /* Degrade gracefully to what the key can do, like systemd-cryptenroll. */
  if (!f.client_pin)
    lock &= ~IMPRINT_FIDO2_LOCK_PIN;
  if (!f.up)
    lock &= ~IMPRINT_FIDO2_LOCK_UP;
  if (!f.uv)
    lock &= ~IMPRINT_FIDO2_LOCK_UV;

  e = calloc (1, sizeof (*e));
  if (e == NULL)
    return -ENOMEM;
  if (params->salt != NULL)
    memcpy (e->salt, params->salt, sizeof (e->salt));
  else if (RAND_bytes (e->salt, sizeof (e->salt)) != 1)
    return -EIO;

  r = new_credential (params, &f, lock, &c);
  if (r < 0)
    return r;
  r = make_credential (dev, c, &f, &p, lock, &e->pin);
  if (r < 0)
    return r;
  if (fido_cred_id_ptr (c) == NULL || fido_cred_id_len (c) == 0)
    return -EIO;
  e->credential_id = g_memdup2 (fido_cred_id_ptr (c), fido_cred_id_len (c));
  e->credential_id_size = fido_cred_id_len (c);

  r = first_secret (dev, params, &f, &p, &lock, e);
  if (r < 0)
    return r;
  e->rp_id = strdup (params->rp_id);
  e->lock_with = lock;
  if (!(lock & IMPRINT_FIDO2_LOCK_PIN))
    imprint_secret_freep (&e->pin);

  *ret = g_steal_pointer (&e);
  return 0;
}

int
imprint_fido2_enroll_luks (fido_dev_t *dev, const char *path, const char *luks_uuid, const char *device_node,
                           ImprintFido2LockFlags lock_with, ImprintFido2PromptFunc prompt, void *userdata,
                           ImprintFido2Enrollment **ret)
{
  ImprintFido2EnrollParams params = {
    .rp_id = IMPRINT_FIDO2_RP_ID_LUKS,
    .rp_name = IMPRINT_FIDO2_RP_NAME_LUKS,
    .user_id = luks_uuid,
    .user_id_size = luks_uuid != NULL ? strlen (luks_uuid) : 0,
    .user_name = luks_uuid,
    .user_display_name = device_node,
    .lock_with = lock_with,
    .prompt = prompt,
    .userdata = userdata,
  };

  g_return_val_if_fail (luks_uuid != NULL && luks_uuid[0] != '\0', -EINVAL);
  return imprint_fido2_enroll (dev, path, &params, ret);
}

int
imprint_fido2_enroll_homed (fido_dev_t *dev, const char *path, const char *user_name, const char *realm,
                            const char *real_name, ImprintFido2LockFlags lock_with,
                            ImprintFido2PromptFunc prompt, void *userdata, ImprintFido2Enrollment **ret)
{
  g_autofree char *id = NULL;
  ImprintFido2EnrollParams params = {
    .rp_id = IMPRINT_FIDO2_RP_ID_HOMED,
    .rp_name = IMPRINT_FIDO2_RP_NAME_HOMED,
    .user_display_name = real_name,
    .lock_with = lock_with,
    .prompt = prompt,
    .userdata = userdata,
  };

  g_return_val_if_fail (user_name != NULL && user_name[0] != '\0', -EINVAL);

  /* homectl concatenates userName and realm as they are */
  id = g_strconcat (user_name, realm, NULL);
  params.user_id = id;
  params.user_id_size = strlen (id);
  params.user_name = id;
  return imprint_fido2_enroll (dev, path, &params, ret);
}

static char *
builder_to_string (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

int
imprint_fido2_luks_token_json (const ImprintFido2Enrollment *e, int keyslot, char **ret_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *cid = NULL, *salt = NULL, *slot = NULL;

  g_return_val_if_fail (e != NULL && e->credential_id != NULL && keyslot >= 0, -EINVAL);
  g_return_val_if_fail (ret_json != NULL, -EINVAL);

  cid = g_base64_encode (e->credential_id, e->credential_id_size);
  salt = g_base64_encode (e->salt, sizeof (e->salt));
  slot = g_strdup_printf ("%d", keyslot);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, IMPRINT_FIDO2_TOKEN_TYPE);
  json_builder_set_member_name (b, "keyslots");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, slot);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "fido2-credential");
  json_builder_add_string_value (b, cid);
  json_builder_set_member_name (b, "fido2-salt");
  json_builder_add_string_value (b, salt);
  json_builder_set_member_name (b, "fido2-rp");
  json_builder_add_string_value (b, e->rp_id != NULL ? e->rp_id : IMPRINT_FIDO2_RP_ID_LUKS);
  json_builder_set_member_name (b, "fido2-clientPin-required");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_PIN) != 0);
  json_builder_set_member_name (b, "fido2-up-required");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UP) != 0);
  json_builder_set_member_name (b, "fido2-uv-required");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UV) != 0);
  json_builder_end_object (b);

  *ret_json = builder_to_string (b);
  return 0;
}

int
imprint_fido2_homed_salt_json (const ImprintFido2Enrollment *e, const char *hashed_password, char **ret_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *cid = NULL, *salt = NULL;

  g_return_val_if_fail (e != NULL && e->credential_id != NULL && hashed_password != NULL, -EINVAL);
  g_return_val_if_fail (ret_json != NULL, -EINVAL);

  cid = g_base64_encode (e->credential_id, e->credential_id_size);
  salt = g_base64_encode (e->salt, sizeof (e->salt));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "credential");
  json_builder_add_string_value (b, cid);
  json_builder_set_member_name (b, "salt");
  json_builder_add_string_value (b, salt);
  json_builder_set_member_name (b, "hashedPassword");
  json_builder_add_string_value (b, hashed_password);
  json_builder_set_member_name (b, "up");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UP) != 0);
  json_builder_set_member_name (b, "uv");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_UV) != 0);
  json_builder_set_member_name (b, "clientPin");
  json_builder_add_boolean_value (b, (e->lock_with & IMPRINT_FIDO2_LOCK_PIN) != 0);
  json_builder_end_object (b);

  *ret_json = builder_to_string (b);
  return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* LUKS2 volumes through libcryptsetup: formatting, opening, the volume
 * key, adding and removing keyslots, checking a passphrase or a token.
 * Encrypting in place is luks-reencrypt.c, tokens luks-tokens.c, the
 * recovery key and passphrase luks-recovery.c; the whole setup of an
 * installed system's root (format, TPM2, recovery key) luks-setup.c. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "luks.h"
#include "luks-private.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "cleanup-cryptsetup.h"

/* libcryptsetup never puts key material in its log messages; route them to
 * GLib's debug log instead of stderr. */
static void
imprint_crypt_log (int level, const char *msg, void *usrptr)
{
  g_autofree char *m = g_strchomp (g_strdup (msg));

  if (level == CRYPT_LOG_ERROR)
    g_info ("libcryptsetup: %s", m);
  else
    g_debug ("libcryptsetup: %s", m);
}

void
imprint_luks_setup_logging (struct crypt_device *cd)
{
  static gsize global_done = 0;

  /* Also the default, for messages about contexts that failed to load. */
  if (g_once_init_enter (&global_done))
    {
      crypt_set_log_callback (NULL, imprint_crypt_log, NULL);
      g_once_init_leave (&global_done, 1);
    }
  crypt_set_log_callback (cd, imprint_crypt_log, NULL);
}

static const struct crypt_pbkdf_type minimal_pbkdf = {
  .type = CRYPT_KDF_PBKDF2,
  .hash = "sha512",
  .iterations = 1000,
  .flags = CRYPT_PBKDF_NO_BENCHMARK,
};

int
imprint_luks_set_pbkdf (struct crypt_device *cd, ImprintLuksPbkdf kind, const struct crypt_pbkdf_type *override)
{
  const struct crypt_pbkdf_type *p;

  if (override)
    p = override;
  else if (kind == IMPRINT_LUKS_PBKDF_MINIMAL)
    p = &minimal_pbkdf;
  else
    p = crypt_get_pbkdf_default (CRYPT_LUKS2);

  return crypt_set_pbkdf_type (cd, p);
}

int
imprint_luks_format (const char *device,
                     const char *label,
                     const void *passphrase, size_t passphrase_size,
                     struct crypt_device **ret_cd,
                     int *ret_keyslot)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  struct crypt_params_luks2 params = {
    .label = label,
  };
  int r, slot;

  if (!device || !passphrase || passphrase_size == 0)
    return -EINVAL;

  r = crypt_init (&cd, device);
  if (r < 0)
    return r;
  imprint_luks_setup_logging (cd);

  r = imprint_luks_set_pbkdf (cd, IMPRINT_LUKS_PBKDF_MINIMAL, NULL);
  if (r < 0)
    return r;

  r = crypt_format (cd, CRYPT_LUKS2, IMPRINT_LUKS_CIPHER, IMPRINT_LUKS_CIPHER_MODE,
                    NULL, NULL, IMPRINT_LUKS_VOLUME_KEY_SIZE, &params);
  if (r < 0)
    return r;

  /* NULL volume key: the one crypt_format() generated and still holds. */
  slot = crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, NULL, 0, passphrase, passphrase_size);
  if (slot < 0)
    return slot;

  *ret_cd = TAKE_PTR (cd);
  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

int
imprint_luks_open (const char *device, struct crypt_device **ret_cd)
{
  _cleanup_crypt_free_ struct crypt_device *cd = NULL;
  int r;

  if (!device)
    return -EINVAL;

  r = crypt_init (&cd, device);
  if (r < 0)
    return r;
  imprint_luks_setup_logging (cd);

  r = crypt_load (cd, CRYPT_LUKS2, NULL);
  if (r < 0)
    return r;

  *ret_cd = TAKE_PTR (cd);
  return 0;
}

int
imprint_luks_volume_key_get (struct crypt_device *cd,
                             const void *passphrase, size_t passphrase_size,
                             void **ret_volume_key, size_t *ret_volume_key_size,
                             int *ret_keyslot)
{
  size_t size;
  char *vk;
  int r;

  if (!cd || !passphrase)
    return -EINVAL;

  r = crypt_get_volume_key_size (cd);
  if (r <= 0)
    return -EINVAL;
  size = (size_t) r;

  /* libcryptsetup writes the key into our buffer; it takes no ownership. */
  vk = imprint_secret_alloc (size);
  if (!vk)
    return -ENOMEM;

  r = crypt_volume_key_get (cd, CRYPT_ANY_SLOT, vk, &size, passphrase, passphrase_size);
  if (r < 0)
    {
      imprint_secret_free (vk);
      return r;
    }

  *ret_volume_key = vk;
  *ret_volume_key_size = size;
  if (ret_keyslot)
    *ret_keyslot = r;
  return 0;
}

int
imprint_luks_add_keyslot (struct crypt_device *cd,
                          const void *volume_key, size_t volume_key_size,
                          const void *passphrase, size_t passphrase_size,
                          ImprintLuksPbkdf kind,
                          const struct crypt_pbkdf_type *pbkdf_override,
                          int *ret_keyslot)
{
  int r, slot;

  if (!cd || !volume_key || !passphrase || passphrase_size == 0)
    return -EINVAL;

  r = imprint_luks_set_pbkdf (cd, kind, pbkdf_override);
  if (r < 0)
    return r;

  slot = crypt_keyslot_add_by_volume_key (cd, CRYPT_ANY_SLOT, volume_key, volume_key_size,
                                          passphrase, passphrase_size);
  if (slot < 0)
    return slot;

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

int
imprint_luks_enroll (struct crypt_device *cd,
                     const void *volume_key, size_t volume_key_size,
                     const void *passphrase, size_t passphrase_size,
                     ImprintLuksPbkdf kind,
                     const struct crypt_pbkdf_type *pbkdf_override,
                     JsonObject *token,
                     int *ret_keyslot,
                     int *ret_token)
{
  int r, slot, t = -1;

  r = imprint_luks_add_keyslot (cd, volume_key, volume_key_size, passphrase, passphrase_size,
                                kind, pbkdf_override, &slot);
  if (r < 0)
    return r;

  if (token)
    {
      r = imprint_luks_token_import (cd, slot, token, &t);
      if (r < 0)
        {
          (void) crypt_keyslot_destroy (cd, slot);
          return r;
        }
    }

  if (ret_keyslot)
    *ret_keyslot = slot;
  if (ret_token)
    *ret_token = t;
  return 0;
}

int
imprint_luks_count_active_keyslots (struct crypt_device *cd)
{
  int max = crypt_keyslot_max (CRYPT_LUKS2), n = 0;

  for (int i = 0; i < max; i++)
    {
      crypt_keyslot_info ki = crypt_keyslot_status (cd, i);
      if (ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST)
        n++;
    }
  return n;
}

bool
imprint_luks_keyslot_is_active (struct crypt_device *cd, int keyslot)
{
  crypt_keyslot_info ki = crypt_keyslot_status (cd, keyslot);
  return ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST;
}

int
imprint_luks_remove_keyslot (struct crypt_device *cd, int keyslot)
{
  int max_tokens = crypt_token_max (CRYPT_LUKS2);

  if (!cd || keyslot < 0)
    return -EINVAL;
  if (!imprint_luks_keyslot_is_active (cd, keyslot))
    return -ENOENT;
  if (imprint_luks_count_active_keyslots (cd) <= 1)
    return -EBUSY;

  for (int t = 0; t < max_tokens; t++)
    if (crypt_token_is_assigned (cd, t, keyslot) == 0)
      {
        int r = crypt_token_json_set (cd, t, NULL);
        if (r < 0)
          return r;
      }

  return crypt_keyslot_destroy (cd, keyslot);
}

int
imprint_luks_check_passphrase (struct crypt_device *cd,
                               const void *passphrase, size_t passphrase_size,
                               int *ret_keyslot)
{
  int r;

  if (!cd || !passphrase)
    return -EINVAL;

  r = crypt_activate_by_passphrase (cd, NULL, CRYPT_ANY_SLOT, passphrase, passphrase_size, 0);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = r;
  return 0;
}

int
imprint_luks_check_token (struct crypt_device *cd, const char *type, const char *pin, int *ret_keyslot)
{
  int r;

  if (!cd)
    return -EINVAL;

  r = crypt_activate_by_token_pin (cd, NULL, type, CRYPT_ANY_TOKEN,
                                   pin, pin ? strlen (pin) : 0, NULL, 0);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = r;
  return 0;
}

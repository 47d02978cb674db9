/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The recovery key and the passphrase of a LUKS2 volume: setting,
 * regenerating and replacing them, each in its own keyslot, the recovery
 * key marked by its systemd-recovery token. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "json-bounded.h"
#include "luks.h"
#include "luks-private.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "cleanup-cryptsetup.h"

JsonObject *
imprint_luks_recovery_token_new (void)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "type", "systemd-recovery");
  return o;
}

int
imprint_luks_set_recovery_key (struct crypt_device *cd,
                               const void *unlock, size_t unlock_size,
                               const char *key,
                               int *ret_keyslot)
{
  _cleanup_sized_secret_ ImprintSizedSecret vk = { 0 };
  g_autoptr (JsonObject) token = imprint_luks_recovery_token_new ();
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, slot;

  if (!cd || !unlock || !key || !imprint_recovery_key_is_valid (key))
    return -EINVAL;

  r = imprint_luks_volume_key_get (cd, unlock, unlock_size, &vk.data, &vk.size, NULL);
  if (r < 0)
    return r;

  /* The new key first, so the volume never has fewer ways in. */
  r = imprint_luks_enroll (cd, vk.data, vk.size, key, strlen (key),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &slot, NULL);
  if (r < 0)
    return r;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  for (size_t i = 0; r >= 0 && i < n; i++)
    {
      bool is_new = false;

      if (!g_str_equal (tokens[i].type, "systemd-recovery"))
        continue;
      for (size_t k = 0; k < tokens[i].n_keyslots; k++)
        is_new = is_new || tokens[i].keyslots[k] == slot;
      if (!is_new)
        r = imprint_luks_remove_token (cd, tokens[i].id);
    }
  imprint_luks_tokens_free (tokens, n);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

int
imprint_luks_regenerate_recovery_key (struct crypt_device *cd,
                                      const void *unlock, size_t unlock_size,
                                      char **ret_key)
{
  _cleanup_secret_ char *key = NULL;
  int r;

  if (!cd || !unlock || !ret_key)
    return -EINVAL;

  r = imprint_recovery_key_generate (&key);
  if (r < 0)
    return r;

  r = imprint_luks_set_recovery_key (cd, unlock, unlock_size, key, NULL);
  if (r < 0)
    return r;

  *ret_key = TAKE_PTR (key);
  return 0;
}

int
imprint_luks_set_passphrase (struct crypt_device *cd,
                             const void *unlock, size_t unlock_size,
                             const char *new_passphrase,
                             const struct crypt_pbkdf_type *pbkdf_override,
                             int *ret_keyslot)
{
  _cleanup_sized_secret_ ImprintSizedSecret vk = { 0 };
  g_autofree int *plain = NULL;
  size_t n_plain = 0;
  int r, slot = -1;

  if (!cd || !unlock || (new_passphrase && !*new_passphrase))
    return -EINVAL;

  r = imprint_luks_volume_key_get (cd, unlock, unlock_size, &vk.data, &vk.size, NULL);
  if (r < 0)
    return r;

  r = imprint_luks_list_plain_keyslots (cd, &plain, &n_plain);
  if (r < 0)
    return r;

  if (new_passphrase)
    {
      r = imprint_luks_add_keyslot (cd, vk.data, vk.size, new_passphrase, strlen (new_passphrase),
                                    IMPRINT_LUKS_PBKDF_DEFAULT, pbkdf_override, &slot);
      if (r < 0)
        return r;
    }
  else if (imprint_luks_count_active_keyslots (cd) <= (int) n_plain)
    return -EBUSY;

  for (size_t i = 0; i < n_plain; i++)
    {
      r = imprint_luks_remove_keyslot (cd, plain[i]);
      if (r < 0)
        return r;
    }

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

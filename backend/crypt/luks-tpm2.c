/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The TPM2 keyslot of a LUKS2 volume: enrolled (sealed, token written,
 * checked by unsealing again) and re-sealed to new PCR values after a
 * firmware or boot chain update. */

#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gi18n.h>
#include <string.h>

#include "json-bounded.h"
#include "luks-setup.h"
#include "luks-enroll.h"
#include "macros.h"
#include "secret.h"
#include "cleanup-cryptsetup.h"

int
imprint_luks_verify_tpm2 (struct crypt_device *cd, ImprintTpm2 *tpm, int keyslot,
                          const char *pin, const char *signature_json)
{
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, found = -ENOENT;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  if (r < 0)
    return r;

  for (size_t i = 0; i < n && found == -ENOENT; i++)
    {
      g_autoptr (JsonNode) node = NULL;
      ImprintTpm2Sealed sealed = { 0 };
      _cleanup_secret_ char *pass = NULL;
      ImprintSizedSecret secret = { 0 };
      int slot = -1;

      if (!g_str_equal (tokens[i].type, "systemd-tpm2") ||
          tokens[i].n_keyslots != 1 || tokens[i].keyslots[0] != keyslot)
        continue;

      node = imprint_json_parse (tokens[i].json, NULL);
      if (!node || !JSON_NODE_HOLDS_OBJECT (node))
        {
          found = -EBADMSG;
          break;
        }
      found = imprint_tpm2_token_parse (json_node_get_object (node), &sealed);
      if (found >= 0)
        found = imprint_tpm2_unseal_full (tpm, &sealed, pin, signature_json, &secret.data, &secret.size);
      if (found >= 0)
        found = imprint_tpm2_secret_to_passphrase (secret.data, secret.size, &pass);
      if (found >= 0)
        found = imprint_luks_check_passphrase (cd, pass, strlen (pass), &slot);
      if (found >= 0 && slot != keyslot)
        found = -EUCLEAN;
      imprint_sized_secret_done (&secret);
      imprint_tpm2_sealed_done (&sealed);
    }

  imprint_luks_tokens_free (tokens, n);
  return found;
}

int
imprint_luks_enroll_tpm2 (struct crypt_device *cd,
                          const void *volume_key, size_t volume_key_size,
                          ImprintTpm2 *tpm,
                          const ImprintTpm2SealParams *params,
                          const char *signature_json,
                          int *ret_keyslot,
                          ImprintTpm2Sealed *ret_sealed)
{
  ImprintTpm2Sealed sealed = { 0 };
  g_autoptr (JsonObject) token = NULL;
  _cleanup_secret_ char *pass = NULL;
  int r, slot = -1, checked = -1;

  if (!cd || !volume_key || !tpm || !params)
    return -EINVAL;

  r = imprint_tpm2_seal_full (tpm, params, &sealed);
  if (r < 0)
    return r;

  r = imprint_tpm2_secret_to_passphrase (sealed.secret, sealed.secret_size, &pass);
  if (r < 0)
    goto finish;

  token = imprint_tpm2_token_new (&sealed);
  r = imprint_luks_enroll (cd, volume_key, volume_key_size, pass, strlen (pass),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &slot, NULL);
  if (r < 0)
    goto finish;

  r = imprint_luks_check_passphrase (cd, pass, strlen (pass), &checked);
  if (r >= 0 && checked != slot)
    r = -EUCLEAN;
  /* A signed policy can only be exercised with a signature of the
   * current PCR values; without one the keyslot check above is all. */
  if (r >= 0 && (!sealed.pubkey_pem || signature_json))
    r = imprint_luks_verify_tpm2 (cd, tpm, slot, params->pin, signature_json);
  if (r < 0)
    {
      (void) imprint_luks_remove_keyslot (cd, slot);
      goto finish;
    }

  if (ret_keyslot)
    *ret_keyslot = slot;
  if (ret_sealed)
    {
      /* The caller gets the description, not the secret. */
      imprint_secret_free (sealed.secret);
      sealed.secret = NULL;
      sealed.secret_size = 0;
      *ret_sealed = sealed;
      sealed = (ImprintTpm2Sealed) { 0 };
    }

finish:
  imprint_tpm2_sealed_done (&sealed);
  return r;
}

int
imprint_luks_reseal_tpm2 (const char *device,
                          const void *unlock, size_t unlock_size,
                          const char *tpm2_device,
                          ImprintTpm2DeviceFlags tpm2_flags,
                          const ImprintTpm2SealParams *params,
                          const char *signature_json,
                          int *ret_keyslot)
{
  ImprintTpm2SealParams p;
  _cleanup_ (crypt_freep) struct crypt_device *cd = NULL;
  _cleanup_sized_secret_ ImprintSizedSecret vk = { 0 };
  g_autoptr (ImprintTpm2) tpm = NULL;
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, slot = -1;

  if (!device || !unlock || !params)
    return -EINVAL;
  p = *params;
  if (p.pcr_mask == 0)
    p.pcr_mask = IMPRINT_TPM2_DEFAULT_PCR_MASK;

  r = imprint_tpm2_open (tpm2_device, tpm2_flags, &tpm);
  if (r < 0)
    return r;

  r = imprint_luks_open (device, &cd);
  if (r < 0)
    return r;

  r = imprint_luks_volume_key_get (cd, unlock, unlock_size, &vk.data, &vk.size, NULL);
  if (r < 0)
    return r;

  r = imprint_luks_enroll_tpm2 (cd, vk.data, vk.size, tpm, &p, signature_json, &slot, NULL);
  if (r < 0)
    return r;

  /* Only now the old seals go. */
  r = imprint_luks_list_tokens (cd, &tokens, &n);
  for (size_t i = 0; r >= 0 && i < n; i++)
    {
      if (!g_str_equal (tokens[i].type, "systemd-tpm2"))
        continue;
      if (tokens[i].n_keyslots == 1 && tokens[i].keyslots[0] == slot)
        continue;
      r = imprint_luks_remove_token (cd, tokens[i].id);
    }
  imprint_luks_tokens_free (tokens, n);
  if (r < 0)
    return r;

  if (ret_keyslot)
    *ret_keyslot = slot;
  return 0;
}

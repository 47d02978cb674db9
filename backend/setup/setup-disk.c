/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "json-bounded.h"
#include "imprint-setup-disk.h"
#include "luks.h"
#include "macros.h"
#include "recovery-key.h"
#include "tpm2.h"

/* An OEM machine's root was made by systemd-repart at first boot and
 * sealed to the TPM2 only. Setup adds what the person needs beyond that:
 * a recovery key (always advisable) and optionally a FIDO2 key. The
 * volume key comes from the TPM2 token itself, the way systemd-cryptsetup
 * unlocks at boot, so no secret has to be typed. */

int
imprint_setup_disk_find_root (const char *path, char **ret_device)
{
  g_autofree char *sys = NULL, *uuid = NULL, *slaves = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name, *found = NULL;
  struct stat st;

  if (stat (path != NULL ? path : "/", &st) < 0)
    return -errno;
  sys = g_strdup_printf ("/sys/dev/block/%u:%u", major (st.st_dev), minor (st.st_dev));
  uuid = g_build_filename (sys, "dm", "uuid", NULL);
  {
    g_autofree char *text = NULL;
    /* systemd-cryptsetup (and cryptsetup) name LUKS2 mappings
     * CRYPT-LUKS2-<uuid>-<name>. */
    if (!g_file_get_contents (uuid, &text, NULL, NULL) || !g_str_has_prefix (text, "CRYPT-LUKS2-"))
      return -ENOMEDIUM;
  }
  slaves = g_build_filename (sys, "slaves", NULL);
  dir = g_dir_open (slaves, 0, NULL);
  if (dir == NULL)
    return -ENOMEDIUM;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (found != NULL)
        return -ENOTUNIQ;
      found = name;
    }
  if (found == NULL)
    return -ENOMEDIUM;
  *ret_device = g_strconcat ("/dev/", found, NULL);
  return 0;
}

int
imprint_setup_disk_unlock_tpm2 (struct crypt_device *cd,
                                const char *tpm2_device,
                                ImprintTpm2DeviceFlags tpm2_flags,
                                const char *signature_json,
                                void **ret_volume_key,
                                size_t *ret_volume_key_size)
{
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  ImprintTpm2 *tpm = NULL;
  int r, last = -ENOKEY;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  if (r < 0)
    return r;
  r = imprint_tpm2_open (tpm2_device, tpm2_flags, &tpm);
  if (r < 0)
    {
      imprint_luks_tokens_free (tokens, n);
      return r;
    }

  /* Every "systemd-tpm2" token in turn, like systemd-cryptsetup. */
  for (size_t i = 0; i < n; i++)
    {
      g_autoptr(JsonNode) node = NULL;
      ImprintTpm2Sealed sealed = { 0 };
      void *secret = NULL;
      size_t secret_size = 0;
      _cleanup_secret_ char *pass = NULL;

      if (g_strcmp0 (tokens[i].type, "systemd-tpm2") != 0)
        continue;
      node = imprint_json_parse (tokens[i].json, NULL);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        continue;
      r = imprint_tpm2_token_parse (json_node_get_object (node), &sealed);
      if (r < 0)
        {
          last = r;
          continue;
        }
      if (sealed.pin)
        {
          /* A PIN would have to be asked for; first boot does not set one. */
          imprint_tpm2_sealed_done (&sealed);
          last = -ENOANO;
          continue;
        }
      r = imprint_tpm2_unseal_full (tpm, &sealed, NULL, sealed.pubkey_pem ? signature_json : NULL,
                                    &secret, &secret_size);
      imprint_tpm2_sealed_done (&sealed);
      if (r < 0)
        {
          last = r;
          continue;
        }
      r = imprint_tpm2_secret_to_passphrase (secret, secret_size, &pass);
      imprint_secret_free (secret);
      if (r < 0)
        {
          last = r;
          continue;
        }
      r = imprint_luks_volume_key_get (cd, pass, strlen (pass), ret_volume_key, ret_volume_key_size, NULL);
      if (r >= 0)
        {
          last = 0;
          break;
        }
      last = r;
    }

  imprint_tpm2_close (tpm);
  imprint_luks_tokens_free (tokens, n);
  return last;
}

int
imprint_setup_disk_add_recovery_key (struct crypt_device *cd,
                                     const void *volume_key, size_t volume_key_size,
                                     const char *recovery_key,
                                     int *ret_keyslot)
{
  g_autoptr(JsonObject) token = json_object_new ();
  int r, slot = -1, checked = -1;

  if (recovery_key == NULL || !imprint_recovery_key_is_valid (recovery_key))
    return -EINVAL;
  /* What systemd-cryptenroll --recovery-key writes: a high-entropy key,
   * so the minimal PBKDF, and the token that marks it. */
  json_object_set_string_member (token, "type", "systemd-recovery");
  r = imprint_luks_enroll (cd, volume_key, volume_key_size, recovery_key, strlen (recovery_key),
                           IMPRINT_LUKS_PBKDF_MINIMAL, NULL, token, &slot, NULL);
  if (r < 0)
    return r;
  r = imprint_luks_check_passphrase (cd, recovery_key, strlen (recovery_key), &checked);
  if (r >= 0 && checked != slot)
    r = -EUCLEAN;
  if (r < 0)
    {
      (void) imprint_luks_remove_keyslot (cd, slot);
      return r;
    }
  if (ret_keyslot != NULL)
    *ret_keyslot = slot;
  return 0;
}

bool
imprint_setup_disk_is_tpm2_only (const char *device)
{
  struct crypt_device *cd = NULL;
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  bool tpm2 = false, other = false;

  if (imprint_luks_open (device, &cd) < 0)
    return false;
  if (imprint_luks_list_tokens (cd, &tokens, &n) >= 0)
    {
      for (size_t i = 0; i < n; i++)
        if (g_strcmp0 (tokens[i].type, "systemd-tpm2") == 0)
          tpm2 = true;
        else
          other = true;
      imprint_luks_tokens_free (tokens, n);
    }
  crypt_free (cd);
  return tpm2 && !other;
}

/* systemd-cryptenroll's PBKDF for high-entropy secrets. */
static const struct crypt_pbkdf_type minimal_pbkdf = {
  .type = CRYPT_KDF_PBKDF2,
  .hash = "sha512",
  .iterations = 1000,
  .flags = CRYPT_PBKDF_NO_BENCHMARK,
};

/* Newer systemd writes "systemd-tpm2" tokens our TPM2 code does not read
 * (tpm2_srk, tpm2_salt, pcrlock: imprint_tpm2_token_parse() says
 * -EOPNOTSUPP). The installed systemd's own token plugin unlocks them:
 * libcryptsetup (2.6+) adds the new keyslot from a keyslot context opened
 * by that token, so the volume key never passes through us. */
int
imprint_setup_disk_enroll_by_token (struct crypt_device *cd,
                                    const char *passphrase,
                                    JsonObject *token,
                                    int *ret_keyslot)
{
  struct crypt_keyslot_context *from = NULL, *to = NULL;
  int r, slot, checked = -1;

  if (cd == NULL || passphrase == NULL)
    return -EINVAL;
  r = crypt_set_pbkdf_type (cd, &minimal_pbkdf);
  if (r < 0)
    return r;
  r = crypt_keyslot_context_init_by_token (cd, CRYPT_ANY_TOKEN, "systemd-tpm2", NULL, 0, NULL, &from);
  if (r < 0)
    return r;
  r = crypt_keyslot_context_init_by_passphrase (cd, passphrase, strlen (passphrase), &to);
  if (r < 0)
    {
      crypt_keyslot_context_free (from);
      return r;
    }
  slot = crypt_keyslot_add_by_keyslot_context (cd, CRYPT_ANY_SLOT, from, CRYPT_ANY_SLOT, to, 0);
  crypt_keyslot_context_free (from);
  crypt_keyslot_context_free (to);
  if (slot < 0)
    return slot;

  if (token != NULL)
    {
      r = imprint_luks_token_import (cd, slot, token, NULL);
      if (r < 0)
        {
          (void) crypt_keyslot_destroy (cd, slot);
          return r;
        }
    }
  r = imprint_luks_check_passphrase (cd, passphrase, strlen (passphrase), &checked);
  if (r >= 0 && checked != slot)
    r = -EUCLEAN;
  if (r < 0)
    {
      (void) imprint_luks_remove_keyslot (cd, slot);
      return r;
    }
  if (ret_keyslot != NULL)
    *ret_keyslot = slot;
  return 0;
}

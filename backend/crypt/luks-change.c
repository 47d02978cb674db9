/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "crypt-error.h"
#include "imprint-error.h"
#include "json-bounded.h"
#include "luks-change.h"
#include "luks-enroll.h"
#include "luks-setup.h"
#include "macros.h"
#include "recovery-key.h"
#include "secret.h"
#include "security-caps.h"

void
imprint_luks_change_clear (ImprintLuksChange *c)
{
  imprint_secret_free (c->unlock_passphrase);
  imprint_secret_free (c->unlock_tpm2_pin);
  imprint_secret_free (c->passphrase);
  imprint_secret_free (c->recovery_key);
  imprint_secret_free (c->tpm2_pin);
  g_free (c->device);
  g_free (c->display);
  g_free (c->method);
  g_free (c->tpm2_device);
  g_free (c->fido2_device);
  g_free (c->tpm2_signature);
  g_free (c->tpm2_public_key);
  *c = (ImprintLuksChange) { .keyslot = -1 };
}

gboolean
imprint_luks_open_named (const char *device, const char *display, struct crypt_device **ret, GError **error)
{
  int r = imprint_luks_open (device, ret);

  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR,
                   r == -EINVAL || r == -ENOENT ? IMPRINT_ERROR_NOT_FOUND : imprint_error_from_errno (r),
                   _("“%s” is not a LUKS2 encrypted volume: %s"), display, g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

int
imprint_luks_fido2_token (struct crypt_device *cd, const char *fido2_device, ImprintFido2LockFlags lock_with,
                          ImprintFido2PromptFunc prompt, void *prompt_data, const ImprintReport *report,
                          JsonObject **ret_token, char **ret_passphrase)
{
  g_autoptr(ImprintFido2Enrollment) e = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonNode) node = NULL;
  char *passphrase = NULL;
  int r;

  imprint_report_step (report, _("Setting up the security key"));
  r = imprint_fido2_enroll_luks (NULL, fido2_device, crypt_get_uuid (cd), crypt_get_device_name (cd),
                                 lock_with, prompt, prompt_data, &e);
  if (r < 0)
    return r;
  /* Any keyslot: "keyslots" is replaced on import. */
  r = imprint_fido2_luks_token_json (e, 0, &json);
  if (r < 0)
    return r;
  node = imprint_json_parse (json, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return -EBADMSG;
  /* The crypt library adds "keyslots" itself. */
  json_object_remove_member (json_node_get_object (node), "keyslots");
  r = imprint_fido2_passphrase (e->secret, e->secret_size, &passphrase);
  if (r < 0)
    return r;
  *ret_token = json_object_ref (json_node_get_object (node));
  *ret_passphrase = passphrase;
  return 0;
}

/* *ret = a copy of s in secret memory. */
static gboolean
secret_copy (const char *s, char **ret, GError **error)
{
  *ret = imprint_secret_strdup (s);
  if (*ret == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
      return FALSE;
    }
  return TRUE;
}

static gboolean
fail (GError **error, int r, const char *what)
{
  ImprintError code = imprint_crypt_error_code (r);
  const char *why = imprint_crypt_strerror (r);

  switch (-r)
    {
    case EBUSY:
      code = IMPRINT_ERROR_BUSY;
      why = _("That is the last way to unlock the disk; add another one first.");
      break;
    case ENOENT:
      code = IMPRINT_ERROR_NOT_FOUND;
      why = _("The disk has no such unlock method.");
      break;
    case ENXIO:
      /* tpm2.c: no signature in the .pcrsig JSON is for this boot's PCRs. */
      code = IMPRINT_ERROR_UNAVAILABLE;
      why = _("The PCR signature is not for this boot's measurements, so the signed TPM policy cannot unlock.");
      break;
    default:
      break;
    }
  g_set_error (error, IMPRINT_ERROR, code, "%s: %s", what, why);
  return FALSE;
}

/* The running system's signature (or the file the caller named), for
 * TPM2 tokens with a signed PCR policy. NULL when there is none. */
static char *
signature_json (const ImprintLuksChange *c)
{
  g_autofree char *pem = NULL;
  char *sig = NULL;

  if (c->tpm2_signature != NULL)
    return g_strdup (c->tpm2_signature);
  if (imprint_security_read_pcr_signing (NULL, &pem, &sig) < 0)
    return NULL;
  return sig;
}

static int
unlock_fido2 (const ImprintLuksChange *c, const ImprintReport *report, struct crypt_device *cd, char **ret)
{
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, last = -ENOENT;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  if (r < 0)
    return r;
  imprint_report_step (report, _("Unlocking with the security key"));
  for (size_t i = 0; i < n; i++)
    {
      char *pass = NULL;

      if (!g_str_equal (tokens[i].type, IMPRINT_FIDO2_TOKEN_TYPE))
        continue;
      r = imprint_fido2_unlock_luks_token (NULL, c->fido2_device, tokens[i].json,
                                           c->fido2_prompt, c->fido2_prompt_data, &pass);
      if (r >= 0)
        r = imprint_luks_check_passphrase (cd, pass, strlen (pass), NULL);
      if (r >= 0)
        {
          *ret = pass;
          last = 0;
          break;
        }
      imprint_secret_freep (&pass);
      last = r;
      /* Another key's credential: try the next token. */
      if (r != -EBADSLT)
        break;
    }
  imprint_luks_tokens_free (tokens, n);
  return last;
}

static gboolean
unlock_typed (const ImprintLuksChange *c, struct crypt_device *cd, char **ret, GError **error)
{
  _cleanup_secret_ char *canonical = NULL;
  int r;

  /* A recovery key may be typed in any case, with or without dashes;
   * anything else is a passphrase, taken as it is. */
  if (imprint_recovery_key_normalize (c->unlock_passphrase, &canonical) >= 0 &&
      imprint_luks_check_passphrase (cd, canonical, strlen (canonical), NULL) >= 0)
    return secret_copy (canonical, ret, error);
  r = imprint_luks_check_passphrase (cd, c->unlock_passphrase, strlen (c->unlock_passphrase), NULL);
  if (r < 0)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                           r == -EPERM ? _("The passphrase or recovery key does not unlock the disk.")
                                       : g_strerror (-r));
      return FALSE;
    }
  return secret_copy (c->unlock_passphrase, ret, error);
}

/* The keyslot passphrase of the way in the caller proved. */
static gboolean
get_unlock (const ImprintLuksChange *c, const ImprintReport *report, struct crypt_device *cd, char **ret,
            GError **error)
{
  char *pass = NULL;
  int r;

  if (c->unlock_passphrase != NULL)
    return unlock_typed (c, cd, ret, error);

  if (c->unlock_tpm2)
    {
      g_autoptr(ImprintTpm2) tpm = NULL;
      g_autofree char *sig = signature_json (c);

      imprint_report_step (report, _("Unlocking with the TPM"));
      r = imprint_tpm2_open (c->tpm2_device, c->tpm2_device_flags, &tpm);
      if (r >= 0)
        r = imprint_luks_unlock_tpm2 (cd, tpm, c->unlock_tpm2_pin, sig, &pass);
      if (r < 0)
        return fail (error, r, _("The TPM did not unlock the disk"));
    }
  else if (c->unlock_fido2)
    {
      r = unlock_fido2 (c, report, cd, &pass);
      if (r < 0)
        return fail (error, r, _("The security key did not unlock the disk"));
    }
  else
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Say how to unlock the disk first: a passphrase or recovery key, the TPM or the security key."));
      return FALSE;
    }

  /* The library's buffer is secret memory too; the copy keeps *ret's
   * ownership with this file's own helpers. */
  gboolean ok = secret_copy (pass, ret, error);
  imprint_secret_freep (&pass);
  return ok;
}

/* Explicit choice, else the key of the TPM2 token being replaced, else the
 * running system's (.pcrpkey of the booted UKI). The PCRs likewise: a
 * re-seal after a firmware update ("Unlock Automatically Again") binds to
 * the same PCRs as before unless told otherwise; *ret_hash_pcr_mask stays
 * 0 (PCR 7) when there is no old token. */
static char *
tpm2_public_key (const ImprintLuksChange *c, struct crypt_device *cd, uint32_t *ret_pcr_mask,
                 uint32_t *ret_hash_pcr_mask)
{
  ImprintLuksToken *tokens = NULL;
  g_autofree char *sig = NULL;
  char *pem = NULL;
  size_t n = 0;

  *ret_pcr_mask = c->tpm2_pubkey_pcr_mask;
  *ret_hash_pcr_mask = c->tpm2_pcr_mask;
  if (imprint_luks_list_tokens (cd, &tokens, &n) >= 0)
    for (size_t i = 0; i < n && pem == NULL; i++)
      {
        g_autoptr(JsonNode) node = imprint_json_parse (tokens[i].json, NULL);
        ImprintTpm2Sealed s = { 0 };

        if (!g_str_equal (tokens[i].type, "systemd-tpm2") || node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
            imprint_tpm2_token_parse (json_node_get_object (node), &s) < 0)
          continue;
        if (*ret_hash_pcr_mask == 0)
          *ret_hash_pcr_mask = s.pcr_mask;
        if (c->tpm2_public_key == NULL && s.pubkey_pem != NULL)
          {
            pem = g_strdup (s.pubkey_pem);
            if (*ret_pcr_mask == 0)
              *ret_pcr_mask = s.pubkey_pcr_mask;
          }
        imprint_tpm2_sealed_done (&s);
      }
  imprint_luks_tokens_free (tokens, n);
  if (c->tpm2_public_key != NULL)
    return *c->tpm2_public_key ? g_strdup (c->tpm2_public_key) : NULL;
  if (pem == NULL)
    (void) imprint_security_read_pcr_signing (NULL, &pem, &sig);
  return pem;
}

static gboolean
enroll_tpm2 (const ImprintLuksChange *c, const ImprintReport *report, struct crypt_device **cd,
             const char *unlock, int *ret_keyslot, GError **error)
{
  g_autofree char *pem = NULL, *sig = NULL;
  ImprintTpm2SealParams params = { 0 };
  int r, slot = -1;

  pem = tpm2_public_key (c, *cd, &params.pubkey_pcr_mask, &params.pcr_mask);
  params.pin = c->tpm2_pin;
  params.pubkey_pem = pem;
  if (pem != NULL)
    sig = signature_json (c);

  /* The re-seal opens the volume itself. */
  g_clear_pointer (cd, crypt_free);
  imprint_report_step (report, _("Sealing the key to the TPM"));
  r = imprint_luks_reseal_tpm2 (c->device, unlock, strlen (unlock), c->tpm2_device, c->tpm2_device_flags,
                                &params, sig, &slot);
  if (r < 0)
    return fail (error, r, _("Could not seal the key to the TPM"));
  imprint_report_log (report, _("The TPM2 key is in keyslot %d."), slot);
  *ret_keyslot = slot;
  return TRUE;
}

static gboolean
enroll_fido2 (const ImprintLuksChange *c, const ImprintReport *report, struct crypt_device *cd,
              const char *unlock, int *ret_keyslot, GError **error)
{
  g_autoptr(JsonObject) token = NULL;
  char *pass = NULL;
  int r, slot = -1;

  /* Prove the way in before the key is asked for a touch. */
  r = imprint_luks_check_passphrase (cd, unlock, strlen (unlock), NULL);
  if (r >= 0)
    r = imprint_luks_fido2_token (cd, c->fido2_device, c->fido2_lock, c->fido2_prompt, c->fido2_prompt_data,
                                  report, &token, &pass);
  if (r >= 0)
    r = imprint_luks_add_method (cd, unlock, strlen (unlock), token, pass, &slot);
  imprint_secret_freep (&pass);
  if (r < 0)
    return fail (error, r, _("Could not add the security key"));
  imprint_report_log (report, _("The security key is in keyslot %d."), slot);
  *ret_keyslot = slot;
  return TRUE;
}

static gboolean
enroll_secret (const ImprintLuksChange *c, const ImprintReport *report, struct crypt_device *cd,
               const char *unlock, int *ret_keyslot, GError **error)
{
  gboolean recovery = g_str_equal (c->method, "recovery-key");
  int r, slot = -1;

  if (recovery)
    {
      imprint_report_step (report, _("Replacing the recovery key"));
      r = imprint_luks_set_recovery_key (cd, unlock, strlen (unlock), c->recovery_key, &slot);
    }
  else
    {
      imprint_report_step (report, _("Setting the passphrase"));
      r = imprint_luks_set_passphrase (cd, unlock, strlen (unlock), c->passphrase, NULL, &slot);
    }
  if (r < 0)
    return fail (error, r, recovery ? _("Could not replace the recovery key") : _("Could not set the passphrase"));
  *ret_keyslot = slot;
  return TRUE;
}

static gboolean
unenroll (const ImprintLuksChange *c, const ImprintReport *report, struct crypt_device *cd,
          const char *unlock, unsigned *ret_removed, GError **error)
{
  unsigned removed = 0;
  int r;

  imprint_report_step (report, _("Removing the unlock method"));
  r = imprint_luks_remove_method (cd, unlock, strlen (unlock), c->method, c->keyslot, &removed);
  if (r < 0)
    return fail (error, r, _("Could not remove the unlock method"));
  imprint_report_log (report, g_dngettext (GETTEXT_PACKAGE, "Removed %u keyslot.", "Removed %u keyslots.", removed),
                      removed);
  *ret_removed = removed;
  return TRUE;
}

gboolean
imprint_luks_change (const ImprintLuksChange *c, const ImprintReport *report,
                     int *ret_keyslot, unsigned *ret_removed, GError **error)
{
  struct crypt_device *cd = NULL;
  char *unlock = NULL;
  gboolean ok = FALSE;
  int keyslot = -1;
  unsigned removed = 0;

  imprint_report_step (report, _("Opening the encrypted volume"));
  if (!imprint_luks_open_named (c->device, c->display, &cd, error) || !get_unlock (c, report, cd, &unlock, error))
    goto out;
  imprint_report_progress (report, 0.3);

  if (c->remove)
    ok = unenroll (c, report, cd, unlock, &removed, error);
  else if (g_str_equal (c->method, "tpm2"))
    ok = enroll_tpm2 (c, report, &cd, unlock, &keyslot, error);
  else if (g_str_equal (c->method, "fido2"))
    ok = enroll_fido2 (c, report, cd, unlock, &keyslot, error);
  else
    ok = enroll_secret (c, report, cd, unlock, &keyslot, error);
  if (ok)
    {
      if (ret_keyslot != NULL)
        *ret_keyslot = keyslot;
      if (ret_removed != NULL)
        *ret_removed = removed;
    }

out:
  imprint_secret_free (unlock);
  if (cd != NULL)
    crypt_free (cd);
  return ok;
}

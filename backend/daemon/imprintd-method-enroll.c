/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprintd-job.h"
#include "imprintd-methods.h"
#include "luks-enroll.h"
#include "luks-setup.h"
#include "macros.h"
#include "recovery-key.h"
#include "security-caps.h"

/* Caps for a caller's files read whole (PEM public key, PCR signature JSON). */
#define CALLER_TEXT_MAX (64 * 1024)

/* ListEnrollments, Enroll and Unenroll: later changes to how an installed
 * (or any LUKS2) volume unlocks. Every change first proves a way in the
 * caller already has; the crypt library never removes the last keyslot. */

/* Opens the encrypted device or image file a caller named, once, as the
 * caller (backend/basic/safe-open.h); the crypt library then gets only
 * f->io_path, which reaches that very inode.
 *
 * Who may name what: ListEnrollments is allowed to any active user
 * without a password, so it reads only what the caller can open itself,
 * except a disk the caller reached but may not open: a LUKS2 header's
 * token list is no secret (and ListDisks shows the disks anyway). An
 * image file the caller cannot read fails like a missing one, so the
 * verb is no oracle for other users' files. Enroll and Unenroll are
 * behind admin polkit actions and write the header: a file must be
 * writable by the caller, a disk the caller reached may be opened by us
 * (as Install does), which is what the authorisation was for. */
static gboolean
open_device (ImprintdMethodCall *call, const char *device, int flags, ImprintdCallerFile *ret,
             GError **error)
{
  if (device == NULL || *device != '/')
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Give the encrypted device or image file as an absolute path."));
      return FALSE;
    }
  return imprintd_open_caller_file (call, device, flags, TRUE, FALSE, ret, error);
}

static gboolean
open_volume (const ImprintdCallerFile *f, struct crypt_device **ret, GError **error)
{
  int r = imprint_luks_open (f->io_path, ret);

  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR,
                   r == -EINVAL || r == -ENOENT ? IMPRINT_ERROR_NOT_FOUND : imprint_error_from_errno (r),
                   _("“%s” is not a LUKS2 encrypted volume: %s"), f->display, g_strerror (-r));
      return FALSE;
    }
  return TRUE;
}

static GVariant *
pcr_list (uint32_t mask)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("au"));
  for (guint32 i = 0; i < 32; i++)
    if (mask & (UINT32_C (1) << i))
      g_variant_builder_add (&b, "u", i);
  return g_variant_builder_end (&b);
}

static void
describe_tpm2 (GVariantBuilder *b, JsonObject *o)
{
  ImprintTpm2Sealed s = { 0 };

  if (imprint_tpm2_token_parse (o, &s) < 0)
    {
      g_variant_builder_add (b, "{sv}", "supported", g_variant_new_boolean (FALSE));
      return;
    }
  g_variant_builder_add (b, "{sv}", "tpm2-pcrs", pcr_list (s.pcr_mask));
  g_variant_builder_add (b, "{sv}", "tpm2-pcr-bank",
                         g_variant_new_string (imprint_tpm2_hash_alg_to_string (s.pcr_bank) ?: ""));
  g_variant_builder_add (b, "{sv}", "tpm2-primary-alg",
                         g_variant_new_string (s.primary_alg == TPM2_ALG_RSA ? "rsa" : "ecc"));
  g_variant_builder_add (b, "{sv}", "tpm2-pin", g_variant_new_boolean (s.pin));
  g_variant_builder_add (b, "{sv}", "tpm2-signed-policy", g_variant_new_boolean (s.pubkey_pem != NULL));
  if (s.pubkey_pem != NULL)
    g_variant_builder_add (b, "{sv}", "tpm2-pubkey-pcrs", pcr_list (s.pubkey_pcr_mask));
  imprint_tpm2_sealed_done (&s);
}

static void
describe_fido2 (GVariantBuilder *b, JsonObject *o)
{
  static const struct { const char *field, *key; } flags[] = {
    { "fido2-clientPin-required", "fido2-pin-required" },
    { "fido2-up-required", "fido2-up-required" },
    { "fido2-uv-required", "fido2-uv-required" },
  };

  g_variant_builder_add (b, "{sv}", "fido2-credential",
                         g_variant_new_string (json_object_get_string_member_with_default (o, "fido2-credential", "")));
  g_variant_builder_add (b, "{sv}", "fido2-rp",
                         g_variant_new_string (json_object_get_string_member_with_default (o, "fido2-rp", IMPRINT_FIDO2_RP_ID_LUKS)));
  for (gsize i = 0; i < G_N_ELEMENTS (flags); i++)
    if (json_object_has_member (o, flags[i].field))
      g_variant_builder_add (b, "{sv}", flags[i].key,
                             g_variant_new_boolean (json_object_get_boolean_member (o, flags[i].field)));
}

static GVariant *
describe_token (const ImprintLuksToken *t)
{
  g_autoptr(JsonNode) node = imprint_json_parse (t->json, NULL);
  GVariantBuilder b, slots;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&slots, G_VARIANT_TYPE ("ai"));
  for (size_t k = 0; k < t->n_keyslots; k++)
    g_variant_builder_add (&slots, "i", t->keyslots[k]);
  g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string (imprint_luks_method_from_token_type (t->type)));
  g_variant_builder_add (&b, "{sv}", "token-type", g_variant_new_string (t->type));
  g_variant_builder_add (&b, "{sv}", "token", g_variant_new_int32 (t->id));
  g_variant_builder_add (&b, "{sv}", "keyslot", g_variant_new_int32 (t->n_keyslots > 0 ? t->keyslots[0] : -1));
  g_variant_builder_add (&b, "{sv}", "keyslots", g_variant_builder_end (&slots));
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      if (g_str_equal (t->type, "systemd-tpm2"))
        describe_tpm2 (&b, json_node_get_object (node));
      else if (g_str_equal (t->type, IMPRINT_FIDO2_TOKEN_TYPE))
        describe_fido2 (&b, json_node_get_object (node));
    }
  return g_variant_builder_end (&b);
}

static GVariant *
describe_plain_keyslot (int slot)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string ("passphrase"));
  g_variant_builder_add (&b, "{sv}", "token-type", g_variant_new_string (""));
  g_variant_builder_add (&b, "{sv}", "token", g_variant_new_int32 (-1));
  g_variant_builder_add (&b, "{sv}", "keyslot", g_variant_new_int32 (slot));
  g_variant_builder_add (&b, "{sv}", "keyslots", g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, &slot, 1, sizeof (int)));
  return g_variant_builder_end (&b);
}

GVariant *
imprintd_method_list_enrollments (ImprintdMethodCall *call, GError **error)
{
  g_auto(ImprintdCallerFile) f = { .fd = -1 };
  struct crypt_device *cd = NULL;
  ImprintLuksToken *tokens = NULL;
  g_autofree int *plain = NULL;
  size_t n_tokens = 0, n_plain = 0;
  const char *device;
  GVariantBuilder b;
  int r;

  g_variant_get_child (call->parameters, 0, "&s", &device);
  if (!open_device (call, device, O_RDONLY, &f, error) || !open_volume (&f, &cd, error))
    return NULL;

  r = imprint_luks_list_tokens (cd, &tokens, &n_tokens);
  if (r >= 0)
    r = imprint_luks_list_plain_keyslots (cd, &plain, &n_plain);
  crypt_free (cd);
  if (r < 0)
    {
      imprint_luks_tokens_free (tokens, n_tokens);
      g_set_error (error, IMPRINT_ERROR, imprint_error_from_errno (r),
                   _("Could not read the LUKS2 header of “%s”: %s"), device, g_strerror (-r));
      return NULL;
    }

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (size_t i = 0; i < n_tokens; i++)
    g_variant_builder_add_value (&b, describe_token (&tokens[i]));
  for (size_t i = 0; i < n_plain; i++)
    g_variant_builder_add_value (&b, describe_plain_keyslot (plain[i]));
  imprint_luks_tokens_free (tokens, n_tokens);
  return g_variant_new ("(@aa{sv})", g_variant_builder_end (&b));
}

/* ---- FIDO2 enrollment, shared with Install ------------------------------ */

int
imprintd_fido2_luks_token (ImprintdJob *job, const char *fido2_device, struct crypt_device *cd,
                           ImprintFido2LockFlags lock_with,
                           JsonObject **ret_token, char **ret_passphrase)
{
  g_autoptr(ImprintFido2Enrollment) e = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonNode) node = NULL;
  char *passphrase = NULL;
  int r;

  imprintd_job_set_step (job, _("Setting up the security key"));
  r = imprint_fido2_enroll_luks (NULL, fido2_device, crypt_get_uuid (cd), crypt_get_device_name (cd),
                                 lock_with, imprintd_fido2_prompt, job, &e);
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

/* ---- Enroll / Unenroll ------------------------------------------------------ */

typedef struct {
  ImprintdCallerFile device;     /* opened in the method call */
  char *method;
  gboolean remove;
  int keyslot;                   /* Unenroll: only this one; -1 all */

  /* The way in the caller proves. Secrets live in secret memory
   * (secret.h), wiped with the job. */
  char *unlock_passphrase;
  gboolean unlock_tpm2;
  char *unlock_tpm2_pin;
  gboolean unlock_fido2;

  char *tpm2_device;
  ImprintTpm2DeviceFlags tpm2_device_flags;  /* what the caller may name */
  char *fido2_device;
  char *tpm2_signature;          /* its contents; NULL = the running system's */

  /* The new method. */
  char *passphrase;
  char *recovery_key;
  char *tpm2_pin;
  guint32 tpm2_pcr_mask;
  char *tpm2_public_key;         /* PEM; "" = none; NULL = keep/auto */
  guint32 tpm2_pubkey_pcr_mask;
  ImprintFido2LockFlags fido2_lock;
  ImprintTargetLock *lock;       /* the device, busy for other jobs */
} EnrollData;

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

static void
enroll_data_free (EnrollData *d)
{
  imprint_secret_free (d->unlock_passphrase);
  imprint_secret_free (d->unlock_tpm2_pin);
  imprint_secret_free (d->passphrase);
  imprint_secret_free (d->recovery_key);
  imprint_secret_free (d->tpm2_pin);
  imprintd_caller_file_clear (&d->device);
  g_free (d->method);
  g_free (d->tpm2_device);
  g_free (d->fido2_device);
  g_free (d->tpm2_signature);
  g_free (d->tpm2_public_key);
  imprint_target_lock_free (d->lock);
  g_free (d);
}

static gboolean
fail (GError **error, int r, const char *what)
{
  ImprintError code = imprintd_crypt_error_code (r);
  const char *why = imprintd_crypt_strerror (r);

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
signature_json (EnrollData *d)
{
  g_autofree char *pem = NULL;
  char *sig = NULL;

  if (d->tpm2_signature != NULL)
    return g_strdup (d->tpm2_signature);
  if (imprint_security_read_pcr_signing (NULL, &pem, &sig) < 0)
    return NULL;
  return sig;
}

static int
unlock_fido2 (EnrollData *d, ImprintdJob *job, struct crypt_device *cd, char **ret)
{
  ImprintLuksToken *tokens = NULL;
  size_t n = 0;
  int r, last = -ENOENT;

  r = imprint_luks_list_tokens (cd, &tokens, &n);
  if (r < 0)
    return r;
  imprintd_job_set_step (job, _("Unlocking with the security key"));
  for (size_t i = 0; i < n; i++)
    {
      char *pass = NULL;

      if (!g_str_equal (tokens[i].type, IMPRINT_FIDO2_TOKEN_TYPE))
        continue;
      r = imprint_fido2_unlock_luks_token (NULL, d->fido2_device, tokens[i].json,
                                           imprintd_fido2_prompt, job, &pass);
      if (r >= 0)
        r = imprint_luks_check_passphrase (cd, pass, strlen (pass), NULL);
      if (r >= 0)
        {
          *ret = pass;
          last = 0;
          break;
        }
      erase_and_freep_str (&pass);
      last = r;
      /* Another key's credential: try the next token. */
      if (r != -EBADSLT)
        break;
    }
  imprint_luks_tokens_free (tokens, n);
  return last;
}

/* The keyslot passphrase of the way in the caller proved. */
static gboolean
get_unlock (EnrollData *d, ImprintdJob *job, struct crypt_device *cd, char **ret, GError **error)
{
  char *pass = NULL;
  int r;

  if (d->unlock_passphrase != NULL)
    {
      _cleanup_erase_free_ char *canonical = NULL;

      /* A recovery key may be typed in any case, with or without dashes;
       * anything else is a passphrase, taken as it is. */
      if (imprint_recovery_key_normalize (d->unlock_passphrase, &canonical) >= 0 &&
          imprint_luks_check_passphrase (cd, canonical, strlen (canonical), NULL) >= 0)
        return secret_copy (canonical, ret, error);
      r = imprint_luks_check_passphrase (cd, d->unlock_passphrase, strlen (d->unlock_passphrase), NULL);
      if (r < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                               r == -EPERM ? _("The passphrase or recovery key does not unlock the disk.")
                                           : g_strerror (-r));
          return FALSE;
        }
      return secret_copy (d->unlock_passphrase, ret, error);
    }

  if (d->unlock_tpm2)
    {
      g_autoptr(ImprintTpm2) tpm = NULL;
      g_autofree char *sig = signature_json (d);

      imprintd_job_set_step (job, _("Unlocking with the TPM"));
      r = imprint_tpm2_open (d->tpm2_device, d->tpm2_device_flags, &tpm);
      if (r >= 0)
        r = imprint_luks_unlock_tpm2 (cd, tpm, d->unlock_tpm2_pin, sig, &pass);
      if (r < 0)
        return fail (error, r, _("The TPM did not unlock the disk"));
    }
  else if (d->unlock_fido2)
    {
      r = unlock_fido2 (d, job, cd, &pass);
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
  erase_and_freep_str (&pass);
  return ok;
}

/* Explicit choice, else the key of the TPM2 token being replaced, else the
 * running system's (.pcrpkey of the booted UKI). */
static char *
tpm2_public_key (EnrollData *d, struct crypt_device *cd, uint32_t *ret_pcr_mask, GError **error)
{
  ImprintLuksToken *tokens = NULL;
  g_autofree char *sig = NULL;
  char *pem = NULL;
  size_t n = 0;

  *ret_pcr_mask = d->tpm2_pubkey_pcr_mask;
  if (d->tpm2_public_key != NULL)
    return *d->tpm2_public_key ? g_strdup (d->tpm2_public_key) : NULL;

  if (imprint_luks_list_tokens (cd, &tokens, &n) >= 0)
    for (size_t i = 0; i < n && pem == NULL; i++)
      {
        g_autoptr(JsonNode) node = imprint_json_parse (tokens[i].json, NULL);
        ImprintTpm2Sealed s = { 0 };

        if (!g_str_equal (tokens[i].type, "systemd-tpm2") || node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
            imprint_tpm2_token_parse (json_node_get_object (node), &s) < 0)
          continue;
        if (s.pubkey_pem != NULL)
          {
            pem = g_strdup (s.pubkey_pem);
            if (*ret_pcr_mask == 0)
              *ret_pcr_mask = s.pubkey_pcr_mask;
          }
        imprint_tpm2_sealed_done (&s);
      }
  imprint_luks_tokens_free (tokens, n);
  if (pem == NULL)
    (void) imprint_security_read_pcr_signing (NULL, &pem, &sig);
  return pem;
}

static gboolean
enroll_tpm2 (EnrollData *d, ImprintdJob *job, struct crypt_device **cd, const char *unlock, GError **error)
{
  g_autofree char *pem = NULL, *sig = NULL;
  ImprintTpm2SealParams params = { 0 };
  int r, slot = -1;

  pem = tpm2_public_key (d, *cd, &params.pubkey_pcr_mask, error);
  if (pem == NULL && error != NULL && *error != NULL)
    return FALSE;
  params.pcr_mask = d->tpm2_pcr_mask;
  params.pin = d->tpm2_pin;
  params.pubkey_pem = pem;
  if (pem != NULL)
    sig = signature_json (d);

  /* The re-seal opens the volume itself. */
  g_clear_pointer (cd, crypt_free);
  imprintd_job_set_step (job, _("Sealing the key to the TPM"));
  r = imprint_luks_reseal_tpm2 (d->device.io_path, unlock, strlen (unlock), d->tpm2_device, d->tpm2_device_flags,
                                &params, sig, &slot);
  if (r < 0)
    return fail (error, r, _("Could not seal the key to the TPM"));
  imprintd_job_log (job, _("The TPM2 key is in keyslot %d."), slot);
  imprintd_job_set_result (job, g_variant_new_parsed ("{'keyslot': <%i>}", slot));
  return TRUE;
}

static gboolean
enroll_fido2 (EnrollData *d, ImprintdJob *job, struct crypt_device *cd, const char *unlock, GError **error)
{
  g_autoptr(JsonObject) token = NULL;
  char *pass = NULL;
  int r, slot = -1;

  /* Prove the way in before the key is asked for a touch. */
  r = imprint_luks_check_passphrase (cd, unlock, strlen (unlock), NULL);
  if (r >= 0)
    r = imprintd_fido2_luks_token (job, d->fido2_device, cd, d->fido2_lock, &token, &pass);
  if (r >= 0)
    r = imprint_luks_add_method (cd, unlock, strlen (unlock), token, pass, &slot);
  erase_and_freep_str (&pass);
  if (r < 0)
    return fail (error, r, _("Could not add the security key"));
  imprintd_job_log (job, _("The security key is in keyslot %d."), slot);
  imprintd_job_set_result (job, g_variant_new_parsed ("{'keyslot': <%i>}", slot));
  return TRUE;
}

static gboolean
enroll_secret (EnrollData *d, ImprintdJob *job, struct crypt_device *cd, const char *unlock, GError **error)
{
  gboolean recovery = g_str_equal (d->method, "recovery-key");
  int r, slot = -1;

  if (recovery)
    {
      imprintd_job_set_step (job, _("Replacing the recovery key"));
      r = imprint_luks_set_recovery_key (cd, unlock, strlen (unlock), d->recovery_key, &slot);
    }
  else
    {
      imprintd_job_set_step (job, _("Setting the passphrase"));
      r = imprint_luks_set_passphrase (cd, unlock, strlen (unlock), d->passphrase, NULL, &slot);
    }
  if (r < 0)
    return fail (error, r, recovery ? _("Could not replace the recovery key") : _("Could not set the passphrase"));
  imprintd_job_set_result (job, g_variant_new_parsed ("{'keyslot': <%i>}", slot));
  return TRUE;
}

static gboolean
unenroll (EnrollData *d, ImprintdJob *job, struct crypt_device *cd, const char *unlock, GError **error)
{
  unsigned removed = 0;
  int r;

  imprintd_job_set_step (job, _("Removing the unlock method"));
  r = imprint_luks_remove_method (cd, unlock, strlen (unlock), d->method, d->keyslot, &removed);
  if (r < 0)
    return fail (error, r, _("Could not remove the unlock method"));
  imprintd_job_log (job, g_dngettext (GETTEXT_PACKAGE, "Removed %u keyslot.", "Removed %u keyslots.", removed),
                    removed);
  imprintd_job_set_result (job, g_variant_new_parsed ("{'removed': <%u>}", removed));
  return TRUE;
}

static gboolean
enroll_thread (ImprintdJob *job, GCancellable *cancellable, gpointer user_data, GError **error)
{
  EnrollData *d = user_data;
  struct crypt_device *cd = NULL;
  char *unlock = NULL;
  gboolean ok = FALSE;

  imprintd_job_set_step (job, _("Opening the encrypted volume"));
  if (!open_volume (&d->device, &cd, error) || !get_unlock (d, job, cd, &unlock, error))
    goto out;
  imprintd_job_set_progress (job, 0.3);

  if (d->remove)
    ok = unenroll (d, job, cd, unlock, error);
  else if (g_str_equal (d->method, "tpm2"))
    ok = enroll_tpm2 (d, job, &cd, unlock, error);
  else if (g_str_equal (d->method, "fido2"))
    ok = enroll_fido2 (d, job, cd, unlock, error);
  else
    ok = enroll_secret (d, job, cd, unlock, error);
  if (ok)
    imprintd_job_set_progress (job, 1.0);

out:
  imprint_secret_free (unlock);
  if (cd != NULL)
    crypt_free (cd);
  return ok;
}

static gboolean
parse_pcrs (GVariant *options, const char *key, guint32 *ret, GError **error)
{
  const char *s;

  if (!g_variant_lookup (options, key, "&s", &s) || *s == '\0')
    return TRUE;
  if (imprint_tpm2_parse_pcr_list (s, ret) < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT, _("“%s” is not a list of PCRs."), s);
      return FALSE;
    }
  return TRUE;
}

static char *
lookup_string (GVariant *options, const char *key)
{
  const char *s;

  return g_variant_lookup (options, key, "&s", &s) && *s ? g_strdup (s) : NULL;
}

static gboolean
parse_new_method (ImprintdMethodCall *call, EnrollData *d, GVariant *o, GError **error)
{
  gboolean pin = TRUE, up = TRUE, uv = FALSE;

  if (g_str_equal (d->method, "passphrase"))
    {
      if (!imprintd_lookup_secret (o, "passphrase", &d->passphrase, error))
        return FALSE;
      if (d->passphrase == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT, _("The new passphrase is missing."));
          return FALSE;
        }
    }
  else if (g_str_equal (d->method, "recovery-key"))
    {
      _cleanup_secret_ char *given = NULL;
      _cleanup_erase_free_ char *canonical = NULL;

      /* The caller made the key (GenerateRecoveryKey) and has it before
       * the disk changes; a Job's Result is readable by anyone, so the
       * key never travels back that way. */
      if (!imprintd_lookup_secret (o, "recovery-key", &given, error))
        return FALSE;
      if (given == NULL || imprint_recovery_key_normalize (given, &canonical) < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("A valid recovery key is required (see GenerateRecoveryKey)."));
          return FALSE;
        }
      if (!secret_copy (canonical, &d->recovery_key, error))
        return FALSE;
    }
  else if (g_str_equal (d->method, "tpm2"))
    {
      const char *s;

      if (!imprintd_lookup_secret (o, "tpm2-pin", &d->tpm2_pin, error))
        return FALSE;
      /* Read now, as the caller: imprintd reads no file by a caller's
       * name as root. */
      if (g_variant_lookup (o, "tpm2-public-key", "&s", &s))
        {
          d->tpm2_public_key = *s ? imprintd_read_caller_text (call, s, CALLER_TEXT_MAX, error) : g_strdup ("");
          if (d->tpm2_public_key == NULL)
            return FALSE;
        }
      if (!parse_pcrs (o, "tpm2-pcrs", &d->tpm2_pcr_mask, error) ||
          !parse_pcrs (o, "tpm2-public-key-pcrs", &d->tpm2_pubkey_pcr_mask, error))
        return FALSE;
    }
  else if (g_str_equal (d->method, "fido2"))
    {
      g_variant_lookup (o, "fido2-with-client-pin", "b", &pin);
      g_variant_lookup (o, "fido2-with-user-presence", "b", &up);
      g_variant_lookup (o, "fido2-with-user-verification", "b", &uv);
      d->fido2_lock = (pin ? IMPRINT_FIDO2_LOCK_PIN : 0) | (up ? IMPRINT_FIDO2_LOCK_UP : 0) |
                      (uv ? IMPRINT_FIDO2_LOCK_UV : 0);
    }
  else
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Unknown unlock method “%s”: use tpm2, fido2, recovery-key or passphrase."), d->method);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
start (ImprintdMethodCall *call, gboolean remove, GError **error)
{
  EnrollData *d = g_new0 (EnrollData, 1);
  g_autoptr(ImprintdJob) job = NULL;
  const char *device, *method, *path, *fido2_device, *signature;
  bool known = FALSE;

  d->device.fd = -1;
  g_variant_get_child (call->parameters, 0, "&s", &device);
  g_variant_get_child (call->parameters, 1, "&s", &method);
  d->method = g_strdup (method);
  d->remove = remove;
  d->keyslot = -1;
  g_variant_lookup (call->options, "keyslot", "i", &d->keyslot);

  if (!imprintd_lookup_secret (call->options, "unlock-passphrase", &d->unlock_passphrase, error) ||
      !imprintd_lookup_secret (call->options, "unlock-tpm2-pin", &d->unlock_tpm2_pin, error))
    goto fail;
  g_variant_lookup (call->options, "unlock-tpm2", "b", &d->unlock_tpm2);
  g_variant_lookup (call->options, "unlock-fido2", "b", &d->unlock_fido2);
  d->tpm2_device = lookup_string (call->options, "tpm2-device");
  d->tpm2_device_flags = imprintd_tpm2_device_flags (call->uid);
  if (g_variant_lookup (call->options, "tpm2-signature", "&s", &signature) && *signature)
    {
      d->tpm2_signature = imprintd_read_caller_text (call, signature, CALLER_TEXT_MAX, error);
      if (d->tpm2_signature == NULL)
        goto fail;
    }
  if (!imprintd_check_tpm2_device (d->tpm2_device, call->uid, error))
    goto fail;
  if (g_variant_lookup (call->options, "fido2-device", "&s", &fido2_device) && *fido2_device &&
      !imprintd_check_fido2_device (fido2_device, call->uid, &d->fido2_device, error))
    goto fail;

  (void) imprint_luks_method_to_token_type (method, &known);
  if (!open_device (call, device, O_RDWR, &d->device, error))
    goto fail;
  if (remove && !known)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Unknown unlock method “%s”."), method);
      goto fail;
    }
  if (!remove && !parse_new_method (call, d, call->options, error))
    goto fail;
  if (d->unlock_passphrase == NULL && !d->unlock_tpm2 && !d->unlock_fido2)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Say how to unlock the disk first: a passphrase or recovery key, the TPM or the security key."));
      goto fail;
    }

  /* One job per disk: no install or setup on it while its keyslots
   * change. Only the busy marker: the volume may be open (the running
   * system's root), which O_EXCL or a held flock() would get in the way
   * of. */
  d->lock = imprintd_lock_caller_file (&d->device, IMPRINT_TARGET_LOCK_REGISTRY, error);
  if (d->lock == NULL)
    goto fail;

  job = imprintd_job_new (remove ? "unenroll" : "enroll", call->uid, FALSE);
  path = imprintd_daemon_add_job (call->daemon, job);
  imprintd_target_lock_set_job (d->lock, remove ? _("the removal of an unlock method")
                                                : _("the enrollment of an unlock method"), path);
  imprintd_job_run (job, enroll_thread, d, (GDestroyNotify) enroll_data_free);
  return g_variant_new ("(o)", path);

fail:
  enroll_data_free (d);
  return NULL;
}

GVariant *
imprintd_method_enroll (ImprintdMethodCall *call, GError **error)
{
  return start (call, FALSE, error);
}

GVariant *
imprintd_method_unenroll (ImprintdMethodCall *call, GError **error)
{
  return start (call, TRUE, error);
}

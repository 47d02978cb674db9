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
#include "imprint-request.h"
#include "imprintd-methods.h"
#include "luks-change.h"
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
  if (!open_device (call, device, O_RDONLY, &f, error) || !imprint_luks_open_named (f.io_path, f.display, &cd, error))
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

/* ---- Enroll / Unenroll ------------------------------------------------------ */

/* The work is imprint_luks_change() (backend/crypt/luks-change.h); the
 * job owns the request and the busy marker of the device. */
typedef struct {
  ImprintLuksChange change;
  ImprintdCallerFile device;     /* opened in the method call */
  ImprintTargetLock *lock;       /* the device, busy for other jobs */
} EnrollData;

static void
enroll_data_free (EnrollData *d)
{
  imprint_luks_change_clear (&d->change);
  imprintd_caller_file_clear (&d->device);
  imprint_target_lock_free (d->lock);
  g_free (d);
}

static gboolean
enroll_thread (ImprintdJob *job, GCancellable *cancellable, gpointer user_data, GError **error)
{
  EnrollData *d = user_data;
  ImprintReport report;
  int keyslot = -1;
  unsigned removed = 0;

  imprintd_job_report (job, &report);
  d->change.fido2_prompt = imprintd_fido2_prompt;
  d->change.fido2_prompt_data = job;
  if (!imprint_luks_change (&d->change, &report, &keyslot, &removed, error))
    return FALSE;
  if (!d->change.remove && g_str_equal (d->change.method, "tpm2"))
    imprintd_unlock_note_resealed (d->change.device);
  if (d->change.remove)
    imprintd_job_set_result (job, g_variant_new_parsed ("{'removed': <%u>}", removed));
  else
    imprintd_job_set_result (job, g_variant_new_parsed ("{'keyslot': <%i>}", keyslot));
  imprintd_job_set_progress (job, 1.0);
  return TRUE;
}

static gboolean
parse_pcrs (const char *s, guint32 *ret, GError **error)
{
  if (s == NULL || *s == '\0')
    return TRUE;
  if (imprint_tpm2_parse_pcr_list (s, ret) < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT, _("“%s” is not a list of PCRs."), s);
      return FALSE;
    }
  return TRUE;
}

static char *
nonempty (const char *s)
{
  return s != NULL && *s ? g_strdup (s) : NULL;
}

/* Secrets move from the request (secret memory both) into the change. */
static gboolean
parse_new_method (ImprintdMethodCall *call, ImprintLuksChange *d, ImprintEnrollRequest *o, GError **error)
{
  if (g_str_equal (d->method, "passphrase"))
    {
      d->passphrase = g_steal_pointer (&o->passphrase);
      if (d->passphrase == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT, _("The new passphrase is missing."));
          return FALSE;
        }
    }
  else if (g_str_equal (d->method, "recovery-key"))
    {
      _cleanup_secret_ char *canonical = NULL;

      /* The caller made the key (GenerateRecoveryKey) and has it before
       * the disk changes; a Job's Result is readable by anyone, so the
       * key never travels back that way. */
      if (o->recovery_key == NULL || imprint_recovery_key_normalize (o->recovery_key, &canonical) < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("A valid recovery key is required (see GenerateRecoveryKey)."));
          return FALSE;
        }
      d->recovery_key = imprint_secret_strdup (canonical);
      if (d->recovery_key == NULL)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, g_strerror (ENOMEM));
          return FALSE;
        }
    }
  else if (g_str_equal (d->method, "tpm2"))
    {
      const char *s = o->tpm2_public_key;

      d->tpm2_pin = g_steal_pointer (&o->tpm2_pin);
      /* Read now, as the caller: imprintd reads no file by a caller's
       * name as root. */
      if (s != NULL)
        {
          d->tpm2_public_key = *s ? imprintd_read_caller_text (call, s, CALLER_TEXT_MAX, error) : g_strdup ("");
          if (d->tpm2_public_key == NULL)
            return FALSE;
        }
      if (!parse_pcrs (o->tpm2_pcrs, &d->tpm2_pcr_mask, error) ||
          !parse_pcrs (o->tpm2_public_key_pcrs, &d->tpm2_pubkey_pcr_mask, error))
        return FALSE;
    }
  else if (g_str_equal (d->method, "fido2"))
    {
      gboolean pin = imprint_opt_bool (o->fido2_with_client_pin, TRUE);
      gboolean up = imprint_opt_bool (o->fido2_with_user_presence, TRUE);
      gboolean uv = imprint_opt_bool (o->fido2_with_user_verification, FALSE);

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

/* The way in the caller proves, and the devices it may name. */
static gboolean
parse_unlock (ImprintdMethodCall *call, ImprintLuksChange *c, ImprintEnrollRequest *req, GError **error)
{
  c->keyslot = req->keyslot;
  c->unlock_passphrase = g_steal_pointer (&req->unlock_passphrase);
  c->unlock_tpm2_pin = g_steal_pointer (&req->unlock_tpm2_pin);
  c->unlock_tpm2 = imprint_opt_bool (req->unlock_tpm2, FALSE);
  c->unlock_fido2 = imprint_opt_bool (req->unlock_fido2, FALSE);
  c->tpm2_device = nonempty (req->tpm2_device);
  c->tpm2_device_flags = imprintd_tpm2_device_flags (call->uid);
  if (req->tpm2_signature != NULL && *req->tpm2_signature)
    {
      c->tpm2_signature = imprintd_read_caller_text (call, req->tpm2_signature, CALLER_TEXT_MAX, error);
      if (c->tpm2_signature == NULL)
        return FALSE;
    }
  if (!imprintd_check_tpm2_device (c->tpm2_device, call->uid, error))
    return FALSE;
  if (req->fido2_device != NULL && *req->fido2_device &&
      !imprintd_check_fido2_device (req->fido2_device, call->uid, &c->fido2_device, error))
    return FALSE;
  return TRUE;
}

static EnrollData *
enroll_data_new (ImprintdMethodCall *call, gboolean remove, GError **error)
{
  g_auto(ImprintEnrollRequest) req;
  EnrollData *d = g_new0 (EnrollData, 1);
  ImprintLuksChange *c = &d->change;
  const char *device, *method;
  bool known = FALSE;

  d->device.fd = -1;
  imprint_enroll_request_init (&req);
  g_variant_get_child (call->parameters, 0, "&s", &device);
  g_variant_get_child (call->parameters, 1, "&s", &method);
  c->method = g_strdup (method);
  c->remove = remove;
  if (!imprint_enroll_request_from_variant (call->options, &req, error) ||
      !parse_unlock (call, c, &req, error))
    goto fail;

  (void) imprint_luks_method_to_token_type (method, &known);
  if (!open_device (call, device, O_RDWR, &d->device, error))
    goto fail;
  c->device = g_strdup (d->device.io_path);
  c->display = g_strdup (d->device.display);
  if (remove && !known)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Unknown unlock method “%s”."), method);
      goto fail;
    }
  if (!remove && !parse_new_method (call, c, &req, error))
    goto fail;
  if (c->unlock_passphrase == NULL && !c->unlock_tpm2 && !c->unlock_fido2)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("Say how to unlock the disk first: a passphrase or recovery key, the TPM or the security key."));
      goto fail;
    }
  return d;

fail:
  enroll_data_free (d);
  return NULL;
}

static GVariant *
start (ImprintdMethodCall *call, gboolean remove, GError **error)
{
  EnrollData *d = enroll_data_new (call, remove, error);
  g_autoptr(ImprintdJob) job = NULL;
  const char *path;

  if (d == NULL)
    return NULL;
  /* One job per disk: no install or setup on it while its keyslots
   * change. Only the busy marker: the volume may be open (the running
   * system's root), which O_EXCL or a held flock() would get in the way
   * of. */
  d->lock = imprintd_lock_caller_file (&d->device, IMPRINT_TARGET_LOCK_REGISTRY, error);
  if (d->lock == NULL)
    {
      enroll_data_free (d);
      return NULL;
    }

  job = imprintd_job_new (remove ? "unenroll" : "enroll", call->uid, FALSE);
  path = imprintd_daemon_add_job (call->daemon, job);
  imprintd_target_lock_set_job (d->lock, remove ? _("the removal of an unlock method")
                                                : _("the enrollment of an unlock method"), path);
  imprintd_job_run (job, enroll_thread, d, (GDestroyNotify) enroll_data_free);
  return g_variant_new ("(o)", path);
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

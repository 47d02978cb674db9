/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "imprintctl.h"

/* enrollments, enroll, unenroll: later changes to how a LUKS2 volume
 * unlocks (Manager.ListEnrollments, Enroll, Unenroll). */

static char *
device_arg (int argc, char **argv, const char *verb)
{
  if (argc != 2)
    {
      g_printerr (_("imprintctl: %s takes one encrypted device or image file.\n"), verb);
      return NULL;
    }
  return ctl_resolve_path (argv[1]);
}

static void
print_pcrs (GVariant *e, const char *key, const char *label)
{
  g_autoptr(GVariant) pcrs = g_variant_lookup_value (e, key, G_VARIANT_TYPE ("au"));
  gsize n = 0;
  const guint32 *p = pcrs ? g_variant_get_fixed_array (pcrs, &n, sizeof (guint32)) : NULL;

  if (pcrs == NULL)
    return;
  g_print (" %s", label);
  for (gsize i = 0; i < n; i++)
    g_print ("%s%u", i ? "+" : "", p[i]);
}

static void
print_flag (GVariant *e, const char *key, const char *label)
{
  gboolean b = FALSE;

  if (g_variant_lookup (e, key, "b", &b) && b)
    g_print (" %s", label);
}

int
ctl_verb_enrollments (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (N_("DEVICE"));
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  gboolean json = FALSE;
  GVariantIter iter;
  int r;
  GVariant *e;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (ctl, context, &argc, &argv) || (device = device_arg (argc, argv, "enrollments")) == NULL)
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  if (!imprint_manager_call_list_enrollments_sync (ctl->manager, device, ctl_options_new (ctl),
                                                   &list, NULL, &error))
    return ctl_report_error (error);

  if (json || ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (list, TRUE);
      g_print ("%s\n", text);
      return EXIT_CODE_OK;
    }

  g_print ("%-8s %-6s %-14s %s\n", _("KEYSLOT"), _("TOKEN"), _("TYPE"), _("DETAILS"));
  g_variant_iter_init (&iter, list);
  while ((e = g_variant_iter_next_value (&iter)))
    {
      gint32 keyslot = -1, token = -1;
      g_autofree char *token_s = NULL;

      g_variant_lookup (e, "keyslot", "i", &keyslot);
      g_variant_lookup (e, "token", "i", &token);
      token_s = token >= 0 ? g_strdup_printf ("%d", token) : g_strdup ("-");
      g_print ("%-8d %-6s %-14s", keyslot, token_s, ctl_lookup_s (e, "type"));
      print_pcrs (e, "tpm2-pcrs", "pcrs=");
      if (*ctl_lookup_s (e, "tpm2-pcr-bank"))
        g_print (" bank=%s", ctl_lookup_s (e, "tpm2-pcr-bank"));
      print_pcrs (e, "tpm2-pubkey-pcrs", "signed-pcrs=");
      print_flag (e, "tpm2-pin", "pin");
      print_flag (e, "fido2-pin-required", "pin");
      print_flag (e, "fido2-up-required", "touch");
      print_flag (e, "fido2-uv-required", "uv");
      g_print ("\n");
      g_variant_unref (e);
    }
  return EXIT_CODE_OK;
}

/* How the caller proves a way in: shared by enroll and unenroll. */
typedef struct {
  char *key_file;
  gboolean tpm2;
  char *tpm2_pin_file;
  gboolean fido2;
  char *tpm2_device;
  char *fido2_device;
  char *tpm2_signature;
} Unlock;

static void
unlock_add_entries (GOptionContext *context, Unlock *u)
{
  const GOptionEntry entries[] = {
    { "unlock-key-file", 0, 0, G_OPTION_ARG_FILENAME, &u->key_file, N_("Unlock with the passphrase or recovery key in FILE (- for standard input)"), N_("FILE") },
    { "unlock-tpm2", 0, 0, G_OPTION_ARG_NONE, &u->tpm2, N_("Unlock with the TPM2"), NULL },
    { "unlock-tpm2-pin", 0, 0, G_OPTION_ARG_FILENAME, &u->tpm2_pin_file, N_("The TPM2 PIN for unlocking, read from FILE"), N_("FILE") },
    { "unlock-fido2", 0, 0, G_OPTION_ARG_NONE, &u->fido2, N_("Unlock with an enrolled FIDO2 security key"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &u->tpm2_device, N_("TPM2 device node, “auto”, or a TCTI such as swtpm:port=2321"), N_("DEVICE") },
    { "fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &u->fido2_device, N_("FIDO2 device (default: the only one)"), N_("DEVICE") },
    { "tpm2-signature", 0, 0, G_OPTION_ARG_FILENAME, &u->tpm2_signature, N_("PCR signature JSON for a signed TPM2 policy"), N_("FILE") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

static gboolean
unlock_given (const Unlock *u)
{
  if ((u->key_file != NULL) + u->tpm2 + u->fido2 == 1)
    return TRUE;
  g_printerr (_("imprintctl: say how to unlock the disk: exactly one of --unlock-key-file, --unlock-tpm2 or --unlock-fido2.\n"));
  return FALSE;
}

/* The unlock part of the request; secrets read into secret memory. */
static gboolean
unlock_to_request (const Unlock *u, ImprintEnrollRequest *req, GError **error)
{
  if (u->key_file != NULL && (req->unlock_passphrase = ctl_read_secret_file (u->key_file, error)) == NULL)
    return FALSE;
  if (u->tpm2)
    req->unlock_tpm2 = IMPRINT_OPT_TRUE;
  if (u->tpm2_pin_file != NULL &&
      (req->unlock_tpm2_pin = ctl_read_secret_file (u->tpm2_pin_file, error)) == NULL)
    return FALSE;
  if (u->fido2)
    req->unlock_fido2 = IMPRINT_OPT_TRUE;
  req->tpm2_device = g_strdup (u->tpm2_device);
  req->fido2_device = g_strdup (u->fido2_device);
  if (u->tpm2_signature)
    req->tpm2_signature = ctl_resolve_path (u->tpm2_signature);
  return TRUE;
}

static void
unlock_clear (Unlock *u)
{
  g_free (u->key_file);
  g_free (u->tpm2_pin_file);
  g_free (u->tpm2_device);
  g_free (u->fido2_device);
  g_free (u->tpm2_signature);
}

/* Exactly one method flag; returns its D-Bus name or NULL. */
static const char *
one_method (const char *verb, gboolean tpm2, gboolean fido2, gboolean recovery, gboolean passphrase)
{
  if (tpm2 + fido2 + recovery + passphrase != 1)
    {
      g_printerr (_("imprintctl: %s needs exactly one of --tpm2, --fido2, --recovery-key or --passphrase.\n"), verb);
      return NULL;
    }
  return tpm2 ? "tpm2" : fido2 ? "fido2" : recovery ? "recovery-key" : "passphrase";
}

static int
run_job (Ctl *ctl, gboolean remove, const char *device, const char *method, const ImprintEnrollRequest *req)
{
  GVariant *options = imprint_enroll_request_to_variant (req);
  g_autoptr(CtlJobWatch) watch = ctl_job_watch_new (ctl);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *job_path = NULL;
  gboolean ok;

  if (remove)
    ok = imprint_manager_call_unenroll_sync (ctl->manager, device, method, options,
                                             &job_path, NULL, &error);
  else
    ok = imprint_manager_call_enroll_sync (ctl->manager, device, method, options,
                                           &job_path, NULL, &error);
  if (!ok)
    return ctl_report_error (error);
  return ctl_job_watch_follow (watch, job_path, &result);
}

/* The new method's part of the request. */
typedef struct {
  char *passphrase_file, *tpm2_pcrs, *tpm2_pin_file, *tpm2_public_key, *recovery_key_file;
  gboolean tpm2, fido2, recovery, no_public_key, json;
  gboolean fido2_no_pin, fido2_no_touch, fido2_uv;
} EnrollArgs;

static void
enroll_args_clear (EnrollArgs *a)
{
  g_free (a->passphrase_file);
  g_free (a->tpm2_pcrs);
  g_free (a->tpm2_pin_file);
  g_free (a->tpm2_public_key);
  g_free (a->recovery_key_file);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EnrollArgs, enroll_args_clear)

static void
enroll_add_entries (GOptionContext *context, EnrollArgs *a)
{
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &a->json, N_("Print JSON"), NULL },
    { "tpm2", 0, 0, G_OPTION_ARG_NONE, &a->tpm2, N_("Seal to the TPM2 again (replaces the old TPM2 keyslots)"), NULL },
    { "tpm2-pcrs", 0, 0, G_OPTION_ARG_STRING, &a->tpm2_pcrs, N_("PCRs to bind to (default 7)"), N_("PCR[+PCR…]") },
    { "tpm2-pin", 0, 0, G_OPTION_ARG_FILENAME, &a->tpm2_pin_file, N_("Also require a TPM2 PIN, read from FILE"), N_("FILE") },
    { "tpm2-public-key", 0, 0, G_OPTION_ARG_FILENAME, &a->tpm2_public_key, N_("Signed PCR policy key (PEM)"), N_("FILE") },
    { "no-tpm2-public-key", 0, 0, G_OPTION_ARG_NONE, &a->no_public_key, N_("No signed PCR policy"), NULL },
    { "fido2", 0, 0, G_OPTION_ARG_NONE, &a->fido2, N_("Add a FIDO2 security key"), NULL },
    { "fido2-no-pin", 0, 0, G_OPTION_ARG_NONE, &a->fido2_no_pin, N_("Do not require the key’s PIN"), NULL },
    { "fido2-no-touch", 0, 0, G_OPTION_ARG_NONE, &a->fido2_no_touch, N_("Do not require a touch"), NULL },
    { "fido2-uv", 0, 0, G_OPTION_ARG_NONE, &a->fido2_uv, N_("Require user verification (e.g. a fingerprint)"), NULL },
    { "recovery-key", 0, 0, G_OPTION_ARG_NONE, &a->recovery, N_("Replace the recovery key with a new one"), NULL },
    { "recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->recovery_key_file, N_("Write the new recovery key to FILE (mode 0600) instead of printing it"), N_("FILE") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &a->passphrase_file, N_("Set the passphrase to the one in FILE (- for standard input)"), N_("FILE") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

static int
enroll_to_request (Ctl *ctl, const EnrollArgs *a, ImprintEnrollRequest *req)
{
  g_autoptr(GError) error = NULL;
  int r = EXIT_CODE_FAILED;

  req->tpm2_pcrs = g_strdup (a->tpm2_pcrs);
  if (a->no_public_key)
    req->tpm2_public_key = g_strdup ("");
  else if (a->tpm2_public_key)
    req->tpm2_public_key = ctl_resolve_path (a->tpm2_public_key);
  if (a->tpm2_pin_file && (req->tpm2_pin = ctl_read_secret_file (a->tpm2_pin_file, &error)) == NULL)
    return ctl_report_error (error);
  if (a->fido2)
    {
      req->fido2_with_client_pin = imprint_opt_bool_from (!a->fido2_no_pin);
      req->fido2_with_user_presence = imprint_opt_bool_from (!a->fido2_no_touch);
      req->fido2_with_user_verification = imprint_opt_bool_from (a->fido2_uv);
    }
  if (a->passphrase_file && (req->passphrase = ctl_read_secret_file (a->passphrase_file, &error)) == NULL)
    return ctl_report_error (error);
  if (a->recovery && (req->recovery_key = ctl_new_recovery_key (ctl, a->recovery_key_file, &r)) == NULL)
    return r;
  return EXIT_CODE_OK;
}

/* Checks the arguments, connects and fills the unlock part: shared by
 * enroll and unenroll. Returns the device or NULL with *ret_exit set. */
static char *
begin_change (Ctl *ctl, const char *verb, int argc, char **argv, const char *method,
              const Unlock *u, ImprintEnrollRequest *req, int *ret_exit)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;

  *ret_exit = EXIT_CODE_USAGE;
  if ((device = device_arg (argc, argv, verb)) == NULL || method == NULL || !unlock_given (u))
    return NULL;
  if ((*ret_exit = ctl_connect (ctl)) != EXIT_CODE_OK)
    return NULL;
  ctl_call_options (ctl, &req->call);
  if (!unlock_to_request (u, req, &error))
    {
      *ret_exit = ctl_report_error (error);
      return NULL;
    }
  return g_steal_pointer (&device);
}

int
ctl_verb_enroll (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (N_("DEVICE"));
  g_auto(EnrollArgs) a = { 0 };
  g_auto(ImprintEnrollRequest) req = { 0 };
  g_autofree char *device = NULL;
  const char *method = NULL;
  Unlock u = { 0 };
  int r = EXIT_CODE_USAGE;

  imprint_enroll_request_init (&req);
  enroll_add_entries (context, &a);
  unlock_add_entries (context, &u);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    goto out;
  if (argc == 2)
    method = one_method ("enroll", a.tpm2, a.fido2, a.recovery, a.passphrase_file != NULL);
  if ((device = begin_change (ctl, "enroll", argc, argv, method, &u, &req, &r)) == NULL)
    goto out;
  ctl->json = a.json || ctl->json;
  if ((r = enroll_to_request (ctl, &a, &req)) != EXIT_CODE_OK)
    goto out;

  r = run_job (ctl, FALSE, device, method, &req);
  if (r == EXIT_CODE_OK && req.recovery_key != NULL && a.recovery_key_file == NULL)
    ctl_show_recovery_key (ctl, "recovery-key", req.recovery_key,
                           _("\nNew recovery key (write it down and keep it safe; it is shown only once):\n\n    %s\n\n"),
                           req.recovery_key);
out:
  unlock_clear (&u);
  return r;
}

int
ctl_verb_unenroll (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (N_("DEVICE"));
  g_auto(ImprintEnrollRequest) req = { 0 };
  g_autofree char *device = NULL;
  gboolean tpm2 = FALSE, fido2 = FALSE, recovery = FALSE, passphrase = FALSE, json = FALSE;
  gint keyslot = -1;
  const char *method = NULL;
  Unlock u = { 0 };
  int r = EXIT_CODE_USAGE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "tpm2", 0, 0, G_OPTION_ARG_NONE, &tpm2, N_("Remove the TPM2 keyslots"), NULL },
    { "fido2", 0, 0, G_OPTION_ARG_NONE, &fido2, N_("Remove the FIDO2 security keys"), NULL },
    { "recovery-key", 0, 0, G_OPTION_ARG_NONE, &recovery, N_("Remove the recovery key"), NULL },
    { "passphrase", 0, 0, G_OPTION_ARG_NONE, &passphrase, N_("Remove the passphrase"), NULL },
    { "keyslot", 0, 0, G_OPTION_ARG_INT, &keyslot, N_("Remove only this keyslot"), N_("N") },
    { NULL }
  };

  imprint_enroll_request_init (&req);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  unlock_add_entries (context, &u);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    goto out;
  if (argc == 2)
    method = one_method ("unenroll", tpm2, fido2, recovery, passphrase);
  if ((device = begin_change (ctl, "unenroll", argc, argv, method, &u, &req, &r)) == NULL)
    goto out;
  ctl->json = json || ctl->json;
  if (keyslot >= 0)
    req.keyslot = keyslot;
  r = run_job (ctl, TRUE, device, method, &req);

out:
  unlock_clear (&u);
  return r;
}

/* ---- unlock-status ----------------------------------------------------------- */

int
ctl_verb_unlock_status (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;
  int r;

  if (!ctl_parse_no_options (ctl, NULL, 0, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  if (!imprint_manager_call_get_unlock_status_sync (ctl->manager, ctl_options_new (ctl), &status, NULL, &error))
    return ctl_report_error (error);
  if (ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (status, TRUE);
      g_print ("%s\n", text);
      return EXIT_CODE_OK;
    }
  if (!ctl_lookup_b (status, "encrypted"))
    {
      g_print (_("The running system is not on an encrypted disk.\n"));
      return EXIT_CODE_OK;
    }
  g_print (_("Disk:             %s (%s)\n"), ctl_lookup_s (status, "device"), ctl_lookup_s (status, "volume"));
  if (!ctl_lookup_b (status, "journal-read"))
    g_print (_("This start:       unknown (the journal could not be read)\n"));
  else if (ctl_lookup_b (status, "needed-recovery"))
    g_print (_("This start:       needed the recovery key or a passphrase (%s: %s)\n"),
             *ctl_lookup_s (status, "reason") ? ctl_lookup_s (status, "reason") : "unknown",
             ctl_lookup_s (status, "detail"));
  else
    g_print (_("This start:       no fallback from the TPM was logged\n"));
  if (ctl_lookup_b (status, "resealed"))
    g_print (_("Sealed again:     yes, the next start should unlock by itself\n"));
  return EXIT_CODE_OK;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imprint-plan-words.h"
#include "imprint-request.h"
#include "imprintctl.h"

static char *
absolute (const char *path)
{
  return ctl_resolve_path (path);
}

static void
make_absolute (char **path)
{
  char *abs = absolute (*path);

  g_free (*path);
  *path = abs;
}

/* The plan in words from its facts (imprint-plan-words.h). */
static void
print_plan (const ImprintPlanInfo *plan)
{
  g_autofree char *summary = imprint_plan_words_summary (plan);
  g_autofree char *definitions = imprint_plan_words_definitions (plan);
  g_auto(GStrv) erased = imprint_plan_words_erased (plan);
  g_autofree char *twice = imprint_plan_words_read_twice (plan);

  g_print ("%s\n", summary);
  if (definitions != NULL && !plan->defer_data_partitions)
    g_print ("%s\n", definitions);
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      const ImprintPlanPartitionInfo *p = plan->partitions->pdata[i];
      g_autofree char *from = NULL, *to = NULL;

      if (p->shrink_from == 0)
        continue;
      from = ctl_format_size (p->shrink_from);
      to = ctl_format_size (p->size);
      g_print (_("First, Windows (NTFS, partition %u) will be shrunk from %s to %s; Windows stays.\n"),
               p->number, from, to);
      g_print ("%s\n", _("The first time Windows starts it checks its disk once; let it finish."));
    }
  if (twice != NULL)
    g_print ("%s\n", twice);
  g_print ("\n");

  if (erased[0] != NULL)
    {
      g_print (_("Will be erased:\n"));
      for (gsize i = 0; erased[i]; i++)
        g_print ("  • %s\n", erased[i]);
      g_print ("\n");
    }

  g_print ("%-3s %-7s %-22s %-20s %10s  %s\n", "#", _("ACTION"), _("TYPE"), _("LABEL"), _("SIZE"), _("CONTENTS"));
  for (guint i = 0; i < plan->partitions->len; i++)
    {
      const ImprintPlanPartitionInfo *p = plan->partitions->pdata[i];
      g_autofree char *size_s = ctl_format_size (p->size);
      g_autofree char *source = imprint_plan_words_source (plan, p);

      g_print ("%-3u %-7s %-22s %-20s %10s  %s\n", p->number, p->action, p->type_name, p->label, size_s,
               source);
    }
}

/* What install was told on the command line. */
typedef struct {
  char *source, *target, *definitions;
  char *tpm2_device, *tpm2_pcrs, *tpm2_pin_file, *tpm2_public_key;
  char *passphrase_file, *recovery_key_file, *root_hash, *fido2_device, *certificate;
  char *shrink;
  gboolean erase, free_space, defer, dry_run, json;
  gboolean tpm2, fido2, no_encrypt, no_boot_entry, no_public_key, handover;
} InstallArgs;

static void
install_args_clear (InstallArgs *a)
{
  g_free (a->source);
  g_free (a->target);
  g_free (a->definitions);
  g_free (a->tpm2_device);
  g_free (a->tpm2_pcrs);
  g_free (a->tpm2_pin_file);
  g_free (a->tpm2_public_key);
  g_free (a->passphrase_file);
  g_free (a->recovery_key_file);
  g_free (a->root_hash);
  g_free (a->fido2_device);
  g_free (a->certificate);
  g_free (a->shrink);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (InstallArgs, install_args_clear)

static void
install_add_entries (GOptionContext *context, InstallArgs *a)
{
  const GOptionEntry entries[] = {
    { "source", 0, 0, G_OPTION_ARG_FILENAME, &a->source, N_("Image file or device to install (default: the running system)"), N_("IMAGE|DEVICE") },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &a->target, N_("Disk or image file to install onto"), N_("DEVICE|FILE") },
    { "erase", 0, 0, G_OPTION_ARG_NONE, &a->erase, N_("Erase the whole target disk"), NULL },
    { "use-free-space", 0, 0, G_OPTION_ARG_NONE, &a->free_space, N_("Keep what is on the disk and use its free space"), NULL },
    { "shrink", 0, 0, G_OPTION_ARG_STRING, &a->shrink, N_("Make room first: shrink the Windows (NTFS) partition number PARTITION to SIZE (bytes, or with K, M, G, T: powers of 1024); implies --use-free-space"), N_("PARTITION:SIZE") },
    { "defer-data-partitions", 0, 0, G_OPTION_ARG_NONE, &a->defer, N_("Leave the root to the first boot (OEM preloads)"), NULL },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &a->dry_run, N_("Print the plan and write nothing"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &a->json, N_("Print JSON"), NULL },
    { "tpm2", 0, 0, G_OPTION_ARG_NONE, &a->tpm2, N_("Unlock the disk with the TPM2"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &a->tpm2_device, N_("TPM2 device node, “auto”, or a TCTI such as swtpm:port=2321"), N_("DEVICE") },
    { "tpm2-pcrs", 0, 0, G_OPTION_ARG_STRING, &a->tpm2_pcrs, N_("PCRs to bind to (default 7)"), N_("PCR[+PCR…]") },
    { "tpm2-pin", 0, 0, G_OPTION_ARG_FILENAME, &a->tpm2_pin_file, N_("Also require a TPM2 PIN, read from FILE (- for standard input)"), N_("FILE") },
    { "tpm2-public-key", 0, 0, G_OPTION_ARG_FILENAME, &a->tpm2_public_key, N_("Signed PCR 11 policy key (PEM; default: the image's UKI .pcrpkey)"), N_("FILE") },
    { "no-tpm2-public-key", 0, 0, G_OPTION_ARG_NONE, &a->no_public_key, N_("No signed PCR 11 policy"), NULL },
    { "fido2", 0, 0, G_OPTION_ARG_NONE, &a->fido2, N_("Unlock the disk with a FIDO2 security key"), NULL },
    { "fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &a->fido2_device, N_("FIDO2 device (default: the only one)"), N_("DEVICE") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &a->passphrase_file, N_("Unlock the disk with the passphrase in FILE (- for standard input)"), N_("FILE") },
    { "recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->recovery_key_file, N_("Write the recovery key to FILE (mode 0600) instead of printing it"), N_("FILE") },
    { "no-encrypt", 0, 0, G_OPTION_ARG_NONE, &a->no_encrypt, N_("Do not encrypt the root (tests only)"), NULL },
    { "no-boot-entry", 0, 0, G_OPTION_ARG_NONE, &a->no_boot_entry, N_("Do not write an EFI boot entry"), NULL },
    { "handover", 0, 0, G_OPTION_ARG_NONE, &a->handover, N_("Live session: continue in this session on the installed disk, no restart"), NULL },
    { "definitions", 0, 0, G_OPTION_ARG_FILENAME, &a->definitions, N_("repart.d directory for the data partitions"), N_("DIR") },
    { "root-hash", 0, 0, G_OPTION_ARG_STRING, &a->root_hash, N_("Trust only this usr root hash"), N_("HEX") },
    { "certificate", 0, 0, G_OPTION_ARG_FILENAME, &a->certificate, N_("Verify the verity signature with this certificate"), N_("PEM") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

/* "PARTITION:SIZE", SIZE in bytes or with a K/M/G/T (1024) suffix. */
static gboolean
parse_shrink (const char *s, guint64 *ret_number, guint64 *ret_size)
{
  g_auto(GStrv) parts = g_strsplit (s, ":", 2);
  const char *units = "KMGT";
  guint64 number, size, mult = 1;
  char *end = NULL;

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXINT32, &number, NULL))
    return FALSE;
  size = g_ascii_strtoull (parts[1], &end, 10);
  if (end == parts[1] || size == 0)
    return FALSE;
  if (*end != '\0')
    {
      const char *u = strchr (units, g_ascii_toupper (*end));
      if (u == NULL || *u == '\0' || !(end[1] == '\0' || g_str_equal (end + 1, "iB") || g_str_equal (end + 1, "B")))
        return FALSE;
      for (const char *q = units; q <= u; q++)
        mult *= 1024;
    }
  if (!g_uint64_checked_mul (ret_size, size, mult))
    return FALSE;
  *ret_number = number;
  return TRUE;
}

/* What PlanInstall needs too. */
static void
install_request_plan (Ctl *ctl, const InstallArgs *a, ImprintInstallRequest *req)
{
  ctl_call_options (ctl, &req->call);
  req->mode = a->erase ? IMPRINT_REQUEST_MODE_ERASE : IMPRINT_REQUEST_MODE_FREE_SPACE;
  if (a->defer)
    req->defer_data_partitions = IMPRINT_OPT_TRUE;
  if (a->definitions)
    req->definitions = absolute (a->definitions);
  req->root_hash = g_strdup (a->root_hash);
  if (a->certificate)
    req->certificate = absolute (a->certificate);
  if (a->no_boot_entry)
    req->no_boot_entry = IMPRINT_OPT_TRUE;
  if (a->no_encrypt)
    req->encrypt = IMPRINT_OPT_FALSE;
  if (a->handover)
    req->handover = IMPRINT_OPT_TRUE;
}

/* What the live handover did (the Install result's "handover"). */
static void
print_handover (GVariant *result)
{
  g_autoptr(GVariant) h = result ? g_variant_lookup_value (result, "handover", G_VARIANT_TYPE_VARDICT) : NULL;
  gboolean root = FALSE, usr = FALSE, released = FALSE;
  const char *s;

  if (h == NULL)
    return;
  g_variant_lookup (h, "root-moved", "b", &root);
  g_variant_lookup (h, "usr-moved", "b", &usr);
  g_variant_lookup (h, "medium-released", "b", &released);
  if (root && usr)
    g_print (_("This session now runs from the installed disk; no restart is needed.\n"));
  else if (root)
    g_print (_("This session’s root is on the installed disk, /usr still on the medium.\n"));
  if (g_variant_lookup (h, "error", "&s", &s))
    g_print (_("Not moved onto the disk: %s\n"), s);
  if (root && released)
    g_print (_("The installation medium can be removed.\n"));
  else if (g_variant_lookup (h, "remaining", "&s", &s))
    g_print (_("Keep the installation medium in: %s\n"), s);
}

/* How the disk unlocks; the secrets read into secret memory. */
static gboolean
install_request_unlock (const InstallArgs *a, ImprintInstallRequest *req, GError **error)
{
  req->has_encryption = TRUE;
  /* Always a recovery key: without it a lost TPM or key means lost data. */
  req->encryption = IMPRINT_UNLOCK_RECOVERY_KEY;
  if (a->tpm2)
    req->encryption |= IMPRINT_UNLOCK_TPM2;
  if (a->fido2)
    req->encryption |= IMPRINT_UNLOCK_FIDO2;
  if (a->passphrase_file)
    req->encryption |= IMPRINT_UNLOCK_PASSPHRASE;
  req->tpm2_device = g_strdup (a->tpm2_device);
  req->tpm2_pcrs = g_strdup (a->tpm2_pcrs);
  req->fido2_device = g_strdup (a->fido2_device);
  if (a->no_public_key)
    req->tpm2_public_key = g_strdup ("");
  else if (a->tpm2_public_key)
    req->tpm2_public_key = absolute (a->tpm2_public_key);
  if (a->tpm2_pin_file && (req->tpm2_pin = ctl_read_secret_file (a->tpm2_pin_file, error)) == NULL)
    return FALSE;
  if (a->passphrase_file && (req->passphrase = ctl_read_secret_file (a->passphrase_file, error)) == NULL)
    return FALSE;
  return TRUE;
}

static int
install_dry_run (Ctl *ctl, const InstallArgs *a, const ImprintInstallRequest *req)
{
  g_auto(ImprintPlanInfo) info = { 0 };
  g_autoptr(GVariant) plan = NULL;
  g_autoptr(GError) error = NULL;

  if (!imprint_manager_call_plan_install_sync (ctl->manager, a->source, a->target,
                                               imprint_install_request_to_variant (req), &plan, NULL, &error))
    return ctl_report_error (error);
  if (a->json)
    {
      g_autofree char *text = ctl_variant_to_json (plan, TRUE);
      g_print ("%s\n", text);
      return EXIT_CODE_OK;
    }
  imprint_plan_info_init (&info);
  if (!imprint_plan_info_from_variant (plan, &info, &error))
    return ctl_report_error (error);
  print_plan (&info);
  return EXIT_CODE_OK;
}

static int
install_run (Ctl *ctl, const InstallArgs *a, ImprintInstallRequest *req)
{
  g_autoptr(CtlJobWatch) watch = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *job_path = NULL;
  int r = EXIT_CODE_FAILED;

  if (!install_request_unlock (a, req, &error))
    return ctl_report_error (error);
  if (!a->defer && !a->no_encrypt &&
      (req->recovery_key = ctl_new_recovery_key (ctl, a->recovery_key_file, &r)) == NULL)
    return r;

  watch = ctl_job_watch_new (ctl);
  if (!imprint_manager_call_install_sync (ctl->manager, a->source, a->target,
                                          imprint_install_request_to_variant (req), &job_path, NULL, &error))
    return ctl_report_error (error);

  r = ctl_job_watch_follow (watch, job_path, &result);
  if (r == EXIT_CODE_OK && req->recovery_key != NULL && a->recovery_key_file == NULL)
    ctl_show_recovery_key (ctl, "recovery-key", req->recovery_key,
                           _("\nRecovery key (write it down and keep it safe; it is shown only once):\n\n    %s\n\n"),
                           req->recovery_key);
  else if (r == EXIT_CODE_OK && !ctl->json)
    g_print (_("The system is installed.\n"));
  if (r == EXIT_CODE_OK && !ctl->json)
    print_handover (result);
  return r;
}

int
ctl_verb_install (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_auto(InstallArgs) a = { 0 };
  g_auto(ImprintInstallRequest) req = { 0 };
  guint64 shrink_number = 0;
  guint64 shrink_size = 0;
  int r;

  install_add_entries (context, &a);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  a.json = ctl->json = a.json || ctl->json;
  if (a.shrink != NULL)
    a.free_space = TRUE;
  if (a.target == NULL || a.erase == a.free_space)
    {
      g_printerr (_("imprintctl: install needs --target and exactly one of --erase or --use-free-space.\n"));
      return EXIT_CODE_USAGE;
    }
  if (a.shrink != NULL && !parse_shrink (a.shrink, &shrink_number, &shrink_size))
    {
      g_printerr (_("imprintctl: --shrink takes PARTITION:SIZE, e.g. 3:120G.\n"));
      return EXIT_CODE_USAGE;
    }
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;

  imprint_install_request_init (&req);
  install_request_plan (ctl, &a, &req);
  if (a.shrink != NULL)
    {
      req.shrink_partition = shrink_number;
      req.shrink_size = shrink_size;
    }
  /* imprintd has its own working directory and takes no symlink. */
  make_absolute (&a.source);
  make_absolute (&a.target);
  return a.dry_run ? install_dry_run (ctl, &a, &req) : install_run (ctl, &a, &req);
}

int
ctl_verb_inspect (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (N_("[IMAGE|DEVICE]"));
  g_auto(ImprintInstallRequest) req = { 0 };
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *source = NULL, *root_hash = NULL, *certificate = NULL;
  gboolean json = FALSE;
  int r;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "root-hash", 0, 0, G_OPTION_ARG_STRING, &root_hash, N_("Trust only this usr root hash"), N_("HEX") },
    { "certificate", 0, 0, G_OPTION_ARG_FILENAME, &certificate, N_("Verify the verity signature with this certificate"), N_("PEM") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if (argc > 2)
    {
      g_printerr (_("imprintctl: inspect takes one image or device.\n"));
      return EXIT_CODE_USAGE;
    }
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  source = absolute (argc == 2 ? argv[1] : NULL);
  /* InspectSource reads the source options of Install. */
  imprint_install_request_init (&req);
  ctl_call_options (ctl, &req.call);
  req.root_hash = g_strdup (root_hash);
  if (certificate)
    req.certificate = absolute (certificate);

  if (!imprint_manager_call_inspect_source_sync (ctl->manager, source, imprint_install_request_to_variant (&req),
                                                 &info, NULL, &error))
    return ctl_report_error (error);

  if (json || ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (info, TRUE);
      g_print ("%s\n", text);
    }
  else
    {
      guint64 size = 0;
      g_autofree char *size_s = NULL;

      g_variant_lookup (info, "size", "t", &size);
      size_s = ctl_format_size (size);
      g_print (_("Image:      %s\nSystem:     %s %s\nRoot hash:  %s\nTo copy:    %s\n"),
               ctl_lookup_s (info, "device"), ctl_lookup_s (info, "name"), ctl_lookup_s (info, "version"),
               ctl_lookup_s (info, "usr-roothash"), size_s);
    }
  return EXIT_CODE_OK;
}

int
ctl_verb_recovery_key (Ctl *ctl, int argc, char **argv)
{
  char *key;
  int r;

  if (!ctl_parse_no_options (ctl, NULL, 0, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  key = ctl_new_recovery_key (ctl, NULL, &r);
  if (key == NULL)
    return r;
  g_print ("%s\n", key);
  imprint_secret_freep (&key);
  return EXIT_CODE_OK;
}

int
ctl_verb_security (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_auto(ImprintSecurityRequest) req = { 0 };
  g_autoptr(GVariant) caps = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  int r;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &req.tpm2_device, N_("TPM2 device node, “auto”, or a TCTI"), N_("DEVICE") },
    { NULL }
  };
  const char *parts[] = { "tpm2", "secure-boot", "uki" };
  const char *titles[] = { N_("TPM2"), N_("Secure Boot"), N_("Signed PCR policy") };

  imprint_security_request_init (&req);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  ctl_call_options (ctl, &req.call);
  if (!imprint_manager_call_get_security_capabilities_sync (ctl->manager, imprint_security_request_to_variant (&req),
                                                            &caps, NULL, &error))
    return ctl_report_error (error);

  if (json || ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (caps, TRUE);
      g_print ("%s\n", text);
      return EXIT_CODE_OK;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      g_autoptr(GVariant) part = g_variant_lookup_value (caps, parts[i], G_VARIANT_TYPE_VARDICT);
      gboolean available = FALSE;

      if (part == NULL)
        continue;
      g_variant_lookup (part, "available", "b", &available);
      g_print ("%-18s %s", _(titles[i]), available ? C_("answer", "yes") : C_("answer", "no"));
      if (g_str_equal (parts[i], "tpm2") && available)
        g_print (" (%s %s, %s)", ctl_lookup_s (part, "manufacturer"), ctl_lookup_s (part, "firmware-version"),
                 ctl_lookup_s (part, "best-bank"));
      if (g_str_equal (parts[i], "secure-boot"))
        g_print (" (%s)", ctl_lookup_s (part, "state"));
      g_print ("\n");
      if (*ctl_lookup_s (part, "reason"))
        g_print ("%-18s %s\n", "", ctl_lookup_s (part, "reason"));
    }
  {
    g_autoptr(GVariant) keys = g_variant_lookup_value (caps, "fido2", G_VARIANT_TYPE ("aa{sv}"));
    gsize n = keys ? g_variant_n_children (keys) : 0;

    g_print ("%-18s ", _("FIDO2 keys"));
    if (n == 0)
      g_print (_("none\n"));
    for (gsize i = 0; i < n; i++)
      {
        g_autoptr(GVariant) k = g_variant_get_child_value (keys, i);
        g_print ("%s%s %s\n", i ? "                   " : "", ctl_lookup_s (k, "path"), ctl_lookup_s (k, "product"));
      }
  }
  return EXIT_CODE_OK;
}

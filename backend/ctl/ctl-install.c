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

/* The plan in words from its facts (imprint-plan-words.h). */
static void
print_plan (GVariant *plan)
{
  g_auto(ImprintPlanInfo) info;
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL, *definitions = NULL;
  g_auto(GStrv) erased = NULL;

  imprint_plan_info_init (&info);
  if (!imprint_plan_info_from_variant (plan, &info, &error))
    {
      g_printerr ("%s\n", error->message);
      return;
    }
  summary = imprint_plan_words_summary (&info);
  g_print ("%s\n", summary);
  definitions = imprint_plan_words_definitions (&info);
  if (definitions != NULL && !info.defer_data_partitions)
    g_print ("%s\n", definitions);
  g_print ("\n");

  erased = imprint_plan_words_erased (&info);
  if (erased[0] != NULL)
    {
      g_print (_("Will be erased:\n"));
      for (gsize i = 0; erased[i]; i++)
        g_print ("  • %s\n", erased[i]);
      g_print ("\n");
    }

  g_print ("%-3s %-7s %-22s %-20s %10s  %s\n", "#", _("ACTION"), _("TYPE"), _("LABEL"), _("SIZE"), _("CONTENTS"));
  for (guint i = 0; i < info.partitions->len; i++)
    {
      const ImprintPlanPartitionInfo *p = info.partitions->pdata[i];
      g_autofree char *size_s = ctl_format_size (p->size);
      g_autofree char *source = imprint_plan_words_source (&info, p);

      g_print ("%-3u %-7s %-22s %-20s %10s  %s\n", p->number, p->action, p->type_name, p->label, size_s,
               source);
    }
}

int
ctl_verb_install (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GVariantBuilder) options = NULL;
  g_autoptr(GPtrArray) methods = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) plan = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(CtlJobWatch) watch = NULL;
  g_autofree char *source = NULL, *target = NULL, *definitions = NULL;
  g_autofree char *tpm2_device = NULL, *tpm2_pcrs = NULL, *tpm2_pin_file = NULL;
  g_autofree char *passphrase_file = NULL, *recovery_key_file = NULL, *root_hash = NULL;
  g_autofree char *fido2_device = NULL, *certificate = NULL, *tpm2_public_key = NULL;
  g_autofree char *job_path = NULL;
  char *recovery_key = NULL, *passphrase = NULL, *tpm2_pin = NULL;
  gboolean erase = FALSE, free_space = FALSE, defer = FALSE, dry_run = FALSE, json = FALSE;
  gboolean tpm2 = FALSE, fido2 = FALSE, no_encrypt = FALSE, no_boot_entry = FALSE, no_public_key = FALSE;
  int r = EXIT_CODE_FAILED;
  const GOptionEntry entries[] = {
    { "source", 0, 0, G_OPTION_ARG_FILENAME, &source, N_("Image file or device to install (default: the running system)"), N_("IMAGE|DEVICE") },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, N_("Disk or image file to install onto"), N_("DEVICE|FILE") },
    { "erase", 0, 0, G_OPTION_ARG_NONE, &erase, N_("Erase the whole target disk"), NULL },
    { "use-free-space", 0, 0, G_OPTION_ARG_NONE, &free_space, N_("Keep what is on the disk and use its free space"), NULL },
    { "defer-data-partitions", 0, 0, G_OPTION_ARG_NONE, &defer, N_("Leave the root to the first boot (OEM preloads)"), NULL },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, N_("Print the plan and write nothing"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "tpm2", 0, 0, G_OPTION_ARG_NONE, &tpm2, N_("Unlock the disk with the TPM2"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &tpm2_device, N_("TPM2 device node, “auto”, or a TCTI such as swtpm:port=2321"), N_("DEVICE") },
    { "tpm2-pcrs", 0, 0, G_OPTION_ARG_STRING, &tpm2_pcrs, N_("PCRs to bind to (default 7)"), N_("PCR[+PCR…]") },
    { "tpm2-pin", 0, 0, G_OPTION_ARG_FILENAME, &tpm2_pin_file, N_("Also require a TPM2 PIN, read from FILE (- for standard input)"), N_("FILE") },
    { "tpm2-public-key", 0, 0, G_OPTION_ARG_FILENAME, &tpm2_public_key, N_("Signed PCR 11 policy key (PEM; default: the image's UKI .pcrpkey)"), N_("FILE") },
    { "no-tpm2-public-key", 0, 0, G_OPTION_ARG_NONE, &no_public_key, N_("No signed PCR 11 policy"), NULL },
    { "fido2", 0, 0, G_OPTION_ARG_NONE, &fido2, N_("Unlock the disk with a FIDO2 security key"), NULL },
    { "fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &fido2_device, N_("FIDO2 device (default: the only one)"), N_("DEVICE") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file, N_("Unlock the disk with the passphrase in FILE (- for standard input)"), N_("FILE") },
    { "recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &recovery_key_file, N_("Write the recovery key to FILE (mode 0600) instead of printing it"), N_("FILE") },
    { "no-encrypt", 0, 0, G_OPTION_ARG_NONE, &no_encrypt, N_("Do not encrypt the root (tests only)"), NULL },
    { "no-boot-entry", 0, 0, G_OPTION_ARG_NONE, &no_boot_entry, N_("Do not write an EFI boot entry"), NULL },
    { "definitions", 0, 0, G_OPTION_ARG_FILENAME, &definitions, N_("repart.d directory for the data partitions"), N_("DIR") },
    { "root-hash", 0, 0, G_OPTION_ARG_STRING, &root_hash, N_("Trust only this usr root hash"), N_("HEX") },
    { "certificate", 0, 0, G_OPTION_ARG_FILENAME, &certificate, N_("Verify the verity signature with this certificate"), N_("PEM") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (context, &argc, &argv))
    return EXIT_CODE_USAGE;
  json = json || ctl->json;
  ctl->json = json;

  if (target == NULL || erase == free_space)
    {
      g_printerr (_("imprintctl: install needs --target and exactly one of --erase or --use-free-space.\n"));
      return EXIT_CODE_USAGE;
    }

  options = ctl_options_new (ctl);
  g_variant_builder_add (options, "{sv}", "mode", g_variant_new_string (erase ? "erase" : "free-space"));
  if (defer)
    g_variant_builder_add (options, "{sv}", "defer-data-partitions", g_variant_new_boolean (TRUE));
  if (definitions)
    g_variant_builder_add (options, "{sv}", "definitions", g_variant_new_take_string (absolute (definitions)));
  if (root_hash)
    g_variant_builder_add (options, "{sv}", "root-hash", g_variant_new_string (root_hash));
  if (certificate)
    g_variant_builder_add (options, "{sv}", "certificate", g_variant_new_take_string (absolute (certificate)));
  if (no_boot_entry)
    g_variant_builder_add (options, "{sv}", "no-boot-entry", g_variant_new_boolean (TRUE));
  if (no_encrypt)
    g_variant_builder_add (options, "{sv}", "encrypt", g_variant_new_boolean (FALSE));

  source = absolute (source);
  {
    char *t = absolute (target);
    g_free (target);
    target = t;
  }

  if (dry_run)
    {
      if (!imprint_manager_call_plan_install_sync (ctl->manager, source, target,
                                                   g_variant_builder_end (options), &plan, NULL, &error))
        return ctl_report_error (error);
      if (json)
        {
          g_autofree char *text = ctl_variant_to_json (plan, TRUE);
          g_print ("%s\n", text);
        }
      else
        print_plan (plan);
      return EXIT_CODE_OK;
    }

  if (tpm2)
    g_ptr_array_add (methods, "tpm2");
  if (fido2)
    g_ptr_array_add (methods, "fido2");
  if (passphrase_file)
    g_ptr_array_add (methods, "passphrase");
  g_ptr_array_add (methods, "recovery-key");
  g_ptr_array_add (methods, NULL);
  g_variant_builder_add (options, "{sv}", "encryption",
                         g_variant_new_strv ((const char * const *) methods->pdata, -1));
  if (tpm2_device)
    g_variant_builder_add (options, "{sv}", "tpm2-device", g_variant_new_string (tpm2_device));
  if (tpm2_pcrs)
    g_variant_builder_add (options, "{sv}", "tpm2-pcrs", g_variant_new_string (tpm2_pcrs));
  if (fido2_device)
    g_variant_builder_add (options, "{sv}", "fido2-device", g_variant_new_string (fido2_device));
  if (tpm2_public_key || no_public_key)
    g_variant_builder_add (options, "{sv}", "tpm2-public-key",
                           g_variant_new_take_string (no_public_key ? g_strdup ("") : absolute (tpm2_public_key)));
  if (tpm2_pin_file)
    {
      tpm2_pin = ctl_read_secret_file (tpm2_pin_file, &error);
      if (tpm2_pin == NULL)
        goto out_error;
      g_variant_builder_add (options, "{sv}", "tpm2-pin", g_variant_new_string (tpm2_pin));
    }
  if (passphrase_file)
    {
      passphrase = ctl_read_secret_file (passphrase_file, &error);
      if (passphrase == NULL)
        goto out_error;
      g_variant_builder_add (options, "{sv}", "passphrase", g_variant_new_string (passphrase));
    }

  if (!defer && !no_encrypt)
    {
      if ((recovery_key = ctl_new_recovery_key (ctl, recovery_key_file, &r)) == NULL)
        goto out;
      g_variant_builder_add (options, "{sv}", "recovery-key", g_variant_new_string (recovery_key));
    }

  watch = ctl_job_watch_new (ctl);
  if (!imprint_manager_call_install_sync (ctl->manager, source, target,
                                          g_variant_builder_end (options), &job_path, NULL, &error))
    goto out_error;

  r = ctl_job_watch_follow (watch, job_path, &result);
  if (r == EXIT_CODE_OK && recovery_key != NULL && recovery_key_file == NULL)
    {
      if (json)
        ctl_print_key_event ("recovery-key", recovery_key);
      else
        g_print (_("\nRecovery key (write it down and keep it safe; it is shown only once):\n\n    %s\n\n"),
                 recovery_key);
    }
  else if (r == EXIT_CODE_OK && !json)
    g_print (_("The system is installed.\n"));
  goto out;

out_error:
  r = ctl_report_error (error);
out:
  ctl_wipe_string (&recovery_key);
  ctl_wipe_string (&passphrase);
  ctl_wipe_string (&tpm2_pin);
  return r;
}

int
ctl_verb_inspect (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (N_("[IMAGE|DEVICE]"));
  g_autoptr(GVariantBuilder) options = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *source = NULL, *root_hash = NULL, *certificate = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "root-hash", 0, 0, G_OPTION_ARG_STRING, &root_hash, N_("Trust only this usr root hash"), N_("HEX") },
    { "certificate", 0, 0, G_OPTION_ARG_FILENAME, &certificate, N_("Verify the verity signature with this certificate"), N_("PEM") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if (argc > 2)
    {
      g_printerr (_("imprintctl: inspect takes one image or device.\n"));
      return EXIT_CODE_USAGE;
    }
  source = absolute (argc == 2 ? argv[1] : NULL);
  options = ctl_options_new (ctl);
  if (root_hash)
    g_variant_builder_add (options, "{sv}", "root-hash", g_variant_new_string (root_hash));
  if (certificate)
    g_variant_builder_add (options, "{sv}", "certificate", g_variant_new_take_string (absolute (certificate)));

  if (!imprint_manager_call_inspect_source_sync (ctl->manager, source, g_variant_builder_end (options),
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
  g_autoptr(GVariantBuilder) options = ctl_options_new (ctl);
  g_autoptr(GError) error = NULL;
  char *reply = NULL, *key;

  if (argc > 1)
    {
      g_printerr (_("imprintctl: recovery-key takes no arguments.\n"));
      return EXIT_CODE_USAGE;
    }
  if (!imprint_manager_call_generate_recovery_key_sync (ctl->manager, g_variant_builder_end (options),
                                                        &reply, NULL, &error))
    return ctl_report_error (error);
  key = ctl_secret_take (reply);
  g_print ("%s\n", key);
  ctl_wipe_string (&key);
  return EXIT_CODE_OK;
}

int
ctl_verb_security (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GVariantBuilder) options = NULL;
  g_autoptr(GVariant) caps = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tpm2_device = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &tpm2_device, N_("TPM2 device node, “auto”, or a TCTI"), N_("DEVICE") },
    { NULL }
  };
  const char *parts[] = { "tpm2", "secure-boot", "uki" };
  const char *titles[] = { N_("TPM2"), N_("Secure Boot"), N_("Signed PCR policy") };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (context, &argc, &argv))
    return EXIT_CODE_USAGE;
  options = ctl_options_new (ctl);
  if (tpm2_device)
    g_variant_builder_add (options, "{sv}", "tpm2-device", g_variant_new_string (tpm2_device));
  if (!imprint_manager_call_get_security_capabilities_sync (ctl->manager, g_variant_builder_end (options),
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

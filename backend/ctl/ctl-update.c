/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imprintctl.h"

/* update-status, check-updates, update, auto-update, factory-reset-info,
 * factory-reset. */

/* The reply keys are the daemon's (data/dev.imprint.Imprint1.xml). */
static void
print_json (GVariant *v)
{
  g_autofree char *text = ctl_variant_to_json (v, TRUE);
  g_print ("%s\n", text);
}

int
ctl_verb_update_status (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;
  int r;

  if (!ctl_parse_no_options (ctl, NULL, 0, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  if (!imprint_manager_call_get_update_status_sync (ctl->manager, ctl_options_new (ctl), &status, NULL, &error))
    return ctl_report_error (error);
  if (ctl->json)
    {
      print_json (status);
      return EXIT_CODE_OK;
    }
  g_print (_("System:           %s %s\n"), ctl_lookup_s (status, "image-id"), ctl_lookup_s (status, "current-version"));
  g_print (_("Other slot:       %s\n"), *ctl_lookup_s (status, "other-version") ? ctl_lookup_s (status, "other-version") : _("empty"));
  if (*ctl_lookup_s (status, "pending-version"))
    g_print (_("Pending:          version %s is installed; restart to use it\n"), ctl_lookup_s (status, "pending-version"));
  g_print (_("Automatic:        %s\n"), ctl_lookup_b (status, "automatic") ? C_("switch state", "on") : C_("switch state", "off"));
  if (!ctl_lookup_b (status, "supported"))
    g_print (_("Updates:          not possible here: %s\n"), ctl_lookup_s (status, "reason"));
  return EXIT_CODE_OK;
}

int
ctl_verb_check_updates (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GVariant) versions = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *v;
  int r;

  if (!ctl_parse_no_options (ctl, NULL, 0, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  if (!imprint_manager_call_check_for_updates_sync (ctl->manager, ctl_options_new (ctl), &versions, NULL, &error))
    return ctl_report_error (error);
  if (ctl->json)
    {
      print_json (versions);
      return EXIT_CODE_OK;
    }
  g_print ("%-16s %-9s %-9s %s\n", _("VERSION"), _("INSTALLED"), _("AVAILABLE"), _("NOTE"));
  g_variant_iter_init (&iter, versions);
  while ((v = g_variant_iter_next_value (&iter)))
    {
      const char *note = "";

      if (ctl_lookup_b (v, "incomplete"))
        note = _("incomplete");
      else if (ctl_lookup_b (v, "protected"))
        note = _("running");
      else if (ctl_lookup_b (v, "obsolete"))
        note = _("obsolete");
      else if (ctl_lookup_b (v, "newest") && !ctl_lookup_b (v, "installed"))
        note = _("newest");
      g_print ("%-16s %-9s %-9s %s\n", ctl_lookup_s (v, "version"),
               ctl_lookup_b (v, "installed") ? C_("answer", "yes") : "-", ctl_lookup_b (v, "available") ? C_("answer", "yes") : "-", note);
      g_variant_unref (v);
    }
  return EXIT_CODE_OK;
}

int
ctl_verb_update (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (N_("[VERSION]"));
  g_autoptr(CtlJobWatch) watch = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *job_path = NULL;
  int r;

  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if (argc > 2)
    {
      g_printerr (_("imprintctl: update takes at most one version.\n"));
      return EXIT_CODE_USAGE;
    }
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  watch = ctl_job_watch_new (ctl);
  if (!imprint_manager_call_update_sync (ctl->manager, argc == 2 ? argv[1] : "", ctl_options_new (ctl),
                                         &job_path, NULL, &error))
    return ctl_report_error (error);
  r = ctl_job_watch_follow (watch, job_path, &result);
  if (r == EXIT_CODE_OK && result != NULL && ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (result, FALSE);
      g_print ("%s\n", text);
    }
  else if (r == EXIT_CODE_OK && result != NULL)
    {
      if (*ctl_lookup_s (result, "version") == '\0')
        g_print (_("The system is up to date.\n"));
      else if (ctl_lookup_b (result, "reboot-required"))
        g_print (_("Version %s is installed. Restart the computer to use it.\n"), ctl_lookup_s (result, "version"));
      else
        g_print (_("Version %s is installed.\n"), ctl_lookup_s (result, "version"));
    }
  return r;
}

int
ctl_verb_auto_update (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("on|off");
  g_autoptr(GError) error = NULL;
  gboolean on;
  int r;

  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if (argc != 2 || (!g_str_equal (argv[1], "on") && !g_str_equal (argv[1], "off")))
    {
      g_printerr (_("imprintctl: auto-update takes “on” or “off”.\n"));
      return EXIT_CODE_USAGE;
    }
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  on = g_str_equal (argv[1], "on");
  if (!imprint_manager_call_set_automatic_updates_sync (ctl->manager, on, ctl_options_new (ctl), NULL, &error))
    return ctl_report_error (error);
  if (!ctl->json)
    g_print (on ? _("Automatic updates are on.\n") : _("Automatic updates are off.\n"));
  return EXIT_CODE_OK;
}

static void
print_reset_info (GVariant *info)
{
  g_autoptr(GVariant) erased = g_variant_lookup_value (info, "erased", G_VARIANT_TYPE ("aa{sv}"));
  g_autofree const char **kept = NULL;
  GVariantIter iter;
  GVariant *p;

  if (!ctl_lookup_b (info, "supported"))
    g_print (_("A factory reset is not possible here: %s\n"), ctl_lookup_s (info, "reason"));
  if (ctl_lookup_b (info, "pending"))
    g_print (_("A factory reset is already requested: it happens at the next restart.\n"));
  g_print (_("A factory reset erases:\n"));
  if (erased != NULL)
    {
      g_variant_iter_init (&iter, erased);
      while ((p = g_variant_iter_next_value (&iter)))
        {
          g_print ("  • %s\n", ctl_lookup_s (p, "description"));
          g_variant_unref (p);
        }
    }
  g_print (_("It keeps:\n"));
  if (g_variant_lookup (info, "kept", "^a&s", &kept))
    for (gsize i = 0; kept[i]; i++)
      g_print ("  • %s\n", kept[i]);
  if (ctl_lookup_b (info, "tpm-clear-supported"))
    g_print (_("The TPM can also be cleared (--clear-tpm): every key sealed to it, on any system on this computer, stops working.\n"));
}

int
ctl_verb_factory_reset_info (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  int r;

  if (!ctl_parse_no_options (ctl, NULL, 0, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  if (!imprint_manager_call_get_factory_reset_info_sync (ctl->manager, ctl_options_new (ctl), &info, NULL, &error))
    return ctl_report_error (error);
  if (ctl->json)
    print_json (info);
  else
    print_reset_info (info);
  return EXIT_CODE_OK;
}

/* A deliberate confirmation: the computer's name, typed. */
static gboolean
confirm_reset (void)
{
  const char *host = g_get_host_name ();
  char line[256];

  g_print (_("\nTo erase this computer, type its name (%s): "), host);
  fflush (stdout);
  if (fgets (line, sizeof (line), stdin) == NULL)
    return FALSE;
  g_strstrip (line);
  return g_str_equal (line, host);
}

int
ctl_verb_factory_reset (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_auto(ImprintFactoryResetRequest) req = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean clear_tpm = FALSE, yes = FALSE, cancel = FALSE;
  int r;
  const GOptionEntry entries[] = {
    { "clear-tpm", 0, 0, G_OPTION_ARG_NONE, &clear_tpm, N_("Also ask the firmware to clear the TPM"), NULL },
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &yes, N_("Do not ask for confirmation"), NULL },
    { "cancel", 0, 0, G_OPTION_ARG_NONE, &cancel, N_("Withdraw a requested factory reset"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if (argc > 1 || (cancel && clear_tpm))
    {
      g_printerr (_("imprintctl: factory-reset takes no arguments (see --help).\n"));
      return EXIT_CODE_USAGE;
    }
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;

  if (cancel)
    {
      if (!imprint_manager_call_cancel_factory_reset_sync (ctl->manager, ctl_options_new (ctl), NULL, &error))
        return ctl_report_error (error);
      if (!ctl->json)
        g_print (_("The factory reset request is withdrawn.\n"));
      return EXIT_CODE_OK;
    }

  if (!yes)
    {
      g_autoptr(GVariant) info = NULL;

      if (!isatty (STDIN_FILENO))
        {
          g_printerr (_("imprintctl: refusing to request a factory reset without confirmation: pass --yes.\n"));
          return EXIT_CODE_USAGE;
        }
      if (!imprint_manager_call_get_factory_reset_info_sync (ctl->manager, ctl_options_new (ctl),
                                                             &info, NULL, &error))
        return ctl_report_error (error);
      print_reset_info (info);
      if (!confirm_reset ())
        {
          g_printerr (_("The name does not match: nothing was changed.\n"));
          return EXIT_CODE_CANCELLED;
        }
    }

  imprint_factory_reset_request_init (&req);
  ctl_call_options (ctl, &req.call);
  if (clear_tpm)
    req.clear_tpm = IMPRINT_OPT_TRUE;
  if (!imprint_manager_call_request_factory_reset_sync (ctl->manager, imprint_factory_reset_request_to_variant (&req),
                                                        NULL, &error))
    return ctl_report_error (error);
  if (!ctl->json)
    g_print (clear_tpm ? _("A factory reset and a TPM clear are requested. Restart the computer to erase it; the firmware asks to confirm the TPM clear.\n")
                       : _("A factory reset is requested. Restart the computer to erase it.\n"));
  return EXIT_CODE_OK;
}

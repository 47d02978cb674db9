/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprint-names.h"
#include "imprintctl.h"

typedef struct {
  const char *name;
  CtlVerbFunc func;
  const char *summary;
} Verb;

static const Verb verbs[] = {
  { "list-disks",   ctl_verb_list_disks,   N_("List the disks Imprint can install onto") },
  { "security",     ctl_verb_security,     N_("Show the TPM2, Secure Boot and FIDO2 keys") },
  { "inspect",      ctl_verb_inspect,      N_("Check and describe a system image") },
  { "install",      ctl_verb_install,      N_("Install a system image onto a disk") },
  { "recovery-key", ctl_verb_recovery_key, N_("Print a new recovery key") },
  { "update-status", ctl_verb_update_status, N_("Show the running version and the other slot") },
  { "check-updates", ctl_verb_check_updates, N_("List the installed and available versions") },
  { "update",       ctl_verb_update,       N_("Install a new version into the free slot") },
  { "auto-update",  ctl_verb_auto_update,  N_("Turn automatic updates on or off") },
  { "factory-reset-info", ctl_verb_factory_reset_info, N_("Show what a factory reset erases") },
  { "factory-reset", ctl_verb_factory_reset, N_("Request (or --cancel) a factory reset at the next boot") },
  { "setup-defaults", ctl_verb_setup_defaults, N_("Show what first-boot setup would start from") },
  { "setup",        ctl_verb_setup,        N_("Apply first-boot setup: settings and the first user") },
  { "enrollments",  ctl_verb_enrollments,  N_("Show how an encrypted disk unlocks") },
  { "enroll",       ctl_verb_enroll,       N_("Add or replace a way to unlock an encrypted disk") },
  { "unenroll",     ctl_verb_unenroll,     N_("Remove a way to unlock an encrypted disk") },
  { "unlock-status", ctl_verb_unlock_status, N_("Show whether this start needed the recovery key, and why") },
};

static void
print_help (void)
{
  g_print (_("Usage: imprintctl [OPTION…] COMMAND [ARGUMENT…]\n"
             "\n"
             "Installs and sets up image-based systems through imprintd.\n"
             "\n"
             "Options:\n"
             "  -h, --help            Show this help\n"
             "      --version         Show the version\n"
             "      --json            Print machine-readable JSON\n"
             "      --no-ask-password Do not ask for a password; fail instead\n"
             "\n"
             "Commands:\n"));
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    g_print ("  %-20s %s\n", verbs[i].name, _(verbs[i].summary));
  g_print (_("\nSee imprintctl(1) for the options of each command.\n"));
}

int
ctl_exit_code_for (const GError *error)
{
  if (error->domain != IMPRINT_ERROR)
    return EXIT_CODE_FAILED;
  switch ((ImprintError) error->code)
    {
    case IMPRINT_ERROR_NOT_AUTHORIZED:
    case IMPRINT_ERROR_AUTH_DISMISSED:
      return EXIT_CODE_NOT_AUTHORIZED;
    case IMPRINT_ERROR_NOT_FOUND:
      return EXIT_CODE_NOT_FOUND;
    case IMPRINT_ERROR_SOURCE_INVALID:
      return EXIT_CODE_SOURCE_INVALID;
    case IMPRINT_ERROR_NO_SPACE:
      return EXIT_CODE_NO_SPACE;
    case IMPRINT_ERROR_UNAVAILABLE:
      return EXIT_CODE_UNAVAILABLE;
    case IMPRINT_ERROR_CANCELLED:
      return EXIT_CODE_CANCELLED;
    case IMPRINT_ERROR_INVALID_ARGUMENT:
      return EXIT_CODE_USAGE;
    default:
      return EXIT_CODE_FAILED;
    }
}

int
ctl_report_error (GError *error)
{
  imprint_error_strip_remote (error);
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    g_printerr (_("imprintctl: imprintd is not running and could not be started.\n"));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY))
    g_printerr (_("imprintctl: imprintd did not answer in time.\n"));
  else
    g_printerr ("imprintctl: %s\n", error->message);
  return ctl_exit_code_for (error);
}

void
ctl_call_options (Ctl *ctl, ImprintCallOptions *o)
{
  const char *messages = setlocale (LC_MESSAGES, NULL);

  if (ctl->no_ask_password)
    o->no_user_interaction = IMPRINT_OPT_TRUE;
  /* imprintd answers in our language. */
  if (messages != NULL && !g_str_equal (messages, "C"))
    o->locale = g_strdup (messages);
}

GVariant *
ctl_options_new (Ctl *ctl)
{
  g_auto(ImprintCallOptions) o = { 0 };

  imprint_call_options_init (&o);
  ctl_call_options (ctl, &o);
  return imprint_call_options_to_variant (&o);
}

int
ctl_connect (Ctl *ctl)
{
  g_autoptr(GError) error = NULL;

  if (ctl->manager != NULL)
    return EXIT_CODE_OK;
  /* G_BUS_TYPE_SYSTEM follows DBUS_SYSTEM_BUS_ADDRESS, so the same
   * imprintctl drives a test bus. */
  ctl->bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (ctl->bus == NULL)
    return ctl_report_error (error);
  ctl->manager = imprint_manager_proxy_new_sync (ctl->bus,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                 IMPRINT_BUS_NAME, IMPRINT_MANAGER_PATH,
                                                 NULL, &error);
  if (ctl->manager == NULL)
    return ctl_report_error (error);
  /* A password dialog can take a person a while. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (ctl->manager),
                                    ctl->no_ask_password ? 60 * 1000 : G_MAXINT);
  return EXIT_CODE_OK;
}

char *
ctl_variant_to_json (GVariant *value, gboolean pretty)
{
  g_autoptr(JsonNode) node = json_gvariant_serialize (value);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_pretty (gen, pretty);
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

char *
ctl_format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_DEFAULT);
}

/* GLib's own debug and info messages are for developers: a person using
 * imprintctl sees our sentences only. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) &&
      g_getenv ("IMPRINTCTL_DEBUG") == NULL)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_standard_streams (level, fields, n_fields, user_data);
}

int
main (int argc, char **argv)
{
  Ctl ctl = { 0 };
  g_autofree char *prgname = NULL;
  const Verb *verb = NULL;
  int i, r;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_log_set_writer_func (log_writer, NULL, NULL);

  /* Global options come before the command. */
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      if (g_str_equal (argv[i], "-h") || g_str_equal (argv[i], "--help"))
        {
          print_help ();
          return EXIT_CODE_OK;
        }
      else if (g_str_equal (argv[i], "--version"))
        {
          g_print ("imprintctl %s\n", PACKAGE_VERSION);
          return EXIT_CODE_OK;
        }
      else if (g_str_equal (argv[i], "--json"))
        ctl.json = TRUE;
      else if (g_str_equal (argv[i], "--no-ask-password"))
        ctl.no_ask_password = TRUE;
      else
        {
          g_printerr (_("imprintctl: unknown option “%s”. See imprintctl --help.\n"), argv[i]);
          return EXIT_CODE_USAGE;
        }
    }

  if (i >= argc)
    {
      print_help ();
      return EXIT_CODE_USAGE;
    }

  for (gsize v = 0; v < G_N_ELEMENTS (verbs); v++)
    if (g_str_equal (verbs[v].name, argv[i]))
      verb = &verbs[v];
  if (verb == NULL)
    {
      g_printerr (_("imprintctl: unknown command “%s”. See imprintctl --help.\n"), argv[i]);
      return EXIT_CODE_USAGE;
    }

  /* "imprintctl install --help" shows "Usage: imprintctl install ...";
   * the verb connects to imprintd itself, after its options. */
  prgname = g_strdup_printf ("imprintctl %s", verb->name);
  g_set_prgname (prgname);
  ctl.verb_summary = verb->summary;
  /* Registers the "dev.imprint.Imprint1.Error.*" names, so that imprintd's
   * errors arrive as IMPRINT_ERROR codes (and exit codes). */
  (void) IMPRINT_ERROR;
  r = verb->func (&ctl, argc - i, argv + i);

  g_clear_object (&ctl.manager);
  g_clear_object (&ctl.bus);
  return r;
}

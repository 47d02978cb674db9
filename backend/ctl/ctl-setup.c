/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprintctl.h"

/* setup-defaults and setup: first-boot setup through GetSetupDefaults and
 * ApplySetup, the same calls the graphical setup makes. */

/* "" = the running system; "disk:DEV" and a directory absolute, with
 * symlinks resolved (ctl_resolve_path). */
static char *
target_arg (const char *target)
{
  g_autofree char *device = NULL;

  if (target == NULL || target[0] == '\0')
    return g_strdup ("");
  if (g_str_has_prefix (target, "disk:"))
    {
      device = ctl_resolve_path (target + strlen ("disk:"));
      return g_strconcat ("disk:", device, NULL);
    }
  return ctl_resolve_path (target);
}

/* 1024-based K, M, G, T suffixes, like homectl --disk-size. */
static gboolean
parse_size (const char *s, guint64 *ret)
{
  char *end = NULL;
  guint64 v, mult = 1;

  if (s == NULL || !g_ascii_isdigit (s[0]))
    return FALSE;
  v = g_ascii_strtoull (s, &end, 10);
  switch (g_ascii_toupper (*end))
    {
    case '\0': break;
    case 'K': mult = 1ull << 10; end++; break;
    case 'M': mult = 1ull << 20; end++; break;
    case 'G': mult = 1ull << 30; end++; break;
    case 'T': mult = 1ull << 40; end++; break;
    default: return FALSE;
    }
  if (*end != '\0' || v > G_MAXUINT64 / mult)
    return FALSE;
  *ret = v * mult;
  return TRUE;
}

int
ctl_verb_setup_defaults (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GVariant) defaults = NULL, user = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL, *t = NULL;
  g_autofree const char **decided = NULL;
  gboolean json = FALSE, b;
  int r;
  const GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, N_("Root directory of an installed system (default: this system)"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;
  t = target_arg (target);
  if (!imprint_manager_call_get_setup_defaults_sync (ctl->manager, t, ctl_options_new (ctl),
                                                     &defaults, NULL, &error))
    return ctl_report_error (error);

  if (json || ctl->json)
    {
      g_autofree char *text = ctl_variant_to_json (defaults, TRUE);
      g_print ("%s\n", text);
      return EXIT_CODE_OK;
    }
  g_print ("%-16s %s\n", _("Language:"), ctl_lookup_s (defaults, "locale"));
  g_print ("%-16s %s\n", _("Keyboard:"), ctl_lookup_s (defaults, "keymap"));
  g_print ("%-16s %s\n", _("Time zone:"), ctl_lookup_s (defaults, "timezone"));
  g_print ("%-16s %s\n", _("Computer name:"), ctl_lookup_s (defaults, "hostname"));
  g_print ("%-16s %s\n", _("Display name:"), ctl_lookup_s (defaults, "pretty-hostname"));
  user = g_variant_lookup_value (defaults, "user", G_VARIANT_TYPE_VARDICT);
  if (user != NULL && g_variant_n_children (user) > 0)
    g_print ("%-16s %s (%s)\n", _("User:"), ctl_lookup_s (user, "user-name"), ctl_lookup_s (user, "real-name"));
  if (g_variant_lookup (defaults, "decided", "^a&s", &decided) && decided[0] != NULL)
    {
      g_autofree char *j = g_strjoinv (", ", (char **) decided);
      g_print ("%-16s %s\n", _("Decided:"), j);
    }
  b = FALSE;
  g_variant_lookup (defaults, "setup-pending", "b", &b);
  g_print ("%-16s %s\n", _("Setup pending:"), b ? C_("answer", "yes") : C_("answer", "no"));
  return EXIT_CODE_OK;
}

/* What setup was told on the command line. */
typedef struct {
  char *target, *locale, *keymap, *timezone, *hostname, *pretty;
  char *user, *real_name, *password_file, *disk_size;
  char *recovery_key_file, *fido2_device;
  char *disk_key_file, *disk_fido2_device, *disk_device, *disk_tpm2;
  char *unlock_key_file, *tpm2_device;
  gboolean unlock_tpm2, json, recovery, fido2, auto_login, no_admin;
  gboolean disk_recovery, disk_fido2;
  guint64 size;
} SetupArgs;

static void
setup_args_clear (SetupArgs *a)
{
  char **strings[] = { &a->target, &a->locale, &a->keymap, &a->timezone, &a->hostname, &a->pretty,
                       &a->user, &a->real_name, &a->password_file, &a->disk_size,
                       &a->recovery_key_file, &a->fido2_device, &a->disk_key_file,
                       &a->disk_fido2_device, &a->disk_device, &a->disk_tpm2,
                       &a->unlock_key_file, &a->tpm2_device };

  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    g_clear_pointer (strings[i], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SetupArgs, setup_args_clear)

static void
setup_add_entries (GOptionContext *context, SetupArgs *a)
{
  const GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &a->target, N_("Root directory of an installed system, or disk:DEVICE (default: this system)"), N_("DIR") },
    { "locale", 0, 0, G_OPTION_ARG_STRING, &a->locale, N_("Language, e.g. de_DE.UTF-8"), N_("LOCALE") },
    { "keymap", 0, 0, G_OPTION_ARG_STRING, &a->keymap, N_("Keyboard layout (console keymap), e.g. de-nodeadkeys"), N_("KEYMAP") },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &a->timezone, N_("Time zone, e.g. Europe/Berlin"), N_("ZONE") },
    { "hostname", 0, 0, G_OPTION_ARG_STRING, &a->hostname, N_("Computer name"), N_("NAME") },
    { "pretty-hostname", 0, 0, G_OPTION_ARG_STRING, &a->pretty, N_("Computer name as people see it"), N_("TEXT") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &a->user, N_("Create this user (an encrypted systemd-homed home)"), N_("NAME") },
    { "real-name", 0, 0, G_OPTION_ARG_STRING, &a->real_name, N_("The user’s full name"), N_("TEXT") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &a->password_file, N_("Read the user’s password from FILE (- for standard input)"), N_("FILE") },
    { "home-recovery-key", 0, 0, G_OPTION_ARG_NONE, &a->recovery, N_("Add a recovery key to the home and print it"), NULL },
    { "home-recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->recovery_key_file, N_("Add a recovery key to the home and write it to FILE (mode 0600)"), N_("FILE") },
    { "fido2", 0, 0, G_OPTION_ARG_NONE, &a->fido2, N_("Also unlock the home with a FIDO2 security key"), NULL },
    { "fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &a->fido2_device, N_("FIDO2 device (default: the only one)"), N_("DEVICE") },
    { "disk-size", 0, 0, G_OPTION_ARG_STRING, &a->disk_size, N_("Size of the home (default: from the free space)"), N_("BYTES[K|M|G|T]") },
    { "auto-login", 0, 0, G_OPTION_ARG_NONE, &a->auto_login, N_("Log the user in automatically"), NULL },
    { "no-administrator", 0, 0, G_OPTION_ARG_NONE, &a->no_admin, N_("Do not make the user an administrator"), NULL },
    { "disk-recovery-key", 0, 0, G_OPTION_ARG_NONE, &a->disk_recovery, N_("Add a recovery key to the system disk and print it"), NULL },
    { "disk-recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->disk_key_file, N_("Add a recovery key to the system disk and write it to FILE (mode 0600)"), N_("FILE") },
    { "disk-fido2", 0, 0, G_OPTION_ARG_NONE, &a->disk_fido2, N_("Also unlock the system disk with a FIDO2 security key"), NULL },
    { "disk-fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &a->disk_fido2_device, N_("FIDO2 device for the system disk"), N_("DEVICE") },
    { "disk-device", 0, 0, G_OPTION_ARG_FILENAME, &a->disk_device, N_("The encrypted system partition (default: the one under /)"), N_("DEVICE") },
    { "disk-tpm2-device", 0, 0, G_OPTION_ARG_STRING, &a->disk_tpm2, N_("TPM2 that unlocks it (default: the system’s)"), N_("DEVICE") },
    { "unlock-key-file", 0, 0, G_OPTION_ARG_FILENAME, &a->unlock_key_file, N_("With --target disk:DEVICE: unlock it with the passphrase or recovery key in FILE (- for standard input)"), N_("FILE") },
    { "unlock-tpm2", 0, 0, G_OPTION_ARG_NONE, &a->unlock_tpm2, N_("With --target disk:DEVICE: unlock it with the TPM2"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &a->tpm2_device, N_("TPM2 for --unlock-tpm2 (default: the system’s)"), N_("DEVICE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &a->json, N_("Print JSON"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

/* The combinations imprintctl refuses before anything is asked. */
static gboolean
setup_args_check (SetupArgs *a)
{
  if ((a->unlock_key_file != NULL || a->unlock_tpm2) && (a->target == NULL || !g_str_has_prefix (a->target, "disk:")))
    g_printerr (_("imprintctl: --unlock-key-file and --unlock-tpm2 need --target disk:DEVICE.\n"));
  else if (a->unlock_key_file != NULL && a->unlock_tpm2)
    g_printerr (_("imprintctl: say how to unlock the disk: one of --unlock-key-file or --unlock-tpm2.\n"));
  else if (a->disk_size != NULL && !parse_size (a->disk_size, &a->size))
    g_printerr (_("imprintctl: “%s” is not a size.\n"), a->disk_size);
  else if (a->user == NULL && (a->password_file || a->real_name || a->recovery || a->recovery_key_file ||
                               a->fido2 || a->disk_size))
    g_printerr (_("imprintctl: user options need --user.\n"));
  else if (a->user != NULL && a->password_file == NULL)
    g_printerr (_("imprintctl: --user needs --password-file.\n"));
  else
    return TRUE;
  return FALSE;
}

/* The user part of the settings; a home recovery key is made (and saved)
 * first when asked for. */
static int
setup_request_user (Ctl *ctl, const SetupArgs *a, ImprintSetupUser *u)
{
  g_autoptr(GError) error = NULL;
  int r = EXIT_CODE_FAILED;

  if ((u->password = ctl_read_secret_file (a->password_file, &error)) == NULL)
    return ctl_report_error (error);
  /* Saved before the home exists: never a key nobody has. */
  if ((a->recovery || a->recovery_key_file != NULL) &&
      (u->recovery_key = ctl_new_recovery_key (ctl, a->recovery_key_file, &r)) == NULL)
    return r;
  u->user_name = g_strdup (a->user);
  u->real_name = g_strdup (a->real_name);
  if (a->fido2)
    u->fido2 = IMPRINT_OPT_TRUE;
  u->fido2_device = g_strdup (a->fido2_device);
  u->disk_size = a->size;
  u->auto_login = imprint_opt_bool_from (a->auto_login);
  u->administrator = imprint_opt_bool_from (!a->no_admin);
  return EXIT_CODE_OK;
}

/* Everything but the user: settings, the system disk, how to open it. */
static int
setup_request_rest (Ctl *ctl, const SetupArgs *a, ImprintSetupRequest *req)
{
  g_autoptr(GError) error = NULL;
  int r = EXIT_CODE_FAILED;

  ctl_call_options (ctl, &req->call);
  req->locale = g_strdup (a->locale);
  req->keymap = g_strdup (a->keymap);
  req->timezone = g_strdup (a->timezone);
  req->hostname = g_strdup (a->hostname);
  req->pretty_hostname = g_strdup (a->pretty);
  if ((a->disk_recovery || a->disk_key_file != NULL) &&
      (req->disk_recovery_key = ctl_new_recovery_key (ctl, a->disk_key_file, &r)) == NULL)
    return r;
  if (a->disk_fido2)
    req->disk_fido2 = IMPRINT_OPT_TRUE;
  req->disk_fido2_device = g_strdup (a->disk_fido2_device);
  if (a->disk_device != NULL)
    req->disk_device = ctl_resolve_path (a->disk_device);
  req->disk_tpm2_device = g_strdup (a->disk_tpm2);
  if (a->unlock_key_file != NULL &&
      (req->unlock_passphrase = ctl_read_secret_file (a->unlock_key_file, &error)) == NULL)
    return ctl_report_error (error);
  if (a->unlock_tpm2)
    req->unlock_tpm2 = IMPRINT_OPT_TRUE;
  req->tpm2_device = g_strdup (a->tpm2_device);
  return EXIT_CODE_OK;
}

static int
setup_run (Ctl *ctl, const SetupArgs *a, const ImprintSetupRequest *req)
{
  g_autoptr(CtlJobWatch) watch = ctl_job_watch_new (ctl);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *t = target_arg (a->target), *job_path = NULL;
  GVariant *settings, *options;
  int r;

  imprint_setup_request_to_variant (req, &settings, &options);
  if (!imprint_manager_call_apply_setup_sync (ctl->manager, t, settings, options, &job_path, NULL, &error))
    return ctl_report_error (error);
  r = ctl_job_watch_follow (watch, job_path, &result);
  if (r != EXIT_CODE_OK)
    return r;
  if (req->user.recovery_key != NULL && a->recovery_key_file == NULL)
    ctl_show_recovery_key (ctl, "home-recovery-key", req->user.recovery_key,
                           _("\nRecovery key for the home of %s (write it down; it is shown only once):\n\n    %s\n\n"),
                           a->user, req->user.recovery_key);
  if (req->disk_recovery_key != NULL && a->disk_key_file == NULL)
    ctl_show_recovery_key (ctl, "disk-recovery-key", req->disk_recovery_key,
                           _("\nRecovery key for the system disk (write it down; it is shown only once):\n\n    %s\n\n"),
                           req->disk_recovery_key);
  if (!ctl->json)
    g_print (_("Setup is complete.\n"));
  return r;
}

int
ctl_verb_setup (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_auto(SetupArgs) a = { 0 };
  g_auto(ImprintSetupRequest) req = { 0 };
  int r;

  setup_add_entries (context, &a);
  if (!ctl_parse_options (ctl, context, &argc, &argv))
    return EXIT_CODE_USAGE;
  a.json = ctl->json = a.json || ctl->json;
  if (!setup_args_check (&a))
    return EXIT_CODE_USAGE;
  if ((r = ctl_connect (ctl)) != EXIT_CODE_OK)
    return r;

  imprint_setup_request_init (&req);
  if (a.user != NULL)
    {
      req.has_user = TRUE;
      if ((r = setup_request_user (ctl, &a, &req.user)) != EXIT_CODE_OK)
        return r;
    }
  if ((r = setup_request_rest (ctl, &a, &req)) != EXIT_CODE_OK)
    return r;
  return setup_run (ctl, &a, &req);
}

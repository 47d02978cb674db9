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
  g_autoptr(GVariantBuilder) options = NULL;
  g_autoptr(GVariant) defaults = NULL, user = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL, *t = NULL;
  g_autofree const char **decided = NULL;
  gboolean json = FALSE, b;
  const GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, N_("Root directory of an installed system (default: this system)"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (context, &argc, &argv))
    return EXIT_CODE_USAGE;
  t = target_arg (target);
  options = ctl_options_new (ctl);
  if (!imprint_manager_call_get_setup_defaults_sync (ctl->manager, t, g_variant_builder_end (options),
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

int
ctl_verb_setup (Ctl *ctl, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GVariantBuilder) options = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(CtlJobWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL, *t = NULL, *job_path = NULL;
  g_autofree char *locale = NULL, *keymap = NULL, *timezone = NULL, *hostname = NULL, *pretty = NULL;
  g_autofree char *user = NULL, *real_name = NULL, *password_file = NULL, *disk_size = NULL;
  g_autofree char *recovery_key_file = NULL, *fido2_device = NULL;
  g_autofree char *disk_key_file = NULL, *disk_fido2_device = NULL, *disk_device = NULL, *disk_tpm2 = NULL;
  g_autofree char *unlock_key_file = NULL, *tpm2_device = NULL;
  char *password = NULL, *recovery_key = NULL, *disk_key = NULL, *unlock_key = NULL;
  gboolean unlock_tpm2 = FALSE;
  gboolean json = FALSE, recovery = FALSE, fido2 = FALSE, auto_login = FALSE, no_admin = FALSE;
  gboolean disk_recovery = FALSE, disk_fido2 = FALSE;
  GVariantBuilder settings, u;
  guint64 size = 0;
  int r = EXIT_CODE_FAILED;
  const GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target, N_("Root directory of an installed system, or disk:DEVICE (default: this system)"), N_("DIR") },
    { "locale", 0, 0, G_OPTION_ARG_STRING, &locale, N_("Language, e.g. de_DE.UTF-8"), N_("LOCALE") },
    { "keymap", 0, 0, G_OPTION_ARG_STRING, &keymap, N_("Keyboard layout (console keymap), e.g. de-nodeadkeys"), N_("KEYMAP") },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &timezone, N_("Time zone, e.g. Europe/Berlin"), N_("ZONE") },
    { "hostname", 0, 0, G_OPTION_ARG_STRING, &hostname, N_("Computer name"), N_("NAME") },
    { "pretty-hostname", 0, 0, G_OPTION_ARG_STRING, &pretty, N_("Computer name as people see it"), N_("TEXT") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("Create this user (an encrypted systemd-homed home)"), N_("NAME") },
    { "real-name", 0, 0, G_OPTION_ARG_STRING, &real_name, N_("The user’s full name"), N_("TEXT") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file, N_("Read the user’s password from FILE (- for standard input)"), N_("FILE") },
    { "home-recovery-key", 0, 0, G_OPTION_ARG_NONE, &recovery, N_("Add a recovery key to the home and print it"), NULL },
    { "home-recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &recovery_key_file, N_("Add a recovery key to the home and write it to FILE (mode 0600)"), N_("FILE") },
    { "fido2", 0, 0, G_OPTION_ARG_NONE, &fido2, N_("Also unlock the home with a FIDO2 security key"), NULL },
    { "fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &fido2_device, N_("FIDO2 device (default: the only one)"), N_("DEVICE") },
    { "disk-size", 0, 0, G_OPTION_ARG_STRING, &disk_size, N_("Size of the home (default: from the free space)"), N_("BYTES[K|M|G|T]") },
    { "auto-login", 0, 0, G_OPTION_ARG_NONE, &auto_login, N_("Log the user in automatically"), NULL },
    { "no-administrator", 0, 0, G_OPTION_ARG_NONE, &no_admin, N_("Do not make the user an administrator"), NULL },
    { "disk-recovery-key", 0, 0, G_OPTION_ARG_NONE, &disk_recovery, N_("Add a recovery key to the system disk and print it"), NULL },
    { "disk-recovery-key-file", 0, 0, G_OPTION_ARG_FILENAME, &disk_key_file, N_("Add a recovery key to the system disk and write it to FILE (mode 0600)"), N_("FILE") },
    { "disk-fido2", 0, 0, G_OPTION_ARG_NONE, &disk_fido2, N_("Also unlock the system disk with a FIDO2 security key"), NULL },
    { "disk-fido2-device", 0, 0, G_OPTION_ARG_FILENAME, &disk_fido2_device, N_("FIDO2 device for the system disk"), N_("DEVICE") },
    { "disk-device", 0, 0, G_OPTION_ARG_FILENAME, &disk_device, N_("The encrypted system partition (default: the one under /)"), N_("DEVICE") },
    { "disk-tpm2-device", 0, 0, G_OPTION_ARG_STRING, &disk_tpm2, N_("TPM2 that unlocks it (default: the system’s)"), N_("DEVICE") },
    { "unlock-key-file", 0, 0, G_OPTION_ARG_FILENAME, &unlock_key_file, N_("With --target disk:DEVICE: unlock it with the passphrase or recovery key in FILE (- for standard input)"), N_("FILE") },
    { "unlock-tpm2", 0, 0, G_OPTION_ARG_NONE, &unlock_tpm2, N_("With --target disk:DEVICE: unlock it with the TPM2"), NULL },
    { "tpm2-device", 0, 0, G_OPTION_ARG_STRING, &tpm2_device, N_("TPM2 for --unlock-tpm2 (default: the system’s)"), N_("DEVICE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!ctl_parse_options (context, &argc, &argv))
    return EXIT_CODE_USAGE;
  json = json || ctl->json;
  ctl->json = json;
  if ((unlock_key_file != NULL || unlock_tpm2) && (target == NULL || !g_str_has_prefix (target, "disk:")))
    {
      g_printerr (_("imprintctl: --unlock-key-file and --unlock-tpm2 need --target disk:DEVICE.\n"));
      return EXIT_CODE_USAGE;
    }
  if (unlock_key_file != NULL && unlock_tpm2)
    {
      g_printerr (_("imprintctl: say how to unlock the disk: one of --unlock-key-file or --unlock-tpm2.\n"));
      return EXIT_CODE_USAGE;
    }
  if (disk_size != NULL && !parse_size (disk_size, &size))
    {
      g_printerr (_("imprintctl: “%s” is not a size.\n"), disk_size);
      return EXIT_CODE_USAGE;
    }
  if (user == NULL && (password_file || real_name || recovery || recovery_key_file || fido2 || disk_size))
    {
      g_printerr (_("imprintctl: user options need --user.\n"));
      return EXIT_CODE_USAGE;
    }
  if (user != NULL && password_file == NULL)
    {
      g_printerr (_("imprintctl: --user needs --password-file.\n"));
      return EXIT_CODE_USAGE;
    }

  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
#define ADD(key, v) if (v != NULL) g_variant_builder_add (&settings, "{sv}", key, g_variant_new_string (v))
  ADD ("locale", locale);
  ADD ("keymap", keymap);
  ADD ("timezone", timezone);
  ADD ("hostname", hostname);
  ADD ("pretty-hostname", pretty);
#undef ADD

  if (user != NULL)
    {
      password = ctl_read_secret_file (password_file, &error);
      if (password == NULL)
        goto out_error;
      if (recovery || recovery_key_file != NULL)
        {
          g_autoptr(GVariantBuilder) o = ctl_options_new (ctl);
          char *reply = NULL;

          if (!imprint_manager_call_generate_recovery_key_sync (ctl->manager, g_variant_builder_end (o),
                                                                &reply, NULL, &error))
            goto out_error;
          recovery_key = ctl_secret_take (reply);
          /* Saved before the home exists: never a key nobody has. */
          if (recovery_key_file != NULL)
            {
              int w = ctl_write_secret_file (recovery_key_file, recovery_key);
              if (w < 0)
                {
                  g_printerr (_("imprintctl: cannot write the recovery key to %s: %s\n"),
                              recovery_key_file, g_strerror (-w));
                  goto out;
                }
            }
        }
      g_variant_builder_init (&u, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&u, "{sv}", "user-name", g_variant_new_string (user));
      if (real_name != NULL)
        g_variant_builder_add (&u, "{sv}", "real-name", g_variant_new_string (real_name));
      g_variant_builder_add (&u, "{sv}", "password", g_variant_new_string (password));
      if (recovery_key != NULL)
        g_variant_builder_add (&u, "{sv}", "recovery-key", g_variant_new_string (recovery_key));
      if (fido2)
        g_variant_builder_add (&u, "{sv}", "fido2", g_variant_new_boolean (TRUE));
      if (fido2_device != NULL)
        g_variant_builder_add (&u, "{sv}", "fido2-device", g_variant_new_string (fido2_device));
      if (size > 0)
        g_variant_builder_add (&u, "{sv}", "disk-size", g_variant_new_uint64 (size));
      g_variant_builder_add (&u, "{sv}", "auto-login", g_variant_new_boolean (auto_login));
      g_variant_builder_add (&u, "{sv}", "administrator", g_variant_new_boolean (!no_admin));
      g_variant_builder_add (&settings, "{sv}", "user", g_variant_builder_end (&u));
    }

  if (disk_recovery || disk_key_file != NULL)
    {
      g_autoptr(GVariantBuilder) o = ctl_options_new (ctl);
      char *reply = NULL;

      if (!imprint_manager_call_generate_recovery_key_sync (ctl->manager, g_variant_builder_end (o),
                                                            &reply, NULL, &error))
        goto out_error;
      disk_key = ctl_secret_take (reply);
      if (disk_key_file != NULL)
        {
          int w = ctl_write_secret_file (disk_key_file, disk_key);
          if (w < 0)
            {
              g_printerr (_("imprintctl: cannot write the recovery key to %s: %s\n"),
                          disk_key_file, g_strerror (-w));
              goto out;
            }
        }
      g_variant_builder_add (&settings, "{sv}", "disk-recovery-key", g_variant_new_string (disk_key));
    }
  if (disk_fido2)
    g_variant_builder_add (&settings, "{sv}", "disk-fido2", g_variant_new_boolean (TRUE));
  if (disk_fido2_device != NULL)
    g_variant_builder_add (&settings, "{sv}", "disk-fido2-device", g_variant_new_string (disk_fido2_device));
  if (disk_device != NULL)
    g_variant_builder_add (&settings, "{sv}", "disk-device", g_variant_new_take_string (ctl_resolve_path (disk_device)));
  if (disk_tpm2 != NULL)
    g_variant_builder_add (&settings, "{sv}", "disk-tpm2-device", g_variant_new_string (disk_tpm2));

  t = target_arg (target);
  options = ctl_options_new (ctl);
  if (unlock_key_file != NULL)
    {
      unlock_key = ctl_read_secret_file (unlock_key_file, &error);
      if (unlock_key == NULL)
        goto out_error;
      g_variant_builder_add (options, "{sv}", "unlock-passphrase", g_variant_new_string (unlock_key));
    }
  if (unlock_tpm2)
    g_variant_builder_add (options, "{sv}", "unlock-tpm2", g_variant_new_boolean (TRUE));
  if (tpm2_device != NULL)
    g_variant_builder_add (options, "{sv}", "tpm2-device", g_variant_new_string (tpm2_device));
  watch = ctl_job_watch_new (ctl);
  if (!imprint_manager_call_apply_setup_sync (ctl->manager, t, g_variant_builder_end (&settings),
                                              g_variant_builder_end (options), &job_path, NULL, &error))
    goto out_error;
  r = ctl_job_watch_follow (watch, job_path, &result);
  if (r == EXIT_CODE_OK && recovery_key != NULL && recovery_key_file == NULL)
    {
      if (json)
        ctl_print_key_event ("home-recovery-key", recovery_key);
      else
        g_print (_("\nRecovery key for the home of %s (write it down; it is shown only once):\n\n    %s\n\n"),
                 user, recovery_key);
    }
  if (r == EXIT_CODE_OK && disk_key != NULL && disk_key_file == NULL)
    {
      if (json)
        ctl_print_key_event ("disk-recovery-key", disk_key);
      else
        g_print (_("\nRecovery key for the system disk (write it down; it is shown only once):\n\n    %s\n\n"),
                 disk_key);
    }
  if (r == EXIT_CODE_OK && !json)
    g_print (_("Setup is complete.\n"));
  goto out;

out_error:
  r = ctl_report_error (error);
out:
  g_variant_builder_clear (&settings);
  ctl_wipe_string (&password);
  ctl_wipe_string (&recovery_key);
  ctl_wipe_string (&disk_key);
  ctl_wipe_string (&unlock_key);
  return r;
}

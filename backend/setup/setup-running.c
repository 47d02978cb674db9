/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* System settings of the running system: applied through localed,
 * timedated and hostnamed over D-Bus (stopping at the first failure), and
 * read back from them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-bounded.h"
#include "imprint-error.h"
#include "imprint-root-fd.h"
#include "imprint-setup.h"
#include "setup-private.h"
#include "macros.h"

/* ---- the running system ----------------------------------------------- */

static gboolean
call (GDBusConnection *bus, const char *name, const char *path, const char *iface,
      const char *method, GVariant *args, GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) r = NULL;

  r = g_dbus_connection_call_sync (bus, name, path, iface, method, args, NULL,
                                   G_DBUS_CALL_FLAGS_NONE, 60 * 1000, cancellable, error);
  return r != NULL;
}

static gboolean
fail_service (GError **error, const char *what)
{
  if (error == NULL || *error == NULL)
    return FALSE;
  g_dbus_error_strip_remote_error (*error);
  g_prefix_error (error, "%s: ", what);
  return FALSE;
}

/* Debian ships localed read-only where its own tools own these settings
 * (a D-Bus policy, systemd-localed-read-only.conf, that refuses even
 * root's SetLocale: the VM's live session). The refusal is not an error
 * of the setup: the files systemd reads at start are written directly,
 * as for an installed root. */
static gboolean
localed_refused (GError **error)
{
  if (error == NULL || *error == NULL || !g_error_matches (*error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    return FALSE;
  g_clear_error (error);
  return TRUE;
}

static gboolean
write_locale_files (const char *locale, const char *keymap, GPtrArray *warnings, GError **error)
{
  ImprintSystemSettings files = { .locale = (char *) locale, .keymap = (char *) keymap };

  if (locale == NULL && keymap == NULL)
    return TRUE;
  if (!imprint_setup_write_root ("/", &files, warnings, error))
    return FALSE;
  if (warnings != NULL)
    g_ptr_array_add (warnings, g_strdup (_("This system’s locale service is read-only: the language and keyboard "
                                           "layout were written to /etc and take effect at the next start.")));
  return TRUE;
}

gboolean
imprint_setup_apply_running (GDBusConnection *bus, const ImprintSystemSettings *s,
                             GPtrArray *warnings, GCancellable *cancellable, GError **error)
{
  const char *locale_file = NULL, *keymap_file = NULL;

  if (!imprint_system_settings_check (s, error))
    return FALSE;

  if (s->locale != NULL)
    {
      g_autofree char *lang = g_strconcat ("LANG=", s->locale, NULL);
      const char *env[] = { lang, NULL };
      if (!call (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1", "org.freedesktop.locale1",
                 "SetLocale", g_variant_new ("(^asb)", env, FALSE), cancellable, error))
        {
          if (!localed_refused (error))
            return fail_service (error, _("Could not set the language"));
          locale_file = s->locale;
        }
    }
  if (s->keymap != NULL)
    {
      /* convert=TRUE: localed also sets the matching X11 layout, which
       * graphical sessions use. */
      if (!call (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1", "org.freedesktop.locale1",
                 "SetVConsoleKeyboard", g_variant_new ("(ssbb)", s->keymap, "", TRUE, FALSE), cancellable, error))
        {
          if (!localed_refused (error))
            return fail_service (error, _("Could not set the keyboard layout"));
          keymap_file = s->keymap;
        }
      else
        imprint_setup_warn_initrd_keymap (s->keymap, warnings);
    }
  if (!write_locale_files (locale_file, keymap_file, warnings, error))
    return fail_service (error, _("Could not set the language"));
  if (s->timezone != NULL &&
      !call (bus, "org.freedesktop.timedate1", "/org/freedesktop/timedate1", "org.freedesktop.timedate1",
             "SetTimezone", g_variant_new ("(sb)", s->timezone, FALSE), cancellable, error))
    return fail_service (error, _("Could not set the time zone"));
  if (s->hostname != NULL &&
      !call (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1",
             "SetStaticHostname", g_variant_new ("(sb)", s->hostname, FALSE), cancellable, error))
    return fail_service (error, _("Could not set the computer name"));
  if (s->pretty_hostname != NULL &&
      !call (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1",
             "SetPrettyHostname", g_variant_new ("(sb)", s->pretty_hostname, FALSE), cancellable, error))
    return fail_service (error, _("Could not set the computer name"));
  return TRUE;
}

static GVariant *
get_property (GDBusConnection *bus, const char *name, const char *path, const char *iface, const char *prop)
{
  g_autoptr(GVariant) r = NULL;
  GVariant *v = NULL;

  r = g_dbus_connection_call_sync (bus, name, path, "org.freedesktop.DBus.Properties", "Get",
                                   g_variant_new ("(ss)", iface, prop), G_VARIANT_TYPE ("(v)"),
                                   G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, NULL);
  if (r != NULL)
    g_variant_get (r, "(v)", &v);
  return v;
}

static char *
get_string (GDBusConnection *bus, const char *name, const char *path, const char *iface, const char *prop)
{
  g_autoptr(GVariant) v = get_property (bus, name, path, iface, prop);

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) || g_variant_get_string (v, NULL)[0] == '\0')
    return NULL;
  return g_variant_dup_string (v, NULL);
}

void
imprint_setup_read_running (GDBusConnection *bus, ImprintSystemSettings *ret)
{
  g_autoptr(GVariant) locale = get_property (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1",
                                             "org.freedesktop.locale1", "Locale");

  if (locale != NULL && g_variant_is_of_type (locale, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **env = g_variant_get_strv (locale, NULL);
      for (size_t i = 0; env[i] != NULL; i++)
        if (g_str_has_prefix (env[i], "LANG="))
          ret->locale = g_strdup (env[i] + 5);
    }
  ret->keymap = get_string (bus, "org.freedesktop.locale1", "/org/freedesktop/locale1",
                            "org.freedesktop.locale1", "VConsoleKeymap");
  ret->timezone = get_string (bus, "org.freedesktop.timedate1", "/org/freedesktop/timedate1",
                              "org.freedesktop.timedate1", "Timezone");
  ret->hostname = get_string (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                              "org.freedesktop.hostname1", "StaticHostname");
  ret->pretty_hostname = get_string (bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                                     "org.freedesktop.hostname1", "PrettyHostname");
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysupdate-private.h"
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "imprint-error.h"
#include "sysupdate-private.h"
#include "update.h"

/* Two ways to drive systemd-sysupdate, chosen at run time:
 *  - systemd-sysupdated (v257+), org.freedesktop.sysupdate1 on the system
 *    bus: the "host" target's List/Describe/Update and the Job's Progress;
 *  - the command line tool with --json=short (v257+), progress from the
 *    sd_notify datagrams it sends to $NOTIFY_SOCKET, which we point at a
 *    socket of our own.
 * Older sysupdate (v251..v256) prints tables even with --json: we refuse
 * it rather than scrape text meant for people. */

void
imprint_sysupdate_free (ImprintSysupdate *s)
{
  if (s == NULL)
    return;
  g_strfreev (s->argv);
  g_clear_object (&s->bus);
  g_free (s->target_path);
  g_free (s);
}

const char *
imprint_sysupdate_backend (ImprintSysupdate *s)
{
  return s->bus != NULL ? "sysupdated" : "cli";
}

static gboolean
has_definitions (const char *root)
{
  const char *dirs[] = { "etc/sysupdate.d", "run/sysupdate.d", "usr/local/lib/sysupdate.d", "usr/lib/sysupdate.d" };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (root ? root : "/", dirs[i], NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".conf") || g_str_has_suffix (name, ".transfer"))
          return TRUE;
    }
  return FALSE;
}

/* Runs the CLI with @args; stdout and stderr collected. */
static gboolean
run_cli (ImprintSysupdate *s, const char *const *args, char **ret_stdout, char **ret_stderr,
         int *ret_status, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL, *err = NULL;

  for (gsize i = 0; s->argv[i]; i++)
    g_ptr_array_add (argv, s->argv[i]);
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "SYSTEMD_COLORS", "0", TRUE);
  g_subprocess_launcher_setenv (launcher, "SYSTEMD_PAGER", "cat", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "NOTIFY_SOCKET");
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (proc == NULL)
    return FALSE;
  if (!g_subprocess_communicate_utf8 (proc, NULL, cancellable, &out, &err, error))
    {
      g_subprocess_force_exit (proc);
      return FALSE;
    }
  *ret_status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : 128;
  if (ret_stdout)
    *ret_stdout = g_steal_pointer (&out);
  if (ret_stderr)
    *ret_stderr = g_steal_pointer (&err);
  return TRUE;
}

static gboolean
find_sysupdated (ImprintSysupdate *s, GDBusConnection *bus)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  const char *class, *name, *path;

  /* Activatable or running; ListTargets then tells whether the host has
   * transfer definitions at all. */
  reply = g_dbus_connection_call_sync (bus, SYSUPDATE1_NAME, SYSUPDATE1_PATH, SYSUPDATE1_MANAGER,
                                       "ListTargets", NULL, G_VARIANT_TYPE ("(a(sso))"),
                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, NULL);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(a(sso))", &iter);
  while (g_variant_iter_next (iter, "(&s&s&o)", &class, &name, &path))
    if (g_str_equal (class, "host"))
      {
        s->bus = g_object_ref (bus);
        s->target_path = g_strdup (path);
        return TRUE;
      }
  return FALSE;
}

static gboolean
name_available (GDBusConnection *bus, const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **names = NULL;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "ListActivatableNames", NULL, G_VARIANT_TYPE ("(as)"),
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  if (reply != NULL)
    {
      g_variant_get (reply, "(^a&s)", &names);
      if (g_strv_contains (names, name))
        return TRUE;
    }
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "NameHasOwner", g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  if (reply != NULL)
    {
      gboolean owned = FALSE;
      g_variant_get (reply, "(b)", &owned);
      return owned;
    }
  return FALSE;
}

ImprintSysupdate *
imprint_sysupdate_new (const ImprintUpdatePaths *paths, GError **error)
{
  g_autoptr(ImprintSysupdate) s = g_new0 (ImprintSysupdate, 1);
  const char *candidates[] = { "/usr/lib/systemd/systemd-sysupdate", "/lib/systemd/systemd-sysupdate" };
  g_autofree char *out = NULL;
  const char *version_args[] = { "--version", NULL };
  int status = 0;

  if (!has_definitions (paths->root))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                           _("This system has no update definitions (sysupdate.d), so it cannot be updated here."));
      return NULL;
    }

  /* sysupdated first: it is the interface systemd offers for this, and
   * it is never there in tests (the test bus has no such name). */
  if (paths->sysupdate == NULL)
    {
      g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);

      if (bus != NULL && name_available (bus, SYSUPDATE1_NAME) && find_sysupdated (s, bus))
        return g_steal_pointer (&s);
    }

  if (paths->sysupdate != NULL)
    {
      if (!g_shell_parse_argv (paths->sysupdate, NULL, &s->argv, error))
        return NULL;
    }
  else
    for (gsize i = 0; i < G_N_ELEMENTS (candidates) && s->argv == NULL; i++)
      if (g_file_test (candidates[i], G_FILE_TEST_IS_EXECUTABLE))
        s->argv = g_strdupv ((char *[]) { (char *) candidates[i], NULL });
  if (s->argv == NULL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                           _("This system has no systemd-sysupdate, so it cannot be updated here."));
      return NULL;
    }

  if (!run_cli (s, version_args, &out, NULL, &status, NULL, error))
    return NULL;
  s->systemd_version = imprint_sysupdate_parse_systemd_version (out);
  if (s->systemd_version < MIN_JSON_VERSION)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_SUPPORTED,
                   _("This system’s systemd-sysupdate (systemd %d) is too old: Imprint needs systemd %d or later to read its version lists."),
                   MAX (s->systemd_version, 0), MIN_JSON_VERSION);
      return NULL;
    }
  return g_steal_pointer (&s);
}

static void
set_cli_error (GError **error, const char *what, const char *err, int status)
{
  g_autofree char *sentence = imprint_sysupdate_explain_failure (err, status);

  g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED, "%s %s", what, sentence);
}

/* ---- Listing ------------------------------------------------------------ */

static GPtrArray *
list_cli (ImprintSysupdate *s, GCancellable *cancellable, GError **error)
{
  const char *list_args[] = { "--no-pager", "--json=short", "list", NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) all = NULL;
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_update_version_free);
  int status;

  if (!run_cli (s, list_args, &out, &err, &status, cancellable, error))
    return NULL;
  if (status != 0)
    {
      set_cli_error (error, _("Could not list the available versions."), err, status);
      return NULL;
    }
  if (imprint_sysupdate_parse_list (out, NULL, &all) < 0)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                           _("systemd-sysupdate printed a version list Imprint cannot read."));
      return NULL;
    }
  for (gsize i = 0; all[i]; i++)
    {
      const char *args[] = { "--no-pager", "--json=short", "list", all[i], NULL };
      g_autofree char *vout = NULL, *verr = NULL;
      ImprintUpdateVersion *v = NULL;

      if (!run_cli (s, args, &vout, &verr, &status, cancellable, error))
        return NULL;
      if (status != 0 || imprint_sysupdate_parse_version (vout, &v) < 0)
        {
          set_cli_error (error, _("Could not describe a version."), verr, status);
          return NULL;
        }
      g_ptr_array_add (versions, v);
    }
  return g_steal_pointer (&versions);
}

static GPtrArray *
list_sysupdated (ImprintSysupdate *s, GCancellable *cancellable, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **all = NULL;
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func ((GDestroyNotify) imprint_update_version_free);

  reply = g_dbus_connection_call_sync (s->bus, SYSUPDATE1_NAME, s->target_path, SYSUPDATE1_TARGET, "List",
                                       g_variant_new ("(t)", (guint64) 0), G_VARIANT_TYPE ("(as)"),
                                       G_DBUS_CALL_FLAGS_NONE, 300000, cancellable, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(^a&s)", &all);
  for (gsize i = 0; all[i]; i++)
    {
      g_autoptr(GVariant) d = NULL;
      const char *json;
      ImprintUpdateVersion *v = NULL;

      d = g_dbus_connection_call_sync (s->bus, SYSUPDATE1_NAME, s->target_path, SYSUPDATE1_TARGET, "Describe",
                                       g_variant_new ("(st)", all[i], (guint64) 0), G_VARIANT_TYPE ("(s)"),
                                       G_DBUS_CALL_FLAGS_NONE, 300000, cancellable, error);
      if (d == NULL)
        return NULL;
      g_variant_get (d, "(&s)", &json);
      if (imprint_sysupdate_parse_version (json, &v) < 0)
        {
          g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                               _("systemd-sysupdated described a version in a form Imprint cannot read."));
          return NULL;
        }
      g_ptr_array_add (versions, v);
    }
  return g_steal_pointer (&versions);
}

GPtrArray *
imprint_sysupdate_list (ImprintSysupdate *s, GCancellable *cancellable, GError **error)
{
  if (s->bus != NULL)
    return list_sysupdated (s, cancellable, error);
  return list_cli (s, cancellable, error);
}

char *
imprint_sysupdate_current (ImprintSysupdate *s, GCancellable *cancellable, GError **error)
{
  const char *args[] = { "--no-pager", "--json=short", "list", NULL };
  g_autofree char *out = NULL, *err = NULL;
  char *current = NULL;
  int status;

  if (s->bus != NULL)
    {
      g_autoptr(GPtrArray) versions = list_sysupdated (s, cancellable, error);

      if (versions == NULL)
        return NULL;
      /* Newest first: the first installed one. */
      for (guint i = 0; i < versions->len; i++)
        {
          ImprintUpdateVersion *v = g_ptr_array_index (versions, i);
          if (v->installed)
            return g_strdup (v->version);
        }
      return g_strdup ("");
    }

  if (!run_cli (s, args, &out, &err, &status, cancellable, error))
    return NULL;
  if (status != 0 || imprint_sysupdate_parse_list (out, &current, NULL) < 0)
    {
      set_cli_error (error, _("Could not list the installed versions."), err, status);
      return NULL;
    }
  return current ? current : g_strdup ("");
}

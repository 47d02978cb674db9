/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "imprint-error.h"
#include "update.h"

/* Two ways to drive systemd-sysupdate, chosen at run time:
 *  - systemd-sysupdated (v257+), org.freedesktop.sysupdate1 on the system
 *    bus: the "host" target's List/Describe/Update and the Job's Progress;
 *  - the command line tool with --json=short (v257+), progress from the
 *    sd_notify datagrams it sends to $NOTIFY_SOCKET, which we point at a
 *    socket of our own.
 * Older sysupdate (v251..v256) prints tables even with --json: we refuse
 * it rather than scrape text meant for people. */

#define SYSUPDATE1_NAME    "org.freedesktop.sysupdate1"
#define SYSUPDATE1_PATH    "/org/freedesktop/sysupdate1"
#define SYSUPDATE1_MANAGER "org.freedesktop.sysupdate1.Manager"
#define SYSUPDATE1_TARGET  "org.freedesktop.sysupdate1.Target"
#define SYSUPDATE1_JOB     "org.freedesktop.sysupdate1.Job"
#define MIN_JSON_VERSION   257

struct _ImprintSysupdate {
  char **argv;               /* the CLI: binary and fixed arguments */
  int systemd_version;
  GDBusConnection *bus;      /* set when sysupdated is used */
  char *target_path;
};

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

/* ---- Updating ----------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  GSubprocess *proc;
  ImprintUpdateProgress progress;
  gpointer user_data;
  char *version;
  char *out, *err;
  GError *error;
  gboolean done;
  gboolean cancelled;
} UpdateRun;

static gboolean
on_notify_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  UpdateRun *u = user_data;
  char buf[4096];
  gssize n;

  while ((n = g_socket_receive (socket, buf, sizeof (buf) - 1, NULL, NULL)) > 0)
    {
      int percent;
      g_autofree char *version = NULL;

      buf[n] = '\0';
      if (imprint_sysupdate_parse_notify (buf, &percent, &version) <= 0)
        continue;
      if (version != NULL)
        {
          g_free (u->version);
          u->version = g_steal_pointer (&version);
        }
      if (u->progress)
        u->progress (percent >= 0 ? percent / 100.0 : -1.0, u->version, NULL, u->user_data);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UpdateRun *u = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &u->out, &u->err, &u->error);
  u->done = TRUE;
  g_main_loop_quit (u->loop);
}

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  UpdateRun *u = user_data;

  /* sysupdate stops its transfers on SIGTERM and leaves the slot "_empty". */
  u->cancelled = TRUE;
  g_subprocess_send_signal (u->proc, SIGTERM);
}

static GSocket *
notify_socket_new (char **ret_address, GError **error)
{
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSocketAddress) addr = NULL;
  g_autofree char *name = NULL;

  /* An abstract socket: nothing to clean up in the file system, and it
   * reaches a sysupdate running in another mount namespace or chroot. */
  name = g_strdup_printf ("imprintd/sysupdate/%d/%u", (int) getpid (), g_random_int ());
  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (sock == NULL)
    return NULL;
  addr = g_unix_socket_address_new_with_type (name, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  if (!g_socket_bind (sock, addr, FALSE, error))
    return NULL;
  g_socket_set_blocking (sock, FALSE);
  *ret_address = g_strconcat ("@", name, NULL);
  return g_steal_pointer (&sock);
}

static char *
update_cli (ImprintSysupdate *s, const char *version, ImprintUpdateProgress progress, gpointer user_data,
            GCancellable *cancellable, GError **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSource) source = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *address = NULL;
  UpdateRun u = { 0 };
  gulong cancel_id = 0;
  char *result = NULL;
  int status;

  sock = notify_socket_new (&address, error);
  if (sock == NULL)
    return NULL;

  for (gsize i = 0; s->argv[i]; i++)
    g_ptr_array_add (argv, s->argv[i]);
  g_ptr_array_add (argv, "--no-pager");
  g_ptr_array_add (argv, "update");
  if (version != NULL && *version != '\0')
    g_ptr_array_add (argv, (char *) version);
  g_ptr_array_add (argv, NULL);

  g_main_context_push_thread_default (context);
  u.loop = g_main_loop_new (context, FALSE);
  u.progress = progress;
  u.user_data = user_data;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "NOTIFY_SOCKET", address, TRUE);
  g_subprocess_launcher_setenv (launcher, "SYSTEMD_COLORS", "0", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  u.proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (u.proc == NULL)
    goto out;

  source = g_socket_create_source (sock, G_IO_IN, NULL);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) on_notify_readable, &u, NULL);
  g_source_attach (source, context);
  g_subprocess_communicate_utf8_async (u.proc, NULL, NULL, on_communicated, &u);
  if (cancellable)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), &u, NULL);
  if (!u.done)
    g_main_loop_run (u.loop);
  if (cancellable)
    g_cancellable_disconnect (cancellable, cancel_id);
  g_subprocess_wait (u.proc, NULL, NULL);
  /* The last datagrams may arrive after the pipes close. */
  on_notify_readable (sock, G_IO_IN, &u);
  g_source_destroy (source);

  if (u.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&u.error));
      goto out;
    }
  if (u.cancelled || (g_cancellable_is_cancelled (cancellable)))
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED,
                           _("The update was cancelled. The running system is unchanged."));
      goto out;
    }
  status = g_subprocess_get_if_exited (u.proc) ? g_subprocess_get_exit_status (u.proc) : 128;
  if (status != 0)
    {
      g_autofree char *sentence = imprint_sysupdate_explain_failure (u.err, status);
      ImprintError code = IMPRINT_ERROR_FAILED;

      if (u.err && (strstr (u.err, "Could not resolve") || strstr (u.err, "Couldn't connect") ||
                    strstr (u.err, "Network is unreachable")))
        code = IMPRINT_ERROR_UNAVAILABLE;
      else if (u.err && (strstr (u.err, "Signature verification failed") || strstr (u.err, "DOWNLOAD INVALID")))
        code = IMPRINT_ERROR_SOURCE_INVALID;
      else if (u.err && (strstr (u.err, "No space left") || strstr (u.err, "No available partition of a suitable size")))
        code = IMPRINT_ERROR_NO_SPACE;
      else if (u.err && strstr (u.err, "not found"))
        code = IMPRINT_ERROR_NOT_FOUND;
      g_set_error_literal (error, IMPRINT_ERROR, code, sentence);
      goto out;
    }
  if (u.err && strstr (u.err, "No update needed"))
    {
      result = g_strdup ("");
      goto out;
    }
  result = g_strdup (u.version ? u.version : (version ? version : ""));

out:
  g_main_context_pop_thread_default (context);
  g_clear_object (&u.proc);
  g_main_loop_unref (u.loop);
  g_free (u.version);
  g_free (u.out);
  g_free (u.err);
  g_clear_error (&u.error);
  return result;
}

/* sysupdated: Target.Update starts a Job; its Progress property moves and
 * the Manager's JobRemoved signal tells how it ended. */
typedef struct {
  GMainLoop *loop;
  char *job_path;
  gboolean removed;
  int status;
  ImprintUpdateProgress progress;
  gpointer user_data;
  const char *version;
} DbusRun;

static void
on_job_removed (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer user_data)
{
  DbusRun *d = user_data;
  guint64 id;
  const char *job;
  gint32 status;

  g_variant_get (params, "(t&oi)", &id, &job, &status);
  if (d->job_path == NULL || !g_str_equal (job, d->job_path))
    return;
  d->removed = TRUE;
  d->status = status;
  g_main_loop_quit (d->loop);
}

static void
on_job_properties (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                   const char *signal, GVariant *params, gpointer user_data)
{
  DbusRun *d = user_data;
  g_autoptr(GVariant) changed = NULL;
  guint32 percent;

  if (d->job_path == NULL || !g_str_equal (path, d->job_path))
    return;
  changed = g_variant_get_child_value (params, 1);
  if (g_variant_lookup (changed, "Progress", "u", &percent) && d->progress)
    d->progress (MIN (percent, 100) / 100.0, d->version, NULL, d->user_data);
}

static void
on_dbus_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GDBusConnection *bus = user_data;
  const char *path = g_object_get_data (G_OBJECT (bus), "imprint-job-path");

  if (path != NULL)
    g_dbus_connection_call (bus, SYSUPDATE1_NAME, path, SYSUPDATE1_JOB, "Cancel", NULL, NULL,
                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
}

static char *
update_sysupdated (ImprintSysupdate *s, const char *version, ImprintUpdateProgress progress, gpointer user_data,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GVariant) reply = NULL;
  DbusRun d = { 0 };
  const char *new_version, *job_path;
  guint64 job_id;
  guint removed_id, props_id;
  gulong cancel_id = 0;
  char *result = NULL;

  g_main_context_push_thread_default (context);
  d.loop = g_main_loop_new (context, FALSE);
  d.progress = progress;
  d.user_data = user_data;
  removed_id = g_dbus_connection_signal_subscribe (s->bus, SYSUPDATE1_NAME, SYSUPDATE1_MANAGER, "JobRemoved",
                                                   SYSUPDATE1_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                   on_job_removed, &d, NULL);
  props_id = g_dbus_connection_signal_subscribe (s->bus, SYSUPDATE1_NAME, "org.freedesktop.DBus.Properties",
                                                 "PropertiesChanged", NULL, SYSUPDATE1_JOB,
                                                 G_DBUS_SIGNAL_FLAGS_NONE, on_job_properties, &d, NULL);

  reply = g_dbus_connection_call_sync (s->bus, SYSUPDATE1_NAME, s->target_path, SYSUPDATE1_TARGET, "Update",
                                       g_variant_new ("(st)", version ? version : "", (guint64) 0),
                                       G_VARIANT_TYPE ("(sto)"), G_DBUS_CALL_FLAGS_NONE, 300000,
                                       cancellable, error);
  if (reply == NULL)
    goto out;
  g_variant_get (reply, "(&st&o)", &new_version, &job_id, &job_path);
  d.job_path = g_strdup (job_path);
  d.version = new_version;
  if (progress)
    progress (0.0, new_version, NULL, user_data);
  g_object_set_data_full (G_OBJECT (s->bus), "imprint-job-path", g_strdup (job_path), g_free);
  if (cancellable)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_dbus_cancelled), s->bus, NULL);
  if (!d.removed)
    g_main_loop_run (d.loop);
  if (cancellable)
    g_cancellable_disconnect (cancellable, cancel_id);
  g_object_set_data (G_OBJECT (s->bus), "imprint-job-path", NULL);

  if (g_cancellable_is_cancelled (cancellable))
    g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED,
                         _("The update was cancelled. The running system is unchanged."));
  else if (d.status != 0)
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_FAILED,
                 _("The update to version %s failed (systemd-sysupdate exited with status %d; see its log: journalctl -u systemd-sysupdated)."),
                 new_version, d.status);
  else
    result = g_strdup (new_version);

out:
  g_dbus_connection_signal_unsubscribe (s->bus, removed_id);
  g_dbus_connection_signal_unsubscribe (s->bus, props_id);
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (d.loop);
  g_free (d.job_path);
  return result;
}

char *
imprint_sysupdate_update (ImprintSysupdate *s, const char *version, ImprintUpdateProgress progress,
                          gpointer user_data, GCancellable *cancellable, GError **error)
{
  if (s->bus != NULL)
    return update_sysupdated (s, version, progress, user_data, cancellable, error);
  return update_cli (s, version, progress, user_data, cancellable, error);
}

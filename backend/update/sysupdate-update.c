/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Running an update: through systemd-sysupdated's Update and its Job
 * (progress from the Job's properties, cancelled by Cancel), or the
 * command line tool with progress from the sd_notify datagrams it sends to
 * a socket of our own. */

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

/* systemd-sysupdate update [VERSION], without a pager. */
static GPtrArray *
update_cli_argv (ImprintSysupdate *s, const char *version)
{
  GPtrArray *argv = g_ptr_array_new ();

  for (gsize i = 0; s->argv[i]; i++)
    g_ptr_array_add (argv, s->argv[i]);
  g_ptr_array_add (argv, "--no-pager");
  g_ptr_array_add (argv, "update");
  if (version != NULL && *version != '\0')
    g_ptr_array_add (argv, (char *) version);
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* The error code for a failed run, from what the tool wrote to stderr:
 * the faces tell "no network" or "no space" apart from other failures. */
static ImprintError
cli_failure_code (const char *err)
{
  if (err && (strstr (err, "Could not resolve") || strstr (err, "Couldn't connect") ||
              strstr (err, "Network is unreachable")))
    return IMPRINT_ERROR_UNAVAILABLE;
  if (err && (strstr (err, "Signature verification failed") || strstr (err, "DOWNLOAD INVALID")))
    return IMPRINT_ERROR_SOURCE_INVALID;
  if (err && (strstr (err, "No space left") || strstr (err, "No available partition of a suitable size")))
    return IMPRINT_ERROR_NO_SPACE;
  if (err && strstr (err, "not found"))
    return IMPRINT_ERROR_NOT_FOUND;
  return IMPRINT_ERROR_FAILED;
}

static char *
update_cli (ImprintSysupdate *s, const char *version, ImprintUpdateProgress progress, gpointer user_data,
            GCancellable *cancellable, GError **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSource) source = NULL;
  g_autoptr(GPtrArray) argv = update_cli_argv (s, version);
  g_autofree char *address = NULL;
  UpdateRun u = { 0 };
  gulong cancel_id = 0;
  char *result = NULL;
  int status;

  sock = notify_socket_new (&address, error);
  if (sock == NULL)
    return NULL;

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

      g_set_error_literal (error, IMPRINT_ERROR, cli_failure_code (u.err), sentence);
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

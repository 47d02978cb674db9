/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "imprint-dbus-generated.h"
#include "imprintd-daemon.h"

/* A finished job stays on the bus this long, so a client that was slow to
 * subscribe can still read its final properties. */
#define FINISHED_JOB_LINGER_SECONDS 60
/* When stopping, finished jobs stay readable this long before imprintd
 * releases its name and exits. */
#define STOP_GRACE_MS 1000

struct _ImprintdDaemon {
  GObject parent_instance;

  GDBusConnection *connection;
  GMainContext *context;
  GDBusObjectManagerServer *object_manager;

  guint idle_timeout;
  guint idle_source;
  guint holds;            /* method calls in flight */
  GHashTable *jobs;       /* path -> ImprintdJob, running or lingering */
  guint running_jobs;
  guint job_serial;

  int inhibit_fd;
  gboolean inhibit_pending;

  /* Stopping (SIGTERM): jobs are cancelled, new calls refused; "stopped"
   * is emitted once every job finished its cleanup, or at the deadline. */
  gboolean stopping;
  gboolean stopped_emitted;
  guint stop_deadline_source;
  guint stopped_idle_source;
  GCancellable *stop_cancellable;
};

enum {
  SIGNAL_IDLE_TIMEOUT,
  SIGNAL_STOPPED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ImprintdDaemon, imprintd_daemon, G_TYPE_OBJECT)

static gboolean
on_idle_timeout (gpointer user_data)
{
  ImprintdDaemon *self = user_data;

  self->idle_source = 0;
  g_debug ("idle for %u s, exiting", self->idle_timeout);
  g_signal_emit (self, signals[SIGNAL_IDLE_TIMEOUT], 0);
  return G_SOURCE_REMOVE;
}

static void
emit_stopped (ImprintdDaemon *self)
{
  if (self->stopped_emitted)
    return;
  self->stopped_emitted = TRUE;
  g_clear_handle_id (&self->stop_deadline_source, g_source_remove);
  g_clear_handle_id (&self->stopped_idle_source, g_source_remove);
  g_signal_emit (self, signals[SIGNAL_STOPPED], 0);
}

static gboolean
on_stopped_idle (gpointer user_data)
{
  ImprintdDaemon *self = user_data;

  self->stopped_idle_source = 0;
  emit_stopped (self);
  return G_SOURCE_REMOVE;
}

static void
update_idle_timer (ImprintdDaemon *self)
{
  g_clear_handle_id (&self->idle_source, g_source_remove);
  if (self->stopping)
    {
      /* Not at once: the last job's Completed D-Bus signal is emitted
       * after the handlers that brought us here, and clients then read
       * the job's final properties (ErrorName, Result). A moment's grace
       * lets both happen before the name goes. */
      if (self->holds == 0 && self->running_jobs == 0 && self->stopped_idle_source == 0)
        self->stopped_idle_source = g_timeout_add (STOP_GRACE_MS, on_stopped_idle, self);
      return;
    }
  if (self->idle_timeout == 0 || self->holds > 0 || self->running_jobs > 0)
    return;
  self->idle_source = g_timeout_add_seconds (self->idle_timeout, on_idle_timeout, self);
}

void
imprintd_daemon_hold (ImprintdDaemon *self)
{
  self->holds++;
  update_idle_timer (self);
}

void
imprintd_daemon_release (ImprintdDaemon *self)
{
  g_return_if_fail (self->holds > 0);
  self->holds--;
  update_idle_timer (self);
}

static void
on_inhibit (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(ImprintdDaemon) self = user_data;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  gint32 handle;

  self->inhibit_pending = FALSE;
  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), &fds, res, &error);
  if (reply == NULL)
    {
      /* No logind (a container, a test bus): nothing to inhibit. */
      g_debug ("could not take a shutdown inhibitor: %s", error->message);
      return;
    }

  g_variant_get (reply, "(h)", &handle);
  if (self->running_jobs == 0)
    return; /* all jobs ended meanwhile: the fd list closes it */
  self->inhibit_fd = g_unix_fd_list_get (fds, handle, &error);
  if (self->inhibit_fd < 0)
    g_debug ("could not take the inhibitor fd: %s", error->message);
}

static void
take_inhibitor (ImprintdDaemon *self)
{
  if (self->inhibit_fd >= 0 || self->inhibit_pending)
    return;
  self->inhibit_pending = TRUE;
  /* Shutting down or suspending in the middle of partitioning a disk
   * leaves a machine that does not boot: block it while a job runs. */
  g_dbus_connection_call_with_unix_fd_list (self->connection,
      "org.freedesktop.login1", "/org/freedesktop/login1",
      "org.freedesktop.login1.Manager", "Inhibit",
      g_variant_new ("(ssss)", "shutdown:sleep:idle", "Imprint",
                     _("The system is being installed or changed"), "block"),
      G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL,
      on_inhibit, g_object_ref (self));
}

static void
release_inhibitor (ImprintdDaemon *self)
{
  if (self->inhibit_fd >= 0)
    {
      close (self->inhibit_fd);
      self->inhibit_fd = -1;
    }
}

typedef struct {
  ImprintdDaemon *daemon;
  char *path;
} LingerData;

static gboolean
on_linger_done (gpointer user_data)
{
  LingerData *data = user_data;

  g_dbus_object_manager_server_unexport (data->daemon->object_manager, data->path);
  g_hash_table_remove (data->daemon->jobs, data->path);
  g_object_unref (data->daemon);
  g_free (data->path);
  g_free (data);
  return G_SOURCE_REMOVE;
}

static void
on_job_completed (ImprintdJob *job,
                  gboolean     success,
                  const char  *message,
                  gpointer     user_data)
{
  ImprintdDaemon *self = user_data;
  LingerData *data = g_new0 (LingerData, 1);
  GDBusObject *object = g_dbus_interface_get_object (G_DBUS_INTERFACE (job));

  g_return_if_fail (self->running_jobs > 0);
  self->running_jobs--;
  if (self->running_jobs == 0)
    release_inhibitor (self);

  data->daemon = g_object_ref (self);
  data->path = g_strdup (g_dbus_object_get_object_path (object));
  g_timeout_add_seconds (FINISHED_JOB_LINGER_SECONDS, on_linger_done, data);
  update_idle_timer (self);
}

const char *
imprintd_daemon_add_job (ImprintdDaemon *self, ImprintdJob *job)
{
  g_autoptr(ImprintObjectSkeleton) object = NULL;
  g_autofree char *path = NULL;

  path = g_strdup_printf (IMPRINT_JOB_PATH_PREFIX "%u", ++self->job_serial);
  object = imprint_object_skeleton_new (path);
  imprint_object_skeleton_set_job (object, IMPRINT_JOB (job));
  g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));

  g_signal_connect_object (job, "completed", G_CALLBACK (on_job_completed), self, 0);
  g_hash_table_insert (self->jobs, g_strdup (path), g_object_ref (job));
  self->running_jobs++;
  /* Authorised just before a stop began: it ends at its first check. */
  if (self->stopping)
    g_cancellable_cancel (imprintd_job_get_cancellable (job));
  take_inhibitor (self);
  update_idle_timer (self);

  return g_dbus_object_get_object_path (G_DBUS_OBJECT (object));
}

static gboolean
on_stop_deadline (gpointer user_data)
{
  ImprintdDaemon *self = user_data;

  self->stop_deadline_source = 0;
  g_warning ("%u job(s) and %u call(s) still running at the stop deadline; exiting anyway",
             self->running_jobs, self->holds);
  emit_stopped (self);
  return G_SOURCE_REMOVE;
}

void
imprintd_daemon_stop (ImprintdDaemon *self, guint timeout_seconds)
{
  GHashTableIter iter;
  gpointer job;

  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_debug ("stopping: cancelling %u job(s), waiting for %u call(s)", self->running_jobs, self->holds);

  /* Calls still waiting for polkit or the bus end now; work already under
   * way in a worker thread finishes (it is short, and bounded below). */
  g_cancellable_cancel (self->stop_cancellable);

  /* Every job gets the same cancellation as a client's Cancel(): it stops
   * at its next safe point and cleans up (unmounts, closes LUKS and loop
   * devices, removes scratch files), leaving the disk in a state the next
   * run handles. Jobs that cannot be interrupted mid-way check it only
   * between their steps. */
  g_hash_table_iter_init (&iter, self->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &job))
    if (!imprintd_job_is_finished (job))
      g_cancellable_cancel (imprintd_job_get_cancellable (job));

  if (timeout_seconds > 0)
    self->stop_deadline_source = g_timeout_add_seconds (timeout_seconds, on_stop_deadline, self);
  update_idle_timer (self);
}

gboolean
imprintd_daemon_is_stopping (ImprintdDaemon *self)
{
  return self->stopping;
}

GCancellable *
imprintd_daemon_get_stop_cancellable (ImprintdDaemon *self)
{
  return self->stop_cancellable;
}

GMainContext *
imprintd_daemon_get_context (ImprintdDaemon *self)
{
  return self->context;
}

GDBusConnection *
imprintd_daemon_get_connection (ImprintdDaemon *self)
{
  return self->connection;
}

gboolean
imprintd_daemon_start (ImprintdDaemon *self, GError **error)
{
  self->object_manager = g_dbus_object_manager_server_new (IMPRINT_OBJECT_ROOT);
  imprintd_manager_export (self, self->object_manager);
  g_dbus_object_manager_server_set_connection (self->object_manager, self->connection);
  update_idle_timer (self);
  return TRUE;
}

static void
imprintd_daemon_finalize (GObject *object)
{
  ImprintdDaemon *self = IMPRINTD_DAEMON (object);

  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_handle_id (&self->stop_deadline_source, g_source_remove);
  g_clear_handle_id (&self->stopped_idle_source, g_source_remove);
  g_clear_object (&self->stop_cancellable);
  release_inhibitor (self);
  g_clear_pointer (&self->jobs, g_hash_table_unref);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (imprintd_daemon_parent_class)->finalize (object);
}

static void
imprintd_daemon_class_init (ImprintdDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imprintd_daemon_finalize;

  signals[SIGNAL_IDLE_TIMEOUT] =
    g_signal_new ("idle-timeout", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
imprintd_daemon_init (ImprintdDaemon *self)
{
  self->inhibit_fd = -1;
  self->stop_cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  self->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

ImprintdDaemon *
imprintd_daemon_new (GDBusConnection *connection, guint idle_timeout_seconds)
{
  ImprintdDaemon *self = g_object_new (IMPRINTD_TYPE_DAEMON, NULL);

  self->connection = g_object_ref (connection);
  self->idle_timeout = idle_timeout_seconds;
  return self;
}

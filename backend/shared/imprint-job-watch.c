/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ImprintJobWatch: subscribing before the call, buffering early events,
 * following the job's proxy, noticing a vanished daemon. Cancelling and
 * answering requests is imprint-job-watch-control.c. */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-job-watch.h"
#include "imprint-job-watch-private.h"

G_DEFINE_FINAL_TYPE (ImprintJobWatch, imprint_job_watch, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  SIGNAL_LOG,
  SIGNAL_REQUEST,
  SIGNAL_COMPLETED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  char     *sender;
  char     *path;
  char     *member;
  GVariant *parameters;
} JobEvent;

static void
job_event_free (gpointer data)
{
  JobEvent *ev = data;

  g_free (ev->sender);
  g_free (ev->path);
  g_free (ev->member);
  g_variant_unref (ev->parameters);
  g_free (ev);
}

static void
unsubscribe (ImprintJobWatch *self)
{
  if (self->job_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->bus, self->job_subscription);
  if (self->owner_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->bus, self->owner_subscription);
  g_clear_signal_handler (&self->closed_handler, self->bus);
  self->job_subscription = 0;
  self->owner_subscription = 0;
}

static void
imprint_job_watch_dispose (GObject *object)
{
  ImprintJobWatch *self = IMPRINT_JOB_WATCH (object);

  if (self->bus != NULL)
    unsubscribe (self);
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_clear_object (&self->job);
  g_clear_object (&self->bus);

  G_OBJECT_CLASS (imprint_job_watch_parent_class)->dispose (object);
}

static void
imprint_job_watch_finalize (GObject *object)
{
  ImprintJobWatch *self = IMPRINT_JOB_WATCH (object);

  g_clear_pointer (&self->early_events, g_ptr_array_unref);
  g_clear_pointer (&self->gone_owners, g_hash_table_unref);
  g_free (self->bus_name);
  g_free (self->path);
  g_free (self->owner);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (imprint_job_watch_parent_class)->finalize (object);
}

static void
imprint_job_watch_class_init (ImprintJobWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = imprint_job_watch_dispose;
  object_class->finalize = imprint_job_watch_finalize;

  /* Registers the "dev.imprint.Imprint1.Error.*" names, so a job's
   * ErrorName turns back into an IMPRINT_ERROR code. */
  (void) imprint_error_quark ();

  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_VARIANT);
  signals[SIGNAL_LOG] =
    g_signal_new ("log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_REQUEST] =
    g_signal_new ("request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_COMPLETED] =
    g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
imprint_job_watch_init (ImprintJobWatch *self)
{
  self->early_events = g_ptr_array_new_with_free_func (job_event_free);
  self->gone_owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* What a person needs to hear when the daemon died under a job: that it
 * did not finish, and which state it left is safe. */
static char *
vanished_message (ImprintJobWatch *self)
{
  const char *operation = self->job != NULL ? imprint_job_get_operation (self->job) : NULL;

  /* The install engine labels the A slot only after its copy verified, so
   * a torn install never leaves a bootable, unverified system. */
  if (g_strcmp0 (operation, "install") == 0)
    return g_strdup (_("imprintd stopped while the installation was running, so it did not finish. "
                       "The target disk may be left partly written, but no unverified system on it is "
                       "marked bootable: it is safe to install onto it again."));
  return g_strdup (_("imprintd stopped while the job was running, so it did not finish and may be "
                     "only partly done. Check the result, and start it again if needed."));
}

static void
complete (ImprintJobWatch *self,
          gboolean         success,
          GError          *error)
{
  g_assert (!self->finished);

  self->finished = TRUE;
  self->succeeded = success;
  self->error = error;
  /* Nothing more to hear: a late NameOwnerChanged must not turn a
   * finished job into a failed one. */
  unsubscribe (self);
  g_ptr_array_set_size (self->early_events, 0);
  g_signal_emit (self, signals[SIGNAL_COMPLETED], 0);
}

static void
fail_vanished (ImprintJobWatch *self)
{
  g_autofree char *message = NULL;

  if (self->finished)
    return;
  message = vanished_message (self);
  self->vanished = TRUE;
  complete (self, FALSE, g_error_new_literal (IMPRINT_ERROR, IMPRINT_ERROR_FAILED, message));
}

static void
dispatch (ImprintJobWatch *self,
          const char      *member,
          GVariant        *parameters)
{
  if (self->finished)
    return;

  if (g_str_equal (member, "Log") &&
      g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(s)")))
    {
      const char *line;

      g_variant_get (parameters, "(&s)", &line);
      g_signal_emit (self, signals[SIGNAL_LOG], 0, line);
    }
  else if (g_str_equal (member, "Request") &&
           g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    {
      const char *id, *kind, *message;

      g_variant_get (parameters, "(&s&s&s)", &id, &kind, &message);
      g_signal_emit (self, signals[SIGNAL_REQUEST], 0, id, kind, message);
    }
  else if (g_str_equal (member, "Completed") &&
           g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(bs)")))
    {
      gboolean success;
      const char *message;
      const char *name = NULL;
      GError *error = NULL;

      g_variant_get (parameters, "(b&s)", &success, &message);
      if (!success)
        {
          /* ErrorName is set before Completed is emitted. */
          if (self->job != NULL)
            name = imprint_job_get_error_name (self->job);
          if (name == NULL || *name == '\0')
            name = imprint_error_to_dbus_name (IMPRINT_ERROR_FAILED);
          error = g_dbus_error_new_for_dbus_error (name, message);
          imprint_error_strip_remote (error);
        }
      complete (self, success, error);
    }
}

static void
on_job_signal (GDBusConnection *connection,
               const char      *sender,
               const char      *path,
               const char      *interface,
               const char      *member,
               GVariant        *parameters,
               gpointer         user_data)
{
  ImprintJobWatch *self = user_data;

  if (self->finished)
    return;

  if (!self->following)
    {
      JobEvent *ev = g_new0 (JobEvent, 1);

      ev->sender = g_strdup (sender);
      ev->path = g_strdup (path);
      ev->member = g_strdup (member);
      ev->parameters = g_variant_ref (parameters);
      g_ptr_array_add (self->early_events, ev);
      return;
    }

  if (g_strcmp0 (path, self->path) == 0 && g_strcmp0 (sender, self->owner) == 0)
    dispatch (self, member, parameters);
}

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *member,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  ImprintJobWatch *self = user_data;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (!g_str_equal (name, self->bus_name) || *old_owner == '\0')
    return;

  g_hash_table_add (self->gone_owners, g_strdup (old_owner));
  if (self->following && g_strcmp0 (old_owner, self->owner) == 0)
    fail_vanished (self);
}

static void
on_closed (GDBusConnection *connection,
           gboolean         remote_peer_vanished,
           GError          *error,
           gpointer         user_data)
{
  fail_vanished (user_data);
}

ImprintJobWatch *
imprint_job_watch_new (GDBusConnection *bus,
                       const char      *bus_name)
{
  ImprintJobWatch *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);
  g_return_val_if_fail (g_dbus_is_name (bus_name), NULL);

  self = g_object_new (IMPRINT_TYPE_JOB_WATCH, NULL);
  self->bus = g_object_ref (bus);
  self->bus_name = g_strdup (bus_name);

  /* The match rules go out before the caller's method call on the same
   * connection, so the bus applies them before the job exists. */
  self->owner_subscription =
    g_dbus_connection_signal_subscribe (bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", "/org/freedesktop/DBus", bus_name,
                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_name_owner_changed, self, NULL);
  self->job_subscription =
    g_dbus_connection_signal_subscribe (bus, bus_name, IMPRINT_JOB_INTERFACE, NULL, NULL, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_job_signal, self, NULL);
  self->closed_handler = g_signal_connect (bus, "closed", G_CALLBACK (on_closed), self);
  return self;
}

static GVariant *
cached_properties (ImprintJob *job)
{
  g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (job));
  GVariantBuilder b;

  if (names == NULL)
    return NULL;
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (job), names[i]);

      if (value != NULL)
        g_variant_builder_add (&b, "{sv}", names[i], value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
on_properties_changed (GDBusProxy *proxy,
                       GVariant   *changed,
                       GStrv       invalidated,
                       gpointer    user_data)
{
  ImprintJobWatch *self = user_data;

  if (!self->finished)
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, changed);
}

static void
job_proxy_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintJobWatch *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImprintJob) job = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GPtrArray) early = NULL;

  job = imprint_job_proxy_new_finish (result, &error);
  if (job == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_set_object (&self->job, job);
  g_signal_connect (job, "g-properties-changed", G_CALLBACK (on_properties_changed), self);
  self->following = TRUE;
  early = g_steal_pointer (&self->early_events);
  self->early_events = g_ptr_array_new_with_free_func (job_event_free);
  g_task_return_pointer (task, g_object_ref (job), g_object_unref);

  /* The job's state as it is now, then what it said before we knew it. A
   * job that answered GetAll exists; its final properties are set before
   * Completed, so a job that finished already shows its end state. */
  all = cached_properties (job);
  if (all != NULL && !self->finished)
    g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, all);
  for (guint i = 0; i < early->len && !self->finished; i++)
    {
      JobEvent *ev = g_ptr_array_index (early, i);

      if (g_str_equal (ev->path, self->path) && g_str_equal (ev->sender, self->owner))
        dispatch (self, ev->member, ev->parameters);
    }

  /* Its daemon died before we listened, or the name's new owner does not
   * know the job (it died and came back): no Completed will come. */
  if (g_hash_table_contains (self->gone_owners, self->owner) || all == NULL)
    fail_vanished (self);
}

static void
create_proxy (GTask *task)
{
  ImprintJobWatch *self = g_task_get_source_object (task);

  /* Bound to the daemon's unique name, not its well-known one: a call on
   * it never starts a new imprintd, and fails at once when this one is
   * gone. */
  imprint_job_proxy_new (self->bus,
                         G_DBUS_PROXY_FLAGS_GET_INVALIDATED_PROPERTIES |
                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                         self->owner, self->path,
                         g_task_get_cancellable (task),
                         job_proxy_cb, task);
}

static void
get_name_owner_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintJobWatch *self = g_task_get_source_object (task);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* The name has no owner: the daemon that made the job is gone.
       * The caller hears it from this error, not from "completed". */
      g_autofree char *message = vanished_message (self);

      self->finished = TRUE;
      self->vanished = TRUE;
      self->error = g_error_new_literal (IMPRINT_ERROR, IMPRINT_ERROR_FAILED, message);
      unsubscribe (self);
      g_task_return_error (task, g_error_copy (self->error));
      return;
    }
  g_variant_get (reply, "(s)", &self->owner);
  create_proxy (g_steal_pointer (&task));
}

void
imprint_job_watch_follow_async (ImprintJobWatch     *self,
                                const char          *job_path,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMPRINT_IS_JOB_WATCH (self));
  g_return_if_fail (g_variant_is_object_path (job_path));
  g_return_if_fail (self->path == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_job_watch_follow_async);
  self->path = g_strdup (job_path);

  /* A signal the job sent already names its daemon: the bus routed it to
   * us only because that sender owned the name. */
  for (guint i = 0; i < self->early_events->len; i++)
    {
      JobEvent *ev = g_ptr_array_index (self->early_events, i);

      if (g_str_equal (ev->path, job_path))
        {
          self->owner = g_strdup (ev->sender);
          create_proxy (g_steal_pointer (&task));
          return;
        }
    }

  g_dbus_connection_call (self->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetNameOwner",
                          g_variant_new ("(s)", self->bus_name), G_VARIANT_TYPE ("(s)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                          get_name_owner_cb, g_steal_pointer (&task));
}

ImprintJob *
imprint_job_watch_follow_finish (ImprintJobWatch  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

ImprintJob *
imprint_job_watch_get_job (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), NULL);
  return self->job;
}

const char *
imprint_job_watch_get_path (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), NULL);
  return self->path;
}

gboolean
imprint_job_watch_get_finished (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), FALSE);
  return self->finished;
}

gboolean
imprint_job_watch_get_succeeded (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), FALSE);
  return self->succeeded;
}

gboolean
imprint_job_watch_get_vanished (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), FALSE);
  return self->vanished;
}

const GError *
imprint_job_watch_get_error (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), NULL);
  return self->error;
}

GVariant *
imprint_job_watch_dup_result (ImprintJobWatch *self)
{
  g_return_val_if_fail (IMPRINT_IS_JOB_WATCH (self), NULL);
  if (self->job == NULL || !self->succeeded)
    return NULL;
  return imprint_job_dup_result (self->job);
}

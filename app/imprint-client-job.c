/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-client-private.h"
#include "imprint-error.h"

/* ---- the job ---------------------------------------------------------- */

void
imprint_client_append_log (ImprintClient *self,
                           const char    *line)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S");

  g_string_append_printf (self->log, "%s %s\n", stamp, line);
}

const char *
imprint_client_get_log (ImprintClient *self)
{
  return self->log->str;
}

static void
job_log_cb (ImprintJobWatch *watch,
            const char      *message,
            ImprintClient   *self)
{
  imprint_client_append_log (self, message);
  g_signal_emit (self, imprint_client_signals[IMPRINT_CLIENT_JOB_LOG], 0, message);
}

static void
job_request_cb (ImprintJobWatch *watch,
                const char      *id,
                const char      *kind,
                const char      *message,
                ImprintClient   *self)
{
  g_signal_emit (self, imprint_client_signals[IMPRINT_CLIENT_JOB_REQUEST], 0, id, kind, message);
}

static void
job_completed_cb (ImprintJobWatch *watch,
                  ImprintClient   *self)
{
  if (!imprint_job_watch_get_succeeded (watch))
    imprint_client_append_log (self, imprint_job_watch_get_error (watch)->message);
  g_signal_emit (self, imprint_client_signals[IMPRINT_CLIENT_JOB_COMPLETED], 0);
}

static void
job_followed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  ImprintJob *job;

  job = imprint_job_watch_follow_finish (IMPRINT_JOB_WATCH (object), result, &error);
  if (job == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, job, g_object_unref);
}

static void
job_started_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImprintClient *self = IMPRINT_CLIENT (object);
  ImprintCallReply reply = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (!imprint_client_call_finish (self, result, &reply, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  path = reply.text;
  imprint_job_watch_follow_async (self->job_watch, path, g_task_get_cancellable (task),
                                  job_followed_cb, g_object_ref (task));
}

/* Starts @method, which answers with a Job's path, and follows that job:
 * the watch listens before the call, so a fast job cannot finish unseen,
 * and a dead imprintd fails the job. A finished job is forgotten when the
 * next one starts (a panel may update twice). Takes @args. */
void
imprint_client_start_job (ImprintClient       *self,
                          const ImprintMethod *method,
                          ImprintCallArgs     *args,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_client_start_job);

  if (self->job_watch != NULL && imprint_job_watch_get_finished (self->job_watch))
    imprint_client_reset_job (self);
  if (self->manager == NULL || self->job_watch != NULL)
    {
      imprint_call_args_free (args);
      g_task_return_new_error (task, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The system service is not ready, or still busy."));
      return;
    }

  self->job_watch = imprint_job_watch_new (g_dbus_proxy_get_connection (G_DBUS_PROXY (self->manager)),
                                           IMPRINT_BUS_NAME);
  g_signal_connect (self->job_watch, "log", G_CALLBACK (job_log_cb), self);
  g_signal_connect (self->job_watch, "request", G_CALLBACK (job_request_cb), self);
  g_signal_connect (self->job_watch, "completed", G_CALLBACK (job_completed_cb), self);
  imprint_client_call (self, method, args, cancellable, job_started_cb, g_steal_pointer (&task));
}

ImprintJob *
imprint_client_job_finish (ImprintClient  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  ImprintJob *job;

  g_return_val_if_fail (IMPRINT_IS_CLIENT (self), NULL);

  job = g_task_propagate_pointer (G_TASK (result), error);
  /* A failed start leaves no job: forget the subscription so a retry can
   * start afresh. */
  if (job == NULL)
    imprint_client_reset_job (self);
  return job;
}

void
imprint_client_reset_job (ImprintClient *self)
{
  if (self->job_watch != NULL)
    g_signal_handlers_disconnect_by_data (self->job_watch, self);
  g_clear_object (&self->job_watch);
}

ImprintJob *
imprint_client_get_job (ImprintClient *self)
{
  return self->job_watch ? imprint_job_watch_get_job (self->job_watch) : NULL;
}

gboolean
imprint_client_get_job_finished (ImprintClient *self)
{
  return self->job_watch && imprint_job_watch_get_finished (self->job_watch);
}

gboolean
imprint_client_get_job_succeeded (ImprintClient *self)
{
  return self->job_watch && imprint_job_watch_get_succeeded (self->job_watch);
}

/* The finished job's result (a{sv}), or NULL. */
GVariant *
imprint_client_dup_job_result (ImprintClient *self)
{
  return self->job_watch && imprint_job_watch_get_finished (self->job_watch)
           ? imprint_job_watch_dup_result (self->job_watch) : NULL;
}

const GError *
imprint_client_get_job_error (ImprintClient *self)
{
  return self->job_watch ? imprint_job_watch_get_error (self->job_watch) : NULL;
}

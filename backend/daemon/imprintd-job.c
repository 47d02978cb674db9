/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprintd-job.h"
#include "imprintd-job-private.h"
#include "imprintd-methods.h"
#include "secret.h"

/* Worker threads report into this state under a lock; the main loop copies
 * it into the D-Bus properties at most every FLUSH_INTERVAL_MS, so property
 * traffic stays small however often the worker reports. */
#define FLUSH_INTERVAL_MS 200
/* The rate is averaged over samples at least this far apart. */
#define RATE_SAMPLE_USEC (500 * G_TIME_SPAN_MILLISECOND)

typedef struct {
  char *id;
  char *answer;
  gboolean answered;
  gboolean refused;
} PendingRequest;

struct _ImprintdJob {
  ImprintJobSkeleton parent_instance;

  GMainContext *context;
  GCancellable *cancellable;

  GMutex lock;
  GCond cond;
  /* Under lock: */
  char *step;
  guint64 bytes_done;
  guint64 bytes_total;
  double fraction;
  gboolean fraction_valid;
  GPtrArray *log_lines;
  GVariant *result;
  PendingRequest *request;
  guint request_serial;
  guint flush_id;

  /* Main thread only: */
  gint64 rate_sample_time;
  guint64 rate_sample_bytes;
  double rate;
  gboolean finished;
};

G_DEFINE_FINAL_TYPE (ImprintdJob, imprintd_job, IMPRINT_TYPE_JOB_SKELETON)

static void
pending_request_free (PendingRequest *request)
{
  if (request == NULL)
    return;
  imprintd_job_free_answer (request->answer);
  g_free (request->id);
  g_free (request);
}

void
imprintd_job_free_answer (char *answer)
{
  /* Answers (PINs) are kept in secret memory from the D-Bus call on. */
  imprint_secret_free (answer);
}

static guint64
now_realtime_usec (void)
{
  return (guint64) g_get_real_time ();
}

/* Main thread: copies the reported state into the exported properties. */
static gboolean
flush_state (gpointer user_data)
{
  ImprintdJob *self = user_data;
  ImprintJob *iface = IMPRINT_JOB (self);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *step = NULL;
  guint64 done, total;
  double fraction;
  gboolean fraction_valid;
  gint64 now;

  g_mutex_lock (&self->lock);
  self->flush_id = 0;
  step = g_strdup (self->step);
  done = self->bytes_done;
  total = self->bytes_total;
  fraction = self->fraction;
  fraction_valid = self->fraction_valid;
  lines = g_steal_pointer (&self->log_lines);
  self->log_lines = g_ptr_array_new_with_free_func (g_free);
  g_mutex_unlock (&self->lock);

  if (step != NULL && g_strcmp0 (step, imprint_job_get_step (iface)) != 0)
    imprint_job_set_step (iface, step);

  if (total > 0)
    {
      now = g_get_monotonic_time ();
      if (self->rate_sample_time == 0 || done < self->rate_sample_bytes)
        {
          self->rate_sample_time = now;
          self->rate_sample_bytes = done;
        }
      else if (now - self->rate_sample_time >= RATE_SAMPLE_USEC)
        {
          double seconds = (now - self->rate_sample_time) / (double) G_USEC_PER_SEC;
          double sample = (done - self->rate_sample_bytes) / seconds;

          /* Exponential average: steady enough to read, quick to follow
           * a real change of speed. */
          self->rate = self->rate == 0 ? sample : 0.7 * self->rate + 0.3 * sample;
          self->rate_sample_time = now;
          self->rate_sample_bytes = done;
        }

      imprint_job_set_bytes_done (iface, done);
      imprint_job_set_bytes_total (iface, total);
      imprint_job_set_rate (iface, (guint64) self->rate);
      if (self->rate >= 1 && done <= total)
        imprint_job_set_expected_end_time (iface,
            now_realtime_usec () + (guint64) ((total - done) / self->rate * G_USEC_PER_SEC));
      if (!fraction_valid)
        {
          fraction = (double) done / (double) total;
          fraction_valid = TRUE;
        }
    }

  if (fraction_valid)
    {
      imprint_job_set_progress (iface, CLAMP (fraction, 0.0, 1.0));
      imprint_job_set_progress_valid (iface, TRUE);
    }

  for (guint i = 0; i < lines->len; i++)
    imprint_job_emit_log (iface, g_ptr_array_index (lines, i));

  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self));
  return G_SOURCE_REMOVE;
}

/* Called with the lock held. */
static void
schedule_flush_locked (ImprintdJob *self, guint delay_ms)
{
  GSource *source;

  if (self->flush_id != 0)
    return;
  source = delay_ms > 0 ? g_timeout_source_new (delay_ms) : g_idle_source_new ();
  g_source_set_callback (source, flush_state, g_object_ref (self), g_object_unref);
  self->flush_id = g_source_attach (source, self->context);
  g_source_unref (source);
}

void
imprintd_job_set_step (ImprintdJob *self, const char *step)
{
  g_mutex_lock (&self->lock);
  if (g_strcmp0 (self->step, step) == 0)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  g_free (self->step);
  self->step = g_strdup (step);
  /* A new step is worth showing at once, and worth a log line. */
  g_ptr_array_add (self->log_lines, g_strdup (step));
  schedule_flush_locked (self, 0);
  g_mutex_unlock (&self->lock);
}

void
imprintd_job_set_bytes (ImprintdJob *self, guint64 done, guint64 total)
{
  g_mutex_lock (&self->lock);
  self->bytes_done = done;
  self->bytes_total = total;
  schedule_flush_locked (self, FLUSH_INTERVAL_MS);
  g_mutex_unlock (&self->lock);
}

void
imprintd_job_set_progress (ImprintdJob *self, double fraction)
{
  g_mutex_lock (&self->lock);
  /* A bar that jumps back looks like something went wrong: phases that
   * report late (a last byte count after the next step began) never move
   * it backwards. */
  self->fraction = MAX (fraction, self->fraction);
  self->fraction_valid = TRUE;
  schedule_flush_locked (self, FLUSH_INTERVAL_MS);
  g_mutex_unlock (&self->lock);
}

void
imprintd_job_log (ImprintdJob *self, const char *format, ...)
{
  va_list args;
  char *line;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);

  g_debug ("job %s: %s", imprint_job_get_operation (IMPRINT_JOB (self)), line);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->log_lines, line);
  schedule_flush_locked (self, FLUSH_INTERVAL_MS);
  g_mutex_unlock (&self->lock);
}

void
imprintd_job_set_result (ImprintdJob *self, GVariant *result)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->result, g_variant_unref);
  self->result = result != NULL ? g_variant_ref_sink (result) : NULL;
  g_mutex_unlock (&self->lock);
}

typedef struct {
  ImprintdJob *job;
  char *id;
  char *kind;
  char *message;
} EmitRequest;

static gboolean
emit_request (gpointer user_data)
{
  EmitRequest *er = user_data;

  flush_state (er->job);
  imprint_job_emit_request (IMPRINT_JOB (er->job), er->id, er->kind, er->message);
  g_object_unref (er->job);
  g_free (er->id);
  g_free (er->kind);
  g_free (er->message);
  g_free (er);
  return G_SOURCE_REMOVE;
}

static void
on_cancelled_wake (GCancellable *cancellable, gpointer user_data)
{
  ImprintdJob *self = user_data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

gboolean
imprintd_job_request (ImprintdJob *self,
                      const char  *kind,
                      const char  *message,
                      char       **ret_answer,
                      GError     **error)
{
  PendingRequest *request;
  EmitRequest *er;
  gulong cancel_id;
  gboolean ok = FALSE;

  g_return_val_if_fail (g_main_context_get_thread_default () != self->context, FALSE);

  request = g_new0 (PendingRequest, 1);
  g_mutex_lock (&self->lock);
  request->id = g_strdup_printf ("%u", ++self->request_serial);
  pending_request_free (self->request);
  self->request = request;
  g_mutex_unlock (&self->lock);

  er = g_new0 (EmitRequest, 1);
  er->job = g_object_ref (self);
  er->id = g_strdup (request->id);
  er->kind = g_strdup (kind);
  er->message = g_strdup (message);
  g_main_context_invoke (self->context, emit_request, er);

  cancel_id = g_cancellable_connect (self->cancellable, G_CALLBACK (on_cancelled_wake), self, NULL);

  g_mutex_lock (&self->lock);
  while (!request->answered && !g_cancellable_is_cancelled (self->cancellable))
    g_cond_wait (&self->cond, &self->lock);

  if (request->answered && !request->refused)
    {
      if (ret_answer != NULL)
        *ret_answer = g_steal_pointer (&request->answer);
      ok = TRUE;
    }
  else
    g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED, _("The operation was cancelled."));

  self->request = NULL;
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (self->cancellable, cancel_id);
  pending_request_free (request);
  return ok;
}

gboolean
imprintd_job_deliver_answer (ImprintdJob *self, const char *id, char **answer, gboolean refuse)
{
  g_mutex_lock (&self->lock);
  if (self->request == NULL || g_strcmp0 (self->request->id, id) != 0)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  self->request->answer = g_steal_pointer (answer);
  self->request->refused = refuse;
  self->request->answered = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
imprintd_job_finalize (GObject *object)
{
  ImprintdJob *self = IMPRINTD_JOB (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->step);
  g_clear_pointer (&self->log_lines, g_ptr_array_unref);
  g_clear_pointer (&self->result, g_variant_unref);
  pending_request_free (self->request);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (imprintd_job_parent_class)->finalize (object);
}

static void
imprintd_job_class_init (ImprintdJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imprintd_job_finalize;
}

static void
imprintd_job_init (ImprintdJob *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  self->log_lines = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (self, "handle-cancel", G_CALLBACK (imprintd_job_handle_cancel), NULL);
  g_signal_connect (self, "handle-answer", G_CALLBACK (imprintd_job_handle_answer), NULL);
  /* Property changes are flushed by flush_state(), in batches. */
  g_dbus_interface_skeleton_set_flags (G_DBUS_INTERFACE_SKELETON (self),
                                       G_DBUS_INTERFACE_SKELETON_FLAGS_NONE);
}

ImprintdJob *
imprintd_job_new (const char *operation,
                  guint32     started_by_uid,
                  gboolean    cancelable)
{
  ImprintdJob *self = g_object_new (IMPRINTD_TYPE_JOB, NULL);
  ImprintJob *iface = IMPRINT_JOB (self);

  imprint_job_set_operation (iface, operation);
  imprint_job_set_started_by_uid (iface, started_by_uid);
  imprint_job_set_cancelable (iface, cancelable);
  imprint_job_set_start_time (iface, now_realtime_usec ());
  imprint_job_set_step (iface, "");
  imprint_job_set_error_name (iface, "");
  imprint_job_set_result (iface, g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  return self;
}

GCancellable *
imprintd_job_get_cancellable (ImprintdJob *self)
{
  return self->cancellable;
}

gboolean
imprintd_job_is_finished (ImprintdJob *self)
{
  return self->finished;
}

typedef struct {
  ImprintdJobFunc func;
  gpointer user_data;
  GDestroyNotify user_data_free;
} RunData;

static void
run_data_free (RunData *data)
{
  if (data->user_data_free != NULL)
    data->user_data_free (data->user_data);
  g_free (data);
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  ImprintdJob *self = source_object;
  RunData *data = task_data;
  GError *error = NULL;

  gboolean ok = data->func (self, cancellable, data->user_data, &error);

  /* The work is done: its data goes now, not when the task is finalized
   * later. It may hold the job's disk (target-lock.h), which must be free
   * again by the time Completed tells clients so, and secrets. */
  if (data->user_data_free != NULL)
    data->user_data_free (g_steal_pointer (&data->user_data));
  data->user_data_free = NULL;

  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_job_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ImprintdJob *self = IMPRINTD_JOB (source);
  ImprintJob *iface = IMPRINT_JOB (self);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = g_task_propagate_boolean (G_TASK (res), &error);

  /* Last state first, so a client that reads properties on Completed sees
   * the final ones. */
  flush_state (self);

  if (ok)
    {
      g_mutex_lock (&self->lock);
      if (self->result != NULL)
        imprint_job_set_result (iface, self->result);
      g_mutex_unlock (&self->lock);
      imprint_job_set_progress (iface, 1.0);
      imprint_job_set_progress_valid (iface, TRUE);
      imprint_job_set_expected_end_time (iface, now_realtime_usec ());
    }
  else
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          g_cancellable_is_cancelled (self->cancellable))
        {
          g_clear_error (&error);
          g_set_error_literal (&error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED,
                               _("The operation was cancelled."));
        }
      else if (error->domain != IMPRINT_ERROR)
        {
          /* Keep the words, but give clients one domain to match on. */
          GError *mapped = g_error_new_literal (IMPRINT_ERROR, IMPRINT_ERROR_FAILED, error->message);
          g_clear_error (&error);
          error = mapped;
        }
      imprint_job_set_error_name (iface, imprint_error_to_dbus_name (error->code));
    }

  imprint_job_set_cancelable (iface, FALSE);
  self->finished = TRUE;
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self));
  g_debug ("job %s finished: %s", imprint_job_get_operation (iface), ok ? "success" : error->message);
  imprint_job_emit_completed (iface, ok, ok ? "" : error->message);
}

void
imprintd_job_run (ImprintdJob    *self,
                  ImprintdJobFunc func,
                  gpointer        user_data,
                  GDestroyNotify  user_data_free)
{
  g_autoptr(GTask) task = NULL;
  RunData *data = g_new0 (RunData, 1);

  data->func = func;
  data->user_data = user_data;
  data->user_data_free = user_data_free;

  task = g_task_new (self, self->cancellable, on_job_done, NULL);
  g_task_set_source_tag (task, imprintd_job_run);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);
  /* Cancellation is the job's own business (it leaves the disk in a
   * state the next run can handle), so the worker sees it and decides. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, job_thread);
}

static void
report_step (const char *text, void *userdata)
{
  imprintd_job_set_step (userdata, text);
}

static void
report_progress (double fraction, void *userdata)
{
  imprintd_job_set_progress (userdata, fraction);
}

static void
report_log (const char *text, void *userdata)
{
  imprintd_job_log (userdata, "%s", text);
}

void
imprintd_job_report (ImprintdJob *job, ImprintReport *ret)
{
  *ret = (ImprintReport) {
    .step = report_step, .progress = report_progress, .log = report_log, .userdata = job,
  };
}

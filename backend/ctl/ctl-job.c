/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprint-job-watch.h"
#include "imprint-names.h"
#include "imprintctl.h"

/* How long imprintctl waits for imprintd to answer a Cancel, and then for
 * the cancelled job to end. A hung daemon must not hold the terminal. */
#define CANCEL_REPLY_TIMEOUT_MSEC 5000
#define CANCEL_END_TIMEOUT_SEC    15

/* The job's signals are subscribed to (by ImprintJobWatch) before the
 * method that starts the job is called: a job that fails at once may emit
 * Completed before a match rule added afterwards would reach the bus. */
struct _CtlJobWatch {
  Ctl *ctl;
  ImprintJobWatch *watch;
  GCancellable *cancellable;
  GMainLoop *loop;
  GError *follow_error;
  gboolean tty;
  gboolean cancel_sent;
  /* Set when we stop waiting without the job's end: the exit code. */
  int abandoned;
  guint cancel_timeout_id;
  gint64 last_line;
};

static void
emit_json_line (const char *kind, GVariant *payload)
{
  g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) line = NULL;
  g_autofree char *text = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_add (b, "{sv}", "event", g_variant_new_string (kind));
  if (payload != NULL)
    {
      g_variant_iter_init (&iter, payload);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_variant_builder_add (b, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  line = g_variant_ref_sink (g_variant_builder_end (b));
  text = ctl_variant_to_json (line, FALSE);
  g_print ("%s\n", text);
  fflush (stdout);
}

static void
draw_progress (CtlJobWatch *w, GVariant *changed)
{
  ImprintJob *job = imprint_job_watch_get_job (w->watch);
  double progress;
  gboolean valid;
  guint64 rate, end, done, total;
  const char *step;
  g_autofree char *rate_s = NULL;
  g_autofree char *eta_s = NULL;
  g_autofree char *done_s = NULL;
  g_autofree char *total_s = NULL;
  char bar[31];
  gint64 now = g_get_real_time ();

  if (w->ctl->json)
    {
      if (changed != NULL)
        emit_json_line ("progress", changed);
      return;
    }
  if (job == NULL)
    return;

  /* The proxy's cache: reading it never waits on the daemon. */
  progress = imprint_job_get_progress (job);
  valid = imprint_job_get_progress_valid (job);
  rate = imprint_job_get_rate (job);
  end = imprint_job_get_expected_end_time (job);
  done = imprint_job_get_bytes_done (job);
  total = imprint_job_get_bytes_total (job);
  step = imprint_job_get_step (job);
  if (step == NULL)
    step = "";

  if (!w->tty)
    {
      /* A log file gets a line every few seconds, not a redrawn bar. */
      /* Steps arrive as log lines; only the percentage is added. */
      if (!valid || now - w->last_line < 5 * G_USEC_PER_SEC)
        return;
      w->last_line = now;
      g_print ("%3.0f%% %s\n", progress * 100, step);
      return;
    }

  memset (bar, ' ', sizeof bar - 1);
  bar[sizeof bar - 1] = '\0';
  if (valid)
    memset (bar, '#', (size_t) (CLAMP (progress, 0, 1) * (sizeof bar - 1)));
  if (rate > 0)
    {
      g_autofree char *r = g_format_size (rate);
      rate_s = g_strdup_printf (_("%s/s"), r);
    }
  if (end > (guint64) now)
    {
      guint64 left = (end - now) / G_USEC_PER_SEC;
      eta_s = g_strdup_printf (_("%u:%02u left"), (guint) (left / 60), (guint) (left % 60));
    }
  if (total > 0)
    {
      done_s = g_format_size (done);
      total_s = g_format_size (total);
    }

  g_print ("\r\033[K[%s] %3.0f%% %s%s%s%s%s%s%s  %s", bar, valid ? progress * 100 : 0.0,
           done_s ? done_s : "", done_s ? "/" : "", total_s ? total_s : "",
           rate_s ? "  " : "", rate_s ? rate_s : "",
           eta_s ? "  " : "", eta_s ? eta_s : "", step);
  fflush (stdout);
}

static void
on_progress (ImprintJobWatch *watch, GVariant *changed, gpointer user_data)
{
  draw_progress (user_data, changed);
}

static void
on_log (ImprintJobWatch *watch, const char *line, gpointer user_data)
{
  CtlJobWatch *w = user_data;

  if (w->ctl->json)
    {
      g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (b, "{sv}", "message", g_variant_new_string (line));
      emit_json_line ("log", g_variant_builder_end (b));
    }
  else if (w->tty)
    {
      g_print ("\r\033[K%s\n", line);
      draw_progress (w, NULL);
    }
  else
    g_print ("%s\n", line);
}

static void
on_request (ImprintJobWatch *watch,
            const char      *id,
            const char      *kind,
            const char      *message,
            gpointer         user_data)
{
  _cleanup_secret_ char *answer = NULL;
  gboolean refuse = FALSE;

  if (g_str_equal (kind, "fido2-pin") && isatty (STDIN_FILENO))
    {
      /* The daemon never reads a terminal; we do, for it. */
      struct termios old, quiet;
      char buf[256];

      g_print ("\r\033[K%s ", message);
      fflush (stdout);
      tcgetattr (STDIN_FILENO, &old);
      quiet = old;
      quiet.c_lflag &= ~ECHO;
      tcsetattr (STDIN_FILENO, TCSANOW, &quiet);
      if (fgets (buf, sizeof buf, stdin) != NULL)
        {
          buf[strcspn (buf, "\n")] = '\0';
          answer = imprint_secret_strdup (buf);
        }
      explicit_bzero (buf, sizeof buf);
      tcsetattr (STDIN_FILENO, TCSANOW, &old);
      g_print ("\n");
    }
  else if (g_str_equal (kind, "fido2-pin"))
    {
      g_printerr (_("imprintctl: %s (no terminal to ask on)\n"), message);
      refuse = TRUE;
    }
  else
    g_print ("\r\033[K%s\n", message);

  imprint_job_watch_answer (watch, id, answer ? answer : "", refuse);
}

static void
on_completed (ImprintJobWatch *watch, gpointer user_data)
{
  CtlJobWatch *w = user_data;

  g_main_loop_quit (w->loop);
}

CtlJobWatch *
ctl_job_watch_new (Ctl *ctl)
{
  CtlJobWatch *w = g_new0 (CtlJobWatch, 1);

  w->ctl = ctl;
  w->tty = isatty (STDOUT_FILENO);
  w->loop = g_main_loop_new (NULL, FALSE);
  w->cancellable = g_cancellable_new ();
  w->watch = imprint_job_watch_new (ctl->bus, IMPRINT_BUS_NAME);
  g_signal_connect (w->watch, "progress", G_CALLBACK (on_progress), w);
  g_signal_connect (w->watch, "log", G_CALLBACK (on_log), w);
  g_signal_connect (w->watch, "request", G_CALLBACK (on_request), w);
  g_signal_connect (w->watch, "completed", G_CALLBACK (on_completed), w);
  return w;
}

void
ctl_job_watch_free (CtlJobWatch *w)
{
  /* A Cancel still in flight must not call back into freed memory. */
  g_cancellable_cancel (w->cancellable);
  g_clear_handle_id (&w->cancel_timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (w->watch, w);
  g_clear_object (&w->watch);
  g_clear_object (&w->cancellable);
  g_clear_pointer (&w->loop, g_main_loop_unref);
  g_clear_error (&w->follow_error);
  g_free (w);
}

/* Stops waiting for a job that has not ended: imprintctl exits with
 * @exit_code, the job is imprintd's business from here on. */
static void
stop_waiting (CtlJobWatch *w, int exit_code)
{
  w->abandoned = exit_code;
  g_main_loop_quit (w->loop);
}

static gboolean
on_cancel_timeout (gpointer user_data)
{
  CtlJobWatch *w = user_data;

  w->cancel_timeout_id = 0;
  g_printerr (_("imprintctl: the job has not ended %u seconds after it was asked to cancel; "
                "not waiting for it any longer.\n"), CANCEL_END_TIMEOUT_SEC);
  stop_waiting (w, EXIT_CODE_CANCELLED);
  return G_SOURCE_REMOVE;
}

static void
cancel_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  CtlJobWatch *w = user_data;
  g_autoptr(GError) error = NULL;

  if (imprint_job_watch_cancel_finish (IMPRINT_JOB_WATCH (object), result, &error))
    return;  /* Completed follows, or the timeout ends the wait. */
  /* ctl_job_watch_free() cancelled us: @w is gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (imprint_job_watch_get_finished (IMPRINT_JOB_WATCH (object)))
    return;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    {
      g_printerr (_("imprintctl: imprintd does not answer; not waiting for the job any longer. "
                    "It may still be running.\n"));
      stop_waiting (w, EXIT_CODE_CANCELLED);
      return;
    }
  /* Refused (a step that cannot be cancelled): the job goes on, and the
   * timeout still bounds the wait. */
  g_printerr ("imprintctl: %s\n", error->message);
}

static void
send_cancel (CtlJobWatch *w)
{
  imprint_job_watch_cancel_async (w->watch, CANCEL_REPLY_TIMEOUT_MSEC, w->cancellable, cancel_cb, w);
  w->cancel_timeout_id = g_timeout_add_seconds (CANCEL_END_TIMEOUT_SEC, on_cancel_timeout, w);
}

static gboolean
on_interrupt (gpointer user_data)
{
  CtlJobWatch *w = user_data;

  /* Ctrl-C always ends imprintctl: the second one at once. */
  if (w->cancel_sent)
    {
      g_printerr (_("\nimprintctl: not waiting for the job any longer; imprintd may still be ending it.\n"));
      stop_waiting (w, EXIT_CODE_CANCELLED);
      return G_SOURCE_CONTINUE;
    }
  w->cancel_sent = TRUE;
  g_printerr (_("\nCancelling… (press Ctrl-C again to stop waiting)\n"));
  /* Before the job's proxy is ready there is no one to ask yet. */
  if (imprint_job_watch_get_job (w->watch) != NULL)
    send_cancel (w);
  return G_SOURCE_CONTINUE;
}

static void
follow_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  CtlJobWatch *w = user_data;
  g_autoptr(ImprintJob) job = NULL;
  GError *error = NULL;

  job = imprint_job_watch_follow_finish (IMPRINT_JOB_WATCH (object), result, &error);
  if (job == NULL)
    {
      /* Cancelled by ctl_job_watch_free(): @w is gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_error_free (error);
          return;
        }
      w->follow_error = error;
      g_main_loop_quit (w->loop);
      return;
    }
  if (w->cancel_sent && !imprint_job_watch_get_finished (w->watch))
    send_cancel (w);
}

int
ctl_job_watch_follow (CtlJobWatch *w, const char *job_path, GVariant **ret_result)
{
  guint sigint_id, sigterm_id;
  const GError *job_error;
  gboolean success;

  sigint_id = g_unix_signal_add (SIGINT, on_interrupt, w);
  sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt, w);
  imprint_job_watch_follow_async (w->watch, job_path, w->cancellable, follow_cb, w);
  /* Ends on Completed, on imprintd vanishing, or when we stop waiting. */
  g_main_loop_run (w->loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  if (w->tty && !w->ctl->json)
    g_print ("\n");

  if (w->abandoned != 0)
    return w->abandoned;

  if (w->follow_error != NULL)
    {
      if (w->ctl->json)
        return ctl_exit_code_for (w->follow_error);
      return ctl_report_error (w->follow_error);
    }

  success = imprint_job_watch_get_succeeded (w->watch);
  job_error = imprint_job_watch_get_error (w->watch);

  if (w->ctl->json)
    {
      g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
      g_autofree char *error_name = job_error ? g_dbus_error_encode_gerror (job_error) : NULL;

      g_variant_builder_add (b, "{sv}", "success", g_variant_new_boolean (success));
      g_variant_builder_add (b, "{sv}", "message", g_variant_new_string (job_error ? job_error->message : ""));
      g_variant_builder_add (b, "{sv}", "error", g_variant_new_string (error_name ? error_name : ""));
      if (imprint_job_watch_get_vanished (w->watch))
        g_variant_builder_add (b, "{sv}", "daemon-vanished", g_variant_new_boolean (TRUE));
      emit_json_line ("completed", g_variant_builder_end (b));
    }

  if (success)
    {
      if (ret_result != NULL)
        *ret_result = imprint_job_watch_dup_result (w->watch);
      return EXIT_CODE_OK;
    }

  if (w->ctl->json)
    return ctl_exit_code_for (job_error);
  {
    g_autoptr(GError) error = g_error_copy (job_error);
    return ctl_report_error (error);
  }
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "imprint-error.h"
#include "imprintctl.h"

/* Job signals are subscribed to before the method that starts the job is
 * called: a job that fails at once may emit Completed before a match rule
 * added afterwards would reach the bus. */
struct _CtlJobWatch {
  Ctl *ctl;
  guint completed_id;
  guint props_id;
  guint log_id;
  guint request_id;
  char *path;
  GMainLoop *loop;
  gboolean done;
  gboolean success;
  char *message;
  char *error_name;
  GVariant *result;
  gboolean tty;
  gboolean cancel_sent;
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
draw_progress (CtlJobWatch *w, GVariant *props)
{
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GError) error = NULL;
  double progress = 0;
  gboolean valid = FALSE;
  guint64 rate = 0, end = 0, done = 0, total = 0;
  const char *step = "";
  g_autofree char *rate_s = NULL;
  g_autofree char *eta_s = NULL;
  g_autofree char *done_s = NULL;
  g_autofree char *total_s = NULL;
  char bar[31];
  gint64 now = g_get_real_time ();

  all = g_dbus_connection_call_sync (w->ctl->bus, "dev.imprint.Imprint1", w->path,
                                     "org.freedesktop.DBus.Properties", "GetAll",
                                     g_variant_new ("(s)", "dev.imprint.Imprint1.Job"),
                                     G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                     5000, NULL, &error);
  if (all == NULL)
    return;
  g_autoptr(GVariant) dict = g_variant_get_child_value (all, 0);
  g_variant_lookup (dict, "Progress", "d", &progress);
  g_variant_lookup (dict, "ProgressValid", "b", &valid);
  g_variant_lookup (dict, "Rate", "t", &rate);
  g_variant_lookup (dict, "ExpectedEndTime", "t", &end);
  g_variant_lookup (dict, "BytesDone", "t", &done);
  g_variant_lookup (dict, "BytesTotal", "t", &total);
  g_variant_lookup (dict, "Step", "&s", &step);

  if (w->ctl->json)
    {
      emit_json_line ("progress", props != NULL ? props : dict);
      return;
    }

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
on_signal (GDBusConnection *connection,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *member,
           GVariant        *parameters,
           gpointer         user_data)
{
  CtlJobWatch *w = user_data;

  if (w->path == NULL || !g_str_equal (path, w->path) || w->done)
    return;

  if (g_str_equal (member, "Completed"))
    {
      g_variant_get (parameters, "(bs)", &w->success, &w->message);
      w->done = TRUE;
      if (w->loop != NULL)
        g_main_loop_quit (w->loop);
    }
  else if (g_str_equal (member, "PropertiesChanged"))
    {
      g_autoptr(GVariant) changed = g_variant_get_child_value (parameters, 1);
      draw_progress (w, changed);
    }
  else if (g_str_equal (member, "Log"))
    {
      const char *line;

      g_variant_get (parameters, "(&s)", &line);
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
  else if (g_str_equal (member, "Request"))
    {
      const char *id, *kind, *message;
      g_autofree char *answer = NULL;
      g_autoptr(GVariantBuilder) opts = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);

      g_variant_get (parameters, "(&s&s&s)", &id, &kind, &message);
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
              answer = g_strdup (buf);
            }
          explicit_bzero (buf, sizeof buf);
          tcsetattr (STDIN_FILENO, TCSANOW, &old);
          g_print ("\n");
        }
      else if (g_str_equal (kind, "fido2-pin"))
        {
          g_printerr (_("imprintctl: %s (no terminal to ask on)\n"), message);
          g_variant_builder_add (opts, "{sv}", "cancel", g_variant_new_boolean (TRUE));
        }
      else
        g_print ("\r\033[K%s\n", message);

      g_dbus_connection_call (w->ctl->bus, "dev.imprint.Imprint1", w->path,
                              "dev.imprint.Imprint1.Job", "Answer",
                              g_variant_new ("(ss@a{sv})", id, answer ? answer : "",
                                             g_variant_builder_end (opts)),
                              NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
      if (answer != NULL)
        explicit_bzero (answer, strlen (answer));
    }
}

static guint
subscribe (CtlJobWatch *w, const char *interface, const char *member)
{
  return g_dbus_connection_signal_subscribe (w->ctl->bus, "dev.imprint.Imprint1",
                                             interface, member, NULL,
                                             NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                             on_signal, w, NULL);
}

CtlJobWatch *
ctl_job_watch_new (Ctl *ctl)
{
  CtlJobWatch *w = g_new0 (CtlJobWatch, 1);

  w->ctl = ctl;
  w->tty = isatty (STDOUT_FILENO);
  w->completed_id = subscribe (w, "dev.imprint.Imprint1.Job", "Completed");
  w->log_id = subscribe (w, "dev.imprint.Imprint1.Job", "Log");
  w->request_id = subscribe (w, "dev.imprint.Imprint1.Job", "Request");
  w->props_id = subscribe (w, "org.freedesktop.DBus.Properties", "PropertiesChanged");
  /* Make sure the match rules are in place before the job starts. */
  g_dbus_connection_call_sync (ctl->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetId", NULL, NULL,
                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  return w;
}

void
ctl_job_watch_free (CtlJobWatch *w)
{
  g_dbus_connection_signal_unsubscribe (w->ctl->bus, w->completed_id);
  g_dbus_connection_signal_unsubscribe (w->ctl->bus, w->log_id);
  g_dbus_connection_signal_unsubscribe (w->ctl->bus, w->request_id);
  g_dbus_connection_signal_unsubscribe (w->ctl->bus, w->props_id);
  g_clear_pointer (&w->loop, g_main_loop_unref);
  g_clear_pointer (&w->result, g_variant_unref);
  g_free (w->path);
  g_free (w->message);
  g_free (w->error_name);
  g_free (w);
}

static gboolean
on_interrupt (gpointer user_data)
{
  CtlJobWatch *w = user_data;

  if (w->cancel_sent)
    return G_SOURCE_CONTINUE;
  w->cancel_sent = TRUE;
  g_printerr (_("\nCancelling…\n"));
  g_dbus_connection_call (w->ctl->bus, "dev.imprint.Imprint1", w->path,
                          "dev.imprint.Imprint1.Job", "Cancel",
                          g_variant_new ("(a{sv})", NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static void
fetch_final_properties (CtlJobWatch *w)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (w->ctl->bus, "dev.imprint.Imprint1", w->path,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", "dev.imprint.Imprint1.Job"),
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, NULL);
  if (reply != NULL)
    {
      g_autoptr(GVariant) dict = g_variant_get_child_value (reply, 0);
      w->result = g_variant_lookup_value (dict, "Result", G_VARIANT_TYPE_VARDICT);
      g_variant_lookup (dict, "ErrorName", "s", &w->error_name);
    }
}

int
ctl_job_watch_follow (CtlJobWatch *w, const char *job_path, GVariant **ret_result)
{
  guint sigint_id, sigterm_id;
  g_autoptr(GError) error = NULL;

  w->path = g_strdup (job_path);
  w->loop = g_main_loop_new (NULL, FALSE);

  sigint_id = g_unix_signal_add (SIGINT, on_interrupt, w);
  sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt, w);
  draw_progress (w, NULL);
  if (!w->done)
    g_main_loop_run (w->loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  if (w->tty && !w->ctl->json)
    g_print ("\n");

  fetch_final_properties (w);

  if (w->ctl->json)
    {
      g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (b, "{sv}", "success", g_variant_new_boolean (w->success));
      g_variant_builder_add (b, "{sv}", "message", g_variant_new_string (w->message ? w->message : ""));
      g_variant_builder_add (b, "{sv}", "error", g_variant_new_string (w->error_name ? w->error_name : ""));
      emit_json_line ("completed", g_variant_builder_end (b));
    }

  if (w->success)
    {
      if (ret_result != NULL)
        *ret_result = w->result ? g_variant_ref (w->result) : NULL;
      return EXIT_CODE_OK;
    }

  /* Rebuild the GError so the exit code follows the error's kind. */
  error = g_dbus_error_new_for_dbus_error (w->error_name && *w->error_name
                                            ? w->error_name
                                            : "dev.imprint.Imprint1.Error.Failed",
                                          w->message ? w->message : "");
  if (w->ctl->json)
    return ctl_exit_code_for (error);
  return ctl_report_error (error);
}

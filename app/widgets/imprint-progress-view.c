/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-a11y.h"
#include "imprint-names.h"
#include "imprint-progress-view.h"
#include "imprint-request.h"
#include "imprint-util.h"

struct _ImprintProgressView
{
  GtkWidget         parent_instance;

  GtkWidget        *box;
  GtkLabel         *step_label;
  GtkProgressBar   *progress_bar;
  GtkLabel         *rate_label;
  GtkLabel         *time_label;
  GtkWidget        *request_box;
  GtkLabel         *request_label;
  GtkPasswordEntry *pin_entry;
  GtkButton        *request_ok_button;
  GtkButton        *cancel_button;
  GtkExpander      *details;
  GtkScrolledWindow *log_scroll;
  GtkTextView      *log_view;

  ImprintJob       *job;
  char             *request_id;
  char             *said_step;   /* the step last announced */
  guint             tick;
  gboolean          finished;

  /* What Cancel asks; NULL: the installer's question. */
  char             *cancel_heading;
  char             *cancel_body;
  char             *cancel_keep;
};

G_DEFINE_FINAL_TYPE (ImprintProgressView, imprint_progress_view, GTK_TYPE_WIDGET)

static void
update (ImprintProgressView *self)
{
  const char *step;
  guint64 rate, end, done, total;
  gint64 now;
  g_autofree char *rate_text = NULL;
  g_autofree char *time_text = NULL;

  if (self->job == NULL)
    return;

  step = imprint_job_get_step (self->job);
  gtk_label_set_label (self->step_label, step && *step ? step : _("Preparing…"));
  /* Each new step once, not every progress tick. */
  if (step != NULL && *step != '\0' && g_strcmp0 (step, self->said_step) != 0)
    {
      imprint_str_replace (&self->said_step, step);
      imprint_a11y_announce (GTK_WIDGET (self->progress_bar), step, FALSE);
    }

  if (imprint_job_get_progress_valid (self->job))
    {
      double fraction = CLAMP (imprint_job_get_progress (self->job), 0.0, 1.0);
      g_autofree char *percent = NULL;

      /* Translators: progress, e.g. "42 %" */
      percent = g_strdup_printf (_("%d %%"), (int) (fraction * 100.0));
      gtk_progress_bar_set_fraction (self->progress_bar, fraction);
      gtk_progress_bar_set_text (self->progress_bar, percent);
    }
  else if (!self->finished)
    {
      gtk_progress_bar_set_text (self->progress_bar, "");
      gtk_progress_bar_pulse (self->progress_bar);
    }

  rate = imprint_job_get_rate (self->job);
  done = imprint_job_get_bytes_done (self->job);
  total = imprint_job_get_bytes_total (self->job);
  if (total > 0 && rate > 0)
    {
      g_autofree char *d = g_format_size (done);
      g_autofree char *t = g_format_size (total);
      g_autofree char *r = imprint_format_rate (rate);

      /* Translators: "1.2 GB of 4.0 GB · 120 MB/s" */
      rate_text = g_strdup_printf (_("%s of %s · %s"), d, t, r);
    }
  else if (total > 0)
    {
      g_autofree char *d = g_format_size (done);
      g_autofree char *t = g_format_size (total);

      rate_text = g_strdup_printf (_("%s of %s"), d, t);
    }
  else
    rate_text = imprint_format_rate (rate);
  gtk_label_set_label (self->rate_label, rate_text);

  end = imprint_job_get_expected_end_time (self->job);
  now = g_get_real_time ();
  if (end > 0 && !self->finished)
    time_text = imprint_format_time_left (((gint64) end - now) / G_USEC_PER_SEC);
  gtk_label_set_label (self->time_label, time_text ? time_text : "");

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "progress.cancel",
                                 !self->finished && imprint_job_get_cancelable (self->job));
}

static gboolean
tick_cb (gpointer user_data)
{
  ImprintProgressView *self = user_data;

  /* The time left moves even when the job says nothing; an unknown
   * fraction pulses. */
  update (self);
  return G_SOURCE_CONTINUE;
}

void
imprint_progress_view_set_job (ImprintProgressView *self,
                               ImprintJob          *job)
{
  g_return_if_fail (IMPRINT_IS_PROGRESS_VIEW (self));

  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_set_object (&self->job, job);
  self->finished = FALSE;

  if (job != NULL)
    {
      g_signal_connect_swapped (job, "g-properties-changed", G_CALLBACK (update), self);
      if (self->tick == 0)
        self->tick = g_timeout_add (500, tick_cb, self);
    }
  update (self);
}

void
imprint_progress_view_set_finished (ImprintProgressView *self)
{
  self->finished = TRUE;
  g_clear_handle_id (&self->tick, g_source_remove);
  gtk_widget_set_visible (self->request_box, FALSE);
  update (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "progress.cancel", FALSE);
}

void
imprint_progress_view_append_log (ImprintProgressView *self,
                                  const char          *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter end;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S ");

  gtk_text_buffer_get_end_iter (buffer, &end);
  if (gtk_text_buffer_get_char_count (buffer) > 0)
    gtk_text_buffer_insert (buffer, &end, "\n", 1);
  gtk_text_buffer_insert (buffer, &end, stamp, -1);
  gtk_text_buffer_insert (buffer, &end, line, -1);

  /* Follow the end of the log. */
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_view_scroll_to_iter (self->log_view, &end, 0.0, FALSE, 0, 0);
}

void
imprint_progress_view_set_log (ImprintProgressView *self,
                               const char          *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  g_autofree char *trimmed = g_strdup (text ? text : "");

  gtk_text_buffer_set_text (buffer, g_strchomp (trimmed), -1);
}

static void
answer (ImprintProgressView *self,
        const char          *value,
        gboolean             cancel)
{
  GVariantBuilder b;

  if (self->job == NULL || self->request_id == NULL)
    return;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (cancel)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_CANCEL, g_variant_new_boolean (TRUE));
  g_dbus_proxy_call (G_DBUS_PROXY (self->job), "Answer",
                     g_variant_new ("(s@s@a{sv})", self->request_id,
                                    imprint_request_secret_variant_new (value),
                                    g_variant_builder_end (&b)),
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);

  g_clear_pointer (&self->request_id, g_free);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_entry), "");
  gtk_widget_set_visible (self->request_box, FALSE);
}

static void
pin_activate_cb (ImprintProgressView *self)
{
  answer (self, gtk_editable_get_text (GTK_EDITABLE (self->pin_entry)), FALSE);
}

static void
request_cancel_cb (ImprintProgressView *self)
{
  answer (self, "", TRUE);
}

void
imprint_progress_view_handle_request (ImprintProgressView *self,
                                      const char          *id,
                                      const char          *kind,
                                      const char          *message)
{
  gboolean wants_pin = g_str_equal (kind, IMPRINT_REQUEST_FIDO2_PIN);

  g_free (self->request_id);
  self->request_id = g_strdup (id);

  if (message == NULL || *message == '\0')
    message = wants_pin ? _("Enter the PIN of your security key.")
                        : _("Touch your security key now.");
  gtk_label_set_label (self->request_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->pin_entry), wants_pin);
  gtk_widget_set_visible (GTK_WIDGET (self->request_ok_button), wants_pin);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->pin_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Security key PIN"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_editable_get_delegate (GTK_EDITABLE (self->pin_entry))),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Security key PIN"), -1);
  gtk_widget_set_visible (self->request_box, TRUE);
  imprint_a11y_announce (wants_pin ? GTK_WIDGET (self->pin_entry) : self->request_box, message, TRUE);
  if (wants_pin)
    gtk_widget_grab_focus (GTK_WIDGET (self->pin_entry));
  imprint_progress_view_append_log (self, message);
}

static void
cancel_response_cb (AdwMessageDialog    *dialog,
                    const char          *response,
                    ImprintProgressView *self)
{
  if (!g_str_equal (response, "stop") || self->job == NULL || self->finished)
    return;

  imprint_progress_view_append_log (self, _("Cancelling…"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "progress.cancel", FALSE);
  imprint_job_call_cancel (self->job, g_variant_new ("a{sv}", NULL), NULL, NULL, NULL);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ImprintProgressView *self = IMPRINT_PROGRESS_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       self->cancel_heading ? self->cancel_heading
                                                                            : _("Stop the Installation?"),
                                                       self->cancel_body ? self->cancel_body
                                                                         : _("The disk you chose will be left without a working "
                                                                             "system. Other disks are not touched.")));
  adw_message_dialog_add_responses (dialog,
                                    "continue", self->cancel_keep ? self->cancel_keep : _("_Keep Installing"),
                                    "stop", _("_Stop"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "stop", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "continue");
  adw_message_dialog_set_close_response (dialog, "continue");
  g_signal_connect_object (dialog, "response", G_CALLBACK (cancel_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* For jobs other than the installation: what Cancel asks (@keep_label is
 * the mnemonic label of the answer that keeps the job running) and the
 * name of the live log. */
void
imprint_progress_view_set_texts (ImprintProgressView *self,
                                 const char          *cancel_heading,
                                 const char          *cancel_body,
                                 const char          *keep_label,
                                 const char          *log_name)
{
  g_return_if_fail (IMPRINT_IS_PROGRESS_VIEW (self));

  g_free (self->cancel_heading);
  self->cancel_heading = g_strdup (cancel_heading);
  g_free (self->cancel_body);
  self->cancel_body = g_strdup (cancel_body);
  g_free (self->cancel_keep);
  self->cancel_keep = g_strdup (keep_label);
  if (log_name != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->log_view),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, log_name, -1);
}

static void
imprint_progress_view_dispose (GObject *object)
{
  ImprintProgressView *self = IMPRINT_PROGRESS_VIEW (object);

  g_clear_handle_id (&self->tick, g_source_remove);
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_clear_object (&self->job);
  g_clear_pointer (&self->request_id, g_free);
  g_clear_pointer (&self->said_step, g_free);
  g_clear_pointer (&self->cancel_heading, g_free);
  g_clear_pointer (&self->cancel_body, g_free);
  g_clear_pointer (&self->cancel_keep, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMPRINT_TYPE_PROGRESS_VIEW);

  G_OBJECT_CLASS (imprint_progress_view_parent_class)->dispose (object);
}

static void
imprint_progress_view_class_init (ImprintProgressViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imprint_progress_view_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/widgets/imprint-progress-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, box);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, step_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, rate_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, time_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, request_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, request_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, request_ok_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, details);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, log_scroll);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressView, log_view);
  gtk_widget_class_bind_template_callback (widget_class, pin_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, request_cancel_cb);

  gtk_widget_class_install_action (widget_class, "progress.cancel", NULL, cancel_action);
}

static void
imprint_progress_view_init (ImprintProgressView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Progress"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->log_view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Installation log"), -1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "progress.cancel", FALSE);
}

GtkWidget *
imprint_progress_view_new (void)
{
  return g_object_new (IMPRINT_TYPE_PROGRESS_VIEW, NULL);
}

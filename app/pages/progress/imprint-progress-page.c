/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-progress-page.h"
#include "imprint-progress-view.h"

struct _ImprintProgressPage
{
  ImprintPage          parent_instance;

  ImprintProgressView *progress_view;
  GtkLabel            *heading_label;
  GtkLabel            *intro_label;
  gboolean             connected;
  ImprintJob          *job;          /* the one shown */
};

G_DEFINE_FINAL_TYPE (ImprintProgressPage, imprint_progress_page, IMPRINT_TYPE_PAGE)

static void
job_log_cb (ImprintProgressPage *self,
            const char          *message)
{
  imprint_progress_view_append_log (self->progress_view, message);
}

static void
job_request_cb (ImprintProgressPage *self,
                const char          *id,
                const char          *kind,
                const char          *message)
{
  imprint_progress_view_handle_request (self->progress_view, id, kind, message);
}

static gboolean
go_forward_idle (gpointer user_data)
{
  imprint_page_go_forward (user_data);
  return G_SOURCE_REMOVE;
}

static void
job_completed_cb (ImprintProgressPage *self)
{
  imprint_progress_view_set_finished (self->progress_view);
  imprint_page_set_complete (IMPRINT_PAGE (self), TRUE);
  /* Not from inside the page switch that showed us. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, go_forward_idle, g_object_ref (self), g_object_unref);
}

static void
imprint_progress_page_shown (ImprintPage *page)
{
  ImprintProgressPage *self = IMPRINT_PROGRESS_PAGE (page);
  ImprintClient *client = imprint_page_get_client (page);

  /* A retried setup comes back here with a new job. */
  if (self->connected && imprint_client_get_job (client) == self->job)
    return;
  g_set_object (&self->job, imprint_client_get_job (client));
  imprint_page_set_complete (page, FALSE);

  /* First-boot setup follows its job on this page too. */
  if (imprint_page_get_setup_mode (page))
    {
      imprint_page_set_title (page, _("Setting Up"));
      gtk_label_set_label (self->heading_label, _("Setting Up the System"));
      gtk_label_set_label (self->intro_label,
                           _("Your settings are applied and your account with its encrypted home "
                             "folder is created. This takes a minute."));
    }

  imprint_progress_view_set_log (self->progress_view, imprint_client_get_log (client));
  if (!self->connected)
    {
      g_signal_connect_object (client, "job-log", G_CALLBACK (job_log_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (client, "job-request", G_CALLBACK (job_request_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (client, "job-completed", G_CALLBACK (job_completed_cb), self, G_CONNECT_SWAPPED);
    }
  self->connected = TRUE;
  imprint_progress_view_set_job (self->progress_view, imprint_client_get_job (client));

  /* Whatever the job said before this page was up is in the client's log. */
  if (imprint_client_get_job_finished (client))
    job_completed_cb (self);
}

static void
imprint_progress_page_dispose (GObject *object)
{
  g_clear_object (&IMPRINT_PROGRESS_PAGE (object)->job);

  G_OBJECT_CLASS (imprint_progress_page_parent_class)->dispose (object);
}

static void
imprint_progress_page_class_init (ImprintProgressPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = imprint_progress_page_dispose;
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  page_class->shown = imprint_progress_page_shown;

  g_type_ensure (IMPRINT_TYPE_PROGRESS_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/progress/imprint-progress-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressPage, progress_view);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressPage, heading_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintProgressPage, intro_label);
}

static void
imprint_progress_page_init (ImprintProgressPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_page_set_can_go_back (IMPRINT_PAGE (self), FALSE);
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
}

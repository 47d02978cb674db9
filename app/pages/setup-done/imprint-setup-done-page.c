/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-a11y.h"
#include "imprint-setup-done-page.h"
#include "imprint-util.h"

struct _ImprintSetupDonePage
{
  ImprintPage    parent_instance;

  AdwStatusPage *status_page;
  GtkLabel      *error_label;
  GtkWidget     *retry_button;
  GtkButton     *close_button;
};

G_DEFINE_FINAL_TYPE (ImprintSetupDonePage, imprint_setup_done_page, IMPRINT_TYPE_PAGE)

static void
imprint_setup_done_page_shown (ImprintPage *page)
{
  ImprintSetupDonePage *self = IMPRINT_SETUP_DONE_PAGE (page);
  ImprintClient *client = imprint_page_get_client (page);
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (page);
  gboolean installed = g_strcmp0 (imprint_setup_choices_get_target (setup), "") != 0;

  gtk_widget_remove_css_class (GTK_WIDGET (self->status_page), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_page), "failure");
  if (imprint_client_get_job_succeeded (client))
    {
      g_autofree char *description = NULL;

      /* Setup of the installed disk is done: its key is needed no more. */
      imprint_setup_choices_set_unlock (setup, NULL);
      if (installed)
        /* Translators: %s is the user name */
        description = g_strdup_printf (_("Restart into the installed system and log in as %s. "
                                         "Keep your recovery key safe."),
                                       imprint_setup_choices_get_user_name (setup));
      else
        /* Translators: %s is the user name */
        description = g_strdup_printf (_("Log in as %s with your password. Keep your recovery key safe."),
                                       imprint_setup_choices_get_user_name (setup));
      imprint_page_set_title (page, _("Done"));
      gtk_widget_add_css_class (GTK_WIDGET (self->status_page), "success");
      adw_status_page_set_icon_name (self->status_page, "object-select-symbolic");
      adw_status_page_set_title (self->status_page, _("All Set"));
      adw_status_page_set_description (self->status_page, description);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
      gtk_widget_set_visible (self->retry_button, FALSE);
      gtk_button_set_label (self->close_button, installed ? _("_Close") : _("_Start Using the System"));
    }
  else
    {
      const GError *error = imprint_client_get_job_error (client);
      g_autofree char *sentence = error ? imprint_error_to_sentence (error)
                                        : g_strdup (_("The setup failed."));

      imprint_page_set_title (page, _("Failed"));
      gtk_widget_add_css_class (GTK_WIDGET (self->status_page), "failure");
      adw_status_page_set_icon_name (self->status_page, "dialog-error-symbolic");
      adw_status_page_set_title (self->status_page, _("Setup Failed"));
      adw_status_page_set_description (self->status_page,
                                       _("The steps before the failure were applied. Setup runs "
                                         "again at the next start until it completes."));
      gtk_label_set_label (self->error_label, sentence);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      gtk_widget_set_visible (self->retry_button, TRUE);
      gtk_button_set_label (self->close_button, _("_Close"));
    }
  gtk_widget_grab_focus (GTK_WIDGET (self->close_button));
  imprint_a11y_announce_outcome (GTK_WIDGET (self->close_button), GTK_WIDGET (self->status_page),
                                 self->error_label);
}

static void
retry_cb (ImprintSetupDonePage *self)
{
  imprint_client_reset_job (imprint_page_get_client (IMPRINT_PAGE (self)));
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-page", "s", "summary");
}

static void
close_cb (ImprintSetupDonePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (GTK_IS_WINDOW (root))
    gtk_window_close (GTK_WINDOW (root));
}

static void
imprint_setup_done_page_class_init (ImprintSetupDonePageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  page_class->shown = imprint_setup_done_page_shown;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/setup-done/imprint-setup-done-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupDonePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupDonePage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupDonePage, retry_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupDonePage, close_button);
  gtk_widget_class_bind_template_callback (widget_class, retry_cb);
  gtk_widget_class_bind_template_callback (widget_class, close_cb);
}

static void
imprint_setup_done_page_init (ImprintSetupDonePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_page_set_can_go_back (IMPRINT_PAGE (self), FALSE);
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
}

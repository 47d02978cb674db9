/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-a11y.h"
#include "imprint-done-page.h"
#include "imprint-error.h"
#include "imprint-util.h"
#include "imprint-window.h"

struct _ImprintDonePage
{
  ImprintPage           parent_instance;

  AdwStatusPage        *status_page;
  GtkLabel             *error_label;
  GtkLabel             *safe_label;
  GtkWidget            *save_log_button;
  GtkWidget            *close_button;
  GtkWidget            *setup_button;

  GtkFileChooserNative *chooser;
  gboolean              handed_over;   /* this session runs from the installed disk */
};

G_DEFINE_FINAL_TYPE (ImprintDonePage, imprint_done_page, IMPRINT_TYPE_PAGE)

/* The Install result's "handover" (data/dev.imprint.Imprint1.xml): the
 * truth about where this session runs now. TRUE when it runs from the
 * installed disk (root and /usr); @ret_description then says so, and
 * whether the stick can go. A handover that did not happen is said in
 * the error label, with the fallback the setup button offers. */
static gboolean
show_handover (ImprintDonePage *self, const char *disk_title, char **ret_description)
{
  g_autoptr(GVariant) result = imprint_client_dup_job_result (imprint_page_get_client (IMPRINT_PAGE (self)));
  g_autoptr(GVariant) h = result ? g_variant_lookup_value (result, "handover", G_VARIANT_TYPE_VARDICT) : NULL;
  gboolean root = FALSE, usr = FALSE, released = FALSE;
  const char *error = NULL, *remaining = NULL;

  *ret_description = NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  if (h == NULL)
    return FALSE;
  g_variant_lookup (h, "root-moved", "b", &root);
  g_variant_lookup (h, "usr-moved", "b", &usr);
  g_variant_lookup (h, "medium-released", "b", &released);
  g_variant_lookup (h, "error", "&s", &error);
  g_variant_lookup (h, "remaining", "&s", &remaining);

  if (root && usr)
    {
      if (released)
        *ret_description = g_strdup_printf (_("The system is installed on %s, and this session already runs from it. "
                                              "You can remove the USB stick now; nothing needs a restart. "
                                              "Keep your recovery key safe."), disk_title);
      else
        *ret_description = g_strdup_printf (_("The system is installed on %s, and this session already runs from it; "
                                              "nothing needs a restart. Keep the USB stick in until you restart: %s"),
                                            disk_title, remaining ? remaining : "");
      return TRUE;
    }
  if (error != NULL)
    {
      /* imprintd's sentence says it all: whether the session stayed in
       * memory (nothing lost) or what is left to do. */
      gtk_label_set_label (self->error_label, error);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
    }
  return FALSE;
}

static void
imprint_done_page_shown (ImprintPage *page)
{
  ImprintDonePage *self = IMPRINT_DONE_PAGE (page);
  ImprintClient *client = imprint_page_get_client (page);
  const GError *error = imprint_client_get_job_error (client);
  GVariant *disk = imprint_install_choices_get_target (imprint_page_get_install_choices (page));
  g_autofree char *disk_title = disk ? imprint_disk_dup_title (disk) : g_strdup ("");

  if (imprint_client_get_job_succeeded (client))
    {
      g_autofree char *description = NULL;

      self->handed_over = show_handover (self, disk_title, &description);
      if (description == NULL)
        description = g_strdup_printf (_("The system is on %s. Remove the installation medium and restart the "
                                         "computer to start it. Keep your recovery key safe."), disk_title);
      /* Beside Windows: systemd-boot finds Windows on the shared ESP. */
      if (imprint_install_choices_get_shrink_partition (imprint_page_get_install_choices (page)) != 0)
        {
          /* ntfsresize marks the volume for Windows' own check: the
           * first start of Windows takes longer, which is expected. */
          g_autofree char *both = g_strdup_printf ("%s %s %s", description,
                                                   _("Windows stays: the menu at start offers both systems. Hold "
                                                     "Space or press a key while the computer starts to choose."),
                                                   _("The first time Windows starts it checks its disk once; let "
                                                     "it finish."));
          g_free (description);
          description = g_steal_pointer (&both);
        }
      gtk_button_set_label (GTK_BUTTON (self->setup_button),
                            self->handed_over ? _("Set _Up This System") : _("Set _Up the Installed System"));

      imprint_page_set_title (page, _("Done"));
      gtk_widget_add_css_class (GTK_WIDGET (self->status_page), "success");
      adw_status_page_set_icon_name (self->status_page, "object-select-symbolic");
      adw_status_page_set_title (self->status_page, _("Installation Complete"));
      adw_status_page_set_description (self->status_page, description);
      gtk_widget_set_visible (GTK_WIDGET (self->safe_label), FALSE);
      gtk_widget_set_visible (self->setup_button, TRUE);
    }
  else if (g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED))
    {
      g_autofree char *safe = imprint_error_what_is_safe (error, TRUE);

      imprint_page_set_title (page, _("Cancelled"));
      adw_status_page_set_icon_name (self->status_page, "process-stop-symbolic");
      adw_status_page_set_title (self->status_page, _("Installation Stopped"));
      adw_status_page_set_description (self->status_page,
                                       _("The installation was stopped before it finished."));
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
      gtk_label_set_label (self->safe_label, safe);
    }
  else
    {
      g_autofree char *sentence = error ? imprint_error_to_sentence (error)
                                        : g_strdup (_("The installation failed."));
      g_autofree char *safe = imprint_error_what_is_safe (error, TRUE);

      imprint_page_set_title (page, _("Failed"));
      gtk_widget_add_css_class (GTK_WIDGET (self->status_page), "failure");
      adw_status_page_set_icon_name (self->status_page, "dialog-error-symbolic");
      adw_status_page_set_title (self->status_page, _("Installation Failed"));
      adw_status_page_set_description (self->status_page, NULL);
      gtk_label_set_label (self->error_label, sentence);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      gtk_label_set_label (self->safe_label, safe);
    }

  gtk_widget_grab_focus (self->close_button);
  imprint_a11y_announce_outcome (self->close_button, GTK_WIDGET (self->status_page), self->error_label);
}

static void
save_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(ImprintDonePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                  _("Could Not Save the Log"), error->message);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
    }
}

static char *
build_report (ImprintDonePage *self)
{
  ImprintClient *client = imprint_page_get_client (IMPRINT_PAGE (self));
  ImprintInstallChoices *install = imprint_page_get_install_choices (IMPRINT_PAGE (self));
  const char *source = imprint_install_choices_get_source (install);
  const char *target = imprint_install_choices_get_target_device (install);
  const GError *error = imprint_client_get_job_error (client);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "imprint %s\n", PACKAGE_VERSION);
  g_string_append_printf (s, "source: %s\n", *source ? source : "live medium");
  g_string_append_printf (s, "target: %s\n", target ? target : "-");
  g_string_append_printf (s, "result: %s\n", imprint_client_get_job_succeeded (client) ? "success" : "failure");
  if (error != NULL)
    {
      /* A bug report wants the exact error: the D-Bus name belongs here. */
      g_autofree char *name = g_dbus_error_encode_gerror (error);

      g_string_append_printf (s, "error: %s: %s\n", name, error->message);
    }
  g_string_append (s, "\n");
  g_string_append (s, imprint_client_get_log (client));
  return g_string_free (s, FALSE);
}

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     ImprintDonePage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      char *text = build_report (self);
      g_autoptr(GBytes) bytes = g_bytes_new_take (text, strlen (text));

      g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                           NULL, save_done_cb, g_object_ref (self));
    }
  g_clear_object (&self->chooser);
}

static void
save_log_cb (ImprintDonePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Save Installation Log"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), "imprint-install.log");
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ApplySetup's name for an installed disk that imprintd mounts itself. */
static char *
installed_target (ImprintDonePage *self)
{
  const char *device;

  /* After a handover the installed system is this one: "" as on an OEM
   * machine's first boot, no disk to open. */
  if (self->handed_over)
    return g_strdup ("");
  device = imprint_install_choices_get_target_device (imprint_page_get_install_choices (IMPRINT_PAGE (self)));

  return g_strconcat ("disk:", device ? device : "", NULL);
}

static void
setup_defaults_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ImprintDonePage) self = user_data;
  g_autoptr(GVariant) defaults = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = installed_target (self);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  gtk_widget_set_sensitive (self->setup_button, TRUE);
  if (!imprint_client_get_setup_defaults_finish (IMPRINT_CLIENT (object), result, &defaults, &error))
    {
      /* Not a dead end: the installed system runs setup at its first boot. */
      g_autofree char *sentence = imprint_error_to_sentence (error);
      g_autofree char *text = g_strdup_printf (_("%s Setup will run when the installed system first starts."),
                                               sentence);

      gtk_label_set_label (self->error_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      gtk_widget_set_visible (self->setup_button, FALSE);
      imprint_a11y_announce (self->close_button, text, TRUE);
      return;
    }
  if (!IMPRINT_IS_WINDOW (root))
    return;
  imprint_window_start_setup (IMPRINT_WINDOW (root), target, defaults);
}

static void
setup_cb (ImprintDonePage *self)
{
  g_autofree char *target = installed_target (self);

  gtk_widget_set_sensitive (self->setup_button, FALSE);
  imprint_client_get_setup_defaults_async (imprint_page_get_client (IMPRINT_PAGE (self)), target, NULL,
                                           setup_defaults_cb, g_object_ref (self));
}

static void
close_cb (ImprintDonePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (GTK_IS_WINDOW (root))
    gtk_window_close (GTK_WINDOW (root));
}

static void
imprint_done_page_dispose (GObject *object)
{
  ImprintDonePage *self = IMPRINT_DONE_PAGE (object);

  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }

  G_OBJECT_CLASS (imprint_done_page_parent_class)->dispose (object);
}

static void
imprint_done_page_class_init (ImprintDonePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->dispose = imprint_done_page_dispose;
  page_class->shown = imprint_done_page_shown;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/done/imprint-done-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintDonePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, ImprintDonePage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintDonePage, safe_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintDonePage, save_log_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintDonePage, close_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintDonePage, setup_button);
  gtk_widget_class_bind_template_callback (widget_class, setup_cb);
  gtk_widget_class_bind_template_callback (widget_class, save_log_cb);
  gtk_widget_class_bind_template_callback (widget_class, close_cb);
}

static void
imprint_done_page_init (ImprintDonePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_page_set_can_go_back (IMPRINT_PAGE (self), FALSE);
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-qr-paintable.h"
#include "imprint-recovery-key-view.h"
#include "imprint-util.h"

struct _ImprintRecoveryKeyView
{
  GtkWidget          parent_instance;

  GtkWidget         *box;
  GtkFlowBox        *groups;
  GtkButton         *copy_button;
  AdwButtonContent  *copy_content;
  GtkPicture        *qr_picture;

  char              *key;          /* secret */
  gboolean           saved;
  guint              copied_timeout;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (ImprintRecoveryKeyView, imprint_recovery_key_view, GTK_TYPE_WIDGET)

enum {
  SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
imprint_recovery_key_view_set_key (ImprintRecoveryKeyView *self,
                                   const char             *key)
{
  g_autoptr(ImprintQrPaintable) qr = NULL;
  g_auto(GStrv) parts = NULL;
  GtkWidget *child;

  g_return_if_fail (IMPRINT_IS_RECOVERY_KEY_VIEW (self));

  imprint_wipe_free (self->key);
  self->key = g_strdup (key);
  self->saved = FALSE;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->groups))) != NULL)
    gtk_flow_box_remove (self->groups, child);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.copy", key != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.save", key != NULL);
  if (key == NULL)
    {
      gtk_picture_set_paintable (self->qr_picture, NULL);
      return;
    }

  parts = g_strsplit (key, "-", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      GtkWidget *label = gtk_label_new (parts[i]);
      g_autofree char *name = g_strdup_printf (_("Group %u: %s"), i + 1, parts[i]);

      gtk_widget_add_css_class (label, "recovery-key");
      gtk_accessible_update_property (GTK_ACCESSIBLE (label),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      gtk_flow_box_append (self->groups, label);
      gtk_widget_set_focusable (gtk_widget_get_parent (label), FALSE);
      explicit_bzero (parts[i], strlen (parts[i]));
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->groups),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Recovery key"), -1);

  qr = imprint_qr_paintable_new (key);
  gtk_picture_set_paintable (self->qr_picture, GDK_PAINTABLE (qr));
}

gboolean
imprint_recovery_key_view_get_saved (ImprintRecoveryKeyView *self)
{
  return self->saved;
}

static gboolean
copied_timeout_cb (gpointer user_data)
{
  ImprintRecoveryKeyView *self = user_data;

  adw_button_content_set_label (self->copy_content, _("_Copy"));
  adw_button_content_set_icon_name (self->copy_content, "edit-copy-symbolic");
  self->copied_timeout = 0;
  return G_SOURCE_REMOVE;
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImprintRecoveryKeyView *self = IMPRINT_RECOVERY_KEY_VIEW (widget);

  if (self->key == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->key);
  adw_button_content_set_label (self->copy_content, _("Copied"));
  adw_button_content_set_icon_name (self->copy_content, "object-select-symbolic");
  g_clear_handle_id (&self->copied_timeout, g_source_remove);
  self->copied_timeout = g_timeout_add_seconds (3, copied_timeout_cb, self);
}

static void
save_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(ImprintRecoveryKeyView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *dialog;

      dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                       _("Could Not Save the Recovery Key"),
                                       error->message);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  self->saved = TRUE;
  g_signal_emit (self, signals[SAVED], 0);
}

static void
chooser_response_cb (GtkNativeDialog        *dialog,
                     int                     response,
                     ImprintRecoveryKeyView *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  char *text;

  if (response == GTK_RESPONSE_ACCEPT && self->key != NULL)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      text = g_strdup_printf ("%s\n\n%s\n",
                              _("Recovery key. It unlocks the disk when nothing else can. "
                                "Keep it away from the computer."),
                              self->key);
      bytes = g_bytes_new_with_free_func (text, strlen (text), imprint_wipe_free, text);
      g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE,
                                           G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                           NULL, save_done_cb, g_object_ref (self));
    }

  g_clear_object (&self->chooser);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImprintRecoveryKeyView *self = IMPRINT_RECOVERY_KEY_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);

  if (self->chooser != NULL)
    return;

  self->chooser = gtk_file_chooser_native_new (_("Save Recovery Key"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), _("recovery-key.txt"));
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
imprint_recovery_key_view_dispose (GObject *object)
{
  ImprintRecoveryKeyView *self = IMPRINT_RECOVERY_KEY_VIEW (object);

  g_clear_handle_id (&self->copied_timeout, g_source_remove);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), IMPRINT_TYPE_RECOVERY_KEY_VIEW);

  G_OBJECT_CLASS (imprint_recovery_key_view_parent_class)->dispose (object);
}

static void
imprint_recovery_key_view_finalize (GObject *object)
{
  ImprintRecoveryKeyView *self = IMPRINT_RECOVERY_KEY_VIEW (object);

  imprint_wipe_free (self->key);

  G_OBJECT_CLASS (imprint_recovery_key_view_parent_class)->finalize (object);
}

static void
imprint_recovery_key_view_class_init (ImprintRecoveryKeyViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imprint_recovery_key_view_dispose;
  object_class->finalize = imprint_recovery_key_view_finalize;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/widgets/imprint-recovery-key-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryKeyView, box);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryKeyView, groups);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryKeyView, copy_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryKeyView, copy_content);
  gtk_widget_class_bind_template_child (widget_class, ImprintRecoveryKeyView, qr_picture);

  gtk_widget_class_install_action (widget_class, "key.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "key.save", NULL, save_action);

  signals[SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
imprint_recovery_key_view_init (ImprintRecoveryKeyView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.copy", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.save", FALSE);
}

GtkWidget *
imprint_recovery_key_view_new (void)
{
  return g_object_new (IMPRINT_TYPE_RECOVERY_KEY_VIEW, NULL);
}

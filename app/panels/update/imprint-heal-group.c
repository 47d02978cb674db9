/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-a11y.h"
#include "imprint-error.h"
#include "imprint-names.h"
#include "imprint-request.h"
#include "update/imprint-heal-group.h"

struct _ImprintHealGroup
{
  AdwPreferencesGroup  parent_instance;

  AdwEntryRow         *entry;         /* AdwPasswordEntryRow; NULL once healed */
  GtkButton           *button;
  GtkLabel            *message;       /* wrong key, failures of the job */

  ImprintPanel        *panel;         /* not owned: the window we are in */
  ImprintClient       *client;        /* the panel's */
  char                *device;        /* the LUKS2 device under "/" */
  char                *tpm2_device;
  gboolean             healing;
};

G_DEFINE_FINAL_TYPE (ImprintHealGroup, imprint_heal_group, ADW_TYPE_PREFERENCES_GROUP)

const char *
imprint_heal_reason_sentence (const char *reason)
{
  if (g_strcmp0 (reason, "pcr-mismatch") == 0)
    return _("The computer’s start-up software changed (a firmware, boot loader or Secure Boot update), so the "
             "TPM did not release the key.");
  if (g_strcmp0 (reason, "signature") == 0)
    return _("The signature of this system’s start-up measurements was missing or not accepted, so the TPM "
             "did not release the key.");
  if (g_strcmp0 (reason, "no-tpm") == 0)
    return _("The TPM security chip was not found at start-up.");
  if (g_strcmp0 (reason, "pin") == 0)
    return _("The TPM PIN was wrong or not entered.");
  if (g_strcmp0 (reason, "lockout") == 0)
    return _("The TPM is locked after too many wrong PINs.");
  return _("The TPM did not release the key.");
}

static void
update_sensitivity (ImprintHealGroup *self)
{
  const char *text = self->entry ? gtk_editable_get_text (GTK_EDITABLE (self->entry)) : NULL;

  /* The entry stays sensitive while the job runs (heal_clicked_cb ignores
   * it then): GTK 4.8 loses the focus-out of a focused entry made
   * insensitive, and keyboard users keep their place. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->button), !self->healing && text != NULL && *text != '\0');
}

static void
show_message (ImprintHealGroup *self,
              const char       *text)
{
  gtk_label_set_label (self->message, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->message), text != NULL);
}

void
imprint_heal_group_set_status (ImprintHealGroup *self,
                               GVariant         *status)
{
  g_autofree char *description = NULL;
  gboolean needed;

  g_return_if_fail (IMPRINT_IS_HEAL_GROUP (self));
  needed = status != NULL && imprint_lookup_bool (status, IMPRINT_KEY_ENCRYPTED) &&
           imprint_lookup_bool (status, IMPRINT_KEY_NEEDED_RECOVERY) &&
           !imprint_lookup_bool (status, IMPRINT_KEY_RESEALED) &&
           *imprint_lookup_str (status, IMPRINT_KEY_DEVICE) != '\0';
  gtk_widget_set_visible (GTK_WIDGET (self), needed || self->healing);
  if (!needed || self->healing || self->entry == NULL)
    return;

  g_free (self->device);
  self->device = g_strdup (imprint_lookup_str (status, IMPRINT_KEY_DEVICE));
  /* Translators: the reason, then what to do */
  description = g_strdup_printf (_("%s Type the recovery key or a passphrase of the disk once more, and it "
                                   "will unlock by itself at the next start."),
                                 imprint_heal_reason_sentence (imprint_lookup_str (status, IMPRINT_KEY_REASON)));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), description);
  gtk_widget_set_visible (GTK_WIDGET (self->entry), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->button), TRUE);
  update_sensitivity (self);
}

static void
status_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImprintHealGroup) self = user_data;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;

  /* An imprintd without GetUnlockStatus, or polkit saying no: nothing to
   * offer, and nothing to complain about in a panel about updates. */
  if (!imprint_client_panel_call_finish (IMPRINT_CLIENT (object), result, &status, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("GetUnlockStatus: %s", error->message);
      return;
    }
  imprint_heal_group_set_status (self, status);
}

static void
job_completed_cb (ImprintHealGroup *self)
{
  const GError *error;

  if (!self->healing)
    return;
  self->healing = FALSE;
  imprint_panel_busy_pop (self->panel);
  error = imprint_client_get_job_error (self->client);
  if (imprint_client_get_job_succeeded (self->client))
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *focus = GTK_IS_WINDOW (root) ? gtk_window_get_focus (GTK_WINDOW (root)) : NULL;

      /* Let go of the focus first: GTK 4.8 still delivers focus-out to a
       * focused entry after it is gone. */
      if (focus != NULL && (focus == GTK_WIDGET (self->entry) || gtk_widget_is_ancestor (focus, GTK_WIDGET (self->entry))))
        gtk_window_set_focus (GTK_WINDOW (root), NULL);
      /* Removed, not hidden: an empty boxed list would still draw a line. */
      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), GTK_WIDGET (self->entry));
      self->entry = NULL;
      gtk_widget_set_visible (GTK_WIDGET (self->button), FALSE);
      show_message (self, NULL);
      const char *done = _("Done. The disk will unlock automatically at the next start.");

      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), done);
      imprint_a11y_announce (GTK_WIDGET (self), done, TRUE);
    }
  else if (g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED))
    {
      show_message (self, _("That is not the recovery key or a passphrase of this disk. Check it and try "
                            "again."));
      imprint_panel_focus_when_mapped (GTK_WIDGET (self->entry));
    }
  else if (error != NULL)
    {
      g_autofree char *sentence = imprint_error_to_sentence_for (error, IMPRINT_TOPIC_UPDATE);
      show_message (self, sentence);
    }
  update_sensitivity (self);
}

static void
started_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ImprintHealGroup) self = user_data;
  g_autoptr(ImprintJob) job = NULL;
  g_autoptr(GError) error = NULL;

  job = imprint_client_job_finish (IMPRINT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (job == NULL)
    {
      self->healing = FALSE;
      imprint_panel_busy_pop (self->panel);
      imprint_panel_show_gerror (self->panel, error);
      update_sensitivity (self);
      return;
    }
  /* The job may be over already (its events were replayed). */
  if (imprint_client_get_job_finished (self->client))
    job_completed_cb (self);
}

static void
heal_clicked_cb (ImprintHealGroup *self)
{
  const char *typed = self->entry ? gtk_editable_get_text (GTK_EDITABLE (self->entry)) : NULL;
  GVariantBuilder b;

  if (self->healing || self->client == NULL || self->device == NULL || typed == NULL || *typed == '\0')
    return;
  self->healing = TRUE;
  show_message (self, NULL);
  imprint_panel_show_error (self->panel, NULL);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_UNLOCK_PASSPHRASE, imprint_request_secret_variant_new (typed));
  if (self->tpm2_device != NULL)
    g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_TPM2_DEVICE, g_variant_new_string (self->tpm2_device));
  /* The secret went into the (wiped-on-free) variant; the entry forgets it. */
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  update_sensitivity (self);
  imprint_client_enroll_async (self->client, self->device, IMPRINT_METHOD_TPM2, g_variant_builder_end (&b),
                               imprint_panel_call_begin (self->panel), started_cb, g_object_ref (self));
}

void
imprint_heal_group_attach (ImprintHealGroup *self,
                           ImprintPanel     *panel)
{
  g_return_if_fail (IMPRINT_IS_HEAL_GROUP (self));
  g_return_if_fail (self->panel == NULL);
  self->panel = panel;
  self->client = imprint_panel_get_client (panel);
  g_signal_connect_object (self->client, "job-completed", G_CALLBACK (job_completed_cb), self,
                           G_CONNECT_SWAPPED);
  imprint_client_get_unlock_status_async (self->client, imprint_panel_get_cancellable (panel), status_cb,
                                          g_object_ref (self));
}

void
imprint_heal_group_set_tpm2_device (ImprintHealGroup *self,
                                    const char       *device)
{
  g_return_if_fail (IMPRINT_IS_HEAL_GROUP (self));
  g_free (self->tpm2_device);
  self->tpm2_device = device != NULL && *device ? g_strdup (device) : NULL;
}

static void
imprint_heal_group_finalize (GObject *object)
{
  ImprintHealGroup *self = IMPRINT_HEAL_GROUP (object);

  g_free (self->device);
  g_free (self->tpm2_device);
  G_OBJECT_CLASS (imprint_heal_group_parent_class)->finalize (object);
}

static void
imprint_heal_group_class_init (ImprintHealGroupClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imprint_heal_group_finalize;
}

static void
imprint_heal_group_init (ImprintHealGroup *self)
{
  GtkWidget *entry = adw_password_entry_row_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic (_("Unlock _Automatically Again"));
  /* An alert, like the panel's own notice: read out when it appears. */
  GtkWidget *message = g_object_new (GTK_TYPE_LABEL, "accessible-role", GTK_ACCESSIBLE_ROLE_ALERT, NULL);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self),
                                   _("The disk needed its recovery key at the last start"));
  self->entry = ADW_ENTRY_ROW (entry);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry), _("Recovery Key or Passphrase"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Recovery Key or Passphrase"), -1);
  g_signal_connect_swapped (entry, "changed", G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (entry, "entry-activated", G_CALLBACK (heal_clicked_cb), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), entry);
  imprint_a11y_name_icon_buttons (entry);

  self->message = GTK_LABEL (message);
  gtk_accessible_update_property (GTK_ACCESSIBLE (message), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Error"), -1);
  gtk_label_set_wrap (self->message, TRUE);
  gtk_label_set_xalign (self->message, 0);
  gtk_widget_set_margin_top (message, 12);
  gtk_widget_add_css_class (message, "error");
  gtk_widget_set_visible (message, FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), message);

  self->button = GTK_BUTTON (button);
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (button, 12);
  gtk_widget_add_css_class (button, "pill");
  gtk_widget_add_css_class (button, "suggested-action");
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (heal_clicked_cb), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), button);

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  update_sensitivity (self);
}

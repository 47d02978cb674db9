/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-security-page.h"
#include "imprint-strength-meter.h"
#include "imprint-util.h"

struct _ImprintSecurityPage
{
  ImprintPage     parent_instance;

  GtkSpinner     *spinner;
  AdwActionRow   *tpm_row;
  GtkSwitch      *tpm_switch;
  AdwActionRow   *fido_row;
  GtkWidget      *refresh_button;
  GtkSwitch      *fido_switch;
  AdwExpanderRow *passphrase_row;
  GtkEditable    *pass_entry;
  GtkEditable    *confirm_entry;
  ImprintStrengthMeter *strength_meter;
  AdwActionRow   *secure_boot_row;
  GtkLabel       *hint_label;
  gboolean        loaded;
};

G_DEFINE_FINAL_TYPE (ImprintSecurityPage, imprint_security_page, IMPRINT_TYPE_PAGE)

static void
update_complete (ImprintSecurityPage *self)
{
  gboolean tpm = gtk_switch_get_active (self->tpm_switch);
  gboolean fido = gtk_switch_get_active (self->fido_switch);
  gboolean pass = adw_expander_row_get_enable_expansion (self->passphrase_row);
  const char *p1 = gtk_editable_get_text (self->pass_entry);
  const char *p2 = gtk_editable_get_text (self->confirm_entry);
  const char *hint = "";
  gboolean complete = TRUE;

  if (pass)
    {
      if (*p1 == '\0')
        {
          hint = _("Type a passphrase, or turn the passphrase off.");
          complete = FALSE;
        }
      else if (imprint_strength_meter_get_refused (self->strength_meter))
        {
          hint = _("This passphrase is too easy to guess. Choose another one.");
          complete = FALSE;
        }
      else if (!imprint_strength_meter_get_acceptable (self->strength_meter))
        complete = FALSE;
      else if (!g_str_equal (p1, p2))
        {
          hint = *p2 ? _("The passphrases do not match.") : "";
          complete = FALSE;
        }
    }
  if (!tpm && !fido && !pass)
    {
      hint = _("Choose at least one way to unlock the disk.");
      complete = FALSE;
    }

  gtk_label_set_label (self->hint_label, hint);
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), *hint != '\0');
  imprint_page_set_complete (IMPRINT_PAGE (self), complete && self->loaded);
}

static void
changed_cb (ImprintSecurityPage *self)
{
  update_complete (self);
}

static void
confirm_activated_cb (ImprintSecurityPage *self)
{
  /* Enter in the last field moves on, as the Next button would. */
  if (imprint_page_get_complete (IMPRINT_PAGE (self)))
    imprint_page_go_forward (IMPRINT_PAGE (self));
}

static void
passphrase_changed_cb (ImprintSecurityPage *self)
{
  imprint_strength_meter_rate (self->strength_meter, imprint_page_get_client (IMPRINT_PAGE (self)),
                               gtk_editable_get_text (self->pass_entry));
  update_complete (self);
}

static gboolean
lookup_available (GVariant    *dict,
                  const char **reason)
{
  gboolean available = FALSE;

  *reason = NULL;
  if (dict == NULL)
    return FALSE;
  g_variant_lookup (dict, IMPRINT_KEY_AVAILABLE, "b", &available);
  g_variant_lookup (dict, IMPRINT_KEY_REASON, "&s", reason);
  return available;
}

static void
show_tpm (ImprintSecurityPage *self,
          GVariant            *tpm)
{
  const char *reason;
  const char *manufacturer = NULL;
  g_autofree char *subtitle = NULL;
  gboolean available = lookup_available (tpm, &reason);

  if (available)
    {
      if (tpm != NULL)
        g_variant_lookup (tpm, IMPRINT_KEY_MANUFACTURER, "&s", &manufacturer);
      if (manufacturer != NULL && *manufacturer != '\0')
        /* Translators: %s is the TPM maker, e.g. "Infineon" */
        subtitle = g_strdup_printf (_("Recommended. A TPM 2.0 chip by %s is present and ready. The disk "
                                      "unlocks by itself as long as the system was not tampered with."),
                                    manufacturer);
      else
        subtitle = g_strdup (_("Recommended. A TPM 2.0 chip is present and ready. The disk unlocks "
                               "by itself as long as the system was not tampered with."));
    }
  else
    subtitle = g_strdup (reason && *reason ? reason : _("This computer has no usable TPM 2.0 chip."));

  adw_action_row_set_subtitle (self->tpm_row, subtitle);
  gtk_widget_set_sensitive (GTK_WIDGET (self->tpm_switch), available);
  if (!available)
    gtk_switch_set_active (self->tpm_switch, FALSE);
  else if (!self->loaded)
    gtk_switch_set_active (self->tpm_switch,
                           imprint_install_choices_get_use_tpm2 (imprint_page_get_install_choices (IMPRINT_PAGE (self))));

  /* Without a TPM, a passphrase is the way in. */
  if (!available && !self->loaded)
    adw_expander_row_set_enable_expansion (self->passphrase_row, TRUE);
}

static const char *
fido_name (GVariant *dev)
{
  static const char * const keys[] = { IMPRINT_KEY_PRODUCT, IMPRINT_KEY_NAME, IMPRINT_KEY_MANUFACTURER, IMPRINT_KEY_PATH };
  const char *name = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_variant_lookup (dev, keys[i], "&s", &name) && *name != '\0')
      return name;
  return NULL;
}

static void
show_fido (ImprintSecurityPage *self,
           GVariant            *devices)
{
  g_autofree char *subtitle = NULL;
  const char *first_reason = NULL;
  const char *name = NULL;
  gboolean available = FALSE;

  if (devices != NULL && g_variant_is_of_type (devices, G_VARIANT_TYPE ("aa{sv}")))
    {
      GVariantIter iter;
      GVariant *dev;

      g_variant_iter_init (&iter, devices);
      while ((dev = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *reason;

          if (lookup_available (dev, &reason) && !available)
            {
              available = TRUE;
              name = fido_name (dev);
            }
          else if (first_reason == NULL)
            first_reason = reason;
          g_variant_unref (dev);
        }
    }

  if (available && name != NULL)
    /* Translators: %s is the security key's name, e.g. "YubiKey 5 NFC" */
    subtitle = g_strdup_printf (_("%s is connected. You will be asked to touch it, and maybe "
                                  "for its PIN, during the installation."), name);
  else if (available)
    subtitle = g_strdup (_("A security key is connected. You will be asked to touch it, and maybe "
                           "for its PIN, during the installation."));
  else if (first_reason != NULL && *first_reason != '\0')
    subtitle = g_strdup (first_reason);
  else
    subtitle = g_strdup (_("No security key is connected. Plug one in, then look again."));

  adw_action_row_set_subtitle (self->fido_row, subtitle);
  gtk_widget_set_sensitive (GTK_WIDGET (self->fido_switch), available);
  gtk_widget_set_visible (self->refresh_button, !available);
  if (!available)
    gtk_switch_set_active (self->fido_switch, FALSE);
  else if (!self->loaded)
    gtk_switch_set_active (self->fido_switch,
                           imprint_install_choices_get_use_fido2 (imprint_page_get_install_choices (IMPRINT_PAGE (self))));
}

static void
show_secure_boot (ImprintSecurityPage *self,
                  GVariant            *sb)
{
  const char *reason;
  gboolean enabled = TRUE;

  if (lookup_available (sb, &reason))
    {
      g_variant_lookup (sb, IMPRINT_KEY_ENABLED, "b", &enabled);
      adw_action_row_set_subtitle (self->secure_boot_row,
                                   enabled ? _("On: this computer only starts systems signed by a key it trusts.")
                                           : _("Available but off. The system still checks itself at every start."));
    }
  else
    adw_action_row_set_subtitle (self->secure_boot_row,
                                 reason && *reason ? reason : _("Not available on this computer."));
}

static void
capabilities_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(ImprintSecurityPage) self = user_data;
  g_autoptr(GVariant) caps = NULL;
  g_autoptr(GVariant) tpm = NULL;
  g_autoptr(GVariant) fido = NULL;
  g_autoptr(GVariant) sb = NULL;
  g_autoptr(GError) error = NULL;

  gtk_spinner_set_spinning (self->spinner, FALSE);

  if (!imprint_client_get_security_capabilities_finish (IMPRINT_CLIENT (object), result, &caps, &error))
    {
      g_autofree char *sentence = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      sentence = imprint_error_to_sentence (error);
      adw_action_row_set_subtitle (self->tpm_row, sentence);
      /* Still allow a passphrase: it needs nothing from the hardware. */
      show_tpm (self, NULL);
      show_fido (self, NULL);
      self->loaded = TRUE;
      update_complete (self);
      return;
    }

  tpm = g_variant_lookup_value (caps, IMPRINT_KEY_TPM2, G_VARIANT_TYPE_VARDICT);
  fido = g_variant_lookup_value (caps, IMPRINT_KEY_FIDO2, G_VARIANT_TYPE ("aa{sv}"));
  sb = g_variant_lookup_value (caps, IMPRINT_KEY_SECURE_BOOT, G_VARIANT_TYPE_VARDICT);

  show_tpm (self, tpm);
  show_fido (self, fido);
  show_secure_boot (self, sb);
  self->loaded = TRUE;
  update_complete (self);
}

static void
load (ImprintSecurityPage *self)
{
  ImprintPage *page = IMPRINT_PAGE (self);

  gtk_spinner_set_spinning (self->spinner, TRUE);
  imprint_client_get_security_capabilities_async (imprint_page_get_client (page),
                                                  imprint_install_choices_build_security_options (imprint_page_get_install_choices (page)),
                                                  imprint_page_get_cancellable (page), capabilities_cb, g_object_ref (self));
}

static void
refresh_cb (ImprintSecurityPage *self)
{
  load (self);
}

static void
imprint_security_page_shown (ImprintPage *page)
{
  ImprintSecurityPage *self = IMPRINT_SECURITY_PAGE (page);

  if (!self->loaded)
    load (self);
}

static gboolean
imprint_security_page_apply (ImprintPage  *page,
                             GCancellable *cancellable)
{
  ImprintSecurityPage *self = IMPRINT_SECURITY_PAGE (page);
  gboolean pass = adw_expander_row_get_enable_expansion (self->passphrase_row);

  imprint_install_choices_set_encryption (imprint_page_get_install_choices (page),
                                          gtk_switch_get_active (self->tpm_switch),
                                          gtk_switch_get_active (self->fido_switch),
                                          pass ? gtk_editable_get_text (self->pass_entry) : NULL);
  return FALSE;
}

static void
imprint_security_page_class_init (ImprintSecurityPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);
  page_class->shown = imprint_security_page_shown;
  page_class->apply = imprint_security_page_apply;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/security/imprint-security-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, tpm_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, tpm_switch);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, fido_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, fido_switch);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, passphrase_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, pass_entry);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, confirm_entry);
  g_type_ensure (IMPRINT_TYPE_STRENGTH_METER);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, strength_meter);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, secure_boot_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintSecurityPage, hint_label);
  gtk_widget_class_bind_template_callback (widget_class, changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, passphrase_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, refresh_cb);
  gtk_widget_class_bind_template_callback (widget_class, confirm_activated_cb);
}

/* AdwExpanderRow's enable switch has no name of its own in 1.2. */
static gboolean
name_switch_in (GtkWidget  *widget,
                const char *name)
{
  if (GTK_IS_SWITCH (widget))
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      return TRUE;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (name_switch_in (c, name))
      return TRUE;
  return FALSE;
}

static void
name_expander_switch (AdwExpanderRow *row,
                      const char     *name)
{
  name_switch_in (GTK_WIDGET (row), name);
}

static void
imprint_security_page_init (ImprintSecurityPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  imprint_strength_meter_set_label (self->strength_meter, _("Passphrase strength"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->tpm_switch),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Unlock with the TPM"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->fido_switch),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Unlock with a security key"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->refresh_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Look for security keys again"), -1);
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), FALSE);
  name_expander_switch (self->passphrase_row, _("Unlock with a passphrase"));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-panel.h"
#include "reset/imprint-reset-panel.h"

struct _ImprintResetPanel
{
  ImprintPanel         parent_instance;

  GtkSpinner          *spinner;
  GtkWidget           *error_group;
  GtkLabel            *error_label;
  AdwPreferencesGroup *pending_group;
  GtkButton           *cancel_button;
  GtkButton           *restart_button;
  AdwPreferencesGroup *erased_group;
  AdwPreferencesGroup *kept_group;
  GtkWidget           *tpm_group;
  GtkSwitch           *tpm_switch;
  AdwPreferencesGroup *confirm_group;
  AdwEntryRow         *confirm_row;
  GtkButton           *reset_button;

  GPtrArray           *rows;          /* (group, row) pairs shown from the info */
  gboolean             supported;
  gboolean             pending;
};

G_DEFINE_FINAL_TYPE (ImprintResetPanel, imprint_reset_panel, IMPRINT_TYPE_PANEL)

const char *
imprint_reset_panel_get_confirm_word (void)
{
  /* Translators: the word typed to confirm a factory reset; one word,
   * lower case, easy to type on this language's keyboard. */
  return _("erase");
}

#define show_error(self, sentence) imprint_panel_show_error (IMPRINT_PANEL (self), sentence)

static gboolean
confirmed (ImprintResetPanel *self)
{
  g_autofree char *typed = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->confirm_row))));
  g_autofree char *a = g_utf8_casefold (typed, -1);
  g_autofree char *b = g_utf8_casefold (imprint_reset_panel_get_confirm_word (), -1);

  return g_str_equal (a, b);
}

static void
update_sensitivity (ImprintResetPanel *self)
{
  gboolean busy = imprint_panel_get_busy (IMPRINT_PANEL (self));
  gboolean can_request = self->supported && !self->pending && !busy;

  gtk_widget_set_sensitive (GTK_WIDGET (self->reset_button), can_request && confirmed (self));
  gtk_widget_set_sensitive (GTK_WIDGET (self->confirm_row), can_request);
  gtk_widget_set_sensitive (GTK_WIDGET (self->tpm_switch), can_request);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), !busy);
}

static void
confirm_changed_cb (ImprintResetPanel *self)
{
  update_sensitivity (self);
}

/* ---- the info ----------------------------------------------------------- */

static void
clear_rows (ImprintResetPanel *self)
{
  for (guint i = 0; i + 1 < self->rows->len; i += 2)
    adw_preferences_group_remove (g_ptr_array_index (self->rows, i), g_ptr_array_index (self->rows, i + 1));
  g_ptr_array_set_size (self->rows, 0);
}

static void
add_row (ImprintResetPanel   *self,
         AdwPreferencesGroup *group,
         const char          *icon_name,
         const char          *title,
         const char          *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_action_row_set_icon_name (ADW_ACTION_ROW (row), icon_name);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL && *subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  /* The descriptions are sentences: let them wrap. */
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->rows, group);
  g_ptr_array_add (self->rows, row);
}

static void
set_info (ImprintResetPanel *self,
          GVariant          *info)
{
  g_autoptr(GVariant) erased = g_variant_lookup_value (info, IMPRINT_KEY_ERASED, G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GVariant) kept = g_variant_lookup_value (info, IMPRINT_KEY_KEPT, G_VARIANT_TYPE_STRING_ARRAY);
  const char *reason = imprint_lookup_str (info, IMPRINT_KEY_REASON);
  GVariantIter iter;
  GVariant *part;
  const char *line;
  g_autofree char *pending_text = NULL;

  self->supported = imprint_lookup_bool (info, IMPRINT_KEY_SUPPORTED);
  self->pending = imprint_lookup_bool (info, IMPRINT_KEY_PENDING);
  /* Before anything is shown: what is shown may take the focus. */
  update_sensitivity (self);

  clear_rows (self);
  if (erased != NULL)
    {
      g_variant_iter_init (&iter, erased);
      while ((part = g_variant_iter_next_value (&iter)))
        {
          const char *label = imprint_lookup_str (part, IMPRINT_KEY_LABEL);
          const char *definition = imprint_lookup_str (part, IMPRINT_KEY_DEFINITION);
          g_autofree char *where = NULL;

          if (*label)
            /* Translators: where an erased partition is defined, e.g. "Partition “root” · 50-root.conf" */
            where = g_strdup_printf (_("Partition “%s” · %s"), label, definition);
          add_row (self, self->erased_group, "user-trash-symbolic", imprint_lookup_str (part, IMPRINT_KEY_DESCRIPTION),
                   where ? where : definition);
          g_variant_unref (part);
        }
    }
  if (kept != NULL)
    {
      g_variant_iter_init (&iter, kept);
      while (g_variant_iter_next (&iter, "&s", &line))
        add_row (self, self->kept_group, "object-select-symbolic", line, NULL);
    }
  /* What stays means little when nothing can be erased. */
  gtk_widget_set_visible (GTK_WIDGET (self->erased_group), erased != NULL && g_variant_n_children (erased) > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->kept_group),
                          self->supported && kept != NULL && g_variant_n_children (kept) > 0);

  gtk_widget_set_visible (self->tpm_group, self->supported && !self->pending &&
                                            imprint_lookup_bool (info, IMPRINT_KEY_TPM_CLEAR_SUPPORTED));
  gtk_widget_set_visible (GTK_WIDGET (self->confirm_group), self->supported && !self->pending);
  gtk_widget_set_visible (GTK_WIDGET (self->pending_group), self->pending);
  if (self->pending)
    {
      if (imprint_lookup_bool (info, IMPRINT_KEY_TPM_CLEAR_PENDING))
        pending_text = g_strdup (_("Everything listed below is erased, and the firmware is asked to clear the "
                                   "TPM, the next time this computer starts. Until then the reset can still "
                                   "be cancelled."));
      else
        pending_text = g_strdup (_("Everything listed below is erased the next time this computer starts. "
                                   "Until then the reset can still be cancelled."));
      adw_preferences_group_set_description (self->pending_group, pending_text);
    }
  if (!self->supported)
    {
      g_autofree char *text =
        /* Translators: %s is the reason, a sentence */
        g_strdup_printf (_("This computer cannot be reset here. %s"), reason);

      show_error (self, *reason ? text : _("This computer cannot be reset here."));
    }
  update_sensitivity (self);
}

static void
info_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ImprintResetPanel *self = user_data;
  g_autoptr(GVariant) info = NULL;
  gboolean ok;

  if (!imprint_panel_call_finish (user_data, result, &ok, &info))
    return;
  if (!ok)
    {
      update_sensitivity (self);
      return;
    }
  set_info (self, info);
}

static void
refresh_info (ImprintResetPanel *self)
{
  imprint_client_get_factory_reset_info_async (imprint_panel_get_client (IMPRINT_PANEL (self)),
                                               imprint_panel_call_begin (IMPRINT_PANEL (self)), info_cb, self);
  update_sensitivity (self);
}

/* ---- request, cancel, restart ---------------------------------------------- */

static void
changed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ImprintResetPanel *self = user_data;
  g_autoptr(GVariant) reply = NULL;
  gboolean ok;

  if (!imprint_panel_call_finish (user_data, result, &ok, &reply))
    return;
  /* Either way, show what is really pending now. */
  refresh_info (self);
  if (ok)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->confirm_row), "");
      gtk_switch_set_active (self->tpm_switch, FALSE);
      /* After a request the way back; after a cancel, the form again. */
      imprint_panel_focus_when_mapped (self->pending ? GTK_WIDGET (self->confirm_row)
                                                     : GTK_WIDGET (self->cancel_button));
    }
}

static void
reset_clicked_cb (ImprintResetPanel *self)
{
  GVariantBuilder options;

  if (!gtk_widget_is_sensitive (GTK_WIDGET (self->reset_button)))
    return;

  show_error (self, NULL);
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (gtk_widget_get_visible (self->tpm_group) && gtk_switch_get_active (self->tpm_switch))
    g_variant_builder_add (&options, "{sv}", "clear-tpm", g_variant_new_boolean (TRUE));
  imprint_client_request_factory_reset_async (imprint_panel_get_client (IMPRINT_PANEL (self)),
                                              g_variant_builder_end (&options),
                                              imprint_panel_call_begin (IMPRINT_PANEL (self)), changed_cb, self);
  update_sensitivity (self);
}

static void
cancel_clicked_cb (ImprintResetPanel *self)
{
  show_error (self, NULL);
  imprint_client_cancel_factory_reset_async (imprint_panel_get_client (IMPRINT_PANEL (self)),
                                             imprint_panel_call_begin (IMPRINT_PANEL (self)), changed_cb, self);
  update_sensitivity (self);
}

static void
restart_clicked_cb (ImprintResetPanel *self)
{
  imprint_panel_restart (IMPRINT_PANEL (self), GTK_WIDGET (self->restart_button),
                         _("The computer could not be restarted from here. Restart it from the system menu; "
                           "the reset happens then."));
}

/* ---- life cycle --------------------------------------------------------- */

static void
imprint_reset_panel_dispose (GObject *object)
{
  ImprintResetPanel *self = IMPRINT_RESET_PANEL (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMPRINT_TYPE_RESET_PANEL);

  G_OBJECT_CLASS (imprint_reset_panel_parent_class)->dispose (object);
}

static void
imprint_reset_panel_class_init (ImprintResetPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imprint_reset_panel_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/panels/reset/imprint-reset-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, spinner);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, error_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, pending_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, restart_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, erased_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, kept_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, tpm_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, tpm_switch);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, confirm_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintResetPanel, reset_button);
  gtk_widget_class_bind_template_callback (widget_class, confirm_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, reset_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, restart_clicked_cb);
}

static void
imprint_reset_panel_init (ImprintResetPanel *self)
{
  g_autofree char *prompt = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_panel_set_widgets (IMPRINT_PANEL (self), IMPRINT_TOPIC_RESET, self->spinner,
                             self->error_group, self->error_label);
  self->rows = g_ptr_array_new ();

  /* Translators: %s is the confirmation word, e.g. Type “erase” to confirm */
  prompt = g_strdup_printf (_("Type “%s” to confirm"), imprint_reset_panel_get_confirm_word ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->confirm_row), prompt);
  adw_preferences_group_set_description (self->confirm_group,
                                         _("Everything listed under “What Will Be Erased” is gone for good "
                                           "after the reset. Copy what you want to keep first."));
  refresh_info (self);
}

GtkWidget *
imprint_reset_panel_new (GtkApplication *app)
{
  return g_object_new (IMPRINT_TYPE_RESET_PANEL, "application", app, NULL);
}

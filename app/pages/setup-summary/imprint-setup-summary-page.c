/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-setup-summary-page.h"
#include "imprint-util.h"

struct _ImprintSetupSummaryPage
{
  ImprintPage           parent_instance;

  AdwPreferencesGroup  *choices_group;
  GtkWidget            *error_box;
  GtkLabel             *error_label;
  GtkButton            *apply_button;

  GPtrArray            *rows;
  gboolean              committing;
};

G_DEFINE_FINAL_TYPE (ImprintSetupSummaryPage, imprint_setup_summary_page, IMPRINT_TYPE_PAGE)

static void
add_row (ImprintSetupSummaryPage *self,
         const char              *title,
         const char              *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), *value ? value : _("Unchanged"));
  gtk_widget_add_css_class (row, "property");
  adw_preferences_group_add (self->choices_group, row);
  g_ptr_array_add (self->rows, row);
}

static const char *
language_name (const char *locale)
{
  guint n;
  const ImprintLanguage *languages = imprint_languages (&n);

  for (guint i = 0; i < n; i++)
    if (g_str_equal (languages[i].locale, locale))
      return languages[i].own_name;
  return locale;
}

static void
show_choices (ImprintSetupSummaryPage *self)
{
  ImprintDriver *driver = imprint_page_get_driver (IMPRINT_PAGE (self));
  g_autofree char *account = NULL;
  g_autofree char *computer = NULL;
  GString *login = g_string_new (_("Password"));
  const char *pretty = imprint_driver_get_setting (driver, "pretty-hostname");

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->choices_group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);

  /* Translators: the person's full name and, in brackets, the user name */
  account = g_strdup_printf (_("%s (%s)"), imprint_driver_get_real_name (driver),
                             imprint_driver_get_user_name (driver));
  computer = *pretty ? g_strdup_printf ("%s (%s)", pretty, imprint_driver_get_setting (driver, "hostname"))
                     : g_strdup (imprint_driver_get_setting (driver, "hostname"));
  if (imprint_driver_get_user_fido2 (driver))
    g_string_append_printf (login, ", %s", _("security key"));
  g_string_append_printf (login, ", %s", _("recovery key"));
  if (imprint_driver_get_auto_login (driver))
    g_string_append_printf (login, ", %s", _("automatic login"));

  add_row (self, _("Language"), language_name (imprint_driver_get_setting (driver, "locale")));
  add_row (self, _("Keyboard"), *imprint_driver_get_setting (driver, "keymap-title")
                                 ? imprint_driver_get_setting (driver, "keymap-title")
                                 : imprint_driver_get_setting (driver, "keymap"));
  add_row (self, _("Time zone"), imprint_driver_get_setting (driver, "timezone"));
  add_row (self, _("Computer name"), computer);
  add_row (self, _("Account"), account);
  add_row (self, _("Unlocking the account"), login->str);
  if (imprint_driver_get_setup_flag (driver, "oem") &&
      g_strcmp0 (imprint_driver_get_setup_target (driver), "") == 0)
    add_row (self, _("Disk"), _("The recovery key also unlocks the disk"));
  g_string_free (login, TRUE);
}

static void
imprint_setup_summary_page_shown (ImprintPage *page)
{
  ImprintSetupSummaryPage *self = IMPRINT_SETUP_SUMMARY_PAGE (page);

  show_choices (self);
  gtk_widget_set_visible (self->error_box, FALSE);
  imprint_page_set_complete (page, FALSE);
  imprint_page_set_can_go_back (page, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->apply_button), TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->apply_button));
}

static void
apply_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(ImprintSetupSummaryPage) self = user_data;
  g_autoptr(ImprintJob) job = NULL;
  g_autoptr(GError) error = NULL;

  self->committing = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->apply_button), TRUE);

  job = imprint_driver_apply_setup_finish (IMPRINT_DRIVER (object), result, &error);
  if (job == NULL)
    {
      /* A dismissed or denied polkit prompt: say so, stay, allow a retry. */
      g_autofree char *sentence = imprint_error_to_sentence (error);

      gtk_label_set_label (self->error_label, sentence);
      gtk_widget_set_visible (self->error_box, TRUE);
      imprint_page_set_can_go_back (IMPRINT_PAGE (self), TRUE);
      imprint_page_set_complete (IMPRINT_PAGE (self), FALSE);
      imprint_page_apply_done (IMPRINT_PAGE (self), FALSE);
      return;
    }
  imprint_page_apply_done (IMPRINT_PAGE (self), TRUE);
}

/* The commit: nothing is changed before this. */
static gboolean
imprint_setup_summary_page_apply (ImprintPage  *page,
                                  GCancellable *cancellable)
{
  ImprintSetupSummaryPage *self = IMPRINT_SETUP_SUMMARY_PAGE (page);

  self->committing = TRUE;
  imprint_page_set_can_go_back (page, FALSE);
  gtk_widget_set_visible (self->error_box, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->apply_button), FALSE);
  imprint_driver_apply_setup_async (imprint_page_get_driver (page), NULL, apply_cb, g_object_ref (self));
  return TRUE;
}

static void
apply_clicked_cb (ImprintSetupSummaryPage *self)
{
  if (self->committing)
    return;
  /* Only this button makes the page complete: no shortcut applies by
   * accident. */
  imprint_page_set_complete (IMPRINT_PAGE (self), TRUE);
  imprint_page_go_forward (IMPRINT_PAGE (self));
}

static void
imprint_setup_summary_page_finalize (GObject *object)
{
  ImprintSetupSummaryPage *self = IMPRINT_SETUP_SUMMARY_PAGE (object);

  g_ptr_array_unref (self->rows);

  G_OBJECT_CLASS (imprint_setup_summary_page_parent_class)->finalize (object);
}

static void
imprint_setup_summary_page_class_init (ImprintSetupSummaryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->finalize = imprint_setup_summary_page_finalize;
  page_class->shown = imprint_setup_summary_page_shown;
  page_class->apply = imprint_setup_summary_page_apply;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/setup-summary/imprint-setup-summary-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupSummaryPage, choices_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupSummaryPage, error_box);
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupSummaryPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImprintSetupSummaryPage, apply_button);
  gtk_widget_class_bind_template_callback (widget_class, apply_clicked_cb);
}

static void
imprint_setup_summary_page_init (ImprintSetupSummaryPage *self)
{
  self->rows = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-names.h"
#include "imprint-setup-summary-page.h"
#include "imprint-util.h"

struct _ImprintSetupSummaryPage
{
  ImprintCommitPage     parent_instance;

  AdwPreferencesGroup  *choices_group;
  GtkWidget            *error_box;
  GtkLabel             *error_label;
  GtkButton            *apply_button;

  GPtrArray            *rows;
};

G_DEFINE_FINAL_TYPE (ImprintSetupSummaryPage, imprint_setup_summary_page, IMPRINT_TYPE_COMMIT_PAGE)

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
  /* The image's built-in locale: untranslated English, not a code. */
  if (g_str_equal (locale, "C") || g_str_equal (locale, "POSIX") || g_str_has_prefix (locale, "C."))
    return _("English (the system’s built-in language)");
  return locale;
}

static void
show_choices (ImprintSetupSummaryPage *self)
{
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (IMPRINT_PAGE (self));
  g_autofree char *account = NULL;
  g_autofree char *computer = NULL;
  GString *login = g_string_new (_("Password"));
  const char *pretty = imprint_setup_choices_get_setting (setup, IMPRINT_KEY_PRETTY_HOSTNAME);

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->choices_group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);

  /* Translators: the person's full name and, in brackets, the user name */
  account = g_strdup_printf (_("%s (%s)"), imprint_setup_choices_get_real_name (setup),
                             imprint_setup_choices_get_user_name (setup));
  computer = *pretty ? g_strdup_printf ("%s (%s)", pretty, imprint_setup_choices_get_setting (setup, IMPRINT_KEY_HOSTNAME))
                     : g_strdup (imprint_setup_choices_get_setting (setup, IMPRINT_KEY_HOSTNAME));
  if (imprint_setup_choices_get_user_fido2 (setup))
    g_string_append_printf (login, ", %s", _("security key"));
  g_string_append_printf (login, ", %s", _("recovery key"));
  if (imprint_setup_choices_get_auto_login (setup))
    g_string_append_printf (login, ", %s", _("automatic login"));

  add_row (self, _("Language"), language_name (imprint_setup_choices_get_setting (setup, IMPRINT_KEY_LOCALE)));
  add_row (self, _("Keyboard"), *imprint_setup_choices_get_setting (setup, IMPRINT_SETUP_KEYMAP_TITLE)
                                 ? imprint_setup_choices_get_setting (setup, IMPRINT_SETUP_KEYMAP_TITLE)
                                 : imprint_setup_choices_get_setting (setup, IMPRINT_KEY_KEYMAP));
  add_row (self, _("Time zone"), imprint_setup_choices_get_setting (setup, IMPRINT_KEY_TIMEZONE));
  add_row (self, _("Computer name"), computer);
  add_row (self, _("Account"), account);
  add_row (self, _("Unlocking the account"), login->str);
  if (imprint_setup_choices_get_flag (setup, IMPRINT_KEY_OEM) &&
      g_strcmp0 (imprint_setup_choices_get_target (setup), "") == 0)
    add_row (self, _("Disk"), _("The recovery key also unlocks the disk"));
  g_string_free (login, TRUE);
}

static void
imprint_setup_summary_page_shown (ImprintPage *page)
{
  ImprintSetupSummaryPage *self = IMPRINT_SETUP_SUMMARY_PAGE (page);

  show_choices (self);
  imprint_commit_page_reset (IMPRINT_COMMIT_PAGE (self));
  imprint_page_set_can_go_back (page, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->apply_button), TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->apply_button));
}

static void
imprint_setup_summary_page_commit (ImprintCommitPage   *page,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  ImprintClient *client = imprint_page_get_client (IMPRINT_PAGE (page));
  ImprintSetupChoices *setup = imprint_page_get_setup_choices (IMPRINT_PAGE (page));
  GVariant *settings, *options;

  if (!imprint_setup_choices_get_setup_mode (setup) || !imprint_setup_choices_has_password (setup))
    {
      g_task_report_new_error (client, callback, user_data, imprint_setup_summary_page_commit,
                               IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                               _("The setup is not ready to start."));
      return;
    }
  imprint_client_append_log (client, _("Starting the setup"));
  imprint_setup_choices_build_request (setup, &settings, &options);
  imprint_client_apply_setup_async (client, imprint_setup_choices_get_target (setup),
                                    settings, options, NULL, callback, user_data);
}

static void
apply_clicked_cb (ImprintSetupSummaryPage *self)
{
  imprint_commit_page_start (IMPRINT_COMMIT_PAGE (self));
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
  IMPRINT_COMMIT_PAGE_CLASS (klass)->commit = imprint_setup_summary_page_commit;

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
  imprint_commit_page_set_widgets (IMPRINT_COMMIT_PAGE (self), self->apply_button,
                                   self->error_box, self->error_label);
}

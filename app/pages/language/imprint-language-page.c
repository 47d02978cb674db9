/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-choice-list.h"
#include "imprint-language-page.h"
#include "imprint-names.h"
#include "imprint-screen-reader.h"
#include "imprint-util.h"

struct _ImprintLanguagePage
{
  ImprintPage        parent_instance;

  GtkLabel          *heading;
  GtkLabel          *intro;
  ImprintChoiceList *choice_list;
  GtkListBox        *screen_reader_list;
  GtkWidget         *screen_reader_row;
};

G_DEFINE_FINAL_TYPE (ImprintLanguagePage, imprint_language_page, IMPRINT_TYPE_PAGE)

static void
translate (ImprintLanguagePage *self)
{
  imprint_page_set_title (IMPRINT_PAGE (self), _("Language"));
  gtk_label_set_label (self->heading, _("Choose Your Language"));
  gtk_label_set_label (self->intro, _("The system, the login screen and new accounts use it."));
  imprint_choice_list_set_search_label (self->choice_list, _("Search languages"));
  imprint_screen_reader_row_translate (self->screen_reader_row);
}

static void
selected_cb (ImprintLanguagePage *self)
{
  const char *locale = imprint_choice_list_get_selected (self->choice_list);

  /* The rest of setup speaks the chosen language right away. */
  if (locale != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.language", "s", locale);
}

static void
imprint_language_page_shown (ImprintPage *page)
{
  ImprintLanguagePage *self = IMPRINT_LANGUAGE_PAGE (page);
  const char *locale = imprint_choice_list_get_selected (self->choice_list);

  /* Setup speaks the system's language from the start, not the kiosk
   * session's (often plain C). */
  if (locale != NULL && g_strcmp0 (imprint_client_get_language (imprint_page_get_client (page)), locale) != 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.language", "s", locale);
}

static void
imprint_language_page_locale_changed (ImprintPage *page)
{
  translate (IMPRINT_LANGUAGE_PAGE (page));
}

static void
imprint_language_page_constructed (GObject *object)
{
  ImprintLanguagePage *self = IMPRINT_LANGUAGE_PAGE (object);
  guint n;
  const ImprintLanguage *languages = imprint_languages (&n);

  G_OBJECT_CLASS (imprint_language_page_parent_class)->constructed (object);

  for (guint i = 0; i < n; i++)
    imprint_choice_list_add (self->choice_list, languages[i].locale, languages[i].own_name,
                             _(languages[i].english_name), languages[i].english_name);

  imprint_choice_list_bind_setting (self->choice_list, IMPRINT_PAGE (self), IMPRINT_KEY_LOCALE);
  g_signal_connect_object (self->choice_list, "notify::selected", G_CALLBACK (selected_cb),
                           self, G_CONNECT_SWAPPED);
  translate (self);
}

static void
imprint_language_page_class_init (ImprintLanguagePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->constructed = imprint_language_page_constructed;
  page_class->locale_changed = imprint_language_page_locale_changed;
  page_class->shown = imprint_language_page_shown;

  g_type_ensure (IMPRINT_TYPE_CHOICE_LIST);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/language/imprint-language-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintLanguagePage, heading);
  gtk_widget_class_bind_template_child (widget_class, ImprintLanguagePage, intro);
  gtk_widget_class_bind_template_child (widget_class, ImprintLanguagePage, choice_list);
  gtk_widget_class_bind_template_child (widget_class, ImprintLanguagePage, screen_reader_list);
}

static void
imprint_language_page_init (ImprintLanguagePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Setup's first page, as the installer's: for whoever cannot read the
   * others. */
  self->screen_reader_row = imprint_screen_reader_row_new (imprint_screen_reader_get_default ());
  gtk_list_box_append (self->screen_reader_list, self->screen_reader_row);
}

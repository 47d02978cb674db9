/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "imprint-welcome-page.h"
#include "imprint-a11y.h"
#include "imprint-application.h"
#include "imprint-first-frame.h"
#include "imprint-screen-reader.h"
#include "imprint-util.h"

struct _ImprintWelcomePage
{
  ImprintPage     parent_instance;

  GtkImage       *logo;
  GtkLabel       *heading;
  GtkLabel       *intro;
  GtkSearchEntry *search_entry;
  GtkListBox     *language_list;
  GtkScrolledWindow *language_scroll;
  GtkButton      *try_button;
  GtkButton      *install_button;
  GtkListBox     *screen_reader_list;
  GtkWidget      *screen_reader_row;
};

G_DEFINE_FINAL_TYPE (ImprintWelcomePage, imprint_welcome_page, IMPRINT_TYPE_PAGE)

/* The languages offered (imprint-util.c), shared with first-boot setup. */
static const ImprintLanguage *languages;
static guint n_languages;

static char *
fold (const char *s)
{
  g_autofree char *normalized = g_utf8_normalize (s, -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normalized ? normalized : s, -1);
}

static int
row_index (GtkListBoxRow *row)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "language-index"));
}

static gboolean
filter_func (GtkListBoxRow *row,
             gpointer       user_data)
{
  ImprintWelcomePage *self = user_data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *needle = NULL;
  g_autofree char *own = NULL;
  g_autofree char *english = NULL;
  g_autofree char *translated = NULL;
  int i = row_index (row);

  if (text == NULL || *text == '\0')
    return TRUE;

  needle = fold (text);
  own = fold (languages[i].own_name);
  english = fold (languages[i].english_name);
  translated = fold (_(languages[i].english_name));
  return strstr (own, needle) || strstr (english, needle) || strstr (translated, needle) ||
         g_str_has_prefix (languages[i].locale, text);
}

static void
update_checks (ImprintWelcomePage *self)
{
  const char *current = imprint_client_get_language (imprint_page_get_client (IMPRINT_PAGE (self)));

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->language_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *check = g_object_get_data (G_OBJECT (child), "check");
      gboolean selected = g_strcmp0 (languages[row_index (GTK_LIST_BOX_ROW (child))].locale, current) == 0;

      gtk_widget_set_opacity (check, selected ? 1.0 : 0.0);
      if (selected)
        gtk_list_box_select_row (self->language_list, GTK_LIST_BOX_ROW (child));
    }
}

static void
row_activated_cb (ImprintWelcomePage *self,
                  GtkListBoxRow      *row)
{
  int i = row_index (row);

  gtk_widget_activate_action (GTK_WIDGET (self), "win.language", "s", languages[i].locale);
  update_checks (self);
}

static void
search_changed_cb (ImprintWelcomePage *self)
{
  gtk_list_box_invalidate_filter (self->language_list);
}

static void
search_activate_cb (ImprintWelcomePage *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->language_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_get_child_visible (child))
      {
        row_activated_cb (self, GTK_LIST_BOX_ROW (child));
        return;
      }
}

static void
try_clicked_cb (ImprintWelcomePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  /* Trying means leaving the installer for the live session. */
  if (GTK_IS_WINDOW (root))
    gtk_window_close (GTK_WINDOW (root));
}

/* Bring the chosen language into view: it is usually far down the list. */
static gboolean
scroll_to_selected_tick (GtkWidget     *widget,
                         GdkFrameClock *clock,
                         gpointer       user_data)
{
  ImprintWelcomePage *self = IMPRINT_WELCOME_PAGE (widget);
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->language_list);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->language_scroll);
  graphene_rect_t bounds;

  /* Not laid out yet: try again on the next frame. */
  if (gtk_adjustment_get_page_size (adj) <= 0)
    return G_SOURCE_CONTINUE;
  if (row != NULL &&
      gtk_widget_compute_bounds (GTK_WIDGET (row), GTK_WIDGET (self->language_list), &bounds))
    gtk_adjustment_set_value (adj, bounds.origin.y - (gtk_adjustment_get_page_size (adj) - bounds.size.height) / 2);
  return G_SOURCE_REMOVE;
}

/* A window that cannot be closed is the kiosk (the live stick, first-boot
 * setup): nothing is behind it to try, and closing it would only start
 * the installer again. */
static gboolean
in_kiosk (ImprintWelcomePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) && !gtk_window_get_deletable (GTK_WINDOW (root));
}

static void
update_intro (ImprintWelcomePage *self)
{
  gboolean kiosk = in_kiosk (self);

  gtk_widget_set_visible (GTK_WIDGET (self->try_button), !kiosk);
  gtk_label_set_label (self->intro,
                       kiosk ? _("Choose your language, then install the system on a disk.")
                             : _("Choose your language. Then try the system without changing "
                                 "this computer, or install it on a disk."));
}

static void
add_language_rows (ImprintWelcomePage *self)
{
  for (guint i = 0; i < n_languages; i++)
    {
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *label = gtk_label_new (languages[i].own_name);
      GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");

      gtk_widget_set_margin_top (box, 12);
      gtk_widget_set_margin_bottom (box, 12);
      gtk_widget_set_margin_start (box, 12);
      gtk_widget_set_margin_end (box, 12);
      gtk_label_set_xalign (GTK_LABEL (label), 0.0);
      gtk_widget_set_hexpand (label, TRUE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (check),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
      gtk_box_append (GTK_BOX (box), label);
      gtk_box_append (GTK_BOX (box), check);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      /* Screen readers announce the language in its own name. */
      gtk_accessible_update_relation (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
      g_object_set_data (G_OBJECT (row), "language-index", GINT_TO_POINTER (i));
      g_object_set_data (G_OBJECT (row), "check", check);
      gtk_list_box_append (self->language_list, row);
    }
}

/* After the first frame: the logo (an SVG: the first one drawn starts the
 * SVG loader) and the languages, each in its own script (most of the
 * fonts the page needs). The list's place is there from the start (it
 * takes the page's free height, whatever it holds), so nothing moves. */
static void
after_first_frame (GtkWidget *widget)
{
  ImprintWelcomePage *self = IMPRINT_WELCOME_PAGE (widget);

  gtk_image_set_from_icon_name (self->logo, IMPRINT_APP_ID);
  add_language_rows (self);
  update_checks (self);
  gtk_widget_add_tick_callback (widget, scroll_to_selected_tick, NULL, NULL);
}

static void
imprint_welcome_page_shown (ImprintPage *page)
{
  update_intro (IMPRINT_WELCOME_PAGE (page));
  /* On the next frame, once the list has its size. */
  gtk_widget_add_tick_callback (GTK_WIDGET (page), scroll_to_selected_tick, NULL, NULL);
}

static void
imprint_welcome_page_locale_changed (ImprintPage *page)
{
  ImprintWelcomePage *self = IMPRINT_WELCOME_PAGE (page);

  imprint_page_set_title (page, _("Welcome"));
  gtk_label_set_label (self->heading, _("Welcome"));
  update_intro (self);
  g_object_set (self->search_entry, "placeholder-text", _("Search languages"), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Search languages"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_editable_get_delegate (GTK_EDITABLE (self->search_entry))),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Search languages"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->language_list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Language"), -1);
  gtk_button_set_label (self->try_button, _("_Try"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->try_button),
                               _("Use the system from this medium without installing"));
  gtk_button_set_label (self->install_button, _("_Install"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->install_button),
                               _("Choose a disk and install the system on it"));
  imprint_screen_reader_row_translate (self->screen_reader_row);
}

static const char *
initial_locale (void)
{
  const char *current = setlocale (LC_MESSAGES, NULL);
  const char *fallback = "en_US.UTF-8";

  if (current == NULL)
    return fallback;
  for (guint i = 0; i < n_languages; i++)
    if (g_str_equal (languages[i].locale, current))
      return languages[i].locale;
  /* "de_DE.utf8", "de_AT" and friends: match on the language part. */
  for (guint i = 0; i < n_languages; i++)
    if (strncmp (languages[i].locale, current, 5) == 0)
      return languages[i].locale;
  for (guint i = 0; i < n_languages; i++)
    if (strncmp (languages[i].locale, current, 2) == 0 && current[2] != '\0' && current[2] == '_')
      return languages[i].locale;
  return fallback;
}

static void
imprint_welcome_page_constructed (GObject *object)
{
  ImprintWelcomePage *self = IMPRINT_WELCOME_PAGE (object);
  ImprintClient *client;

  G_OBJECT_CLASS (imprint_welcome_page_parent_class)->constructed (object);

  client = imprint_page_get_client (IMPRINT_PAGE (self));
  if (imprint_client_get_language (client) == NULL)
    imprint_client_set_language (client, initial_locale ());
  update_checks (self);
}

static void
imprint_welcome_page_class_init (ImprintWelcomePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  languages = imprint_languages (&n_languages);

  object_class->constructed = imprint_welcome_page_constructed;
  page_class->locale_changed = imprint_welcome_page_locale_changed;
  page_class->shown = imprint_welcome_page_shown;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/welcome/imprint-welcome-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, logo);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, heading);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, intro);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, language_list);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, language_scroll);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, try_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, install_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintWelcomePage, screen_reader_list);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, try_clicked_cb);
}

static void
imprint_welcome_page_init (ImprintWelcomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  imprint_a11y_tab_leaves_list (self->language_list);
  /* Mapped once the window is presented, after it was made the kiosk. */
  g_signal_connect (self, "map", G_CALLBACK (update_intro), NULL);
  imprint_after_first_frame (GTK_WIDGET (self), after_first_frame);

  /* On the first page, for whoever cannot read the others. */
  self->screen_reader_row = imprint_screen_reader_row_new (imprint_screen_reader_get_default ());
  gtk_list_box_append (self->screen_reader_list, self->screen_reader_row);

  gtk_list_box_set_filter_func (self->language_list, filter_func, self, NULL);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
  imprint_page_set_can_go_back (IMPRINT_PAGE (self), FALSE);
  imprint_page_set_has_forward (IMPRINT_PAGE (self), FALSE);
  imprint_page_set_complete (IMPRINT_PAGE (self), TRUE);
  imprint_welcome_page_locale_changed (IMPRINT_PAGE (self));
}

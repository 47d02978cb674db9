/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "imprint-choice-list.h"
#include "imprint-a11y.h"
#include "imprint-page.h"

struct _ImprintChoiceList
{
  GtkWidget          parent_instance;

  GtkSearchEntry    *search_entry;
  GtkScrolledWindow *scroll;
  GtkListBox        *list;
  char              *selected;
  char              *needle;     /* folded search text, NULL: none */
};

G_DEFINE_FINAL_TYPE (ImprintChoiceList, imprint_choice_list, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SELECTED,
  N_PROPS
};

enum {
  ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static char *
fold (const char *s)
{
  g_autofree char *normalized = g_utf8_normalize (s, -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normalized ? normalized : s, -1);
}

static gboolean
filter_func (GtkListBoxRow *row,
             gpointer       user_data)
{
  ImprintChoiceList *self = user_data;
  const char *haystack = g_object_get_data (G_OBJECT (row), "haystack");

  return self->needle == NULL || strstr (haystack, self->needle) != NULL;
}

static void
update_checks (ImprintChoiceList *self)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      GtkWidget *check = g_object_get_data (G_OBJECT (row), "check");
      gboolean selected = g_strcmp0 (g_object_get_data (G_OBJECT (row), "id"), self->selected) == 0;

      if (check == NULL)
        continue;
      gtk_widget_set_opacity (check, selected ? 1.0 : 0.0);
      gtk_accessible_update_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_SELECTED, selected, -1);
    }
}

static GtkWidget *
find_row (ImprintChoiceList *self,
          const char        *id)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "id"), id) == 0)
      return row;
  return NULL;
}

static gboolean
scroll_to_row_idle (gpointer user_data)
{
  GtkWidget *row = user_data;
  GtkWidget *viewport = gtk_widget_get_ancestor (row, GTK_TYPE_SCROLLED_WINDOW);
  graphene_point_t p;

  if (viewport != NULL && gtk_widget_get_mapped (row) &&
      gtk_widget_compute_point (row, gtk_widget_get_parent (row), &GRAPHENE_POINT_INIT (0, 0), &p))
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (viewport));
      double page = gtk_adjustment_get_page_size (adj);

      gtk_adjustment_set_value (adj, MAX (0, p.y - page / 3));
    }
  return G_SOURCE_REMOVE;
}

void
imprint_choice_list_set_selected (ImprintChoiceList *self,
                                  const char        *id)
{
  GtkWidget *row;

  g_return_if_fail (IMPRINT_IS_CHOICE_LIST (self));

  if (g_strcmp0 (self->selected, id) == 0)
    return;
  g_free (self->selected);
  self->selected = g_strdup (id);
  update_checks (self);
  row = find_row (self, id);
  if (row != NULL)
    g_idle_add_full (G_PRIORITY_LOW, scroll_to_row_idle, g_object_ref (row), g_object_unref);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

const char *
imprint_choice_list_get_selected (ImprintChoiceList *self)
{
  return self->selected;
}

const char *
imprint_choice_list_get_selected_title (ImprintChoiceList *self)
{
  GtkWidget *row = find_row (self, self->selected);

  return row ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)) : NULL;
}

static void
row_activated_cb (ImprintChoiceList *self,
                  GtkListBoxRow     *row)
{
  gboolean again = g_strcmp0 (g_object_get_data (G_OBJECT (row), "id"), self->selected) == 0;

  imprint_choice_list_set_selected (self, g_object_get_data (G_OBJECT (row), "id"));
  /* A second click or Enter on the chosen row means "that one, go on". */
  if (again)
    g_signal_emit (self, signals[ACTIVATED], 0);
}

static void
search_changed_cb (ImprintChoiceList *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  g_clear_pointer (&self->needle, g_free);
  if (*text != '\0')
    self->needle = fold (text);
  gtk_list_box_invalidate_filter (self->list);
}

static void
search_activate_cb (ImprintChoiceList *self)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (gtk_widget_get_child_visible (row) && g_object_get_data (G_OBJECT (row), "id") != NULL)
      {
        imprint_choice_list_set_selected (self, g_object_get_data (G_OBJECT (row), "id"));
        return;
      }
}

void
imprint_choice_list_add (ImprintChoiceList *self,
                         const char        *id,
                         const char        *title,
                         const char        *subtitle,
                         const char        *search_words)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");
  g_autofree char *all = g_strjoin (" ", title, subtitle ? subtitle : "", search_words ? search_words : "", id, NULL);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL && *subtitle != '\0' && g_strcmp0 (subtitle, title) != 0)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Selected"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), check);
  g_object_set_data_full (G_OBJECT (row), "id", g_strdup (id), g_free);
  g_object_set_data_full (G_OBJECT (row), "haystack", fold (all), g_free);
  g_object_set_data (G_OBJECT (row), "check", check);
  gtk_widget_set_opacity (check, g_strcmp0 (id, self->selected) == 0 ? 1.0 : 0.0);
  gtk_list_box_append (self->list, row);
}

void
imprint_choice_list_clear (ImprintChoiceList *self)
{
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, row);
}

void
imprint_choice_list_set_search_label (ImprintChoiceList *self,
                                      const char        *label)
{
  g_object_set (self->search_entry, "placeholder-text", label, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  /* The text inside is what gets the focus; screen readers ask it. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_editable_get_delegate (GTK_EDITABLE (self->search_entry))),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static void
imprint_choice_list_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  ImprintChoiceList *self = IMPRINT_CHOICE_LIST (object);

  switch (prop_id)
    {
    case PROP_SELECTED:
      g_value_set_string (value, self->selected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imprint_choice_list_dispose (GObject *object)
{
  ImprintChoiceList *self = IMPRINT_CHOICE_LIST (object);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (imprint_choice_list_parent_class)->dispose (object);
}

static void
imprint_choice_list_finalize (GObject *object)
{
  ImprintChoiceList *self = IMPRINT_CHOICE_LIST (object);

  g_free (self->selected);
  g_free (self->needle);

  G_OBJECT_CLASS (imprint_choice_list_parent_class)->finalize (object);
}

static void
imprint_choice_list_class_init (ImprintChoiceListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = imprint_choice_list_get_property;
  object_class->dispose = imprint_choice_list_dispose;
  object_class->finalize = imprint_choice_list_finalize;

  properties[PROP_SELECTED] =
    g_param_spec_string ("selected", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ACTIVATED] =
    g_signal_new ("activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
}

static void
imprint_choice_list_init (ImprintChoiceList *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (gtk_widget_get_layout_manager (GTK_WIDGET (self))), 12);

  self->search_entry = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  gtk_widget_set_parent (GTK_WIDGET (self->search_entry), GTK_WIDGET (self));
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect_swapped (self->search_entry, "activate", G_CALLBACK (search_activate_cb), self);

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  /* A short (filtered) list ends after its last row, not at the bottom. */
  gtk_widget_set_valign (GTK_WIDGET (self->list), GTK_ALIGN_START);
  gtk_list_box_set_filter_func (self->list, filter_func, self, NULL);
  g_signal_connect_swapped (self->list, "row-activated", G_CALLBACK (row_activated_cb), self);
  imprint_a11y_tab_leaves_list (self->list);

  self->scroll = GTK_SCROLLED_WINDOW (gtk_scrolled_window_new ());
  gtk_scrolled_window_set_policy (self->scroll, GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (self->scroll, 200);
  gtk_widget_set_vexpand (GTK_WIDGET (self->scroll), TRUE);
  gtk_scrolled_window_set_child (self->scroll, GTK_WIDGET (self->list));
  gtk_widget_set_parent (GTK_WIDGET (self->scroll), GTK_WIDGET (self));
  /* The row's shadow needs room inside the scrolled area. */
  gtk_widget_set_margin_start (GTK_WIDGET (self->list), 2);
  gtk_widget_set_margin_end (GTK_WIDGET (self->list), 2);
  gtk_widget_set_margin_top (GTK_WIDGET (self->list), 2);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->list), 2);
}

GtkWidget *
imprint_choice_list_new (void)
{
  return g_object_new (IMPRINT_TYPE_CHOICE_LIST, NULL);
}

static void
bound_selected_cb (ImprintChoiceList *self,
                   GParamSpec        *pspec,
                   ImprintPage       *page)
{
  const char *key = g_object_get_data (G_OBJECT (self), "imprint-setting");

  if (self->selected != NULL)
    {
      g_autofree char *title_key = g_strconcat (key, "-title", NULL);

      imprint_setup_choices_set_setting (imprint_page_get_setup_choices (page), key, self->selected);
      /* For the summary; ApplySetup is sent the known keys only. */
      imprint_setup_choices_set_setting (imprint_page_get_setup_choices (page), title_key,
                                  imprint_choice_list_get_selected_title (self));
    }
  imprint_page_set_complete (page, self->selected != NULL);
}

static void
bound_activated_cb (ImprintPage *page)
{
  if (imprint_page_get_complete (page))
    imprint_page_go_forward (page);
}

/* A setup page's list: shows the setup choices' @key (the choice or the
 * default, added as a row of its own when not listed) as selected, stores a new selection there, makes @page complete
 * while something is selected, and goes on when the chosen row is
 * activated again. Call after the rows are added. */
void
imprint_choice_list_bind_setting (ImprintChoiceList *self,
                                  ImprintPage       *page,
                                  const char        *key)
{
  const char *value = imprint_setup_choices_get_setting (imprint_page_get_setup_choices (page), key);

  g_object_set_data_full (G_OBJECT (self), "imprint-setting", g_strdup (key), g_free);
  /* What the OEM or the system has stays choosable even when the list
   * does not know it. */
  if (*value != '\0' && find_row (self, value) == NULL)
    imprint_choice_list_add (self, value, value, NULL, NULL);
  if (*value != '\0')
    imprint_choice_list_set_selected (self, value);
  g_signal_connect_object (self, "notify::selected", G_CALLBACK (bound_selected_cb), page, 0);
  g_signal_connect_object (self, "activated", G_CALLBACK (bound_activated_cb), page, G_CONNECT_SWAPPED);
  bound_selected_cb (self, NULL, page);
}

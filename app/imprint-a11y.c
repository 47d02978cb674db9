/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What screen readers need beyond the templates: names for libadwaita's
 * icon-only controls, and announcements of what changes on its own
 * (a job's step, its end, an error). */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "imprint-a11y.h"

static void
name_from_tooltip (GtkWidget *widget)
{
  const char *tip = gtk_widget_get_tooltip_text (widget);

  if (tip != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, tip, -1);
}

/* AdwPasswordEntryRow's "Show Text" toggle (libadwaita 1.2) is an icon
 * button with only a tooltip: GTK 4.8 gives tooltips as descriptions, so a
 * screen reader found a button named after its image's type. Name the
 * icon buttons inside entry rows after their tooltips, which they keep in
 * step ("Hide Text"). */
void
imprint_a11y_name_icon_buttons (GtkWidget *root)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    imprint_a11y_name_icon_buttons (c);

  if (!GTK_IS_BUTTON (root) || !GTK_IS_IMAGE (gtk_button_get_child (GTK_BUTTON (root))) ||
      gtk_widget_get_ancestor (root, ADW_TYPE_ENTRY_ROW) == NULL ||
      g_object_get_data (G_OBJECT (root), "imprint-a11y-named") != NULL)
    return;
  g_object_set_data (G_OBJECT (root), "imprint-a11y-named", GINT_TO_POINTER (TRUE));
  name_from_tooltip (root);
  g_signal_connect (root, "notify::tooltip-text", G_CALLBACK (name_from_tooltip), NULL);
}

/* Says @text to assistive technology without moving the focus: a job's
 * new step, its end, an error that appeared. GTK 4.14 has announcements
 * (the live image's GTK); before that, the text becomes @widget's
 * accessible description, so reading @widget gives the current text. */
void
imprint_a11y_announce (GtkWidget  *widget,
                       const char *text,
                       gboolean    urgent)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));

  if (text == NULL || *text == '\0')
    return;
#if GTK_CHECK_VERSION (4, 14, 0)
  /* GDK_VERSION_MAX_ALLOWED (4.8, meson.build) marks newer API as
   * unavailable; this use is deliberate and guarded. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_accessible_announce (GTK_ACCESSIBLE (widget), text,
                           urgent ? GTK_ACCESSIBLE_ANNOUNCEMENT_PRIORITY_HIGH
                                  : GTK_ACCESSIBLE_ANNOUNCEMENT_PRIORITY_MEDIUM);
  G_GNUC_END_IGNORE_DEPRECATIONS
#else
  (void) urgent;
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
#endif
}

/* A job's end, as its done page shows it (@status_page, an AdwStatusPage:
 * its title, then the error sentence in @error_label when shown, else its
 * description), said once the page is up. @focus is where the page put
 * the focus: on GTK 4.8 reading it gives the outcome too. */
void
imprint_a11y_announce_outcome (GtkWidget *focus,
                               GtkWidget *status_page,
                               GtkLabel  *error_label)
{
  AdwStatusPage *status = ADW_STATUS_PAGE (status_page);
  gboolean failed = gtk_widget_get_visible (GTK_WIDGET (error_label));
  const char *detail = failed ? gtk_label_get_label (error_label) : adw_status_page_get_description (status);
  g_autofree char *text = NULL;

  /* Translators: said by a screen reader: a heading, then its sentence. */
  text = g_strdup_printf (_("%s. %s"), adw_status_page_get_title (status), detail ? detail : "");
  imprint_a11y_announce (focus, g_strstrip (text), failed);
}

/* The row at one end of @list that can take the focus (shown, not
 * filtered out). */
static GtkWidget *
edge_row (GtkListBox *list,
          gboolean    last)
{
  GtkWidget *found = NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (!GTK_IS_LIST_BOX_ROW (child) || !gtk_widget_get_child_visible (child) ||
          !gtk_widget_is_visible (child) || !gtk_widget_get_focusable (child))
        continue;
      found = child;
      if (!last)
        break;
    }
  return found;
}

static gboolean
list_key_pressed_cb (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     GtkListBox            *list)
{
  gboolean back;
  GtkWidget *edge;
  GtkRoot *root;

  if (keyval != GDK_KEY_Tab && keyval != GDK_KEY_KP_Tab && keyval != GDK_KEY_ISO_Left_Tab)
    return FALSE;
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  back = keyval == GDK_KEY_ISO_Left_Tab || (state & GDK_SHIFT_MASK) != 0;
  edge = edge_row (list, !back);
  root = gtk_widget_get_root (GTK_WIDGET (list));
  if (edge == NULL || root == NULL || !GTK_IS_WINDOW (root))
    return FALSE;
  /* From the row at the end the list lets the focus go on to the next
   * widget; the selected row stays what it was. */
  gtk_widget_grab_focus (edge);
  g_signal_emit_by_name (root, "move-focus", back ? GTK_DIR_TAB_BACKWARD : GTK_DIR_TAB_FORWARD);
  return TRUE;
}

/* GtkListBox moves the focus row by row on Tab, so a keyboard user has to
 * press Tab once per language (or time zone) to get past a long list.
 * With this, Tab and Shift+Tab leave @list at once, and the arrow keys
 * (and Home/End, Page Up/Down) move within it, as in other toolkits and
 * as screen reader users expect. */
void
imprint_a11y_tab_leaves_list (GtkListBox *list)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (list_key_pressed_cb), list);
  gtk_widget_add_controller (GTK_WIDGET (list), keys);
}

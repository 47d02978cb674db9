/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the UI test programs: main-loop waits, template
 * children, accessible names, Tab reachability, PNG screenshots. */
#include "config.h"

#include <locale.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <adwaita.h>

#include "ui-harness.h"
#include "imprint-names.h"
#include "imprint-util.h"
#include "recovery/imprint-recovery-page.h"

const char *shot_dir;

/* ---- main loop helpers -------------------------------------------------- */

gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
settle (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

gboolean
wait_for_ms (Condition   cond,
             gpointer    data,
             const char *what,
             guint       timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    {
      g_test_message ("timed out waiting for %s", what);
      g_test_fail ();
      return FALSE;
    }
  g_source_remove (id);
  return TRUE;
}

gboolean
wait_for (Condition   cond,
          gpointer    data,
          const char *what)
{
  return wait_for_ms (cond, data, what, TIMEOUT_MS);
}

typedef struct {
  ImprintWindow *window;
  const char    *page_id;
} PageWait;

static gboolean
page_shown (gpointer data)
{
  PageWait *w = data;

  return imprint_window_get_current_page (w->window) == imprint_window_get_page (w->window, w->page_id);
}

static gboolean
page_done (gpointer data)
{
  PageWait *w = data;

  return imprint_page_get_complete (imprint_window_get_page (w->window, w->page_id));
}

static gboolean
sensitive (gpointer data)
{
  return gtk_widget_is_sensitive (data);
}

ImprintPage *
wait_for_page (ImprintWindow *window,
               const char    *page_id)
{
  PageWait w = { window, page_id };

  g_assert_true (wait_for (page_shown, &w, page_id));
  return imprint_window_get_page (window, page_id);
}

void
wait_for_page_complete (ImprintWindow *window,
                        const char    *page_id)
{
  PageWait w = { window, page_id };

  g_assert_true (wait_for (page_done, &w, page_id));
}

void
wait_for_sensitive (GtkWidget  *widget,
                    const char *what)
{
  g_assert_true (wait_for (sensitive, widget, what));
}

void
go_next (ImprintWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next", NULL));
}

/* ---- widget helpers ----------------------------------------------------- */

GtkWidget *
child (gpointer    page,
       GType       type,
       const char *name)
{
  GObject *obj = gtk_widget_get_template_child (GTK_WIDGET (page), type, name);

  g_assert_nonnull (obj);
  return GTK_WIDGET (obj);
}

void
collect (GtkWidget *w,
         GType      type,
         GPtrArray *out)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (w, type))
    g_ptr_array_add (out, w);
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect (c, type, out);
}

gboolean
has_label_text (GtkWidget *w)
{
  if (GTK_IS_LABEL (w) && *gtk_label_get_label (GTK_LABEL (w)) != '\0')
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    if (has_label_text (c))
      return TRUE;
  return FALSE;
}

gboolean
has_accessible_name (GtkWidget *w)
{
  GtkWidget *row;

  if (gtk_test_accessible_has_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL) ||
      gtk_test_accessible_has_relation (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return TRUE;
  if (gtk_widget_get_tooltip_text (w) != NULL)
    return TRUE;
  if ((GTK_IS_BUTTON (w) || GTK_IS_CHECK_BUTTON (w) || GTK_IS_LIST_BOX_ROW (w)) && has_label_text (w))
    return TRUE;
  /* A control that activates its row is named by the row's title. */
  row = gtk_widget_get_ancestor (w, ADW_TYPE_ACTION_ROW);
  if (row != NULL && adw_action_row_get_activatable_widget (ADW_ACTION_ROW (row)) == w)
    return TRUE;
  row = gtk_widget_get_ancestor (w, ADW_TYPE_PREFERENCES_ROW);
  if (row != NULL && GTK_IS_TEXT (w))
    return TRUE;
  return FALSE;
}

gboolean
is_interactive (GtkWidget *w)
{
  return GTK_IS_BUTTON (w) || GTK_IS_CHECK_BUTTON (w) || GTK_IS_SWITCH (w) ||
         GTK_IS_TEXT (w) || GTK_IS_SEARCH_ENTRY (w) ||
         (GTK_IS_LIST_BOX_ROW (w) && gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (w)) &&
          !ADW_IS_PREFERENCES_ROW (w));
}

static void
check_names_in (GtkWidget  *w,
                const char *page)
{
  if (!gtk_widget_get_visible (w) || !gtk_widget_get_child_visible (w))
    return;
  if (is_interactive (w) && gtk_widget_is_sensitive (w) && !has_accessible_name (w))
    {
      g_test_message ("%s: %s %p has no accessible name", page, G_OBJECT_TYPE_NAME (w), w);
      g_test_fail ();
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    check_names_in (c, page);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

/* With IMPRINT_A11Y_SYNC=DIR (run-ui-a11y.py), every page the test checks
 * is also handed to an AT-SPI walker in another process: the page's name
 * goes to DIR/page, and the window keeps answering the accessibility bus
 * (the main loop runs) until the walker writes DIR/done. The walker reads
 * what a screen reader would, which the in-process checks above cannot. */
static void
a11y_checkpoint (GtkWidget  *w,
                 const char *page)
{
  const char *dir = g_getenv ("IMPRINT_A11Y_SYNC");
  g_autofree char *tmp = NULL;
  g_autofree char *path = NULL;
  g_autofree char *done = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  guint tick;

  if (dir == NULL)
    return;
  tmp = g_build_filename (dir, "page.tmp", NULL);
  path = g_build_filename (dir, "page", NULL);
  done = g_build_filename (dir, "done", NULL);
  /* The page's type: GTK 4.8 marks no widget but the window "showing",
   * so the walker tells the page in view from the others by its name. */
  text = g_strdup_printf ("%d\n%s\n%s: %s\n", (int) getpid (), G_OBJECT_TYPE_NAME (w),
                          g_test_get_path (), page);
  /* Laid out and painted, as a person would see it. */
  settle (100);
  /* A keyboard user starts from the focus: it is somewhere. */
  g_assert_nonnull (gtk_root_get_focus (gtk_widget_get_root (w)));
  g_assert_true (g_file_set_contents (tmp, text, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
  /* A tick, so the loop looks for the file even when nothing else
   * happens. */
  tick = g_timeout_add (20, tick_cb, NULL);
  if (wait_for_ms (file_exists, done, "the AT-SPI walker", 60000))
    g_unlink (done);
  g_source_remove (tick);
}

void
check_names (GtkWidget  *w,
             const char *page)
{
  check_names_in (w, page);
  a11y_checkpoint (w, page);
}

/* Tab through the window; TRUE when @target (or a widget inside it) got
 * the keyboard focus. */
gboolean
focus_within (GtkWindow *window,
              GtkWidget *widget)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

gboolean
tab_reaches (GtkWindow *window,
             GtkWidget *target)
{
  for (int i = 0; i < 120; i++)
    {
      if (!gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD))
        gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD);
      if (focus_within (window, target))
        return TRUE;
    }
  return FALSE;
}

void
assert_reachable (GtkWindow  *window,
                  GtkWidget  *target,
                  const char *what)
{
  /* Tab enters a list once; its rows are then reached with the arrow
   * keys, as everywhere in GTK. */
  if (GTK_IS_LIST_BOX_ROW (target))
    {
      g_assert_true (gtk_widget_get_focusable (target));
      target = gtk_widget_get_parent (target);
    }
  if (!tab_reaches (window, target))
    {
      g_test_message ("%s cannot be reached with the Tab key", what);
      g_test_fail ();
    }
}

/* The first page's "Screen Reader" row: reached with Tab, its switch
 * insensitive (not hidden) with a sentence why when there is no Orca, the
 * shortcut named when there is. */
void
assert_screen_reader_row (GtkWindow *window,
                          GtkWidget *page)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  g_autofree char *orca = g_find_program_in_path ("orca");
  AdwActionRow *row = NULL;
  GtkWidget *sw;

  collect (page, ADW_TYPE_ACTION_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (rows, i)), "_Screen Reader") == 0)
      row = g_ptr_array_index (rows, i);
  g_assert_nonnull (row);
  sw = adw_action_row_get_activatable_widget (row);
  g_assert_true (GTK_IS_SWITCH (sw));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (row)));
  g_assert_cmpint (gtk_widget_get_sensitive (sw), ==, orca != NULL);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), orca ? "Super+Alt+S" : "not installed"));
  assert_reachable (window, GTK_WIDGET (row), "the Screen Reader switch");
}

/* ---- screenshots ------------------------------------------------------ */

void
save_png (GtkWindow  *window,
          const char *name)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int w = gtk_widget_get_width (GTK_WIDGET (window));
  int h = gtk_widget_get_height (GTK_WIDGET (window));

  paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  path = g_strdup_printf ("%s/%s.png", shot_dir, name);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("saved %s", path);
}

void
save_png_light_dark (GtkWindow  *window,
                     const char *name)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autofree char *dark = g_strdup_printf ("%s-dark", name);

  if (shot_dir == NULL)
    return;
  settle (400);
  save_png (window, name);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  settle (400);
  save_png (window, dark);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  settle (200);
}


/* The recovery page of installer and setup: waits for the key, ticks
 * "saved" and types back the group it asks for. Returns the key. */
/* The key the recovery page made: the disk's, or in setup the home's. */
static const char *
recovery_key (ImprintWindow *window)
{
  ImprintSetupChoices *setup = imprint_window_get_setup_choices (window);

  if (imprint_setup_choices_get_setup_mode (setup))
    return imprint_setup_choices_get_recovery_key (setup);
  return imprint_install_choices_get_recovery_key (imprint_window_get_install_choices (window));
}

char *
confirm_recovery_key (ImprintWindow *window,
                      ImprintPage   *page)
{
  GtkWidget *entry = child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry");
  g_auto(GStrv) parts = NULL;
  g_autofree char *typed = NULL;
  const char *title;
  guint group = 0;

  for (int i = 0; i < 400 && recovery_key (window) == NULL; i++)
    settle (50);
  g_assert_nonnull (recovery_key (window));
  settle (50);
  title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (entry));
  for (const char *p = title; *p; p++)
    if (g_ascii_isdigit (*p))
      {
        group = (guint) (*p - '0');
        break;
      }
  g_assert_cmpuint (group, >=, 1);
  parts = g_strsplit (recovery_key (window), "-", -1);
  g_assert_cmpuint (g_strv_length (parts), ==, 8);
  typed = g_ascii_strup (parts[group - 1], -1);   /* case does not matter */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "saved_check")), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (entry), typed);
  g_assert_true (imprint_page_get_complete (page));
  return g_strdup (recovery_key (window));
}

/* The same start for every UI test program: C locale with English
 * messages from the build's catalogs, no animations, a fixed font and the
 * light style. FALSE when there is no display. */
gboolean
ui_test_init (int    *argc,
              char ***argv)
{
  const char *localedir = g_getenv ("IMPRINT_TEST_LOCALEDIR");

  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "en_US", TRUE);
  imprint_i18n_init (localedir ? localedir : LOCALEDIR);

  g_test_init (argc, argv, NULL);
  if (!gtk_init_check ())
    return FALSE;
  adw_init ();
  g_object_set (gtk_settings_get_default (),
                "gtk-enable-animations", FALSE,
                "gtk-font-name", "Cantarell 11",
                "gtk-icon-theme-name", "Adwaita",
                NULL);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_LIGHT);
  shot_dir = g_getenv ("IMPRINT_SCREENSHOT_DIR");
  return TRUE;
}

void
test_call (const char *method,
           GVariant   *params)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, IMPRINT_BUS_NAME, "/dev/imprint/Test", "dev.imprint.Test",
                                       method, params, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

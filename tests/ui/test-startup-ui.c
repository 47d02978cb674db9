/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The window first (issue 18): the installer's and first-boot setup's
 * windows show before imprintd answers anything, with placeholders where
 * the answers go, and the placeholders are replaced when the answers
 * arrive. Driven under Xvfb against imprintd-standin.py, whose test
 * interface holds the replies back (HoldReplies / ReleaseReplies). */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>
#include <adwaita.h>

#include "imprint-names.h"
#include "imprint-window.h"
#include "ui-harness.h"
#include "disk/imprint-disk-page.h"
#include "imprint-disk-row.h"
#include "welcome/imprint-welcome-page.h"

static void
hold (const char *method)
{
  const char *methods[] = { method, NULL };

  test_call ("HoldReplies", g_variant_new ("(^as)", methods));
}

/* The pages built so far: the leaflet's children. */
static guint
n_built (ImprintWindow *window)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  g_autoptr(GtkSelectionModel) pages = NULL;

  collect (GTK_WIDGET (window), ADW_TYPE_LEAFLET, found);
  g_assert_cmpuint (found->len, ==, 1);
  pages = adw_leaflet_get_pages (g_ptr_array_index (found, 0));
  return g_list_model_get_n_items (G_LIST_MODEL (pages));
}

static gboolean
mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

static gboolean
all_pages_built (gpointer data)
{
  return n_built (data) == 7;
}

static gboolean
logo_shown (gpointer data)
{
  return g_strcmp0 (gtk_image_get_icon_name (GTK_IMAGE (data)), "dev.imprint.Imprint") == 0;
}

/* The languages, with the reading language chosen. */
static gboolean
languages_listed (gpointer data)
{
  return gtk_list_box_get_row_at_index (data, 20) != NULL && gtk_list_box_get_selected_row (data) != NULL;
}

static gboolean
disk_rows_shown (gpointer data)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (GTK_WIDGET (data), IMPRINT_TYPE_DISK_ROW, rows);
  return rows->len == 4;
}

static ImprintWindow *
new_window (gboolean setup_mode,
            const char *target)
{
  g_autoptr(ImprintClient) client = imprint_client_new ();
  g_autoptr(ImprintInstallChoices) install = imprint_install_choices_new ();
  g_autoptr(ImprintSetupChoices) setup = imprint_setup_choices_new ();

  if (!setup_mode)
    return imprint_window_new (NULL, client, install, setup);
  imprint_setup_choices_set_target (setup, target);
  return imprint_window_new_setup (NULL, client, install, setup);
}

/* The installer asks imprintd nothing before its window shows, builds
 * only its first page before that and the others, the welcome page's
 * logo and languages after the first frame;
 * the disk page stands with its spinner until ListDisks answers. */
static void
test_installer (void)
{
  ImprintWindow *window;
  ImprintPage *page;
  GtkWidget *spinner;

  hold ("ListDisks");
  window = new_window (FALSE, NULL);
  g_assert_cmpuint (n_built (window), ==, 1);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_for (mapped, window, "the window to show"));
  /* The rest of the pages and the logo come after the first frame. */
  g_assert_true (wait_for (all_pages_built, window, "the other pages"));
  page = imprint_window_get_page (window, "welcome");
  g_assert_true (imprint_window_get_current_page (window) == page);
  g_assert_true (wait_for (logo_shown, child (page, IMPRINT_TYPE_WELCOME_PAGE, "logo"), "the logo"));
  g_assert_true (wait_for (languages_listed, child (page, IMPRINT_TYPE_WELCOME_PAGE, "language_list"), "the languages"));
  check_names (GTK_WIDGET (page), "welcome");

  /* ListDisks unanswered: the page is there, its spinner turning and
   * named for a screen reader, nothing to choose yet. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.next", NULL);
  page = wait_for_page (window, "disk");
  spinner = child (page, IMPRINT_TYPE_DISK_PAGE, "spinner");
  settle (200);
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));
  g_assert_true (has_accessible_name (spinner));
  g_assert_false (disk_rows_shown (page));
  g_assert_false (imprint_page_get_complete (page));

  test_call ("ReleaseReplies", NULL);
  g_assert_true (wait_for (disk_rows_shown, page, "the disks"));
  g_assert_false (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));
  check_names (GTK_WIDGET (page), "disk");
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
first_page_is (gpointer data)
{
  ImprintWindow *window = data;
  ImprintPage *page = imprint_window_get_current_page (window);

  return page != NULL && page == imprint_window_get_page (window, g_object_get_data (data, "want"));
}

/* Setup shows its window while GetSetupDefaults is unanswered: a
 * placeholder with a named spinner, no Back or Next; the answer (here the
 * language decided by the OEM) puts the first page not decided in its
 * place. */
static void
test_setup (void)
{
  ImprintWindow *window;
  g_autoptr(GPtrArray) status = g_ptr_array_new ();
  g_autoptr(GPtrArray) spinners = g_ptr_array_new ();
  g_autofree char *locale = NULL;
  GtkWidget *placeholder;

  hold ("GetSetupDefaults");
  window = new_window (TRUE, "");
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_for (mapped, window, "the window to show"));
  settle (200);

  g_assert_null (imprint_window_get_current_page (window));
  g_assert_null (imprint_window_get_page (window, "language"));
  collect (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE, status);
  g_assert_cmpuint (status->len, ==, 1);
  placeholder = g_ptr_array_index (status, 0);
  g_assert_true (gtk_widget_get_mapped (placeholder));
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (placeholder)), ==, "Getting Ready…");
  collect (placeholder, GTK_TYPE_SPINNER, spinners);
  g_assert_cmpuint (spinners->len, ==, 1);
  g_assert_true (gtk_spinner_get_spinning (g_ptr_array_index (spinners, 0)));
  g_assert_true (has_accessible_name (g_ptr_array_index (spinners, 0)));
  g_assert_false (gtk_widget_is_visible (child (window, IMPRINT_TYPE_WINDOW, "next_button")));
  g_assert_false (gtk_widget_is_visible (child (window, IMPRINT_TYPE_WINDOW, "back_button")));

  test_call ("ReleaseReplies", NULL);
  g_object_set_data (G_OBJECT (window), "want", (gpointer) "keyboard");
  g_assert_true (wait_for (first_page_is, window, "the keyboard page (language decided)"));
  g_object_get (imprint_window_get_setup_choices (window), "locale", &locale, NULL);
  g_assert_cmpstr (locale, ==, "de_DE.UTF-8");
  g_ptr_array_set_size (status, 0);
  collect (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE, status);
  for (guint i = 0; i < status->len; i++)
    g_assert_true (g_ptr_array_index (status, i) != placeholder);
  check_names (GTK_WIDGET (imprint_window_get_current_page (window)), "keyboard");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* GetSetupDefaults failing (the stand-in knows no installed root) is no
 * dead end: setup starts on its first page without prefilled values, the
 * error in the log. */
static void
test_setup_error (void)
{
  ImprintWindow *window = new_window (TRUE, "/nonexistent-root");

  gtk_window_present (GTK_WINDOW (window));
  g_object_set_data (G_OBJECT (window), "want", (gpointer) "language");
  g_assert_true (wait_for (first_page_is, window, "the language page"));
  g_assert_nonnull (strstr (imprint_client_get_log (imprint_window_get_client (window)), "not supported"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  if (!ui_test_init (&argc, &argv))
    {
      g_print ("1..0 # SKIP no display\n");
      return 77;
    }

  g_test_add_func ("/ui/startup/installer", test_installer);
  g_test_add_func ("/ui/startup/setup", test_setup);
  g_test_add_func ("/ui/startup/setup-error", test_setup_error);
  return g_test_run ();
}

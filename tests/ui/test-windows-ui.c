/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "Install beside Windows" on the installer's disk page, against the
 * stand-in daemon with scenario-windows.json (run-ui-tests.sh): a disk
 * whose NTFS partition can shrink, one refused (hibernated, dirty) and one
 * without NTFS. Checks the split scale's bounds and default, the keyboard,
 * the options PlanInstall and Install get, the summary's shrink line and
 * the done page's sentence; with IMPRINT_SCREENSHOT_DIR set, saves
 * beside-windows-*.png. */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <adwaita.h>

#include "imprint-client.h"
#include "imprint-install-choices.h"
#include "imprint-page.h"
#include "imprint-setup-choices.h"
#include "imprint-window.h"
#include "ui-harness.h"
#include "imprint-disk-row.h"
#include "disk/imprint-disk-page.h"
#include "disk/imprint-shrink-split.h"
#include "summary/imprint-summary-page.h"
#include "done/imprint-done-page.h"

#define GIB (G_GUINT64_CONSTANT (1073741824))

/* The facts of /dev/nvme0n1p3 in scenario-windows.json. */
#define NTFS_SIZE  (240 * GIB)
#define NTFS_USED  (110 * GIB)
#define NTFS_MIN   (121 * GIB)

static gboolean
three_rows (gpointer data)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (GTK_WIDGET (data), IMPRINT_TYPE_DISK_ROW, rows);
  return rows->len == 3;
}

static void
choose_disk (ImprintPage *page,
             const char  *device)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (GTK_WIDGET (page), IMPRINT_TYPE_DISK_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (imprint_disk_row_get_device (g_ptr_array_index (rows, i)), device) == 0)
      {
        gtk_widget_activate (GTK_WIDGET (imprint_disk_row_get_check (g_ptr_array_index (rows, i))));
        settle (100);
        return;
      }
  g_error ("no row for %s", device);
}

static void
shot (ImprintWindow *window,
      const char    *name)
{
  if (shot_dir == NULL)
    return;
  settle (400);
  save_png (GTK_WINDOW (window), name);
}

static gboolean
visible (ImprintPage *page,
         const char  *name)
{
  return gtk_widget_get_visible (child (page, IMPRINT_TYPE_DISK_PAGE, name));
}

/* The disk page: no NTFS, a refusal, then the split. Returns the scale. */
static GtkRange *
disk_page (ImprintWindow *window,
           ImprintPage   *page)
{
  ImprintInstallChoices *install = imprint_window_get_install_choices (window);
  ImprintShrinkSplit *split = IMPRINT_SHRINK_SPLIT (child (page, IMPRINT_TYPE_DISK_PAGE, "split"));
  GtkRange *range = imprint_shrink_split_get_range (split);
  guint64 new_default = NTFS_SIZE - (NTFS_USED + 20 * GIB);   /* Windows keeps 130 GiB */
  const char *text;

  /* A disk without NTFS: the page as it always was. */
  choose_disk (page, "/dev/sda");
  g_assert_false (visible (page, "beside_row"));
  g_assert_false (visible (page, "split"));
  g_assert_false (visible (page, "refusal_box"));

  /* Refused: the row says so, the sentences say what to do in Windows. */
  choose_disk (page, "/dev/nvme1n1");
  g_assert_true (visible (page, "beside_row"));
  g_assert_false (gtk_widget_get_sensitive (child (page, IMPRINT_TYPE_DISK_PAGE, "beside_row")));
  g_assert_true (visible (page, "refusal_box"));
  text = gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DISK_PAGE, "refusal_label")));
  g_assert_nonnull (strstr (text, "Fast Startup"));
  g_assert_nonnull (strstr (text, "chkdsk"));
  g_assert_cmpuint (imprint_install_choices_get_shrink_partition (install), ==, 0);
  check_names (GTK_WIDGET (page), "disk (refused)");
  shot (window, "beside-windows-refused");

  /* Possible: the split, bounded by min-size and the new system's floor,
   * by default Windows keeps 20 GiB above what it uses. */
  choose_disk (page, "/dev/nvme0n1");
  g_assert_true (visible (page, "beside_row"));
  g_assert_false (visible (page, "refusal_box"));
  g_assert_false (visible (page, "split"));
  gtk_widget_activate (child (page, IMPRINT_TYPE_DISK_PAGE, "beside_check"));
  settle (50);
  g_assert_true (visible (page, "split"));
  g_assert_cmpfloat (gtk_adjustment_get_lower (gtk_range_get_adjustment (range)), ==, (double) (20 * GIB));
  g_assert_cmpfloat (gtk_adjustment_get_upper (gtk_range_get_adjustment (range)), ==, (double) (NTFS_SIZE - NTFS_MIN));
  g_assert_cmpfloat (gtk_range_get_value (range), ==, (double) new_default);
  g_assert_cmpuint (imprint_shrink_split_get_windows_size (split), ==, NTFS_USED + 20 * GIB);
  g_assert_cmpint (imprint_install_choices_get_mode (install), ==, IMPRINT_INSTALL_FREE_SPACE);
  g_assert_cmpuint (imprint_install_choices_get_shrink_partition (install), ==, 3);
  g_assert_cmpuint (imprint_install_choices_get_shrink_size (install), ==, NTFS_USED + 20 * GIB);
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DISK_PAGE, "warning_label"))),
                            "Back up"));

  /* The keyboard: Tab reaches the scale; an arrow key (the scale's
   * move-slider binding) gives the new system a GiB more. */
  assert_reachable (GTK_WINDOW (window), GTK_WIDGET (range), "the split scale");
  g_signal_emit_by_name (range, "move-slider", GTK_SCROLL_STEP_RIGHT);
  settle (50);
  g_assert_cmpfloat (gtk_range_get_value (range), ==, (double) (new_default + GIB));
  g_assert_cmpuint (imprint_install_choices_get_shrink_size (install), ==, NTFS_USED + 19 * GIB);
  /* Never below Windows' minimum, whatever the keys say. */
  for (int i = 0; i < 40; i++)
    g_signal_emit_by_name (range, "move-slider", GTK_SCROLL_STEP_RIGHT);
  settle (50);
  g_assert_cmpuint (imprint_install_choices_get_shrink_size (install), ==, NTFS_MIN);
  g_signal_emit_by_name (range, "move-slider", GTK_SCROLL_PAGE_LEFT);
  settle (50);
  g_assert_cmpuint (imprint_install_choices_get_shrink_size (install), ==, NTFS_MIN + 10 * GIB);
  {
    /* Both sizes in words (GLib's own size words: a no-break space). */
    g_autofree char *keeps = g_format_size (NTFS_MIN + 10 * GIB);
    g_autofree char *gets = g_format_size (NTFS_SIZE - NTFS_MIN - 10 * GIB);
    g_autofree char *sentence = g_strdup_printf ("Windows keeps %s, the new system gets %s", keeps, gets);

    g_assert_cmpstr (keeps, ==, "140.7\u00a0GB");
    g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (gtk_widget_get_last_child (GTK_WIDGET (split)))), ==, sentence);
  }
  /* A DiskChanged signal (no shrink facts in it) keeps the choice: the
   * page asks ListDisks again. */
  {
    g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GError) error = NULL;

    reply = g_dbus_connection_call_sync (bus, IMPRINT_BUS_NAME, "/dev/imprint/Test", "dev.imprint.Test",
                                         "ChangeDisk", g_variant_new ("(s)", "/dev/nvme0n1"), NULL,
                                         G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_assert_no_error (error);
    settle (500);
    g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (child (page, IMPRINT_TYPE_DISK_PAGE, "beside_check"))));
    g_assert_true (visible (page, "split"));
    g_assert_cmpuint (imprint_install_choices_get_shrink_size (install), ==, NTFS_MIN + 10 * GIB);
  }
  check_names (GTK_WIDGET (page), "disk (beside Windows)");
  shot (window, "beside-windows-disk");
  return range;
}

static gboolean
summary_says_shrunk (ImprintPage *page)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (GTK_WIDGET (page), ADW_TYPE_ACTION_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    {
      const char *subtitle = adw_action_row_get_subtitle (g_ptr_array_index (rows, i));

      if (subtitle != NULL && strstr (subtitle, "shrunk from 257.7\u00a0GB to 140.7\u00a0GB first; Windows stays") != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
test_beside_windows (void)
{
  g_autoptr(ImprintClient) client = imprint_client_new ();
  g_autoptr(ImprintInstallChoices) install = imprint_install_choices_new ();
  g_autoptr(ImprintSetupChoices) setup = imprint_setup_choices_new ();
  g_autoptr(GVariant) options = NULL;
  ImprintWindow *window;
  ImprintPage *page;
  GtkWidget *button;
  guint64 number = 0, size = 0;
  g_autofree char *key = NULL;

  window = imprint_window_new (NULL, client, install, setup);
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 720);
  gtk_window_present (GTK_WINDOW (window));
  settle (300);
  go_next (window);

  page = wait_for_page (window, "disk");
  g_assert_true (wait_for (three_rows, page, "three disks"));
  disk_page (window, page);
  go_next (window);

  wait_for_page (window, "security");
  wait_for_page_complete (window, "security");
  go_next (window);

  key = confirm_recovery_key (window, wait_for_page (window, "recovery"));
  go_next (window);

  /* The summary says what is shrunk, from what to what, and that
   * Windows stays (the stand-in plans it only for a valid shrink). */
  page = wait_for_page (window, "summary");
  button = child (page, IMPRINT_TYPE_SUMMARY_PAGE, "install_button");
  wait_for_sensitive (button, "the plan");
  g_assert_true (summary_says_shrunk (page));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "disk_row"))),
                            "beside Windows"));
  check_names (GTK_WIDGET (page), "summary (beside Windows)");
  shot (window, "beside-windows-summary");

  options = g_variant_ref_sink (imprint_install_choices_build_install_options (install));
  g_assert_true (g_variant_lookup (options, "shrink-partition", "t", &number));
  g_assert_true (g_variant_lookup (options, "shrink-size", "t", &size));
  g_assert_cmpuint (number, ==, 3);
  g_assert_cmpuint (size, ==, NTFS_MIN + 10 * GIB);
  g_signal_emit_by_name (button, "clicked");

  page = wait_for_page (window, "done");
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (child (page, IMPRINT_TYPE_DONE_PAGE, "status_page"))),
                   ==, "Installation Complete");
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (page, IMPRINT_TYPE_DONE_PAGE, "status_page"))),
                            "Hold Space"));
  shot (window, "beside-windows-done");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
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
  g_test_add_func ("/ui/beside-windows", test_beside_windows);
  return g_test_run ();
}

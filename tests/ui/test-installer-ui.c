/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives the installer's real window and pages against an imprintd on a
 * private bus (run-ui-tests.sh sets it up), under Xvfb. Checks each page's
 * accessible names and keyboard reachability, walks the success, failure,
 * cancel and "denied" paths, and with IMPRINT_SCREENSHOT_DIR set saves a
 * PNG of every page (light, dark, narrow, right-to-left). */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <adwaita.h>

#include "imprint-client.h"
#include "imprint-page.h"
#include "imprint-util.h"
#include "imprint-window.h"
#include "ui-harness.h"
#include "imprint-strength-meter.h"
#include "imprint-disk-row.h"
#include "imprint-progress-view.h"
#include "welcome/imprint-welcome-page.h"
#include "disk/imprint-disk-page.h"
#include "security/imprint-security-page.h"
#include "recovery/imprint-recovery-page.h"
#include "summary/imprint-summary-page.h"
#include "progress/imprint-progress-page.h"
#include "done/imprint-done-page.h"


typedef struct {
  const char *prefix;   /* screenshot name prefix, NULL: no screenshots */
  int         width;
  int         height;
  gboolean    dark_too;
  gboolean    rtl;
  const char *outcome;  /* success, fail, slow (cancel), denied, vanish */
  gboolean    hotplug;
  gboolean    fido2;
} FlowOptions;

static void
snap (GtkWindow         *window,
      const FlowOptions *opts,
      const char        *page)
{
  g_autofree char *name = NULL;
  AdwStyleManager *style = adw_style_manager_get_default ();

  if (shot_dir == NULL || opts->prefix == NULL)
    return;
  /* The failure, cancel and denied runs only add their own pages. */
  if (!g_str_equal (opts->outcome, "success") && page[0] < '5' && page[0] != '\0')
    return;
  if (!g_str_equal (opts->outcome, "success") && g_str_equal (page, "5-summary"))
    return;

  settle (400);
  name = g_strdup_printf ("%s%s", opts->prefix, page);
  save_png (window, name);

  if (opts->dark_too)
    {
      g_autofree char *dark = g_strdup_printf ("%s%s-dark", opts->prefix, page);

      adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
      settle (400);
      save_png (window, dark);
      adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
      settle (200);
    }
}

/* ---- stand-in control (hotplug, outcome) -------------------------------- */

/* ---- conditions ----------------------------------------------------------- */

typedef struct {
  ImprintWindow *window;
  const char    *page_id;
  GtkWidget     *widget;
  guint          count;
} Ctx;

static gboolean
on_page (gpointer data)
{
  Ctx *c = data;

  return imprint_window_get_current_page (c->window) == imprint_window_get_page (c->window, c->page_id);
}

static gboolean
page_complete (gpointer data)
{
  Ctx *c = data;

  return imprint_page_get_complete (imprint_window_get_page (c->window, c->page_id));
}

static guint
count_disk_rows (ImprintWindow *window)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (GTK_WIDGET (imprint_window_get_page (window, "disk")), IMPRINT_TYPE_DISK_ROW, rows);
  return rows->len;
}

static gboolean
disk_rows_are (gpointer data)
{
  Ctx *c = data;

  return count_disk_rows (c->window) == c->count;
}

static gboolean
widget_sensitive (gpointer data)
{
  Ctx *c = data;

  return gtk_widget_is_sensitive (c->widget);
}

static gboolean
widget_visible (gpointer data)
{
  Ctx *c = data;

  return gtk_widget_get_visible (c->widget);
}

static gboolean
flowbox_filled (gpointer data)
{
  Ctx *c = data;

  return gtk_widget_get_first_child (c->widget) != NULL;
}

static void
next (ImprintWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next", NULL));
}

static void
set_text (GtkWidget  *editable,
          const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (editable), text);
}

/* What a screen reader is told of the job's end: announced on GTK 4.14
 * and newer (not observable here), else the description of the Close
 * button the page focuses. The progress bar's, likewise, is the step. */
static void
assert_outcome_said (ImprintPage *page,
                     const char  *title,
                     const char  *sentence)
{
#if !GTK_CHECK_VERSION (4, 14, 0)
  ImprintWindow *window = IMPRINT_WINDOW (gtk_widget_get_root (GTK_WIDGET (page)));
  GtkWidget *progress = GTK_WIDGET (imprint_window_get_page (window, "progress"));
  g_autoptr(GPtrArray) bars = g_ptr_array_new ();
  g_autofree char *said = g_strdup_printf ("%s. %s", title, sentence);
  g_autofree char *mismatch = NULL;

  mismatch = gtk_test_accessible_check_property (GTK_ACCESSIBLE (child (page, IMPRINT_TYPE_DONE_PAGE, "close_button")),
                                                 GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, said);
  g_assert_null (mismatch);
  collect (progress, GTK_TYPE_PROGRESS_BAR, bars);
  g_assert_cmpuint (bars->len, ==, 1);
  g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (g_ptr_array_index (bars, 0)),
                                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION));
#endif
}

/* ---- the flow ------------------------------------------------------------- */

static ImprintWindow *
new_window (const FlowOptions *opts)
{
  g_autoptr(ImprintClient) client = imprint_client_new ();
  g_autoptr(ImprintInstallChoices) install = imprint_install_choices_new ();
  g_autoptr(ImprintSetupChoices) setup = imprint_setup_choices_new ();
  const char *images = g_getenv ("IMPRINT_UI_IMAGES");
  ImprintWindow *window;

  /* What `imprint --target-image=…` does. */
  if (images != NULL)
    {
      g_auto(GStrv) list = g_strsplit (images, ":", -1);

      imprint_install_choices_set_target_images (install, (const char * const *) list);
    }
  /* What --source, --source-certificate and --definitions do. */
  if (g_getenv ("IMPRINT_UI_SOURCE") != NULL)
    imprint_install_choices_set_source (install, g_getenv ("IMPRINT_UI_SOURCE"));
  if (g_getenv ("IMPRINT_UI_SOURCE_CERT") != NULL)
    imprint_install_choices_set_source_trust (install, g_getenv ("IMPRINT_UI_SOURCE_CERT"), NULL);
  if (g_getenv ("IMPRINT_UI_TPM2") != NULL)
    imprint_install_choices_set_tpm2_device (install, g_getenv ("IMPRINT_UI_TPM2"));
  if (g_getenv ("IMPRINT_UI_DEFINITIONS") != NULL)
    imprint_install_choices_set_definitions (install, g_getenv ("IMPRINT_UI_DEFINITIONS"));

  gtk_widget_set_default_direction (opts->rtl ? GTK_TEXT_DIR_RTL : GTK_TEXT_DIR_LTR);
  window = imprint_window_new (NULL, client, install, setup);
  gtk_window_set_default_size (GTK_WINDOW (window), opts->width, opts->height);
  gtk_window_present (GTK_WINDOW (window));
  settle (300);
  return window;
}

static void
run_flow (const FlowOptions *opts)
{
  ImprintWindow *window;
  ImprintPage *page;
  Ctx c = { 0 };
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  ImprintDiskRow *chosen = NULL;
  GtkWidget *w;
  const char *title;
  guint group = 0;
  g_autofree char *typed = NULL;

  test_call ("SetOutcome", g_variant_new ("(s)", opts->outcome));
  window = new_window (opts);
  c.window = window;

  /* Welcome */
  page = imprint_window_get_page (window, "welcome");
  g_assert_true (imprint_window_get_current_page (window) == page);
  /* As it first shows up, the chosen language in view. */
  snap (GTK_WINDOW (window), opts, "1-welcome");
  check_names (GTK_WIDGET (page), "welcome");
  assert_reachable (GTK_WINDOW (window), child (page, IMPRINT_TYPE_WELCOME_PAGE, "install_button"), "Install");
  assert_reachable (GTK_WINDOW (window), child (page, IMPRINT_TYPE_WELCOME_PAGE, "language_list"), "the language list");
  assert_screen_reader_row (GTK_WINDOW (window), GTK_WIDGET (page));
  /* Search narrows the list down. */
  set_text (child (page, IMPRINT_TYPE_WELCOME_PAGE, "search_entry"), "deu");
  settle (300);
  set_text (child (page, IMPRINT_TYPE_WELCOME_PAGE, "search_entry"), "");
  next (window);

  /* Disk */
  c.page_id = "disk";
  g_assert_true (wait_for (on_page, &c, "the disk page"));
  c.count = 4;
  g_assert_true (wait_for (disk_rows_are, &c, "four disks"));
  page = imprint_window_get_page (window, "disk");
  collect (GTK_WIDGET (page), IMPRINT_TYPE_DISK_ROW, rows);
  g_assert_false (imprint_page_get_complete (page));
  for (guint i = 0; i < rows->len; i++)
    {
      ImprintDiskRow *row = g_ptr_array_index (rows, i);

      if (g_strcmp0 (imprint_disk_row_get_device (row), "/dev/sdb") == 0)
        {
          /* The live medium: says why, cannot be chosen, still readable. */
          g_assert_false (imprint_disk_row_get_usable (row));
          g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (imprint_disk_row_get_check (row))));
          g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (row)));
          g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "installer that is running"));
        }
      if (g_strcmp0 (imprint_disk_row_get_device (row), "/dev/nvme0n1") == 0)
        chosen = row;
    }
  g_assert_nonnull (chosen);
  /* Tab reaches the list; arrows move between its rows, Space picks one. */
  assert_reachable (GTK_WINDOW (window), GTK_WIDGET (chosen), "a disk");
  gtk_widget_activate (GTK_WIDGET (imprint_disk_row_get_check (chosen)));
  c.page_id = "disk";
  g_assert_true (wait_for (page_complete, &c, "the disk choice"));
  g_assert_cmpstr (imprint_install_choices_get_target_device (imprint_window_get_install_choices (window)), ==, "/dev/nvme0n1");
  g_assert_true (gtk_widget_get_visible (child (page, IMPRINT_TYPE_DISK_PAGE, "warning_box")));
  g_assert_true (strstr (gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DISK_PAGE, "warning_label"))),
                         "Windows") != NULL);
  check_names (GTK_WIDGET (page), "disk");
  snap (GTK_WINDOW (window), opts, "2-disk");

  /* "Use free space" drops the warning. */
  gtk_widget_activate (child (page, IMPRINT_TYPE_DISK_PAGE, "free_check"));
  settle (50);
  g_assert_false (gtk_widget_get_visible (child (page, IMPRINT_TYPE_DISK_PAGE, "warning_box")));
  g_assert_cmpint (imprint_install_choices_get_mode (imprint_window_get_install_choices (window)), ==, IMPRINT_INSTALL_FREE_SPACE);
  gtk_widget_activate (child (page, IMPRINT_TYPE_DISK_PAGE, "erase_check"));
  settle (50);

  if (opts->hotplug)
    {
      GVariantBuilder b;

      /* A disk comes and goes while the page is up. */
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "device", g_variant_new_string ("/dev/sdc"));
      g_variant_builder_add (&b, "{sv}", "model", g_variant_new_string ("Hotplugged Disk"));
      g_variant_builder_add (&b, "{sv}", "size", g_variant_new_uint64 (G_GUINT64_CONSTANT (64000000000)));
      g_variant_builder_add (&b, "{sv}", "transport", g_variant_new_string ("usb"));
      g_variant_builder_add (&b, "{sv}", "contents", g_variant_new_string ("Empty"));
      g_variant_builder_add (&b, "{sv}", "usable", g_variant_new_boolean (TRUE));
      test_call ("AddDisk", g_variant_new ("(a{sv})", &b));
      c.count = 5;
      g_assert_true (wait_for (disk_rows_are, &c, "the hotplugged disk"));
      test_call ("RemoveDisk", g_variant_new ("(s)", "/dev/sdc"));
      c.count = 4;
      g_assert_true (wait_for (disk_rows_are, &c, "the unplugged disk to go"));
      g_assert_true (imprint_page_get_complete (page));
    }
  next (window);

  /* Security */
  c.page_id = "security";
  g_assert_true (wait_for (on_page, &c, "the security page"));
  g_assert_true (wait_for (page_complete, &c, "the security capabilities"));
  page = imprint_window_get_page (window, "security");
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (child (page, IMPRINT_TYPE_SECURITY_PAGE, "tpm_switch"))));
  assert_reachable (GTK_WINDOW (window), child (page, IMPRINT_TYPE_SECURITY_PAGE, "tpm_switch"), "the TPM switch");
  /* A passphrase too: too short is refused, a long one rated. */
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (child (page, IMPRINT_TYPE_SECURITY_PAGE, "passphrase_row")), TRUE);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (child (page, IMPRINT_TYPE_SECURITY_PAGE, "passphrase_row")), TRUE);
  g_assert_true (gtk_widget_get_sensitive (child (page, IMPRINT_TYPE_SECURITY_PAGE, "fido_switch")));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (child (page, IMPRINT_TYPE_SECURITY_PAGE, "fido_switch"))));
  if (opts->fido2)
    gtk_switch_set_active (GTK_SWITCH (child (page, IMPRINT_TYPE_SECURITY_PAGE, "fido_switch")), TRUE);
  set_text (child (page, IMPRINT_TYPE_SECURITY_PAGE, "pass_entry"), "short");
  settle (600);
  g_assert_false (imprint_page_get_complete (page));
  set_text (child (page, IMPRINT_TYPE_SECURITY_PAGE, "pass_entry"), "correct horse battery staple");
  set_text (child (page, IMPRINT_TYPE_SECURITY_PAGE, "confirm_entry"), "correct horse battery staple");
  g_assert_true (wait_for (page_complete, &c, "the passphrase rating"));
  check_names (GTK_WIDGET (page), "security");
  snap (GTK_WINDOW (window), opts, "3-security");
  next (window);
  g_assert_true (imprint_install_choices_get_use_tpm2 (imprint_window_get_install_choices (window)));
  g_assert_true (imprint_install_choices_get_use_passphrase (imprint_window_get_install_choices (window)));

  /* Recovery key */
  c.page_id = "recovery";
  g_assert_true (wait_for (on_page, &c, "the recovery key page"));
  page = imprint_window_get_page (window, "recovery");
  c.widget = gtk_widget_get_first_child (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "key_view"));
  c.widget = gtk_widget_get_first_child (c.widget);   /* the flow box of groups */
  g_assert_true (wait_for (flowbox_filled, &c, "the recovery key"));
  g_assert_false (imprint_page_get_complete (page));
  title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry")));
  for (const char *p = title; *p; p++)
    if (g_ascii_isdigit (*p))
      {
        group = (guint) (*p - '0');
        break;
      }
  g_assert_cmpuint (group, >=, 1);
  {
    g_auto(GStrv) parts = g_strsplit (imprint_install_choices_get_recovery_key (imprint_window_get_install_choices (window)), "-", -1);

    g_assert_cmpuint (g_strv_length (parts), ==, 8);
    typed = g_ascii_strup (parts[group - 1], -1);   /* case does not matter */
  }
  gtk_check_button_set_active (GTK_CHECK_BUTTON (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "saved_check")), TRUE);
  set_text (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry"), "wrong");
  g_assert_false (imprint_page_get_complete (page));
  set_text (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry"), typed);
  g_assert_true (imprint_page_get_complete (page));
  check_names (GTK_WIDGET (page), "recovery");
  assert_reachable (GTK_WINDOW (window), gtk_widget_get_ancestor (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "saved_check"), ADW_TYPE_ACTION_ROW), "the saved check box");
  /* From the box, one Tab reaches the field. With GTK 4.18 (the VM),
   * in one list with the box, Tab left for the header bar and never came
   * to it; GTK 4.8 here moved on to the next row either way. */
  gtk_widget_grab_focus (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "saved_check"));
  gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD);
  g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)),
                                         child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry")));
  snap (GTK_WINDOW (window), opts, "4-recovery");
  next (window);

  /* Summary */
  c.page_id = "summary";
  g_assert_true (wait_for (on_page, &c, "the summary page"));
  page = imprint_window_get_page (window, "summary");
  w = child (page, IMPRINT_TYPE_SUMMARY_PAGE, "install_button");
  c.widget = w;
  g_assert_true (wait_for (widget_sensitive, &c, "the plan"));
  /* Nothing but the button starts the installation. */
  g_assert_false (imprint_page_get_complete (page));
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.next", NULL) &&
                  imprint_window_get_current_page (window) != page);
  g_assert_true (gtk_widget_get_visible (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "erased_box")));
  check_names (GTK_WIDGET (page), "summary");
  assert_reachable (GTK_WINDOW (window), w, "the Install button");
  snap (GTK_WINDOW (window), opts, "5-summary");
  /* "clicked" right away: activate() would click only after a delay. */
  g_signal_emit_by_name (w, "clicked");
  g_assert_false (gtk_widget_get_sensitive (w));

  if (g_str_equal (opts->outcome, "denied"))
    {
      GtkWidget *error_box = child (page, IMPRINT_TYPE_SUMMARY_PAGE, "error_box");
      const char *text;

      c.widget = w;
      g_assert_true (wait_for (widget_sensitive, &c, "the refusal"));
      g_assert_true (imprint_window_get_current_page (window) == page);
      g_assert_true (gtk_widget_get_visible (error_box));
      text = gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "error_label")));
      g_assert_null (strstr (text, "dev.imprint"));
      g_assert_nonnull (strstr (text, "not allowed"));
      g_assert_null (strstr (text, "Authorization was refused"));
      snap (GTK_WINDOW (window), opts, "5-summary-denied");
      gtk_window_destroy (GTK_WINDOW (window));
      return;
    }

  /* Progress */
  c.page_id = "progress";
  g_assert_true (wait_for (on_page, &c, "the progress page"));
  page = imprint_window_get_page (window, "progress");
  check_names (GTK_WIDGET (page), "progress");
  if (opts->fido2)
    {
      GtkWidget *view = child (page, IMPRINT_TYPE_PROGRESS_PAGE, "progress_view");
      GtkWidget *pin = child (view, IMPRINT_TYPE_PROGRESS_VIEW, "pin_entry");

      /* The PIN prompt shows in the window; a wrong PIN asks again. */
      c.widget = child (view, IMPRINT_TYPE_PROGRESS_VIEW, "request_box");
      g_assert_true (wait_for (widget_visible, &c, "the security key PIN prompt"));
      g_assert_true (gtk_widget_get_visible (pin));
      check_names (GTK_WIDGET (page), "progress (PIN)");
      snap (GTK_WINDOW (window), opts, "6-progress-pin");
      set_text (pin, "0000");
      g_signal_emit_by_name (child (view, IMPRINT_TYPE_PROGRESS_VIEW, "request_ok_button"), "clicked");
      g_assert_false (gtk_widget_get_visible (c.widget));
      g_assert_true (wait_for (widget_visible, &c, "the PIN prompt again"));
      g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (child (view, IMPRINT_TYPE_PROGRESS_VIEW, "request_label"))),
                                "Wrong PIN"));
      set_text (pin, "1234");
      g_signal_emit_by_name (pin, "activate");
      g_assert_false (gtk_widget_get_visible (c.widget));
    }
  if (g_str_equal (opts->outcome, "slow"))
    {
      GtkWidget *view = child (page, IMPRINT_TYPE_PROGRESS_PAGE, "progress_view");
      GtkWidget *details = child (view, IMPRINT_TYPE_PROGRESS_VIEW, "details");
      GListModel *toplevels = gtk_window_get_toplevels ();
      guint before = g_list_model_get_n_items (toplevels);
      AdwMessageDialog *dialog = NULL;

      gtk_expander_set_expanded (GTK_EXPANDER (details), TRUE);
      settle (1500);
      snap (GTK_WINDOW (window), opts, "6-progress");
      g_assert_true (gtk_widget_activate_action (view, "progress.cancel", NULL));
      settle (300);
      /* Cancel asks first. */
      for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
        {
          g_autoptr(GObject) top = g_list_model_get_item (toplevels, i);

          if (ADW_IS_MESSAGE_DIALOG (top))
            dialog = ADW_MESSAGE_DIALOG (top);
        }
      g_assert_cmpuint (g_list_model_get_n_items (toplevels), >, before);
      g_assert_nonnull (dialog);
      g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "continue");
      adw_message_dialog_response (dialog, "stop");
      gtk_window_destroy (GTK_WINDOW (dialog));
    }

  /* Done or failed */
  c.page_id = "done";
  g_assert_true (wait_for (on_page, &c, "the last page"));
  page = imprint_window_get_page (window, "done");
  title = adw_status_page_get_title (ADW_STATUS_PAGE (child (page, IMPRINT_TYPE_DONE_PAGE, "status_page")));
  if (g_str_equal (opts->outcome, "success"))
    {
      g_assert_cmpstr (title, ==, "Installation Complete");
      if (opts->fido2)
        g_assert_nonnull (strstr (imprint_client_get_log (imprint_window_get_client (window)),
                                  "security key was enrolled"));
      snap (GTK_WINDOW (window), opts, "7-done");

      /* Setting up the installed system: a daemon that cannot (the
       * stand-in, like imprintd for "disk:" targets today) leaves a
       * sentence, not a dead end. */
      c.widget = child (page, IMPRINT_TYPE_DONE_PAGE, "setup_button");
      g_assert_true (gtk_widget_get_visible (c.widget));
      check_names (GTK_WIDGET (page), "done");
      g_signal_emit_by_name (c.widget, "clicked");
      c.widget = child (page, IMPRINT_TYPE_DONE_PAGE, "error_label");
      g_assert_true (wait_for (widget_visible, &c, "the setup refusal"));
      g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (c.widget)), "first starts"));
      g_assert_false (gtk_widget_get_visible (child (page, IMPRINT_TYPE_DONE_PAGE, "setup_button")));
    }
  else if (g_str_equal (opts->outcome, "fail"))
    {
      const char *text = gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DONE_PAGE, "error_label")));

      g_assert_cmpstr (title, ==, "Installation Failed");
      /* A sentence, never a D-Bus name. */
      g_assert_null (strstr (text, "dev.imprint"));
      g_test_message ("failure text: %s", text);
      g_assert_nonnull (strstr (text, "too small"));
      g_assert_nonnull (strstr (imprint_client_get_log (imprint_window_get_client (window)), "no space left"));
      assert_outcome_said (page, title, text);
      snap (GTK_WINDOW (window), opts, "7-failed");
    }
  else if (g_str_equal (opts->outcome, "vanish"))
    {
      const char *text = gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DONE_PAGE, "error_label")));

      /* imprintd died mid-copy: the failure path, not a frozen bar, and
       * words that say what state the disk is in. */
      g_assert_cmpstr (title, ==, "Installation Failed");
      g_test_message ("failure text: %s", text);
      g_assert_nonnull (strstr (text, "imprintd stopped while the installation was running"));
      g_assert_nonnull (strstr (text, "safe to install onto it again"));
    }
  else
    {
      g_assert_cmpstr (title, ==, "Installation Stopped");
      snap (GTK_WINDOW (window), opts, "7-cancelled");
    }
  check_names (GTK_WIDGET (page), "done");
  assert_reachable (GTK_WINDOW (window), child (page, IMPRINT_TYPE_DONE_PAGE, "save_log_button"), "Save Log");

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_success (void)
{
  FlowOptions opts = { "", 760, 760, TRUE, FALSE, "success", TRUE };
  run_flow (&opts);
}

static void
test_fido2 (void)
{
  FlowOptions opts = { "fido2-", 760, 760, FALSE, FALSE, "success", FALSE, TRUE };
  run_flow (&opts);
}

static void
test_narrow (void)
{
  FlowOptions opts = { "narrow-", 360, 720, FALSE, FALSE, "success", FALSE };
  run_flow (&opts);
}

static void
test_rtl (void)
{
  FlowOptions opts = { "rtl-", 760, 760, FALSE, TRUE, "success", FALSE };
  run_flow (&opts);
}

static void
test_failure (void)
{
  FlowOptions opts = { "", 760, 760, TRUE, FALSE, "fail", FALSE };
  run_flow (&opts);
}

static void
test_cancel (void)
{
  FlowOptions opts = { "", 760, 760, TRUE, FALSE, "slow", FALSE };
  run_flow (&opts);
}

/* The stand-in gives up its bus name mid-copy, as a killed imprintd does. */
static void
test_vanish (void)
{
  FlowOptions opts = { NULL, 760, 760, FALSE, FALSE, "vanish", FALSE };
  run_flow (&opts);
  /* The stand-in takes its name again for the tests after this one. */
  settle (1500);
}

static void
test_denied (void)
{
  FlowOptions opts = { "", 760, 760, FALSE, FALSE, "denied", FALSE };
  run_flow (&opts);
}

static void
test_language (void)
{
  FlowOptions opts = { NULL, 760, 760, FALSE, FALSE, "success", FALSE };
  ImprintWindow *window = new_window (&opts);
  ImprintPage *page;
  GtkListBox *list;
  GtkWidget *row = NULL;

  page = imprint_window_get_page (window, "welcome");
  list = GTK_LIST_BOX (child (page, IMPRINT_TYPE_WELCOME_PAGE, "language_list"));
  for (GtkWidget *r = gtk_widget_get_first_child (GTK_WIDGET (list)); r; r = gtk_widget_get_next_sibling (r))
    {
      g_autoptr(GPtrArray) labels = g_ptr_array_new ();

      collect (r, GTK_TYPE_LABEL, labels);
      if (labels->len > 0 && g_str_equal (gtk_label_get_label (g_ptr_array_index (labels, 0)), "Deutsch"))
        row = r;
    }
  g_assert_nonnull (row);
  g_signal_emit_by_name (list, "row-activated", row);
  settle (200);
  g_assert_cmpstr (imprint_client_get_language (imprint_window_get_client (window)), ==, "de_DE.UTF-8");
  /* The shipped German translation is used (po/de.po). */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "System installieren");
  /* Pages after the first are rebuilt in the new language. */
  g_assert_cmpstr (imprint_page_get_title (imprint_window_get_page (window, "disk")), ==, "Datenträger");

  if (shot_dir != NULL)
    {
      FlowOptions de = { "de-", 760, 760, FALSE, FALSE, "success", FALSE };

      snap (GTK_WINDOW (window), &de, "1-welcome");
    }

  imprint_window_set_language (window, "en_US.UTF-8");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Install System");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

static gboolean
disk_rows_at_least (gpointer data)
{
  Ctx *c = data;

  return count_disk_rows (c->window) >= c->count;
}

/* The disk page over the real imprintd: image files built by layouts.py
 * show up as disks with what is on them, in words. */
static void
test_real_disks (void)
{
  FlowOptions opts = { "real-", 760, 760, TRUE, FALSE, "success", FALSE, FALSE };
  const char *images = g_getenv ("IMPRINT_UI_IMAGES");
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  ImprintDiskRow *windows = NULL;
  ImprintWindow *window;
  ImprintPage *page;
  Ctx c = { 0 };
  g_auto(GStrv) list = NULL;

  if (images == NULL)
    {
      g_test_skip ("needs the real imprintd and disk images (run-ui-real.sh)");
      return;
    }
  list = g_strsplit (images, ":", -1);

  window = new_window (&opts);
  c.window = window;
  next (window);
  c.page_id = "disk";
  g_assert_true (wait_for (on_page, &c, "the disk page"));
  c.count = g_strv_length (list);
  g_assert_true (wait_for (disk_rows_at_least, &c, "the image files as disks"));
  page = imprint_window_get_page (window, "disk");
  g_assert_false (gtk_widget_get_visible (child (page, IMPRINT_TYPE_DISK_PAGE, "error_box")));

  collect (GTK_WIDGET (page), IMPRINT_TYPE_DISK_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    {
      ImprintDiskRow *row = g_ptr_array_index (rows, i);
      const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));

      g_test_message ("disk %s: %s | %s", imprint_disk_row_get_device (row),
                      adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), subtitle);
      g_assert_null (strstr (subtitle, "dev.imprint"));
      if (g_str_has_suffix (imprint_disk_row_get_device (row), "gpt-windows.img"))
        windows = row;
    }
  g_assert_nonnull (windows);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (windows)), "Windows"));

  if (imprint_disk_row_get_usable (windows))
    {
      const char *warning;

      gtk_widget_activate (GTK_WIDGET (imprint_disk_row_get_check (windows)));
      g_assert_true (wait_for (page_complete, &c, "the disk choice"));
      warning = gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DISK_PAGE, "warning_label")));
      g_test_message ("warning: %s", warning);
      g_assert_nonnull (strstr (warning, "Windows"));
    }
  check_names (GTK_WIDGET (page), "disk (real)");
  snap (GTK_WINDOW (window), &opts, "2-disk");

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

static void
polkit_mode (const char *mode)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                       "org.freedesktop.DBus.Mock", "SetMode", g_variant_new ("(s)", mode),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

typedef struct {
  GtkWidget  *label;
  const char *needle;
} LabelWait;

static gboolean
label_contains (gpointer data)
{
  LabelWait *w = data;

  return gtk_widget_is_visible (w->label) &&
         strstr (gtk_label_get_label (GTK_LABEL (w->label)), w->needle) != NULL;
}

/* Refused and dismissed polkit prompts become sentences, and "Try Again"
 * recovers once allowed. */
static void
test_real_auth (void)
{
  FlowOptions opts = { "real-", 760, 760, FALSE, FALSE, "success", FALSE, FALSE };
  ImprintWindow *window;
  ImprintPage *page;
  Ctx c = { 0 };
  LabelWait lw;

  if (g_getenv ("IMPRINT_UI_IMAGES") == NULL)
    {
      g_test_skip ("needs the real imprintd and the polkit stand-in (run-ui-real.sh)");
      return;
    }

  polkit_mode ("deny");
  window = new_window (&opts);
  c.window = window;
  next (window);
  page = imprint_window_get_page (window, "disk");
  lw.label = child (page, IMPRINT_TYPE_DISK_PAGE, "error_label");
  lw.needle = "not allowed";
  g_assert_true (wait_for (label_contains, &lw, "the refusal in words"));
  g_assert_null (strstr (gtk_label_get_label (GTK_LABEL (lw.label)), "dev.imprint"));
  g_assert_false (imprint_page_get_complete (page));
  check_names (GTK_WIDGET (page), "disk (denied)");
  snap (GTK_WINDOW (window), &opts, "2-disk-denied");

  polkit_mode ("dismiss");
  g_signal_emit_by_name (child (page, IMPRINT_TYPE_DISK_PAGE, "retry_button"), "clicked");
  lw.needle = "closed";
  g_assert_true (wait_for (label_contains, &lw, "the dismissal in words"));
  g_assert_null (strstr (gtk_label_get_label (GTK_LABEL (lw.label)), "dev.imprint"));

  polkit_mode ("allow");
  g_signal_emit_by_name (child (page, IMPRINT_TYPE_DISK_PAGE, "retry_button"), "clicked");
  c.count = 3;
  g_assert_true (wait_for (disk_rows_at_least, &c, "the disks after allowing"));
  g_assert_false (gtk_widget_get_visible (child (page, IMPRINT_TYPE_DISK_PAGE, "error_box")));

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

static gboolean
security_loaded (gpointer data)
{
  Ctx *c = data;

  /* Loaded once the TPM row says something. */
  return *adw_action_row_get_subtitle (ADW_ACTION_ROW (c->widget)) != '\0';
}

static gboolean
plan_or_error (gpointer data)
{
  Ctx *c = data;
  ImprintPage *page = imprint_window_get_page (c->window, "summary");

  return gtk_widget_get_sensitive (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "install_button")) ||
         gtk_widget_get_visible (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "error_box"));
}

/* The whole installation over the real imprintd: a signed verity source
 * image (tests/image/make-source-image) onto an image file. */
static void
real_install (gboolean cancel)
{
  FlowOptions opts = { "real-", 760, 760, TRUE, FALSE, cancel ? "slow" : "success", FALSE, FALSE };
  const char *target = g_getenv ("IMPRINT_UI_TARGET");
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  ImprintDiskRow *row = NULL;
  ImprintWindow *window;
  ImprintPage *page;
  Ctx c = { 0 };
  const char *title;
  guint group = 0;
  g_autofree char *typed = NULL;

  if (target == NULL || g_getenv ("IMPRINT_UI_SOURCE") == NULL)
    {
      g_test_skip ("needs the real imprintd, a source image and a target image (run-ui-real.sh)");
      return;
    }

  window = new_window (&opts);
  c.window = window;
  next (window);

  /* Disk: the target image file. */
  c.page_id = "disk";
  g_assert_true (wait_for (on_page, &c, "the disk page"));
  c.count = 1;
  g_assert_true (wait_for (disk_rows_at_least, &c, "the disks"));
  page = imprint_window_get_page (window, "disk");
  collect (GTK_WIDGET (page), IMPRINT_TYPE_DISK_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (imprint_disk_row_get_device (g_ptr_array_index (rows, i)), target) == 0)
      row = g_ptr_array_index (rows, i);
  g_assert_nonnull (row);
  g_assert_true (imprint_disk_row_get_usable (row));
  gtk_widget_activate (GTK_WIDGET (imprint_disk_row_get_check (row)));
  g_assert_true (wait_for (page_complete, &c, "the disk choice"));
  next (window);

  /* Security: what this machine has; a passphrase when there is no TPM. */
  c.page_id = "security";
  g_assert_true (wait_for (on_page, &c, "the security page"));
  page = imprint_window_get_page (window, "security");
  c.widget = child (page, IMPRINT_TYPE_SECURITY_PAGE, "tpm_row");
  g_assert_true (wait_for (security_loaded, &c, "the security capabilities"));
  g_test_message ("TPM: %s", adw_action_row_get_subtitle (ADW_ACTION_ROW (c.widget)));
  g_test_message ("Secure Boot: %s", adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, IMPRINT_TYPE_SECURITY_PAGE, "secure_boot_row"))));
  g_assert_null (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (c.widget)), "dev.imprint"));
  /* With a (software) TPM, it is recommended and on by default. */
  if (g_getenv ("IMPRINT_UI_TPM2") != NULL)
    g_assert_true (gtk_switch_get_active (GTK_SWITCH (child (page, IMPRINT_TYPE_SECURITY_PAGE, "tpm_switch"))));
  if (!gtk_switch_get_active (GTK_SWITCH (child (page, IMPRINT_TYPE_SECURITY_PAGE, "tpm_switch"))))
    {
      adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (child (page, IMPRINT_TYPE_SECURITY_PAGE, "passphrase_row")), TRUE);
      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (child (page, IMPRINT_TYPE_SECURITY_PAGE, "passphrase_row")), TRUE);
      set_text (child (page, IMPRINT_TYPE_SECURITY_PAGE, "pass_entry"), "Vivid-Otter-Quartz-81");
      set_text (child (page, IMPRINT_TYPE_SECURITY_PAGE, "confirm_entry"), "Vivid-Otter-Quartz-81");
    }
  c.page_id = "security";
  g_assert_true (wait_for (page_complete, &c, "a way to unlock"));
  g_test_message ("strength: %s", imprint_strength_meter_get_message (IMPRINT_STRENGTH_METER (child (page, IMPRINT_TYPE_SECURITY_PAGE, "strength_meter"))));
  snap (GTK_WINDOW (window), &opts, "3-security");
  next (window);

  /* Recovery key from the daemon, in systemd's format. */
  c.page_id = "recovery";
  g_assert_true (wait_for (on_page, &c, "the recovery key page"));
  page = imprint_window_get_page (window, "recovery");
  c.widget = gtk_widget_get_first_child (gtk_widget_get_first_child (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "key_view")));
  g_assert_true (wait_for (flowbox_filled, &c, "the recovery key"));
  title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry")));
  for (const char *p = title; *p; p++)
    if (g_ascii_isdigit (*p))
      {
        group = (guint) (*p - '0');
        break;
      }
  {
    g_auto(GStrv) parts = g_strsplit (imprint_install_choices_get_recovery_key (imprint_window_get_install_choices (window)), "-", -1);

    g_assert_cmpuint (g_strv_length (parts), ==, 8);
    for (guint i = 0; parts[i]; i++)
      g_assert_cmpuint (strspn (parts[i], "cbdefghijklnrtuv"), ==, 8);   /* modhex */
    typed = g_strdup (parts[group - 1]);
  }
  gtk_check_button_set_active (GTK_CHECK_BUTTON (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "saved_check")), TRUE);
  set_text (child (page, IMPRINT_TYPE_RECOVERY_PAGE, "group_entry"), typed);
  g_assert_true (imprint_page_get_complete (page));
  snap (GTK_WINDOW (window), &opts, "4-recovery");
  next (window);

  /* Summary: the daemon's dry run. */
  c.page_id = "summary";
  g_assert_true (wait_for (on_page, &c, "the summary page"));
  page = imprint_window_get_page (window, "summary");
  g_assert_true (wait_for (plan_or_error, &c, "the plan"));
  if (gtk_widget_get_visible (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "error_box")))
    g_error ("PlanInstall failed: %s", gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "error_label"))));
  g_test_message ("plan: %s", gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "summary_label"))));
  snap (GTK_WINDOW (window), &opts, "5-summary");
  g_signal_emit_by_name (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "install_button"), "clicked");

  /* Progress, then the end. */
  c.page_id = "progress";
  if (!wait_for (on_page, &c, "the progress page"))
    g_error ("Install failed: %s", gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_SUMMARY_PAGE, "error_label"))));
  page = imprint_window_get_page (window, "progress");
  {
    GtkWidget *view = child (page, IMPRINT_TYPE_PROGRESS_PAGE, "progress_view");

    gtk_expander_set_expanded (GTK_EXPANDER (child (view, IMPRINT_TYPE_PROGRESS_VIEW, "details")), TRUE);
  }
  if (cancel)
    {
      GtkWidget *view = child (page, IMPRINT_TYPE_PROGRESS_PAGE, "progress_view");
      GListModel *toplevels = gtk_window_get_toplevels ();
      AdwMessageDialog *dialog = NULL;

      /* Cancel asks first, then the daemon stops the job. */
      g_assert_true (gtk_widget_activate_action (view, "progress.cancel", NULL));
      settle (200);
      for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
        {
          g_autoptr(GObject) top = g_list_model_get_item (toplevels, i);

          if (ADW_IS_MESSAGE_DIALOG (top))
            dialog = ADW_MESSAGE_DIALOG (top);
        }
      g_assert_nonnull (dialog);
      adw_message_dialog_response (dialog, "stop");
      gtk_window_destroy (GTK_WINDOW (dialog));
    }
  else
    {
      settle (700);
      if (imprint_window_get_current_page (window) == page)
        snap (GTK_WINDOW (window), &opts, "6-progress");
    }
  c.page_id = "done";
  g_assert_true (wait_for_ms (on_page, &c, "the end of the installation", 240000));
  page = imprint_window_get_page (window, "done");
  title = adw_status_page_get_title (ADW_STATUS_PAGE (child (page, IMPRINT_TYPE_DONE_PAGE, "status_page")));
  g_test_message ("log:\n%s", imprint_client_get_log (imprint_window_get_client (window)));
  if (!imprint_client_get_job_succeeded (imprint_window_get_client (window)))
    g_test_message ("failed: %s", gtk_label_get_label (GTK_LABEL (child (page, IMPRINT_TYPE_DONE_PAGE, "error_label"))));
  if (cancel)
    {
      g_assert_cmpstr (title, ==, "Installation Stopped");
      snap (GTK_WINDOW (window), &opts, "7-cancelled");
    }
  else
    {
      g_assert_cmpstr (title, ==, "Installation Complete");
      snap (GTK_WINDOW (window), &opts, "7-done");
    }

  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}

static void
test_real_install (void)
{
  real_install (FALSE);
}

static void
test_real_cancel (void)
{
  real_install (TRUE);
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

  g_test_add_func ("/ui/language", test_language);
  g_test_add_func ("/ui/install/success", test_success);
  g_test_add_func ("/ui/install/fido2", test_fido2);
  g_test_add_func ("/ui/install/narrow", test_narrow);
  g_test_add_func ("/ui/install/rtl", test_rtl);
  g_test_add_func ("/ui/install/failure", test_failure);
  g_test_add_func ("/ui/install/cancel", test_cancel);
  g_test_add_func ("/ui/install/denied", test_denied);
  g_test_add_func ("/ui/install/vanish", test_vanish);
  g_test_add_func ("/ui/real/disks", test_real_disks);
  g_test_add_func ("/ui/real/auth", test_real_auth);
  g_test_add_func ("/ui/real/install", test_real_install);
  g_test_add_func ("/ui/real/cancel", test_real_cancel);
  return g_test_run ();
}

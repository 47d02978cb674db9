/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives the System Update and Reset panels against the real imprintd on
 * a private bus, under Xvfb (run-ui-panels.py sets up a test root, the
 * polkit and systemd-sysupdated stand-ins, and runs one case per daemon).
 * Checks versions, Check for Updates, an update's progress to the end,
 * failure and cancel sentences, the reset's typed confirmation, request and
 * cancel, accessible names and Tab reachability; with
 * IMPRINT_SCREENSHOT_DIR set it saves every state, light and dark. */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-client.h"
#include "imprint-progress-view.h"
#include "imprint-util.h"
#include "reset/imprint-reset-panel.h"
#include "update/imprint-update-panel.h"
#include "ui-harness.h"

static void
snap (GtkWindow  *window,
      const char *name)
{
  save_png_light_dark (window, name);
}

/* ---- conditions ----------------------------------------------------------- */

typedef struct {
  GtkWidget  *widget;
  const char *text;
} Ctx;

static gboolean
visible (gpointer data)
{
  return gtk_widget_get_visible (((Ctx *) data)->widget);
}

static const char *
text_of (GtkWidget *w)
{
  if (GTK_IS_LABEL (w))
    return gtk_label_get_label (GTK_LABEL (w));
  if (ADW_IS_ACTION_ROW (w))
    return adw_action_row_get_subtitle (ADW_ACTION_ROW (w));
  if (GTK_IS_BUTTON (w))
    return gtk_button_get_label (GTK_BUTTON (w));
  if (ADW_IS_PREFERENCES_GROUP (w))
    return adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (w));
  g_assert_not_reached ();
}

static gboolean
shows_text (gpointer data)
{
  Ctx *c = data;
  const char *t = text_of (c->widget);

  return gtk_widget_get_visible (c->widget) && t != NULL && strstr (t, c->text) != NULL;
}

static void
wait_visible (GtkWidget  *w,
              const char *what)
{
  Ctx c = { w, NULL };

  wait_for (visible, &c, what);
}

static void
wait_text (GtkWidget  *w,
           const char *text)
{
  Ctx c = { w, text };

  if (!wait_for (shows_text, &c, text))
    g_test_message ("shown instead: %s", text_of (w));
}

static void
assert_sentence (GtkWidget *label)
{
  const char *t = gtk_label_get_label (GTK_LABEL (label));

  /* A sentence for people: no D-Bus names, no GLib prefixes. */
  g_assert_null (strstr (t, "dev.imprint"));
  g_assert_null (strstr (t, "org.freedesktop"));
  g_assert_null (strstr (t, "GDBus"));
  g_assert_cmpuint (strlen (t), >, 20);
  g_assert_true (g_str_has_suffix (t, "."));
}

static void
click (GtkWidget *button)
{
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static GtkWindow *
present (GtkWidget *window)
{
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 800);
  gtk_window_present (GTK_WINDOW (window));
  settle (300);
  return GTK_WINDOW (window);
}

static GVariant *
daemon_call (const char *method)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *result;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, IMPRINT_BUS_NAME, IMPRINT_MANAGER_PATH, "dev.imprint.Imprint1.Manager",
                                       method, g_variant_new ("(a{sv})", NULL), G_VARIANT_TYPE ("(a{sv})"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{sv})", &result);
  return result;
}

static gboolean
daemon_flag (const char *method,
             const char *key)
{
  g_autoptr(GVariant) info = daemon_call (method);
  gboolean value = FALSE;

  g_assert_true (g_variant_lookup (info, key, "b", &value));
  return value;
}

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

static gboolean
dialog_shown (gpointer data)
{
  return find_dialog () != NULL;
}

/* ---- update --------------------------------------------------------------- */

#define U(name) child (window, IMPRINT_TYPE_UPDATE_PANEL, name)

static GtkWindow *
update_panel (void)
{
  GtkWindow *window = present (imprint_update_panel_new (NULL));

  wait_text (U ("running_row"), "ImprintOS 1");
  return window;
}

static void
check_for_updates (GtkWindow *window)
{
  click (U ("check_button"));
  wait_text (U ("update_button"), "Update to Version 2");
}

static void
start_update (GtkWindow *window)
{
  click (U ("update_button"));
  wait_visible (U ("progress_view"), "the progress view");
  g_assert_false (gtk_widget_is_sensitive (U ("check_button")));
}

static void
test_update_check_and_update (void)
{
  GtkWindow *window = update_panel ();
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  GtkWidget *error_label = U ("error_label");

  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (U ("other_row"))), ==, "Empty");
  g_assert_false (gtk_widget_get_visible (U ("pending_group")));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (U ("auto_switch"))));
  check_names (GTK_WIDGET (window), "update");
  assert_reachable (window, U ("check_button"), "Check for Updates");
  assert_reachable (window, U ("auto_switch"), "the automatic updates switch");
  snap (window, "update-1-status");

  /* No service manager on the test bus: the switch goes back and says why. */
  gtk_switch_set_active (GTK_SWITCH (U ("auto_switch")), TRUE);
  wait_text (error_label, "service manager");
  assert_sentence (error_label);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (U ("auto_switch"))));
  snap (window, "update-2-automatic-error");

  /* Versions 2 and 1 from the sysupdated stand-in's recorded sysupdate
   * output; 2 is offered. */
  check_for_updates (window);
  g_assert_false (gtk_widget_get_visible (U ("error_group")));
  collect (U ("updates_group"), ADW_TYPE_ACTION_ROW, rows);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (rows->pdata[0])), ==, "ImprintOS 2");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (rows->pdata[1])), ==, "Running now");
  check_names (GTK_WIDGET (window), "update, checked");
  assert_reachable (window, U ("update_button"), "the Update button");
  snap (window, "update-3-available");

  start_update (window);
  g_assert_false (gtk_widget_get_visible (U ("update_button")));
  wait_visible (U ("pending_group"), "Restart to Finish");
  wait_text (U ("result_label"), "The update is installed.");
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (
                       child (U ("progress_view"), IMPRINT_TYPE_PROGRESS_VIEW, "progress_bar"))), ==, 1.0);
  g_assert_false (gtk_widget_get_visible (U ("progress_view")));
  g_assert_nonnull (strstr (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (U ("pending_group"))),
                            "Version 2 is installed"));
  g_assert_false (gtk_widget_get_visible (U ("update_button")));
  settle (200);
  g_assert_true (focus_within (window, U ("restart_button")));
  check_names (GTK_WIDGET (window), "update, done");
  assert_reachable (window, U ("restart_button"), "Restart Now");
  snap (window, "update-5-restart");

  /* No logind on the test bus: the restart fails in a sentence. */
  click (U ("restart_button"));
  wait_text (error_label, "could not be restarted");
  assert_sentence (error_label);
  gtk_window_destroy (window);
}

static void
test_update_failure (void)
{
  GtkWindow *window = update_panel ();

  check_for_updates (window);
  start_update (window);
  wait_text (U ("error_label"), "failed");
  assert_sentence (U ("error_label"));
  g_assert_false (gtk_widget_get_visible (U ("pending_group")));
  wait_visible (U ("update_button"), "Update, to try again");
  g_assert_true (gtk_widget_is_sensitive (U ("update_button")));
  g_assert_true (gtk_widget_is_sensitive (U ("check_button")));
  snap (window, "update-6-failed");
  gtk_window_destroy (window);
}

static gboolean
progress_moved (gpointer data)
{
  return gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (data)) > 0.0;
}

static void
test_update_cancel (void)
{
  GtkWindow *window = update_panel ();
  GtkWidget *view, *bar;
  AdwMessageDialog *dialog;

  check_for_updates (window);
  start_update (window);
  view = U ("progress_view");
  bar = child (view, IMPRINT_TYPE_PROGRESS_VIEW, "progress_bar");
  wait_for (progress_moved, bar, "the update's progress");
  assert_reachable (window, child (view, IMPRINT_TYPE_PROGRESS_VIEW, "cancel_button"), "Cancel");
  check_names (GTK_WIDGET (window), "update, running");
  snap (window, "update-4-progress");

  g_assert_true (gtk_widget_activate_action (view, "progress.cancel", NULL));
  wait_for (dialog_shown, NULL, "the cancel question");
  dialog = find_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Stop the Update?");
  adw_message_dialog_response (dialog, "stop");
  wait_text (U ("error_label"), "cancelled. The running system is unchanged.");
  assert_sentence (U ("error_label"));
  g_assert_false (gtk_widget_get_visible (U ("pending_group")));
  g_assert_true (gtk_widget_get_visible (U ("update_button")));
  snap (window, "update-7-cancelled");
  gtk_window_destroy (window);
}

static void
test_update_pending (void)
{
  GtkWindow *window = update_panel ();

  /* Slot B holds version 2: it starts after a restart. */
  wait_visible (U ("pending_group"), "the pending update");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (U ("other_row"))),
                            "starts after the next restart"));
  click (U ("check_button"));
  wait_text (U ("result_label"), "already installed and waits for a restart");
  g_assert_false (gtk_widget_get_visible (U ("update_button")));
  snap (window, "update-8-pending");
  gtk_window_destroy (window);
}

static void
test_update_unsupported (void)
{
  GtkWindow *window = update_panel ();

  wait_text (U ("result_label"), "sysupdate.d");
  g_assert_false (gtk_widget_is_sensitive (U ("check_button")));
  check_names (GTK_WIDGET (window), "update, unsupported");
  snap (window, "update-9-unsupported");
  gtk_window_destroy (window);
}

/* ---- reset ---------------------------------------------------------------- */

#define R(name) child (window, IMPRINT_TYPE_RESET_PANEL, name)

static GtkWindow *
reset_panel (void)
{
  GtkWindow *window = present (imprint_reset_panel_new (NULL));
  Ctx c = { NULL, NULL };

  c.widget = R ("spinner");
  /* The info has arrived when the spinner stops. */
  settle (200);
  for (int i = 0; i < 100 && gtk_widget_get_visible (c.widget); i++)
    settle (100);
  return window;
}

static gboolean
group_mentions (GtkWidget  *group,
                const char *text)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect (group, ADW_TYPE_ACTION_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (strstr (adw_preferences_row_get_title (rows->pdata[i]), text) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_reset_request_and_cancel (void)
{
  GtkWindow *window = reset_panel ();
  GtkWidget *entry = R ("confirm_row");
  GtkWidget *button = R ("reset_button");
  Ctx c = { button, NULL };

  /* From the installed repart.d: the root (and all it holds) goes, the OS
   * version stays. */
  g_assert_true (group_mentions (R ("erased_group"), "/etc"));
  g_assert_true (group_mentions (R ("kept_group"), "ImprintOS version 1"));
  g_assert_true (gtk_widget_get_visible (R ("tpm_group")));
  g_assert_false (gtk_widget_get_visible (R ("pending_group")));
  g_assert_false (gtk_widget_get_visible (R ("error_group")));
  check_names (GTK_WIDGET (window), "reset");
  assert_reachable (window, entry, "the confirmation entry");
  assert_reachable (window, R ("tpm_switch"), "the TPM switch");
  snap (window, "reset-1-info");

  /* Only the exact word (any case) makes the button sensitive. */
  g_assert_false (gtk_widget_is_sensitive (button));
  gtk_editable_set_text (GTK_EDITABLE (entry), "eras");
  g_assert_false (gtk_widget_is_sensitive (button));
  gtk_editable_set_text (GTK_EDITABLE (entry), "erased");
  g_assert_false (gtk_widget_is_sensitive (button));
  gtk_editable_set_text (GTK_EDITABLE (entry), " Erase ");
  g_assert_true (gtk_widget_is_sensitive (button));
  gtk_switch_set_active (GTK_SWITCH (R ("tpm_switch")), TRUE);
  assert_reachable (window, button, "the reset button");
  snap (window, "reset-2-confirmed");

  click (button);
  wait_visible (R ("pending_group"), "the pending reset");
  g_assert_true (daemon_flag ("GetFactoryResetInfo", "pending"));
  g_assert_true (daemon_flag ("GetFactoryResetInfo", "tpm-clear-pending"));
  wait_text (R ("pending_group"), "clear the TPM");
  g_assert_false (gtk_widget_get_visible (R ("confirm_group")));
  settle (200);
  g_assert_true (focus_within (window, R ("cancel_button")));
  check_names (GTK_WIDGET (window), "reset, pending");
  assert_reachable (window, R ("cancel_button"), "Cancel the Reset");
  assert_reachable (window, R ("restart_button"), "Restart Now");
  snap (window, "reset-3-pending");

  click (R ("restart_button"));
  wait_text (R ("error_label"), "could not be restarted");
  assert_sentence (R ("error_label"));

  click (R ("cancel_button"));
  c.widget = R ("confirm_group");
  wait_for (visible, &c, "the request form again");
  g_assert_false (gtk_widget_get_visible (R ("pending_group")));
  g_assert_false (daemon_flag ("GetFactoryResetInfo", "pending"));
  g_assert_false (daemon_flag ("GetFactoryResetInfo", "tpm-clear-pending"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  g_assert_false (gtk_widget_is_sensitive (button));
  settle (200);
  g_assert_true (focus_within (window, entry));
  gtk_window_destroy (window);
}

static void
test_reset_denied (void)
{
  GtkWindow *window = reset_panel ();

  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (
    GTK_SCROLLED_WINDOW (gtk_widget_get_ancestor (R ("confirm_row"), GTK_TYPE_SCROLLED_WINDOW)));

  /* A small window, scrolled down to the button: the refusal at the top
   * must come into view. */
  gtk_window_set_default_size (window, 480, 420);
  settle (300);
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >, 0.0);
  gtk_editable_set_text (GTK_EDITABLE (R ("confirm_row")), "erase");
  click (R ("reset_button"));
  wait_text (R ("error_label"), "not allowed");
  assert_sentence (R ("error_label"));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, gtk_adjustment_get_lower (adj));
  gtk_window_set_default_size (window, 640, 800);
  g_assert_false (gtk_widget_get_visible (R ("pending_group")));
  g_assert_false (daemon_flag ("GetFactoryResetInfo", "pending"));
  snap (window, "reset-5-denied");
  gtk_window_destroy (window);
}

static void
test_reset_unsupported (void)
{
  GtkWindow *window = reset_panel ();

  wait_text (R ("error_label"), "FactoryReset=yes");
  g_assert_false (gtk_widget_get_visible (R ("confirm_group")));
  g_assert_false (gtk_widget_get_visible (R ("erased_group")));
  g_assert_false (gtk_widget_get_visible (R ("kept_group")));
  snap (window, "reset-4-unsupported");
  gtk_window_destroy (window);
}

/* The panels in German (po/de.po): the word to type is translated too. */
static void
test_reset_german (void)
{
  extern int _nl_msg_cat_cntr;
  GtkWindow *window;
  gboolean german;

  g_setenv ("LANGUAGE", "de", TRUE);
  /* A German session's locale: the panel passes it to imprintd, which
   * then words what a reset erases and keeps in German too. */
  german = setlocale (LC_MESSAGES, "de_DE.UTF-8") != NULL;
  _nl_msg_cat_cntr++;
  window = reset_panel ();
  if (german)
    g_assert_true (group_mentions (R ("kept_group"), "Betriebssystem"));
  else
    g_test_message ("de_DE.UTF-8 is not generated here (tools/install-deps.sh makes it): "
                    "imprintd's German not checked");
  g_assert_cmpstr (imprint_reset_panel_get_confirm_word (), ==, "löschen");
  g_assert_cmpstr (gtk_window_get_title (window), ==, "Auf Werkseinstellungen zurücksetzen");
  gtk_editable_set_text (GTK_EDITABLE (R ("confirm_row")), "erase");
  g_assert_false (gtk_widget_is_sensitive (R ("reset_button")));
  gtk_editable_set_text (GTK_EDITABLE (R ("confirm_row")), "Löschen");
  g_assert_true (gtk_widget_is_sensitive (R ("reset_button")));
  snap (window, "reset-de-2-confirmed");
  gtk_window_destroy (window);
  g_setenv ("LANGUAGE", "en_US", TRUE);
  setlocale (LC_MESSAGES, "C.UTF-8");
  _nl_msg_cat_cntr++;
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
  g_test_add_func ("/panels/update/check-and-update", test_update_check_and_update);
  g_test_add_func ("/panels/update/failure", test_update_failure);
  g_test_add_func ("/panels/update/cancel", test_update_cancel);
  g_test_add_func ("/panels/update/pending", test_update_pending);
  g_test_add_func ("/panels/update/unsupported", test_update_unsupported);
  g_test_add_func ("/panels/reset/request-and-cancel", test_reset_request_and_cancel);
  g_test_add_func ("/panels/reset/denied", test_reset_denied);
  g_test_add_func ("/panels/reset/unsupported", test_reset_unsupported);
  g_test_add_func ("/panels/reset/german", test_reset_german);
  return g_test_run ();
}

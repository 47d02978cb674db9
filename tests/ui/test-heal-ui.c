/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "The disk needed its recovery key at the last start" in the System
 * Update panel, against the real imprintd (run-ui-heal.py: its test hooks
 * point GetUnlockStatus at a LUKS2 image standing for the root and at
 * journal files saying the TPM refused; swtpm is the TPM). Checks the
 * group's words and accessible names, that a wrong passphrase is refused
 * and the right one heals (Enroll tpm2), the group's absence when nothing
 * needed healing, and what --heal-check would notify. With
 * IMPRINT_SCREENSHOT_DIR set it saves each state, light and dark. */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>

#include "imprint-heal-check.h"
#include "imprint-names.h"
#include "update/imprint-heal-group.h"
#include "update/imprint-update-panel.h"
#include "ui-harness.h"

static void
snap (GtkWindow  *window,
      const char *name)
{
  save_png_light_dark (window, name);
}

static GtkWidget *
find (GtkWidget *group,
      GType      type)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  collect (group, type, found);
  g_assert_cmpuint (found->len, >=, 1);
  return g_ptr_array_index (found, 0);
}

static gboolean
widget_visible (gpointer data)
{
  return gtk_widget_get_visible (data);
}

typedef struct {
  gpointer    group;
  const char *text;
} Said;

static gboolean
description_has (gpointer data)
{
  Said *d = data;
  const char *text = adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (d->group));

  return text != NULL && strstr (text, d->text) != NULL;
}

static gboolean
label_visible (gpointer data)
{
  return gtk_widget_get_visible (data) && *gtk_label_get_label (GTK_LABEL (data)) != '\0';
}

static GtkWindow *
open_panel (ImprintHealGroup **ret_group)
{
  GtkWidget *panel = imprint_update_panel_new (NULL);

  *ret_group = imprint_update_panel_get_heal_group (IMPRINT_UPDATE_PANEL (panel));
  imprint_heal_group_set_tpm2_device (*ret_group, g_getenv ("IMPRINT_TEST_TPM2_DEVICE"));
  gtk_window_set_default_size (GTK_WINDOW (panel), 640, 860);
  gtk_window_present (GTK_WINDOW (panel));
  settle (300);
  return GTK_WINDOW (panel);
}

static void
test_heal (void)
{
  ImprintHealGroup *group;
  GtkWindow *window = open_panel (&group);
  GtkWidget *entry, *button, *message;
  Said changed = { group, "start-up software changed" };
  Said done = { group, "unlock automatically at the next start" };

  g_assert_true (wait_for (widget_visible, group, "the heal group"));
  g_assert_true (wait_for (description_has, &changed, "the reason"));
  g_assert_cmpstr (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (group)), ==,
                   "The disk needed its recovery key at the last start");
  entry = find (GTK_WIDGET (group), ADW_TYPE_PASSWORD_ENTRY_ROW);
  button = NULL;
  {
    g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

    /* Not the entry row's own "Show Text" button. */
    collect (GTK_WIDGET (group), GTK_TYPE_BUTTON, buttons);
    for (guint i = 0; i < buttons->len; i++)
      if (gtk_widget_has_css_class (g_ptr_array_index (buttons, i), "pill"))
        button = g_ptr_array_index (buttons, i);
  }
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "Unlock _Automatically Again");
  check_names (GTK_WIDGET (window), "heal");
  assert_reachable (window, entry, "the recovery key entry");
  g_assert_false (gtk_widget_is_sensitive (button));
  snap (window, "heal-1-needed");

  /* A wrong passphrase: refused by imprintd, said in a sentence. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "not the passphrase");
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  message = NULL;
  {
    g_autoptr(GPtrArray) labels = g_ptr_array_new ();

    collect (GTK_WIDGET (group), GTK_TYPE_LABEL, labels);
    for (guint i = 0; i < labels->len; i++)
      if (gtk_widget_has_css_class (g_ptr_array_index (labels, i), "error"))
        message = g_ptr_array_index (labels, i);
  }
  g_assert_nonnull (message);
  g_assert_true (wait_for (label_visible, message, "the wrong-key message"));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (message)), "not the recovery key"));
  snap (window, "heal-2-wrong-key");

  /* The passphrase: sealed to the TPM again. */
  gtk_editable_set_text (GTK_EDITABLE (entry), g_getenv ("IMPRINT_TEST_PASSPHRASE"));
  g_signal_emit_by_name (entry, "entry-activated");
  g_assert_true (wait_for (description_has, &done, "the heal to finish"));
  {
    g_autoptr(GPtrArray) rows = g_ptr_array_new ();

    /* Nothing left to type (the entry row went with its boxed list). */
    collect (GTK_WIDGET (group), ADW_TYPE_PASSWORD_ENTRY_ROW, rows);
    g_assert_cmpuint (rows->len, ==, 0);
  }
  g_assert_false (gtk_widget_get_visible (button));
  g_assert_false (gtk_widget_get_visible (message));
  snap (window, "heal-3-done");
  gtk_window_destroy (window);
}

static void
test_not_needed (void)
{
  ImprintHealGroup *group;
  GtkWindow *window = open_panel (&group);

  /* The status answer comes; the group stays hidden. */
  settle (1500);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (group)));
  gtk_window_destroy (window);
}

static GVariant *
status (gboolean encrypted, gboolean needed, gboolean resealed, const char *reason)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_ENCRYPTED, g_variant_new_boolean (encrypted));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_NEEDED_RECOVERY, g_variant_new_boolean (needed));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_RESEALED, g_variant_new_boolean (resealed));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_REASON, g_variant_new_string (reason));
  g_variant_builder_add (&b, "{sv}", IMPRINT_KEY_DEVICE, g_variant_new_string ("/dev/vda3"));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
test_notification (void)
{
  g_autoptr(GVariant) needed = status (TRUE, TRUE, FALSE, "signature");
  g_autoptr(GVariant) healed = status (TRUE, TRUE, TRUE, "signature");
  g_autoptr(GVariant) fine = status (TRUE, FALSE, FALSE, "");
  g_autoptr(GVariant) plain = status (FALSE, FALSE, FALSE, "");
  g_autoptr(GNotification) n = NULL;
  static const char *reasons[] = { "pcr-mismatch", "signature", "no-tpm", "pin", "lockout", "tpm-error", "unknown", "" };

  g_assert_true (imprint_heal_check_wanted (needed));
  g_assert_false (imprint_heal_check_wanted (healed));
  g_assert_false (imprint_heal_check_wanted (fine));
  g_assert_false (imprint_heal_check_wanted (plain));
  n = imprint_heal_check_notification_new (needed);
  g_assert_nonnull (n);
  /* Every reason has its own sentence, ending like one. */
  for (gsize i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      const char *s = imprint_heal_reason_sentence (reasons[i]);

      g_assert_true (g_str_has_suffix (s, "."));
      for (gsize j = 0; j < i && i < 5; j++)
        g_assert_cmpstr (s, !=, imprint_heal_reason_sentence (reasons[j]));
    }
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
  g_test_add_func ("/heal/panel", test_heal);
  g_test_add_func ("/heal/not-needed", test_not_needed);
  g_test_add_func ("/heal/notification", test_notification);
  return g_test_run ();
}

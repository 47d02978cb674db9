/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "imprint-client.h"
#include "imprint-heal-check.h"
#include "imprint-names.h"
#include "imprint-util.h"
#include "update/imprint-update-panel.h"

/* `imprint --heal-check`, started at login by the user unit
 * imprint-heal-check.service: asks imprintd (GetUnlockStatus) whether the
 * disk needed its recovery key at this start, and if so sends one
 * notification per boot under the System Update panel's application id,
 * whose action opens that panel in this very process. The panel's desktop
 * file is not D-Bus activatable, so the notification's action only reaches
 * a running process: it stays (idle) until the action is used, the session
 * ends, or HOLD_SECONDS pass. */

#define NOTIFICATION_ID "needed-recovery"
#define HOLD_SECONDS (8 * 60 * 60)

typedef struct {
  GApplication  *app;
  ImprintClient *client;
  guint          timeout;
  gboolean       holding;
} HealCheck;

static HealCheck *check;   /* one per process */

static void
release (void)
{
  if (check->holding)
    {
      check->holding = FALSE;
      g_application_release (check->app);
    }
  g_clear_handle_id (&check->timeout, g_source_remove);
}

static gboolean
timeout_cb (gpointer user_data)
{
  check->timeout = 0;
  release ();
  return G_SOURCE_REMOVE;
}

void
imprint_heal_check_show_panel (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (imprint_update_panel_new (GTK_APPLICATION (app))));
  g_application_withdraw_notification (app, NOTIFICATION_ID);
  /* The window holds the application now. */
  if (check != NULL)
    release ();
}

static void
show_panel_cb (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  imprint_heal_check_show_panel (G_APPLICATION (user_data));
}

/* $XDG_STATE_HOME/imprint/heal-notified holds the boot ID last notified. */
static char *
notified_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "imprint", "heal-notified", NULL);
}

static gboolean
already_notified (const char *boot_id)
{
  g_autofree char *path = notified_path ();
  g_autofree char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) && g_str_equal (g_strstrip (text), boot_id);
}

static void
remember_notified (const char *boot_id)
{
  g_autofree char *path = notified_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0700) < 0 ||
      !g_file_set_contents_full (path, boot_id, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_warning ("Cannot write %s: %s", path, error ? error->message : g_strerror (errno));
}

GNotification *
imprint_heal_check_notification_new (GVariant *status)
{
  GNotification *n = g_notification_new (_("The disk needed its recovery key at the last start"));
  g_autofree char *body = NULL;

  /* Translators: the reason, then what to do */
  body = g_strdup_printf (_("%s Open System Update to let it unlock automatically again."),
                          imprint_heal_reason_sentence (imprint_lookup_str (status, IMPRINT_KEY_REASON)));
  g_notification_set_body (n, body);
  g_notification_set_priority (n, G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_default_action (n, "app.show-panel");
  g_notification_add_button (n, _("Unlock Automatically Again"), "app.show-panel");
  return n;
}

gboolean
imprint_heal_check_wanted (GVariant *status)
{
  return imprint_lookup_bool (status, IMPRINT_KEY_ENCRYPTED) &&
         imprint_lookup_bool (status, IMPRINT_KEY_NEEDED_RECOVERY) &&
         !imprint_lookup_bool (status, IMPRINT_KEY_RESEALED);
}

static void
status_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;
  const char *boot_id;

  if (!imprint_client_panel_call_finish (check->client, result, &status, &error))
    {
      g_printerr ("%s\n", error->message);
      release ();
      return;
    }
  boot_id = imprint_lookup_str (status, IMPRINT_KEY_BOOT_ID);
  if (!imprint_heal_check_wanted (status) || already_notified (boot_id))
    {
      release ();
      return;
    }
  {
    g_autoptr(GNotification) n = imprint_heal_check_notification_new (status);

    g_application_send_notification (check->app, NOTIFICATION_ID, n);
  }
  remember_notified (boot_id);
  check->timeout = g_timeout_add_seconds (HOLD_SECONDS, timeout_cb, NULL);
}

void
imprint_heal_check_start (GApplication *app)
{
  static const GActionEntry actions[] = {
    { "show-panel", show_panel_cb, NULL, NULL, NULL },
  };

  g_return_if_fail (check == NULL);
  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), app);
  check = g_new0 (HealCheck, 1);
  check->app = app;
  check->client = imprint_client_new ();
  check->holding = TRUE;
  g_application_hold (app);
  imprint_client_get_unlock_status_async (check->client, NULL, status_cb, NULL);
}

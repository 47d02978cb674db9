/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <polkit/polkit.h>

#include "imprintd-auth.h"
#include "imprint-names.h"
#include "imprint-error.h"

/* polkit is asked asynchronously, with our own deadline: a hung polkitd must
 * neither block the daemon's main loop nor leave the caller waiting
 * forever. The interactive deadline is long because a person may be typing
 * their password. */
static guint non_interactive_timeout = 25;
static guint interactive_timeout = 300;

void
imprintd_auth_set_timeouts (guint non_interactive_seconds,
                           guint interactive_seconds)
{
  non_interactive_timeout = non_interactive_seconds;
  interactive_timeout = interactive_seconds;
}

typedef struct {
  char *sender;
  char *action_id;
  GHashTable *details;
  gboolean interactive;
  GCancellable *cancellable;   /* ours: cancelled by the deadline too */
  gulong outer_cancel_id;
  GCancellable *outer;
  guint timeout_id;
  gboolean timed_out;
  gboolean returned;
  GDBusConnection *connection;
} AuthData;

static void
auth_data_free (AuthData *data)
{
  if (data->timeout_id != 0)
    g_source_remove (data->timeout_id);
  if (data->outer != NULL)
    g_cancellable_disconnect (data->outer, data->outer_cancel_id);
  g_clear_object (&data->outer);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->connection);
  g_free (data->sender);
  g_free (data->action_id);
  g_clear_pointer (&data->details, g_hash_table_unref);
  g_free (data);
}

/* Returns @task's result once; whatever polkit says after that (a late
 * answer after our deadline) is dropped. Takes @error. */
static void
auth_return (GTask *task, GError *error)
{
  AuthData *data = g_task_get_task_data (task);

  if (data->returned)
    {
      g_clear_error (&error);
      return;
    }
  data->returned = TRUE;
  if (data->timeout_id != 0)
    {
      g_source_remove (data->timeout_id);
      data->timeout_id = 0;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
on_auth_timeout (gpointer user_data)
{
  GTask *task = user_data;
  AuthData *data = g_task_get_task_data (task);

  data->timeout_id = 0;
  data->timed_out = TRUE;
  g_debug ("polkit did not answer for %s in time", data->action_id);
  auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                  _("The authorization service did not answer in time. Try again.")));
  /* Stop polkit work still under way; its callbacks see "returned". */
  g_cancellable_cancel (data->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_outer_cancelled (GCancellable *outer, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
on_fallback_uid (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  guint32 uid = G_MAXUINT32;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);

  if (uid == 0)
    auth_return (task, NULL);
  else
    auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                    _("The authorization service is not running.")));
}

/* Without polkitd on the bus nobody can be asked; root needs no one's
 * permission (polkit would say yes to root anyway), everyone else is
 * refused. */
static void
fall_back_to_root_check (GTask *task)
{
  AuthData *data = g_task_get_task_data (task);

  g_dbus_connection_call (data->connection,
                          "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", data->sender), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, data->cancellable,
                          on_fallback_uid, g_object_ref (task));
}

static gboolean
is_polkit_missing (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

static void
on_check_authorization (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  AuthData *data = g_task_get_task_data (task);
  g_autoptr(PolkitAuthorizationResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);
  if (data->returned)
    return;
  if (result == NULL)
    {
      if (is_polkit_missing (error))
        fall_back_to_root_check (task);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED,
                                        _("The operation was cancelled.")));
      else
        {
          g_debug ("polkit check for %s failed: %s", data->action_id, error->message);
          auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                          _("Could not check authorization: %s"), error->message));
        }
      return;
    }

  if (polkit_authorization_result_get_is_authorized (result))
    auth_return (task, NULL);
  else if (polkit_authorization_result_get_dismissed (result))
    auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_AUTH_DISMISSED,
                                    _("Authentication was dismissed.")));
  else if (polkit_authorization_result_get_is_challenge (result))
    auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                    _("Authentication is required, but asking for it was not allowed.")));
  else
    auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                    _("You are not allowed to do this.")));
}

static void
on_authority (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  AuthData *data = g_task_get_task_data (task);
  g_autoptr(PolkitAuthority) authority = NULL;
  g_autoptr(PolkitSubject) subject = NULL;
  g_autoptr(PolkitDetails) details = NULL;
  g_autoptr(GError) error = NULL;
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;

  authority = polkit_authority_get_finish (res, &error);
  if (data->returned)
    return;
  if (authority == NULL)
    {
      if (is_polkit_missing (error))
        fall_back_to_root_check (task);
      else
        auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                        _("Could not reach the authorization service: %s"),
                                        error->message));
      return;
    }

  if (data->interactive)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;

  subject = polkit_system_bus_name_new (data->sender);
  if (data->details != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      details = polkit_details_new ();
      g_hash_table_iter_init (&iter, data->details);
      while (g_hash_table_iter_next (&iter, &key, &value))
        polkit_details_insert (details, key, value);
    }
  polkit_authority_check_authorization (authority, subject, data->action_id,
                                        details, flags, data->cancellable,
                                        on_check_authorization, g_steal_pointer (&task));
}

void
imprintd_auth_check_async (GDBusMethodInvocation *invocation,
                          const char            *action_id,
                          GHashTable            *details,
                          GVariant              *options,
                          GCancellable          *cancellable,
                          GAsyncReadyCallback    callback,
                          gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  AuthData *data;
  gboolean no_interaction = FALSE;

  g_return_if_fail (G_IS_DBUS_METHOD_INVOCATION (invocation));
  g_return_if_fail (action_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprintd_auth_check_async);

  if (options != NULL)
    g_variant_lookup (options, IMPRINT_KEY_NO_USER_INTERACTION, "b", &no_interaction);

  data = g_new0 (AuthData, 1);
  data->sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  data->action_id = g_strdup (action_id);
  data->details = details != NULL ? g_hash_table_ref (details) : NULL;
  data->interactive = !no_interaction;
  data->cancellable = g_cancellable_new ();
  data->connection = g_object_ref (g_dbus_method_invocation_get_connection (invocation));
  if (cancellable != NULL)
    {
      data->outer = g_object_ref (cancellable);
      data->outer_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_outer_cancelled),
                                                     data->cancellable, NULL);
    }
  data->timeout_id = g_timeout_add_seconds (data->interactive ? interactive_timeout
                                                               : non_interactive_timeout,
                                            on_auth_timeout, task);
  g_task_set_task_data (task, data, (GDestroyNotify) auth_data_free);

  /* A peer-to-peer connection (no sender) has no bus name polkit could
   * look at: refuse rather than guess. */
  if (data->sender == NULL)
    {
      auth_return (task, g_error_new (IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                                      _("The caller could not be identified.")));
      return;
    }

  polkit_authority_get_async (data->cancellable, on_authority, g_steal_pointer (&task));
}

gboolean
imprintd_auth_check_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_get_uid (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  guint32 uid;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  g_task_return_int (task, uid);
}

void
imprintd_auth_get_caller_uid_async (GDBusMethodInvocation *invocation,
                                   GCancellable          *cancellable,
                                   GAsyncReadyCallback    callback,
                                   gpointer               user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  if (sender == NULL)
    {
      g_task_return_new_error (task, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                               _("The caller could not be identified."));
      g_object_unref (task);
      return;
    }

  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, on_get_uid, task);
}

gboolean
imprintd_auth_get_caller_uid_finish (GAsyncResult *result,
                                    guint32      *ret_uid,
                                    GError      **error)
{
  gssize uid = g_task_propagate_int (G_TASK (result), error);

  if (uid < 0)
    return FALSE;
  if (ret_uid != NULL)
    *ret_uid = (guint32) uid;
  return TRUE;
}

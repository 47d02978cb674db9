/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "disk-enumerate.h"
#include "imprintd-auth.h"
#include "imprint-error.h"
#include "imprintd-daemon.h"
#include "imprintd-methods.h"

/* Every Manager method goes through the same steps, like udisks does:
 * who is calling (uid), may they (polkit, asynchronously), then the work —
 * in a worker thread, since probing disks or a TPM can take seconds and the
 * main loop must keep answering. */

typedef struct {
  ImprintdDaemon *daemon;
  GDBusMethodInvocation *invocation;
  const ImprintdMethod *method;
  guint32 uid;
} Call;

static void
call_free (Call *call)
{
  imprintd_daemon_release (call->daemon);
  g_object_unref (call->daemon);
  g_object_unref (call->invocation);
  g_free (call);
}

static void
return_error (GDBusMethodInvocation *invocation, GError *error)
{
  if (error->domain != IMPRINT_ERROR)
    {
      /* One domain for clients to match on; the words stay. */
      g_dbus_method_invocation_return_error_literal (invocation, IMPRINT_ERROR,
                                                     IMPRINT_ERROR_FAILED, error->message);
      return;
    }
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* A call that was waiting (for the bus or polkit) when imprintd began to
 * stop ends with the same error as one that arrives after. */
static void
return_call_error (Call *call, GError *error)
{
  if (imprintd_daemon_is_stopping (call->daemon) &&
      (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
       g_error_matches (error, IMPRINT_ERROR, IMPRINT_ERROR_CANCELLED)))
    {
      g_dbus_method_invocation_return_error_literal (call->invocation, IMPRINT_ERROR, IMPRINT_ERROR_BUSY,
          _("The installer service is shutting down. Try again in a moment."));
      return;
    }
  return_error (call->invocation, error);
}

static GVariant *
call_options (Call *call)
{
  GVariant *params = g_dbus_method_invocation_get_parameters (call->invocation);
  gsize n = g_variant_n_children (params);

  /* By convention "options a{sv}" is always the last argument. */
  return g_variant_get_child_value (params, n - 1);
}

static void
call_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *call = task_data;
  g_autoptr(GVariant) options = call_options (call);
  ImprintdMethodCall mc = {
    .daemon = call->daemon,
    .invocation = call->invocation,
    .parameters = g_dbus_method_invocation_get_parameters (call->invocation),
    .options = options,
    .uid = call->uid,
  };
  GError *error = NULL;
  GVariant *reply;
  const char *locale_name = NULL;
  locale_t locale = (locale_t) 0;
  locale_t previous = (locale_t) 0;

  /* Words in replies (disk contents, reasons, errors) are for the person
   * behind the caller: answer in their language when they name it. */
  if (g_variant_lookup (options, IMPRINT_KEY_LOCALE, "&s", &locale_name) && *locale_name)
    {
      locale = newlocale (LC_ALL_MASK, locale_name, (locale_t) 0);
      if (locale != (locale_t) 0)
        previous = uselocale (locale);
    }

  reply = call->method->func (&mc, &error);

  if (locale != (locale_t) 0)
    {
      uselocale (previous);
      freelocale (locale);
    }
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_variant_ref_sink (reply), (GDestroyNotify) g_variant_unref);
}

static void
on_call_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = g_task_propagate_pointer (G_TASK (res), &error);
  if (reply == NULL)
    return_error (call->invocation, error);
  else
    {
      g_dbus_method_invocation_return_value (call->invocation, reply);
      g_variant_unref (reply);
    }
  call_free (call);
}

static void
run_call (Call *call)
{
  g_autoptr(GTask) task = NULL;

  if (call->method->main_thread)
    {
      g_autoptr(GVariant) options = call_options (call);
      ImprintdMethodCall mc = {
        .daemon = call->daemon,
        .invocation = call->invocation,
        .parameters = g_dbus_method_invocation_get_parameters (call->invocation),
        .options = options,
        .uid = call->uid,
      };
      g_autoptr(GError) error = NULL;
      GVariant *reply = call->method->func (&mc, &error);

      if (reply == NULL)
        return_error (call->invocation, error);
      else
        g_dbus_method_invocation_return_value (call->invocation, reply);
      call_free (call);
      return;
    }

  task = g_task_new (NULL, NULL, on_call_done, call);
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, call_thread);
}

static void
on_authorized (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!imprintd_auth_check_finish (res, &error))
    {
      g_debug ("%s refused for uid %u: %s", call->method->name, call->uid, error->message);
      return_call_error (call, error);
      call_free (call);
      return;
    }
  run_call (call);
}

static void
on_caller_uid (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GHashTable) details = NULL;

  if (!imprintd_auth_get_caller_uid_finish (res, &call->uid, &error))
    {
      return_call_error (call, error);
      call_free (call);
      return;
    }

  if (call->method->action == NULL)
    {
      run_call (call);
      return;
    }

  options = call_options (call);
  details = imprintd_polkit_details (call->method->name,
                                     g_dbus_method_invocation_get_parameters (call->invocation));
  imprintd_auth_check_async (call->invocation, call->method->action, details, options,
                            imprintd_daemon_get_stop_cancellable (call->daemon),
                            on_authorized, call);
}

static gboolean
dispatch_in_main (gpointer user_data)
{
  Call *call = user_data;

  imprintd_daemon_hold (call->daemon);
  /* While stopping, nothing new starts: the caller is told why, and a
   * retry once imprintd has gone reaches a freshly activated one. */
  if (imprintd_daemon_is_stopping (call->daemon))
    {
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "");
      return_call_error (call, error);
      call_free (call);
      return G_SOURCE_REMOVE;
    }
  imprintd_auth_get_caller_uid_async (call->invocation, imprintd_daemon_get_stop_cancellable (call->daemon),
                                     on_caller_uid, call);
  return G_SOURCE_REMOVE;
}

/* GDBus asks this before any handle-* signal. Taking every Manager call
 * here gives all methods the same uid + polkit path, and none can skip it:
 * a method missing from the table is refused. GDBus emits it in a worker
 * thread, so the call hops back to the main loop before anything async. */
static gboolean
on_authorize_method (GDBusInterfaceSkeleton *skeleton,
                     GDBusMethodInvocation  *invocation,
                     gpointer                user_data)
{
  ImprintdDaemon *daemon = user_data;
  const char *name = g_dbus_method_invocation_get_method_name (invocation);
  const ImprintdMethod *method = imprintd_methods_lookup (name);
  Call *call;

  if (method == NULL)
    {
      g_dbus_method_invocation_return_error (g_object_ref (invocation), IMPRINT_ERROR,
                                             IMPRINT_ERROR_NOT_SUPPORTED,
                                             _("%s is not implemented by this version of imprintd."),
                                             name);
      return FALSE;
    }
  call = g_new0 (Call, 1);
  call->daemon = g_object_ref (daemon);
  call->invocation = g_object_ref (invocation);
  call->method = method;
  g_main_context_invoke (imprintd_daemon_get_context (daemon), dispatch_in_main, call);
  return FALSE;
}

/* Hotplug: the monitor reports whole disks as they come and go. */

static void
on_disk_added (ImprintDiskMonitor *monitor, GVariant *disk, gpointer user_data)
{
  imprint_manager_emit_disk_added (IMPRINT_MANAGER (user_data), disk);
}

static void
on_disk_changed (ImprintDiskMonitor *monitor, GVariant *disk, gpointer user_data)
{
  imprint_manager_emit_disk_changed (IMPRINT_MANAGER (user_data), disk);
}

static void
on_disk_removed (ImprintDiskMonitor *monitor, const char *device, gpointer user_data)
{
  imprint_manager_emit_disk_removed (IMPRINT_MANAGER (user_data), device);
}

void
imprintd_manager_export (ImprintdDaemon *daemon, GDBusObjectManagerServer *server)
{
  g_autoptr(ImprintObjectSkeleton) object = NULL;
  g_autoptr(ImprintManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  ImprintDiskMonitor *monitor;
  const ImprintDiskEnumerateOptions monitor_opts = { 0 };

  manager = imprint_manager_skeleton_new ();
  imprint_manager_set_version (manager, PACKAGE_VERSION);

  g_signal_connect_object (manager, "g-authorize-method",
                           G_CALLBACK (on_authorize_method), daemon, G_CONNECT_DEFAULT);

  /* Default options: loop devices are reported, marked unusable; a
   * client that offers them (tests) re-lists with "include-loop". */
  monitor = imprint_disk_monitor_new (&monitor_opts, &error);
  if (monitor == NULL)
    g_warning ("disk hotplug is not reported: %s", error->message);
  else
    {
      g_signal_connect_object (monitor, "disk-added", G_CALLBACK (on_disk_added), manager, 0);
      g_signal_connect_object (monitor, "disk-changed", G_CALLBACK (on_disk_changed), manager, 0);
      g_signal_connect_object (monitor, "disk-removed", G_CALLBACK (on_disk_removed), manager, 0);
      /* Lives as long as the manager. */
      g_object_set_data_full (G_OBJECT (manager), "imprintd-disk-monitor", monitor, g_object_unref);
    }

  object = imprint_object_skeleton_new (IMPRINT_MANAGER_PATH);
  imprint_object_skeleton_set_manager (object, manager);
  g_dbus_object_manager_server_export (server, G_DBUS_OBJECT_SKELETON (object));
}

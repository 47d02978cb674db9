/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "imprint-geoclue.h"

/* GeoClue straight over GDBus rather than libgeoclue-2 (Debian 12 has
 * libgeoclue-2-dev 2.6): this is five calls and one signal, and the
 * library would be one more build and runtime dependency (and on the
 * image) for code GIO already has. */

#define GEOCLUE_NAME      "org.freedesktop.GeoClue2"
#define GEOCLUE_MANAGER   "/org/freedesktop/GeoClue2/Manager"
#define GEOCLUE_CLIENT    "org.freedesktop.GeoClue2.Client"
#define GEOCLUE_LOCATION  "org.freedesktop.GeoClue2.Location"
#define GEOCLUE_ACCURACY_CITY 4

typedef struct {
  GDBusConnection *bus;
  char            *desktop_id;
  char            *client_path;
  guint            step;        /* G_MAXUINT once returned */
  guint            signal_id;
  GSource         *timeout;     /* each holds a reference on the task */
  GSource         *cancelled;
  gboolean         started;
} Locate;

typedef struct {
  double latitude;
  double longitude;
} Position;

static void
locate_free (gpointer data)
{
  Locate *l = data;

  g_clear_object (&l->bus);
  g_free (l->desktop_id);
  g_free (l->client_path);
  g_free (l);
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Ends the task once, whatever came first (an answer, an error, the
 * timeout or the cancellable), and lets GeoClue go. */
static void
locate_return (GTask    *task,
               Position *position,
               GError   *error)
{
  Locate *l = g_task_get_task_data (task);

  if (l->step == G_MAXUINT)
    {
      g_free (position);
      g_clear_error (&error);
      return;
    }
  l->step = G_MAXUINT;
  g_object_ref (task);   /* the sources' references go now */
  clear_source (&l->timeout);
  clear_source (&l->cancelled);
  if (l->signal_id != 0)
    g_dbus_connection_signal_unsubscribe (l->bus, l->signal_id);
  l->signal_id = 0;
  /* Stop what we started; nobody waits for the answer. */
  if (l->started)
    g_dbus_connection_call (l->bus, GEOCLUE_NAME, l->client_path, GEOCLUE_CLIENT, "Stop",
                            NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  l->started = FALSE;
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, position, g_free);
  g_object_unref (task);
}

/* A call to GeoClue on behalf of @task, which @callback gets back. */
static void
geoclue_call (GTask               *task,
              const char          *path,
              const char          *interface,
              const char          *method,
              GVariant            *params,
              const GVariantType  *reply_type,
              GAsyncReadyCallback  callback)
{
  Locate *l = g_task_get_task_data (task);

  g_dbus_connection_call (l->bus, GEOCLUE_NAME, path, interface, method, params, reply_type,
                          G_DBUS_CALL_FLAGS_NONE, -1, g_task_get_cancellable (task),
                          callback, g_object_ref (task));
}

static void
location_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) props = NULL;
  GError *error = NULL;
  Position *position;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      locate_return (task, NULL, error);
      return;
    }
  props = g_variant_get_child_value (reply, 0);
  position = g_new0 (Position, 1);
  if (!g_variant_lookup (props, "Latitude", "d", &position->latitude) ||
      !g_variant_lookup (props, "Longitude", "d", &position->longitude))
    {
      g_free (position);
      locate_return (task, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                      "GeoClue's location has no coordinates"));
      return;
    }
  locate_return (task, position, NULL);
}

static void
location_updated_cb (GDBusConnection *bus,
                     const char      *sender,
                     const char      *path,
                     const char      *interface,
                     const char      *signal,
                     GVariant        *params,
                     gpointer         user_data)
{
  GTask *task = user_data;
  Locate *l = g_task_get_task_data (task);
  const char *new_path;

  if (l->step == G_MAXUINT || l->signal_id == 0 ||
      !g_variant_is_of_type (params, G_VARIANT_TYPE ("(oo)")))
    return;
  g_variant_get (params, "(&o&o)", NULL, &new_path);
  /* One answer is all we need. */
  g_dbus_connection_signal_unsubscribe (bus, l->signal_id);
  l->signal_id = 0;
  geoclue_call (task, new_path, "org.freedesktop.DBus.Properties", "GetAll",
                g_variant_new ("(s)", GEOCLUE_LOCATION), G_VARIANT_TYPE ("(a{sv})"), location_cb);
}

/* GetClient, then set DesktopId and the accuracy, then Start; each
 * reply brings the next call. */
static void
locate_step_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Locate *l = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  const char *method = "Set";
  const char *interface = "org.freedesktop.DBus.Properties";
  GVariant *params = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      locate_return (task, NULL, error);
      return;
    }
  if (l->step == G_MAXUINT)
    return;
  switch (l->step++)
    {
    case 0:   /* GetClient's reply */
      g_variant_get (reply, "(o)", &l->client_path);
      /* Subscribed before Start, so no answer slips through. */
      l->signal_id = g_dbus_connection_signal_subscribe (l->bus, GEOCLUE_NAME, GEOCLUE_CLIENT, "LocationUpdated",
                                                         l->client_path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                         location_updated_cb, task, NULL);
      params = g_variant_new ("(ssv)", GEOCLUE_CLIENT, "DesktopId", g_variant_new_string (l->desktop_id));
      break;
    case 1:
      params = g_variant_new ("(ssv)", GEOCLUE_CLIENT, "RequestedAccuracyLevel",
                              g_variant_new_uint32 (GEOCLUE_ACCURACY_CITY));
      break;
    case 2:
      method = "Start";
      interface = GEOCLUE_CLIENT;
      l->started = TRUE;
      break;
    default:  /* Started: LocationUpdated or the timeout comes next. */
      return;
    }
  geoclue_call (task, l->client_path, interface, method, params, NULL, locate_step_cb);
}

static void
bus_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Locate *l = g_task_get_task_data (task);
  GError *error = NULL;

  l->bus = g_bus_get_finish (result, &error);
  if (l->bus == NULL)
    {
      locate_return (task, NULL, error);
      return;
    }
  if (l->step == G_MAXUINT)
    return;
  /* GetClient: one client per connection; GeoClue is bus-activated,
   * so a missing one is ServiceUnknown. */
  geoclue_call (task, GEOCLUE_MANAGER, "org.freedesktop.GeoClue2.Manager", "GetClient",
                NULL, G_VARIANT_TYPE ("(o)"), locate_step_cb);
}

static gboolean
timeout_cb (gpointer user_data)
{
  locate_return (user_data, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                                       "GeoClue found no location in time"));
  return G_SOURCE_REMOVE;
}

/* From the main loop, not inside g_cancellable_cancel(). */
static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  locate_return (user_data, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                       "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

static GSource *
attach_with_task (GSource     *source,
                  GSourceFunc  func,
                  GTask       *task)
{
  g_source_set_callback (source, func, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

void
imprint_geoclue_locate_async (const char          *desktop_id,
                              guint                timeout_seconds,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Locate *l;

  g_return_if_fail (desktop_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imprint_geoclue_locate_async);
  l = g_new0 (Locate, 1);
  l->desktop_id = g_strdup (desktop_id);
  g_task_set_task_data (task, l, locate_free);
  /* The task lives until it returns: these two hold it. */
  l->timeout = attach_with_task (g_timeout_source_new_seconds (timeout_seconds), timeout_cb, task);
  if (cancellable != NULL)
    l->cancelled = attach_with_task (g_cancellable_source_new (cancellable), G_SOURCE_FUNC (cancelled_cb), task);
  g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, bus_cb, g_steal_pointer (&task));
}

gboolean
imprint_geoclue_locate_finish (GAsyncResult  *result,
                               double        *ret_latitude,
                               double        *ret_longitude,
                               GError       **error)
{
  g_autofree Position *position = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  position = g_task_propagate_pointer (G_TASK (result), error);
  if (position == NULL)
    return FALSE;
  if (ret_latitude)
    *ret_latitude = position->latitude;
  if (ret_longitude)
    *ret_longitude = position->longitude;
  return TRUE;
}

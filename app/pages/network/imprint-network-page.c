/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "imprint-names.h"
#include "imprint-network-page.h"

/* NetworkManager's D-Bus API (its stable, documented interface). */
#define NM_NAME          "org.freedesktop.NetworkManager"
#define NM_PATH          "/org/freedesktop/NetworkManager"
#define NM_IFACE         "org.freedesktop.NetworkManager"
#define NM_DEVICE_IFACE  "org.freedesktop.NetworkManager.Device"
#define NM_WIFI_IFACE    "org.freedesktop.NetworkManager.Device.Wireless"
#define NM_AP_IFACE      "org.freedesktop.NetworkManager.AccessPoint"
#define NM_DEVICE_TYPE_WIFI 2
#define NM_STATE_CONNECTED_GLOBAL 70

struct _ImprintNetworkPage
{
  ImprintPage          parent_instance;

  AdwPreferencesGroup *networks_group;
  GtkWidget           *password_group;
  AdwEntryRow         *password_row;
  GtkWidget           *connect_button;
  GtkLabel            *status_label;

  GDBusConnection     *bus;
  GPtrArray           *rows;          /* the rows in networks_group */
  guint                state_id;
  char                *device;        /* the Wi-Fi device of the chosen network */
  char                *ap;            /* its access point */
  GBytes              *ssid;
};

G_DEFINE_FINAL_TYPE (ImprintNetworkPage, imprint_network_page, IMPRINT_TYPE_PAGE)

gboolean
imprint_network_page_skip (ImprintSetupChoices *setup)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  if (imprint_setup_choices_get_flag (setup, IMPRINT_KEY_ONLINE))
    return TRUE;
  /* Asked at every move between pages: look once. */
  if (g_object_get_data (G_OBJECT (setup), "imprint-networkmanager") != NULL)
    return g_object_get_data (G_OBJECT (setup), "imprint-networkmanager") == GINT_TO_POINTER (1);
  /* Only NetworkManager's networks are offered; without it, nothing. */
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  if (bus != NULL)
    reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "NameHasOwner",
                                         g_variant_new ("(s)", NM_NAME), G_VARIANT_TYPE ("(b)"),
                                         G_DBUS_CALL_FLAGS_NONE, 1000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  g_object_set_data (G_OBJECT (setup), "imprint-networkmanager", GINT_TO_POINTER (has_owner ? 2 : 1));
  return !has_owner;
}

static void
nm_call (ImprintNetworkPage  *self,
         const char          *path,
         const char          *iface,
         const char          *method,
         GVariant            *params,
         const char          *reply_type,
         GAsyncReadyCallback  callback)
{
  g_dbus_connection_call (self->bus, NM_NAME, path, iface, method, params,
                          reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
                          imprint_page_get_cancellable (IMPRINT_PAGE (self)), callback, g_object_ref (self));
}

static void
set_status (ImprintNetworkPage *self,
            const char         *text)
{
  gtk_label_set_label (self->status_label, text);
}

static void
clear_rows (ImprintNetworkPage *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->networks_group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
}

static void
activated_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(ImprintNetworkPage) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_dbus_error_strip_remote_error (error);
      /* Translators: %s is NetworkManager's reason */
      text = g_strdup_printf (_("Could not connect: %s"), error->message);
      set_status (self, text);
      return;
    }
  set_status (self, _("Connecting…"));
}

static void
connect_cb (ImprintNetworkPage *self)
{
  GVariantBuilder conn, wifi, sec;
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  gboolean secured = gtk_widget_get_visible (self->password_group);

  if (self->device == NULL || self->ssid == NULL || (secured && *password == '\0'))
    return;

  g_variant_builder_init (&conn, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_variant_builder_init (&wifi, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&wifi, "{sv}", "ssid",
                         g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, self->ssid, TRUE));
  g_variant_builder_add (&conn, "{s@a{sv}}", "802-11-wireless", g_variant_builder_end (&wifi));
  if (secured)
    {
      g_variant_builder_init (&sec, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&sec, "{sv}", "key-mgmt", g_variant_new_string ("wpa-psk"));
      g_variant_builder_add (&sec, "{sv}", "psk", g_variant_new_string (password));
      g_variant_builder_add (&conn, "{s@a{sv}}", "802-11-wireless-security", g_variant_builder_end (&sec));
    }
  set_status (self, _("Connecting…"));
  /* NetworkManager fills in the rest and keeps the profile. */
  nm_call (self, NM_PATH, NM_IFACE, "AddAndActivateConnection",
           g_variant_new ("(@a{sa{sv}}oo)", g_variant_builder_end (&conn), self->device,
                          self->ap ? self->ap : "/"),
           "(oo)", activated_cb);
}

static void
row_activated_cb (ImprintNetworkPage *self,
                  AdwActionRow       *row)
{
  gboolean secured = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "secured"));

  g_free (self->device);
  self->device = g_strdup (g_object_get_data (G_OBJECT (row), "device"));
  g_free (self->ap);
  self->ap = g_strdup (g_object_get_data (G_OBJECT (row), "ap"));
  g_clear_pointer (&self->ssid, g_bytes_unref);
  self->ssid = g_bytes_ref (g_object_get_data (G_OBJECT (row), "ssid"));

  gtk_widget_set_visible (self->password_group, secured);
  gtk_widget_set_visible (self->connect_button, TRUE);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  if (secured)
    {
      g_autofree char *text = g_strdup_printf (_("Enter the password of “%s”."),
                                               adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
      set_status (self, text);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
    }
  else
    connect_cb (self);
}

static void
add_network (ImprintNetworkPage *self,
             const char         *device,
             const char         *ap,
             GVariant           *props)
{
  g_autoptr(GVariant) ssid = g_variant_lookup_value (props, "Ssid", G_VARIANT_TYPE_BYTESTRING);
  guint32 wpa = 0, rsn = 0;
  guchar strength = 0;
  g_autofree char *name = NULL;
  g_autofree char *subtitle = NULL;
  GtkWidget *row;
  gsize len;
  const char *data;

  if (ssid == NULL)
    return;
  data = g_variant_get_fixed_array (ssid, &len, 1);
  if (len == 0)
    return;   /* hidden network */
  name = g_utf8_make_valid (data, len);
  for (guint i = 0; i < self->rows->len; i++)
    if (g_str_equal (adw_preferences_row_get_title (g_ptr_array_index (self->rows, i)), name))
      return;   /* one row a network, not one an access point */
  g_variant_lookup (props, "WpaFlags", "u", &wpa);
  g_variant_lookup (props, "RsnFlags", "u", &rsn);
  g_variant_lookup (props, "Strength", "y", &strength);

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  /* Translators: Wi-Fi signal strength, e.g. "Signal 80 %, secured" */
  subtitle = g_strdup_printf ((wpa || rsn) ? _("Signal %u %%, secured") : _("Signal %u %%, open"), strength);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (wpa || rsn)
    {
      GtkWidget *lock = gtk_image_new_from_icon_name ("network-wireless-encrypted-symbolic");

      gtk_accessible_update_property (GTK_ACCESSIBLE (lock), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Secured"), -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), lock);
    }
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "device", g_strdup (device), g_free);
  g_object_set_data_full (G_OBJECT (row), "ap", g_strdup (ap), g_free);
  g_object_set_data_full (G_OBJECT (row), "ssid", g_variant_get_data_as_bytes (ssid), (GDestroyNotify) g_bytes_unref);
  g_object_set_data (G_OBJECT (row), "secured", GINT_TO_POINTER (wpa || rsn));
  g_signal_connect_object (row, "activated", G_CALLBACK (row_activated_cb), self, G_CONNECT_SWAPPED);
  adw_preferences_group_add (self->networks_group, row);
  g_ptr_array_add (self->rows, row);
}

typedef struct {
  ImprintNetworkPage *self;
  char               *device;
  char               *ap;
} ApLookup;

static void
ap_props_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ApLookup *l = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);

  if (reply != NULL)
    {
      g_autoptr(GVariant) props = g_variant_get_child_value (reply, 0);

      add_network (l->self, l->device, l->ap, props);
      set_status (l->self, "");
    }
  g_object_unref (l->self);
  g_free (l->device);
  g_free (l->ap);
  g_free (l);
}

static void
access_points_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(ImprintNetworkPage) self = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);
  g_autofree const char **aps = NULL;
  const char *device = g_object_get_data (G_OBJECT (self), "listing-device");

  if (reply == NULL)
    return;
  g_variant_get (reply, "(^a&o)", &aps);
  for (guint i = 0; aps[i]; i++)
    {
      ApLookup *l = g_new0 (ApLookup, 1);

      l->self = g_object_ref (self);
      l->device = g_strdup (device);
      l->ap = g_strdup (aps[i]);
      g_dbus_connection_call (self->bus, NM_NAME, aps[i], "org.freedesktop.DBus.Properties", "GetAll",
                              g_variant_new ("(s)", NM_AP_IFACE), G_VARIANT_TYPE ("(a{sv})"),
                              G_DBUS_CALL_FLAGS_NONE, -1, imprint_page_get_cancellable (IMPRINT_PAGE (self)), ap_props_cb, l);
    }
}

static void
device_type_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  ApLookup *l = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);
  ImprintNetworkPage *self = l->self;

  if (reply != NULL)
    {
      g_autoptr(GVariant) v = NULL;

      g_variant_get (reply, "(v)", &v);
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32) && g_variant_get_uint32 (v) == NM_DEVICE_TYPE_WIFI)
        {
          /* Ask for fresh results; the list below is what is known now. */
          g_dbus_connection_call (self->bus, NM_NAME, l->device, NM_WIFI_IFACE, "RequestScan",
                                  g_variant_new ("(a{sv})", NULL), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                                  NULL, NULL, NULL);
          g_object_set_data_full (G_OBJECT (self), "listing-device", g_strdup (l->device), g_free);
          nm_call (self, l->device, NM_WIFI_IFACE, "GetAllAccessPoints", NULL, "(ao)", access_points_cb);
        }
    }
  g_object_unref (l->self);
  g_free (l->device);
  g_free (l);
}

static void
devices_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ImprintNetworkPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  g_autofree const char **devices = NULL;

  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_status (self, _("No networks can be listed. Press Next to go on without a connection."));
      return;
    }
  g_variant_get (reply, "(^a&o)", &devices);
  for (guint i = 0; devices[i]; i++)
    {
      ApLookup *l = g_new0 (ApLookup, 1);

      l->self = g_object_ref (self);
      l->device = g_strdup (devices[i]);
      g_dbus_connection_call (self->bus, NM_NAME, devices[i], "org.freedesktop.DBus.Properties", "Get",
                              g_variant_new ("(ss)", NM_DEVICE_IFACE, "DeviceType"), G_VARIANT_TYPE ("(v)"),
                              G_DBUS_CALL_FLAGS_NONE, -1, imprint_page_get_cancellable (IMPRINT_PAGE (self)), device_type_cb, l);
    }
}

static void
refresh_cb (ImprintNetworkPage *self)
{
  if (self->bus == NULL)
    return;
  clear_rows (self);
  set_status (self, _("Looking for networks…"));
  nm_call (self, NM_PATH, NM_IFACE, "GetDevices", NULL, "(ao)", devices_cb);
}

static void
nm_state_cb (GDBusConnection *bus,
             const char      *sender,
             const char      *path,
             const char      *iface,
             const char      *signal,
             GVariant        *params,
             gpointer         user_data)
{
  ImprintNetworkPage *self = user_data;
  guint32 state = 0;

  if (g_variant_is_of_type (params, G_VARIANT_TYPE ("(u)")))
    g_variant_get (params, "(u)", &state);
  if (state == NM_STATE_CONNECTED_GLOBAL)
    set_status (self, _("Connected to the internet. Press Next to go on."));
}

static void
imprint_network_page_shown (ImprintPage *page)
{
  ImprintNetworkPage *self = IMPRINT_NETWORK_PAGE (page);

  if (self->bus != NULL)
    return;
  self->bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  if (self->bus == NULL)
    return;
  self->state_id = g_dbus_connection_signal_subscribe (self->bus, NM_NAME, NM_IFACE, "StateChanged", NM_PATH,
                                                       NULL, G_DBUS_SIGNAL_FLAGS_NONE, nm_state_cb, self, NULL);
  refresh_cb (self);
}

static void
imprint_network_page_dispose (GObject *object)
{
  ImprintNetworkPage *self = IMPRINT_NETWORK_PAGE (object);

  if (self->state_id != 0)
    g_dbus_connection_signal_unsubscribe (self->bus, self->state_id);
  self->state_id = 0;
  g_clear_object (&self->bus);

  G_OBJECT_CLASS (imprint_network_page_parent_class)->dispose (object);
}

static void
imprint_network_page_finalize (GObject *object)
{
  ImprintNetworkPage *self = IMPRINT_NETWORK_PAGE (object);

  g_ptr_array_unref (self->rows);
  g_free (self->device);
  g_free (self->ap);
  g_clear_pointer (&self->ssid, g_bytes_unref);

  G_OBJECT_CLASS (imprint_network_page_parent_class)->finalize (object);
}

static void
imprint_network_page_class_init (ImprintNetworkPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ImprintPageClass *page_class = IMPRINT_PAGE_CLASS (klass);

  object_class->dispose = imprint_network_page_dispose;
  object_class->finalize = imprint_network_page_finalize;
  page_class->shown = imprint_network_page_shown;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/imprint/Imprint/pages/network/imprint-network-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImprintNetworkPage, networks_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintNetworkPage, password_group);
  gtk_widget_class_bind_template_child (widget_class, ImprintNetworkPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, ImprintNetworkPage, connect_button);
  gtk_widget_class_bind_template_child (widget_class, ImprintNetworkPage, status_label);
  gtk_widget_class_bind_template_callback (widget_class, refresh_cb);
  gtk_widget_class_bind_template_callback (widget_class, connect_cb);
}

static void
imprint_network_page_init (ImprintNetworkPage *self)
{
  self->rows = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Never a dead end: going on without a network is always possible. */
  imprint_page_set_complete (IMPRINT_PAGE (self), TRUE);
}

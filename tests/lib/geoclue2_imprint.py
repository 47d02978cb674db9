'''A GeoClue2 stand-in for Imprint's setup UI test (python-dbusmock
template): Manager.GetClient gives one client; its Start publishes a
Location object at the given coordinates and emits LocationUpdated, as
GeoClue does once it has a fix. Properties set by the caller (DesktopId,
RequestedAccuracyLevel) are kept, so the test can read them back; calls
are recorded by dbusmock (GetMethodCalls).
Parameters (JSON): "Latitude", "Longitude" (degrees, north/east positive).'''

import dbus

BUS_NAME = 'org.freedesktop.GeoClue2'
MAIN_OBJ = '/org/freedesktop/GeoClue2/Manager'
MAIN_IFACE = 'org.freedesktop.GeoClue2.Manager'
SYSTEM_BUS = True

CLIENT_PATH = '/org/freedesktop/GeoClue2/Client/1'
CLIENT_IFACE = 'org.freedesktop.GeoClue2.Client'
LOCATION_PATH = CLIENT_PATH + '/Location/1'
LOCATION_IFACE = 'org.freedesktop.GeoClue2.Location'

# Client.Start: the location, once, then the signal (before Start's reply,
# so only a client that subscribed first sees it, as with GeoClue).
START = '''
if "{path}" not in objects:
    self.AddObject("{path}", "{iface}", {{
        "Latitude": dbus.Double({latitude}), "Longitude": dbus.Double({longitude}),
        "Accuracy": dbus.Double(5000.0), "Altitude": dbus.Double(-1.7976931348623157e308),
        "Speed": dbus.Double(-1.0), "Heading": dbus.Double(-1.0), "Description": "",
        "Timestamp": dbus.Struct((dbus.UInt64(0), dbus.UInt64(0)), signature="tt")}}, [])
self.Set("{client}", "Active", True)
self.Set("{client}", "Location", dbus.ObjectPath("{path}"))
self.EmitSignal("{client}", "LocationUpdated", "oo", [dbus.ObjectPath("/"), dbus.ObjectPath("{path}")])
'''


def load(mock, parameters):
    latitude = float(parameters.get('Latitude', 0.0))
    longitude = float(parameters.get('Longitude', 0.0))

    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        'InUse': False,
        'AvailableAccuracyLevel': dbus.UInt32(8),
    }, signature='sv'))
    mock.AddMethods(MAIN_IFACE, [
        ('GetClient', '', 'o', f'ret = dbus.ObjectPath("{CLIENT_PATH}")'),
        ('CreateClient', '', 'o', f'ret = dbus.ObjectPath("{CLIENT_PATH}")'),
    ])
    mock.AddObject(CLIENT_PATH, CLIENT_IFACE, {
        'Location': dbus.ObjectPath('/'),
        'DistanceThreshold': dbus.UInt32(0),
        'TimeThreshold': dbus.UInt32(0),
        'DesktopId': '',
        'RequestedAccuracyLevel': dbus.UInt32(0),
        'Active': False,
    }, [
        ('Start', '', '', START.format(client=CLIENT_IFACE, path=LOCATION_PATH, iface=LOCATION_IFACE,
                                       latitude=latitude, longitude=longitude)),
        ('Stop', '', '', f'self.Set("{CLIENT_IFACE}", "Active", False)'),
    ])

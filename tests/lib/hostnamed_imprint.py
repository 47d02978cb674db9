'''A systemd-hostnamed stand-in for Imprint's setup tests (python-dbusmock
template): SetStaticHostname and SetPrettyHostname update the properties;
calls are recorded by dbusmock (GetMethodCalls).
Parameters (JSON): "StaticHostname", "PrettyHostname".'''

import dbus

BUS_NAME = 'org.freedesktop.hostname1'
MAIN_OBJ = '/org/freedesktop/hostname1'
MAIN_IFACE = 'org.freedesktop.hostname1'
SYSTEM_BUS = True


def load(mock, parameters):
    mock.AddMethods(MAIN_IFACE, [
        ('SetStaticHostname', 'sb', '', f'self.Set("{MAIN_IFACE}", "StaticHostname", args[0])'),
        ('SetPrettyHostname', 'sb', '', f'self.Set("{MAIN_IFACE}", "PrettyHostname", args[0])'),
        ('SetHostname', 'sb', '', f'self.Set("{MAIN_IFACE}", "Hostname", args[0])'),
    ])
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        'Hostname': parameters.get('StaticHostname', 'localhost'),
        'StaticHostname': parameters.get('StaticHostname', ''),
        'PrettyHostname': parameters.get('PrettyHostname', ''),
    }, signature='sv'))

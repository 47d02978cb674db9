'''A systemd-localed stand-in for Imprint's setup tests (python-dbusmock
template): SetLocale, SetVConsoleKeyboard and SetX11Keyboard update the
properties; calls are recorded by dbusmock (GetMethodCalls).
Parameters (JSON): "Locale" (as), "VConsoleKeymap" (s).'''

import dbus

BUS_NAME = 'org.freedesktop.locale1'
MAIN_OBJ = '/org/freedesktop/locale1'
MAIN_IFACE = 'org.freedesktop.locale1'
SYSTEM_BUS = True


def load(mock, parameters):
    mock.AddMethods(MAIN_IFACE, [
        ('SetLocale', 'asb', '', f'self.Set("{MAIN_IFACE}", "Locale", args[0])'),
        ('SetVConsoleKeyboard', 'ssbb', '',
         f'self.Set("{MAIN_IFACE}", "VConsoleKeymap", args[0]); '
         f'self.Set("{MAIN_IFACE}", "VConsoleKeymapToggle", args[1])'),
        ('SetX11Keyboard', 'ssssbb', '', f'self.Set("{MAIN_IFACE}", "X11Layout", args[0])'),
    ])
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        'Locale': dbus.Array(parameters.get('Locale', ['LANG=C.UTF-8']), signature='s'),
        'VConsoleKeymap': parameters.get('VConsoleKeymap', 'us'),
        'VConsoleKeymapToggle': '',
        'X11Layout': 'us', 'X11Model': '', 'X11Variant': '', 'X11Options': '',
    }, signature='sv'))

'''A polkitd stand-in for Imprint's tests (a python-dbusmock template).

Like dbusmock's own polkitd template (allow list, hang), plus the answers a
real polkit gives that the stock template cannot: "dismissed" (the user
closed the dialog) and "challenge" (authentication would be needed but the
caller forbade interaction). It also records every CheckAuthorization, and
the details it was given (GetDetails).
'''

import dbus

from dbusmock import MOCK_IFACE

BUS_NAME = 'org.freedesktop.PolicyKit1'
MAIN_OBJ = '/org/freedesktop/PolicyKit1/Authority'
MAIN_IFACE = 'org.freedesktop.PolicyKit1.Authority'
SYSTEM_BUS = True

ALLOW_USER_INTERACTION = 1


def load(mock, _parameters):
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        'BackendName': 'local',
        'BackendVersion': '0.105',
        'BackendFeatures': dbus.UInt32(1, variant_level=1),
    }, signature='sv'))
    mock.allowed = []
    mock.mode = 'deny'          # deny | allow | dismiss | challenge | hang
    mock.calls = []
    mock.details = []
    mock.hanging = []


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})sa{ss}us', out_signature='(bba{ss})',
                     async_callbacks=('ok_cb', '_err_cb'))
def CheckAuthorization(self, subject, action_id, details, flags, _cancellation_id, ok_cb, _err_cb):
    self.calls.append((str(action_id), int(flags)))
    self.details.append((str(action_id), {str(k): str(v) for k, v in details.items()}))
    interactive = bool(flags & ALLOW_USER_INTERACTION)
    if self.mode == 'hang':
        self.hanging.append(ok_cb)
        return
    if action_id in self.allowed or self.mode == 'allow':
        ok_cb((True, False, {}))
    elif self.mode == 'dismiss' and interactive:
        ok_cb((False, False, {'polkit.dismissed': 'true'}))
    elif self.mode in ('challenge', 'dismiss'):
        ok_cb((False, True, {}))
    else:
        ok_cb((False, False, {}))


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='')
def CancelCheckAuthorization(self, _cancellation_id):
    pass


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})ss')
def RegisterAuthenticationAgent(_self, _subject, _locale, _object_path):
    pass


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def SetMode(self, mode):
    '''deny | allow | dismiss | challenge | hang'''
    self.mode = str(mode)


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetAllowed(self, actions):
    self.allowed = [str(a) for a in actions]


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='a(su)')
def GetCalls(self):
    return dbus.Array(self.calls, signature='(su)')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='a(sa{ss})')
def GetDetails(self):
    return dbus.Array([(a, dbus.Dictionary(d, signature='ss')) for a, d in self.details],
                      signature='(sa{ss})')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def ClearCalls(self):
    self.calls = []
    self.details = []

'''A systemd-homed stand-in for Imprint's setup tests (python-dbusmock template).

homed cannot run on the test host (no systemd as PID 1, no device-mapper),
so this stands in for org.freedesktop.home1 on the private test bus. It keeps
every record sent to CreateHome/CreateHomeEx exactly as received, answers
GetUserRecordByName with the record signed (a "signature" section carrying
a PEM public key, like homed's own records), and records UnregisterHome and
RemoveHome. When a record's perMachine section names an imagePath for this
machine, an empty file is made there in place of the LUKS image.

Parameters (JSON): "ex" (bool, offer CreateHomeEx like homed >= 256).
Mock methods: SetFailure(s) ("" | "exists" | "unsigned"), GetRecords() -> as,
GetHomeCalls() -> a(ss).
'''

import json
import os

import dbus

from dbusmock import MOCK_IFACE

BUS_NAME = 'org.freedesktop.home1'
MAIN_OBJ = '/org/freedesktop/home1'
MAIN_IFACE = 'org.freedesktop.home1.Manager'
SYSTEM_BUS = True

PEM = ('-----BEGIN PUBLIC KEY-----\n'
       'MCowBQYDK2VwAyEAq0m8bB6sGg3l1oVYmW4Qe1VhT1Ry8W2v7t1X0V3pO7o=\n'
       '-----END PUBLIC KEY-----\n')


def _machine_id():
    try:
        with open('/etc/machine-id') as f:
            return f.read().strip()
    except OSError:
        return ''


def _image_path(record):
    for pm in record.get('perMachine', []):
        if _machine_id() in pm.get('matchMachineId', []) and 'imagePath' in pm:
            return pm['imagePath']
    return None


def _create(self, record_json):
    self.calls.append(('create', record_json))
    if self.failure == 'exists':
        raise dbus.exceptions.DBusException('User record anna exists already, refusing.',
                                            name='org.freedesktop.home1.UserRecordExists')
    record = json.loads(record_json)
    self.records.append(str(record_json))
    path = _image_path(record)
    if path:
        with open(path, 'w'):
            pass
    self.homes[record['userName']] = record


def load(mock, parameters):
    mock.records = []
    mock.calls = []
    mock.homes = {}
    mock.failure = ''
    mock.create_home = lambda record_json: _create(mock, record_json)
    methods = [
        ('CreateHome', 's', '', 'self.create_home(args[0])'),
    ]
    if parameters.get('ex', False):
        methods.append(('CreateHomeEx', 'sa{sh}t', '', 'self.create_home(args[0])'))
    mock.AddMethods(MAIN_IFACE, methods)


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='sbo')
def GetUserRecordByName(self, name):
    self.calls.append(('get', str(name)))
    if str(name) not in self.homes:
        raise dbus.exceptions.DBusException(f'No home for user {name} known',
                                            name='org.freedesktop.home1.NoSuchHome')
    record = {k: v for k, v in self.homes[str(name)].items() if k != 'secret'}
    if self.failure != 'unsigned':
        record['signature'] = [{'data': 'c2lnbmF0dXJl', 'key': PEM}]
    return (json.dumps(record), False, dbus.ObjectPath(f'/org/freedesktop/home1/home/{name}'))


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='')
def UnregisterHome(self, name):
    self.calls.append(('unregister', str(name)))
    self.homes.pop(str(name), None)


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='')
def RemoveHome(self, name):
    self.calls.append(('remove', str(name)))
    record = self.homes.pop(str(name), None)
    path = _image_path(record) if record else None
    if path and os.path.exists(path):
        os.unlink(path)


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def SetFailure(self, failure):
    self.failure = str(failure)


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='as')
def GetRecords(self):
    return dbus.Array(self.records, signature='s')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='a(ss)')
def GetHomeCalls(self):
    return dbus.Array(self.calls, signature='(ss)')

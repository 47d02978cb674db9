'''A systemd-sysupdated stand-in (python-dbusmock template) for the tests of
Imprint's sysupdated client: sysupdated (systemd >= 257) is not shipped by
Debian 12 or 13, so it cannot run here.

It implements the part of org.freedesktop.sysupdate1 Imprint uses, with the
signatures of upstream's src/sysupdate/sysupdated.c: Manager.ListTargets,
Target.List/Describe/Update, Job (Progress property, Cancel) and
Manager.JobRemoved. Describe answers with the JSON systemd-sysupdate 257
really printed for `list 1` / `list 2` (tests/update/recorded-257). Update
moves a job from 0 to 100 % in steps and then removes it with status 0;
parameter "fail" makes it end with status 1 instead, "step_ms" sets the pace.
'''

import os

import dbus
from gi.repository import GLib

from dbusmock.mockobject import objects

BUS_NAME = 'org.freedesktop.sysupdate1'
MAIN_OBJ = '/org/freedesktop/sysupdate1'
MAIN_IFACE = 'org.freedesktop.sysupdate1.Manager'
SYSTEM_BUS = True

TARGET_IFACE = 'org.freedesktop.sysupdate1.Target'
JOB_IFACE = 'org.freedesktop.sysupdate1.Job'
TARGET_PATH = '/org/freedesktop/sysupdate1/target/host'
RECORDED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'recorded-257')


def recorded(name):
    with open(os.path.join(RECORDED, name)) as f:
        return f.read().strip()


def load(mock, parameters):
    mock.fail = bool(parameters.get('fail', False))
    mock.step_ms = int(parameters.get('step_ms', 200))
    mock.next_job = 1
    mock.AddMethod(MAIN_IFACE, 'ListTargets', '', 'a(sso)',
                   f'ret = [("host", "host", dbus.ObjectPath("{TARGET_PATH}"))]')
    mock.AddMethod(MAIN_IFACE, 'ListJobs', '', 'a(tsuo)', 'ret = []')
    mock.AddObject(TARGET_PATH, TARGET_IFACE,
                   {'Class': 'host', 'Name': 'host', 'Path': 'sysupdate.d'}, [])
    target = objects[TARGET_PATH]
    versions = {'1': recorded('list-v1-json.out'), '2': recorded('list-v2-json.out')}

    def list_versions(_self, _flags):
        return dbus.Array(['2', '1'], signature='s')

    def describe(_self, version, _flags):
        if version not in versions:
            raise dbus.exceptions.DBusException(f'No version {version}',
                                                name='org.freedesktop.sysupdate1.NoSuchVersion')
        return versions[version]

    def update(_self, version, _flags):
        version = version or '2'
        job_id = mock.next_job
        mock.next_job += 1
        path = f'/org/freedesktop/sysupdate1/job/_{job_id}'
        mock.AddObject(path, JOB_IFACE, {'Id': dbus.UInt64(job_id), 'Type': 'update',
                                         'Offline': False, 'Progress': dbus.UInt32(0)}, [])
        job = objects[path]
        state = {'percent': 0, 'cancelled': False}

        def cancel(_self):
            state['cancelled'] = True

        job.AddMethod(JOB_IFACE, 'Cancel', '', '', cancel)

        def step():
            if state['cancelled']:
                mock.EmitSignal(MAIN_IFACE, 'JobRemoved', 'toi', [dbus.UInt64(job_id), dbus.ObjectPath(path), -15])
                return False
            if state['percent'] >= 100:
                mock.EmitSignal(MAIN_IFACE, 'JobRemoved', 'toi',
                                [dbus.UInt64(job_id), dbus.ObjectPath(path), 1 if mock.fail else 0])
                return False
            state['percent'] = min(100, state['percent'] + 25)
            job.UpdateProperties(JOB_IFACE, {'Progress': dbus.UInt32(state['percent'])})
            return True

        GLib.timeout_add(mock.step_ms, step)
        return (version, dbus.UInt64(job_id), dbus.ObjectPath(path))

    target.AddMethod(TARGET_IFACE, 'List', 't', 'as', list_versions)
    target.AddMethod(TARGET_IFACE, 'Describe', 'st', 's', describe)
    target.AddMethod(TARGET_IFACE, 'Update', 'st', 'sto', update)

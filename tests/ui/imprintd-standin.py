#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A test stand-in for imprintd, for the UI tests only.

It serves dev.imprint.Imprint1 exactly as data/dev.imprint.Imprint1.xml
defines it, on whatever bus DBUS_SYSTEM_BUS_ADDRESS points at, with disks,
capabilities and job outcomes taken from a JSON scenario file. It writes
nothing anywhere. It exists so the installer's pages can be driven and
screenshotted before (and independently of) the real daemon; the UI tests
prefer the real imprintd when it is built (see run-ui-tests.sh).

Extra, test-only interface dev.imprint.Test at /dev/imprint/Test:
  AddDisk(a{sv}), RemoveDisk(s): emit DiskAdded / DiskRemoved (hotplug)
  ChangeDisk(s): emit DiskChanged for it, without NTFS shrink facts (as
  imprintd's udev monitor does; ListDisks keeps them)
  SetOutcome(s): "success", "fail" or "slow" for the next Install
  HoldReplies(as): calls of these Manager methods get no answer until
  ReleaseReplies(), which answers them all (a slow imprintd)
GetSetupDefaults answers the scenario's "setup-defaults" (a{sv} of strings
and "decided", an array of strings) for the running system (target "").
"""
import json
import os
import secrets
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'dev.imprint.Imprint1'
MANAGER_PATH = '/dev/imprint/Imprint1/Manager'
MANAGER_IFACE = 'dev.imprint.Imprint1.Manager'
JOB_IFACE = 'dev.imprint.Imprint1.Job'
ERR = 'dev.imprint.Imprint1.Error.'
GIB = 1024 ** 3
MIB = 1024 ** 2

TEST_XML = """
<node>
  <interface name="dev.imprint.Test">
    <method name="AddDisk"><arg name="disk" type="a{sv}" direction="in"/></method>
    <method name="RemoveDisk"><arg name="device" type="s" direction="in"/></method>
    <method name="ChangeDisk"><arg name="device" type="s" direction="in"/></method>
    <method name="SetOutcome"><arg name="outcome" type="s" direction="in"/></method>
    <method name="HoldReplies"><arg name="methods" type="as" direction="in"/></method>
    <method name="ReleaseReplies"/>
  </interface>
</node>
"""

MODHEX = 'cbdefghijklnrtuv'


def vardict(d):
    """Python dict -> a{sv} with the types the contract gives."""
    types = {
        'size': 't', 'start': 't', 'logical-sector-size': 'u',
        'physical-sector-size': 'u', 'number': 'u',
        'removable': 'b', 'rotational': 'b', 'read-only': 'b', 'usable': 'b',
        'available': 'b', 'enabled': 'b', 'target-size': 't',
        'adds-boot-loader': 'b', 'adds-kernel-images': 'b', 'leftover': 'b',
        'defer-data-partitions': 'b',
        'possible': 'b', 'used': 't', 'min-size': 't', 'shrink-from': 't',
        'reasons': 'as', 'reason-codes': 'as', 'erased': 'as',
        'free': 'a(tt)',
    }
    out = {}
    for k, v in d.items():
        if k in ('partitions', 'erased-partitions'):
            out[k] = GLib.Variant('aa{sv}', [vardict(p) for p in v])
        elif k == 'shrink':
            out[k] = GLib.Variant('a{sv}', vardict(v))
        elif k == 'free':
            out[k] = GLib.Variant('a(tt)', [tuple(x) for x in v])
        elif k in types:
            out[k] = GLib.Variant(types[k], v)
        else:
            out[k] = GLib.Variant('s', v)
    return out


class Job:
    def __init__(self, daemon, number, outcome, total, fido2=False):
        self.daemon = daemon
        self.fido2 = fido2
        self.waiting = False
        self.path = '/dev/imprint/Imprint1/job/%d' % number
        self.outcome = outcome
        self.props = {
            'Operation': GLib.Variant('s', 'install'),
            'Step': GLib.Variant('s', ''),
            'Progress': GLib.Variant('d', 0.0),
            'ProgressValid': GLib.Variant('b', False),
            'BytesDone': GLib.Variant('t', 0),
            'BytesTotal': GLib.Variant('t', total),
            'Rate': GLib.Variant('t', 0),
            'StartTime': GLib.Variant('t', GLib.get_real_time()),
            'ExpectedEndTime': GLib.Variant('t', 0),
            'Cancelable': GLib.Variant('b', True),
            'StartedByUid': GLib.Variant('u', os.getuid()),
            'ErrorName': GLib.Variant('s', ''),
            'Result': GLib.Variant('a{sv}', {}),
        }
        self.total = total
        self.done = 0
        self.finished = False
        self.tick_ms = 400 if outcome == 'slow' else 60
        self.steps = 0
        self.reg = daemon.bus.register_object(self.path, daemon.job_iface,
                                              self.method_call, self.get_property, None)
        GLib.timeout_add(150, self.start)

    def set(self, **kw):
        changed = {}
        for k, v in kw.items():
            self.props[k] = v
            changed[k] = v
        self.daemon.bus.emit_signal(None, self.path, 'org.freedesktop.DBus.Properties',
                                    'PropertiesChanged',
                                    GLib.Variant('(sa{sv}as)', (JOB_IFACE, changed, [])))

    def signal(self, name, sig, args):
        self.daemon.bus.emit_signal(None, self.path, JOB_IFACE, name, GLib.Variant(sig, args))

    def start(self):
        self.signal('Log', '(s)', ('Checking the installation medium',))
        self.set(Step=GLib.Variant('s', 'Checking the installation medium'))
        GLib.timeout_add(self.tick_ms, self.tick)
        return False

    def tick(self):
        if self.finished:
            return False
        if self.waiting:
            return True
        self.steps += 1
        if self.steps == 2 and self.fido2:
            self.waiting = True
            self.signal('Request', '(sss)', ('pin-1', 'fido2-pin',
                                             'Enter the PIN of your security key “YubiKey 5 NFC”.'))
            return True
        if self.steps == 2:
            self.signal('Log', '(s)', ('Creating partitions on the disk',))
            self.set(Step=GLib.Variant('s', 'Creating partitions'))
            return True
        if self.steps == 3:
            self.signal('Log', '(s)', ('Copying the system (usr-A) from the medium',))
            self.set(Step=GLib.Variant('s', 'Copying the system'))
        rate = 180 * MIB
        self.done = min(self.total, self.done + self.total // 25)
        fraction = self.done / self.total
        remaining_s = (self.total - self.done) / rate
        self.set(Progress=GLib.Variant('d', fraction),
                 ProgressValid=GLib.Variant('b', True),
                 BytesDone=GLib.Variant('t', self.done),
                 Rate=GLib.Variant('t', rate),
                 ExpectedEndTime=GLib.Variant('t', GLib.get_real_time() + int(remaining_s * 1e6) + 60 * 1000000))
        if self.outcome == 'vanish' and fraction >= 0.4:
            # imprintd died mid-job: its name goes, no Completed comes.
            self.finished = True
            self.daemon.vanish()
            return False
        if self.outcome == 'fail' and fraction >= 0.4:
            self.finish(False, 'NoSpace',
                        'Writing to /dev/sdb failed at 1.6 GB: no space left on the device.')
            return False
        if fraction >= 1.0:
            self.signal('Log', '(s)', ('Verified usr-A against its verity root hash',))
            self.signal('Log', '(s)', ('Encrypting the root partition and enrolling the TPM',))
            self.finish(True, '', '')
            return False
        return True

    def finish(self, success, error, message):
        self.finished = True
        self.set(Cancelable=GLib.Variant('b', False),
                 ErrorName=GLib.Variant('s', ERR + error if error else ''),
                 Step=GLib.Variant('s', 'Finished' if success else 'Failed'))
        self.signal('Completed', '(bs)', (success, message))

    def method_call(self, conn, sender, path, iface, method, params, inv):
        if method == 'Cancel':
            if self.finished:
                inv.return_dbus_error(ERR + 'Busy', 'The job has already finished.')
                return
            inv.return_value(None)
            self.signal('Log', '(s)', ('Cancelled by the user',))
            self.finish(False, 'Cancelled', 'The installation was cancelled.')
        elif method == 'Answer':
            rid, value, opts = params.unpack()
            inv.return_value(None)
            if not self.waiting:
                return
            if opts.get('cancel'):
                self.signal('Log', '(s)', ('The security key was skipped',))
                self.waiting = False
            elif value == '1234':
                self.signal('Log', '(s)', ('The security key was enrolled',))
                self.waiting = False
            else:
                self.signal('Request', '(sss)', ('pin-2', 'fido2-pin', 'Wrong PIN. 7 tries left.'))
        else:
            inv.return_dbus_error(ERR + 'NotSupported', method)

    def get_property(self, conn, sender, path, iface, prop):
        return self.props[prop]


class Daemon:
    def __init__(self, scenario, xml_path):
        with open(xml_path) as f:
            info = Gio.DBusNodeInfo.new_for_xml(f.read())
        self.manager_iface = info.lookup_interface(MANAGER_IFACE)
        self.job_iface = info.lookup_interface(JOB_IFACE)
        self.test_iface = Gio.DBusNodeInfo.new_for_xml(TEST_XML).interfaces[0]
        self.scenario = scenario
        self.disks = list(scenario.get('disks', []))
        self.outcome = scenario.get('outcome', 'success')
        self.jobs = []
        self.bus = None
        self.hold = set()
        self.held = []

    def run(self):
        address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
        self.bus = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.bus.register_object(MANAGER_PATH, self.manager_iface,
                                 self.manager_call, self.manager_property, None)
        self.bus.register_object('/dev/imprint/Test', self.test_iface,
                                 self.test_call, None, None)
        self.loop = GLib.MainLoop()
        self.own_name()
        self.loop.run()

    def own_name(self):
        self.owner_id = Gio.bus_own_name_on_connection(self.bus, BUS_NAME, Gio.BusNameOwnerFlags.NONE,
                                                       lambda *a: print('standin: ready', flush=True),
                                                       lambda *a: self.loop.quit())

    def vanish(self):
        '''Gives up the bus name as a dying imprintd would, and takes it
        again a moment later for the next test.'''
        Gio.bus_unown_name(self.owner_id)
        GLib.timeout_add(1000, lambda: self.own_name() and False)

    def manager_property(self, conn, sender, path, iface, prop):
        if prop == 'Version':
            return GLib.Variant('s', 'standin')
        return None

    def disk_by_device(self, device):
        for d in self.disks:
            if d['device'] == device:
                return d
        return None

    def plan(self, target, options):
        disk = self.disk_by_device(target)
        if disk is None:
            raise LookupError('No disk %s.' % target)
        if not disk.get('usable', False):
            raise PermissionError(' '.join(disk.get('reasons', [])))
        mode = options.get('mode', 'erase')
        if 'shrink-partition' in options or 'shrink-size' in options:
            return self.shrink_plan(disk, target, options)
        size = disk['size']
        # (type name, label, size, content, the older worded key) as the
        # engine's plan for a running Imprint OS 1.0 has them.
        parts = [
            ('EFI System Partition', 'ESP', 512 * MIB, 'esp', 'Boot loader and signed kernel'),
            ('Linux /usr (x86-64)', 'usr-A', 2 * GIB, 'usr', 'The system, version 1.0'),
            ('Linux /usr verity (x86-64)', 'usr-verity-A', 128 * MIB, 'usr-verity', 'Verity hashes of version 1.0'),
            ('Linux /usr (x86-64)', '_empty', 2 * GIB, 'none', 'Left empty for the next update'),
            ('Linux /usr verity (x86-64)', '_empty', 128 * MIB, 'none', 'Left empty for the next update'),
        ]
        used = sum(p[2] for p in parts)
        root = size - used - 2 * MIB
        parts.append(('Linux root (x86-64)', 'root', root, 'repart', 'Encrypted, for your files'))
        out = []
        start = MIB
        for i, (tname, label, psize, content, src) in enumerate(parts):
            p = {'number': i + 1, 'type': '', 'type-name': tname, 'label': label,
                 'uuid': '', 'start': start, 'size': psize, 'source': src,
                 'action': 'create', 'content': content}
            if content == 'repart':
                p['definition'] = '50-root.conf'
            out.append(p)
            start += psize
        erased = []
        erased_parts = []
        if mode == 'erase':
            erased = [p.get('contents', '') + (' “%s”' % p['filesystem-label']
                      if p.get('filesystem-label') else '')
                      for p in disk.get('partitions', [])] or [disk.get('contents', '')]
            erased_parts = [{'number': p['number'], 'label': p.get('name', ''),
                             'type-name': p.get('type-name', ''), 'size': p['size']}
                            for p in disk.get('partitions', [])]
        summary = ('%s will be erased and get 6 new partitions: the system, room for one '
                   'update, and an encrypted partition for your files.' % disk['model'])
        # The facts first (what the app words), then the older worded keys
        # imprintd still sends for older clients.
        return {'partitions': out, 'erased-partitions': erased_parts,
                'mode': mode, 'target': target, 'target-size': size,
                'defer-data-partitions': False,
                'definitions-source': 'running-system',
                'definitions-directory': '/usr/lib/repart.d',
                'name': 'Imprint OS', 'version': '1.0',
                'erased': erased, 'summary': summary}

    def shrink_plan(self, disk, target, options):
        """Beside Windows: refused as imprintd refuses it, or the kept
        partitions with the NTFS one shrunk, then the new system's."""
        number = options.get('shrink-partition', 0)
        new_size = options.get('shrink-size', 0)
        if options.get('mode') != 'free-space':
            raise ValueError('A shrink needs free-space mode.')
        part = next((p for p in disk.get('partitions', []) if p['number'] == number), None)
        facts = part.get('shrink') if part else None
        if facts is None:
            raise ValueError('Partition %d is not NTFS.' % number)
        if not facts.get('possible'):
            raise NotImplementedError(' '.join(facts.get('reasons', [])))
        if not facts['min-size'] <= new_size < part['size'] or new_size % MIB:
            raise ValueError('Cannot shrink to %d bytes.' % new_size)
        out = []
        for p in disk['partitions']:
            keep = {'number': p['number'], 'type': p['type'], 'type-name': p['type-name'],
                    'label': p.get('name', ''), 'uuid': '', 'start': p['start'],
                    'size': p['size'], 'source': '', 'action': 'keep', 'content': 'existing'}
            if p['number'] == number:
                keep['size'] = new_size
                keep['shrink-from'] = p['size']
            out.append(keep)
        start = part['start'] + new_size
        room = part['size'] - new_size
        new = [('Linux extended boot', 'XBOOTLDR', GIB, 'xbootldr'),
               ('Linux /usr (x86-64)', 'usr-A', 2 * GIB, 'usr'),
               ('Linux /usr verity (x86-64)', 'usr-verity-A', 128 * MIB, 'usr-verity'),
               ('Linux root (x86-64)', 'root', room - GIB - 2 * GIB - 128 * MIB, 'repart')]
        for i, (tname, label, psize, content) in enumerate(new):
            p = {'number': len(out) + 1, 'type': '', 'type-name': tname, 'label': label,
                 'uuid': '', 'start': start, 'size': psize, 'source': '', 'action': 'create',
                 'content': content}
            if content == 'repart':
                p['definition'] = '50-root.conf'
            out.append(p)
            start += psize
        return {'partitions': out, 'erased-partitions': [], 'mode': 'free-space',
                'target': target, 'target-size': disk['size'], 'defer-data-partitions': False,
                'definitions-source': 'running-system', 'definitions-directory': '/usr/lib/repart.d',
                'name': 'Imprint OS', 'version': '1.0', 'erased': [],
                'summary': 'Windows is made smaller, then Imprint OS is installed beside it.'}

    def manager_call(self, conn, sender, path, iface, method, params, inv):
        if method in self.hold:
            self.held.append((conn, sender, path, iface, method, params, inv))
            return
        try:
            if method == 'GetSetupDefaults':
                # The running system only; an installed disk cannot be set
                # up here (the installer test's done page says so).
                if params.unpack()[0] != '':
                    raise NotImplementedError('Setting up an installed disk is not supported.')
                d = self.scenario.get('setup-defaults', {})
                v = {k: GLib.Variant('as' if isinstance(x, list) else 's', x) for k, x in d.items()}
                inv.return_value(GLib.Variant('(a{sv})', (v,)))
            elif method == 'ListDisks':
                opts = params.unpack()[0]
                disks = [d for d in self.disks
                         if d.get('transport') != 'loop' or opts.get('include-loop')]
                inv.return_value(GLib.Variant('(aa{sv})', ([vardict(d) for d in disks],)))
            elif method == 'GetSecurityCapabilities':
                caps = self.scenario.get('capabilities', {})
                v = {
                    'tpm2': GLib.Variant('a{sv}', vardict(caps.get('tpm2', {'available': False}))),
                    'secure-boot': GLib.Variant('a{sv}', vardict(caps.get('secure-boot', {'available': False}))),
                    'fido2': GLib.Variant('aa{sv}', [vardict(x) for x in caps.get('fido2', [])]),
                    'uki': GLib.Variant('a{sv}', vardict({'available': True})),
                }
                inv.return_value(GLib.Variant('(a{sv})', (v,)))
            elif method == 'CheckPassphrase':
                pw = params.unpack()[0]
                if len(pw) < 8:
                    inv.return_value(GLib.Variant('(is)', (-1, 'The password is shorter than 8 characters')))
                else:
                    score = min(100, len(set(pw)) * 6)
                    inv.return_value(GLib.Variant('(is)', (score, '')))
            elif method == 'GenerateRecoveryKey':
                key = '-'.join(''.join(secrets.choice(MODHEX) for _ in range(8)) for _ in range(8))
                inv.return_value(GLib.Variant('(s)', (key,)))
            elif method == 'InspectSource':
                inv.return_value(GLib.Variant('(a{sv})', ({'name': GLib.Variant('s', 'Imprint OS')},)))
            elif method == 'PlanInstall':
                source, target, opts = params.unpack()
                plan = self.plan(target, opts)
                inv.return_value(GLib.Variant('(a{sv})', (vardict(plan),)))
            elif method == 'Install':
                source, target, opts = params.unpack()
                self.plan(target, opts)
                if 'recovery-key' not in opts:
                    raise ValueError('A recovery key is required.')
                if self.outcome == 'denied':
                    inv.return_dbus_error(ERR + 'NotAuthorized', 'Authorization was refused.')
                    return
                job = Job(self, len(self.jobs) + 1, self.outcome, 4 * GIB,
                          fido2='fido2' in opts.get('encryption', []))
                self.jobs.append(job)
                inv.return_value(GLib.Variant('(o)', (job.path,)))
            else:
                inv.return_dbus_error(ERR + 'NotSupported', method)
        except LookupError as e:
            inv.return_dbus_error(ERR + 'NotFound', str(e))
        except PermissionError as e:
            inv.return_dbus_error(ERR + 'Busy', str(e))
        except ValueError as e:
            inv.return_dbus_error(ERR + 'InvalidArgument', str(e))
        except NotImplementedError as e:
            inv.return_dbus_error(ERR + 'NotSupported', str(e))

    def test_call(self, conn, sender, path, iface, method, params, inv):
        if method == 'AddDisk':
            disk = params.unpack()[0]
            self.disks.append(disk)
            self.bus.emit_signal(None, MANAGER_PATH, MANAGER_IFACE, 'DiskAdded',
                                 GLib.Variant('(a{sv})', (vardict(disk),)))
        elif method == 'RemoveDisk':
            device = params.unpack()[0]
            self.disks = [d for d in self.disks if d['device'] != device]
            self.bus.emit_signal(None, MANAGER_PATH, MANAGER_IFACE, 'DiskRemoved',
                                 GLib.Variant('(s)', (device,)))
        elif method == 'ChangeDisk':
            disk = dict(self.disk_by_device(params.unpack()[0]))
            disk['partitions'] = [{k: v for k, v in p.items() if k != 'shrink'}
                                  for p in disk.get('partitions', [])]
            self.bus.emit_signal(None, MANAGER_PATH, MANAGER_IFACE, 'DiskChanged',
                                 GLib.Variant('(a{sv})', (vardict(disk),)))
        elif method == 'SetOutcome':
            self.outcome = params.unpack()[0]
        elif method == 'HoldReplies':
            self.hold = set(params.unpack()[0])
        elif method == 'ReleaseReplies':
            held, self.held, self.hold = self.held, [], set()
            for call in held:
                self.manager_call(*call)
        inv.return_value(None)


def main():
    scenario_path, xml_path = sys.argv[1], sys.argv[2]
    with open(scenario_path) as f:
        scenario = json.load(f)
    Daemon(scenario, xml_path).run()


if __name__ == '__main__':
    main()

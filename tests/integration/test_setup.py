#!/usr/bin/python3
'''First-boot setup through imprintd (GetSetupDefaults, ApplySetup) driven by
imprintctl, with systemd-homed, localed, timedated and hostnamed replaced by
python-dbusmock stand-ins on the private bus. Asserts the exact user record
homed receives and the files written into an installed system's root.'''

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import imprinttest  # noqa: E402

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
PASSWORD = 'Tr0ub4dor&3 horse'
MOCK_IFACE = 'org.freedesktop.DBus.Mock'


# crypt(3) from libxcrypt itself: Python's crypt module is gone in 3.13.
_libcrypt = ctypes.CDLL('libcrypt.so.1')
_libcrypt.crypt.restype = ctypes.c_char_p
_libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def crypt(phrase, setting):
    r = _libcrypt.crypt(phrase.encode(), setting.encode())
    return r.decode() if r is not None else None


def admin_group():
    import grp
    for g in ('wheel', 'sudo'):
        try:
            grp.getgrnam(g)
            return g
        except KeyError:
            pass
    return 'wheel'


def machine_id():
    with open('/etc/machine-id') as f:
        return f.read().strip()


class SetupTestCase(unittest.TestCase):
    homed_ex = False
    # ApplySetup on the running system is refused once its setup is over;
    # these tests play the first boot, when an OEM line asked for setup.
    running_setup_pending = True

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='imprint-setup-test-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # imprintd's own state and credentials, the way systemd hands them
        # to the service (StateDirectory=, ImportCredential=).
        self.state = os.path.join(self.tmp, 'state')
        self.creds = os.path.join(self.tmp, 'credentials')
        os.makedirs(self.state)
        os.makedirs(self.creds)
        if self.running_setup_pending:
            open(os.path.join(self.state, 'setup-pending'), 'w').close()
        # The running system's ESP (the keymap credential goes there): never the host's.
        self.esp = os.path.join(self.tmp, 'esp')
        os.makedirs(os.path.join(self.esp, 'EFI'))
        self.saved_env = {k: os.environ.get(k) for k in ('STATE_DIRECTORY', 'CREDENTIALS_DIRECTORY',
                                                         'IMPRINTD_TEST_ESP')}
        os.environ['STATE_DIRECTORY'] = self.state
        os.environ['CREDENTIALS_DIRECTORY'] = self.creds
        os.environ['IMPRINTD_TEST_ESP'] = self.esp
        self.addCleanup(self.restore_env)
        self.write_credentials()

        self.bus = imprinttest.TestBus(polkit_mode='allow')
        self.addCleanup(self.bus.stop)
        self.start_mock('homed_imprint.py', 'org.freedesktop.home1', {'ex': self.homed_ex})
        self.start_mock('localed_imprint.py', 'org.freedesktop.locale1',
                        {'Locale': ['LANG=en_US.UTF-8'], 'VConsoleKeymap': 'us'})
        self.start_mock('timedated', 'org.freedesktop.timedate1', {'Timezone': 'Etc/UTC'})
        self.start_mock('hostnamed_imprint.py', 'org.freedesktop.hostname1',
                        {'StaticHostname': 'live', 'PrettyHostname': ''})

    def write_credentials(self):
        pass

    def restore_env(self):
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def start_mock(self, template, name, parameters):
        path = os.path.join(LIB, template) if template.endswith('.py') else template
        p = subprocess.Popen(['/usr/bin/python3', '-m', 'dbusmock', '--system', '--template', path,
                              '--parameters', json.dumps(parameters)],
                             env=self.bus.env, stdout=subprocess.DEVNULL)
        self.bus.procs.append(p)
        self.bus.wait_for_name(name)

    def mock_call(self, name, path, method, *args):
        cmd = ['gdbus', 'call', '--system', '--dest', name, '--object-path', path,
               '--method', f'{MOCK_IFACE}.{method}', *args]
        r = subprocess.run(cmd, env=self.bus.env, capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def py_mock_call(self, name, path, method, *args):
        '''Calls a mock method and returns the answer as Python values.'''
        code = ('import dbus, json, sys\n'
                f'o = dbus.SystemBus().get_object({name!r}, {path!r})\n'
                f'r = o.get_dbus_method({method!r}, {MOCK_IFACE!r})(*json.loads(sys.argv[1]))\n'
                'def conv(v):\n'
                '    if isinstance(v, (list, tuple, dbus.Array, dbus.Struct)): return [conv(x) for x in v]\n'
                '    if isinstance(v, dict): return {str(k): conv(x) for k, x in v.items()}\n'
                '    if isinstance(v, dbus.Boolean): return bool(v)\n'
                '    if isinstance(v, (int, dbus.UInt32, dbus.Int32, dbus.UInt64)): return int(v)\n'
                '    return str(v)\n'
                'print(json.dumps(conv(r)))\n')
        r = subprocess.run(['/usr/bin/python3', '-c', code, json.dumps(list(args))],
                           env=self.bus.env, capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def method_calls(self, name, path, method):
        return [c[1] for c in self.py_mock_call(name, path, 'GetMethodCalls', method)]

    def homed_records(self):
        return [json.loads(r) for r in self.py_mock_call('org.freedesktop.home1', '/org/freedesktop/home1',
                                                         'GetRecords')]

    def homed_calls(self):
        return [tuple(c) for c in self.py_mock_call('org.freedesktop.home1', '/org/freedesktop/home1',
                                                    'GetHomeCalls')]

    def password_file(self):
        path = os.path.join(self.tmp, 'password')
        with open(path, 'w') as f:
            f.write(PASSWORD + '\n')
        os.chmod(path, 0o600)
        return path

    def assertHash(self, plaintext, hashed):
        self.assertTrue(hashed.startswith('$y$') or hashed.startswith('$6$'), hashed)
        self.assertEqual(crypt(plaintext, hashed), hashed)
        self.assertNotEqual(crypt(plaintext + 'x', hashed), hashed)

    def assertSetupComplete(self, root_state, complete=True):
        self.assertEqual(os.path.exists(os.path.join(root_state, 'setup-complete')), complete,
                         self.bus.daemon_output())


class TestDefaults(SetupTestCase):
    running_setup_pending = False

    def write_credentials(self):
        for name, value in (('firstboot.locale', 'fr_FR.UTF-8\n'), ('system.hostname', 'kiosk-7'),
                            ('home.create.zoe', json.dumps({'realName': 'Zoé Martin'}))):
            with open(os.path.join(self.creds, name), 'w') as f:
                f.write(value)

    def test_running_system(self):
        d = self.bus.ctl_json('setup-defaults')
        # Credentials win over the current settings; the rest comes from
        # localed/timedated/hostnamed.
        self.assertEqual(d['locale'], 'fr_FR.UTF-8')
        self.assertEqual(d['hostname'], 'kiosk-7')
        self.assertEqual(d['keymap'], 'us')
        self.assertEqual(d['timezone'], 'Etc/UTC')
        self.assertEqual(d['user'], {'user-name': 'zoe', 'real-name': 'Zoé Martin'})
        self.assertEqual(d['decided'], ['locale', 'hostname', 'user'])
        # This host has a machine-id and no marker: not pending ...
        self.assertFalse(d['setup-pending'])
        self.assertIn('online', d)
        # ... until an OEM line asks for it.
        open(os.path.join(self.state, 'setup-pending'), 'w').close()
        d = self.bus.ctl_json('setup-defaults')
        self.assertTrue(d['setup-pending'])
        # The test host's root is not a TPM2-sealed LUKS2 volume.
        self.assertFalse(d['oem'])

    def test_installed_root(self):
        root = os.path.join(self.tmp, 'root')
        os.makedirs(os.path.join(root, 'etc'))
        with open(os.path.join(root, 'etc', 'locale.conf'), 'w') as f:
            f.write('LANG=sv_SE.UTF-8\n')
        os.symlink('../usr/share/zoneinfo/Europe/Stockholm', os.path.join(root, 'etc', 'localtime'))
        d = self.bus.ctl_json('setup-defaults', '--target', root)
        self.assertEqual(d['locale'], 'sv_SE.UTF-8')
        self.assertEqual(d['timezone'], 'Europe/Stockholm')
        # The live session's credentials are not the installed system's.
        self.assertEqual(d['decided'], [])
        self.assertEqual(d['user'], {})
        # No machine-id yet: its first boot is ahead.
        self.assertTrue(d['setup-pending'])
        self.assertFalse(d['oem'])
        self.assertDaemonAlive()

    def assertDaemonAlive(self):
        self.assertIsNone(self.bus.daemon.poll(), 'imprintd died' + self.bus.daemon_output())


class TestApplyRunning(SetupTestCase):
    def test_settings_and_user(self):
        keyfile = os.path.join(self.tmp, 'home-recovery-key')
        r = self.bus.ctl('setup', '--locale', 'de_DE.UTF-8', '--keymap', 'de-nodeadkeys',
                         '--timezone', 'Europe/Berlin', '--hostname', 'anna-laptop',
                         '--pretty-hostname', "Anna's Laptop",
                         '--user', 'anna', '--real-name', 'Anna Example',
                         '--password-file', self.password_file(),
                         '--home-recovery-key-file', keyfile, '--disk-size', '2G', check=0)
        self.assertIn('Setup is complete', r.stdout)
        # The layout for the passphrase prompt at boot, on the ESP (null key:
        # the test host has no TPM2).
        self.assertIn('loader/credentials/vconsole.keymap.cred', r.stdout)
        cred = os.path.join(self.esp, 'loader/credentials/vconsole.keymap.cred')
        if not os.path.exists('/dev/tpmrm0'):
            d = subprocess.run(['systemd-creds', 'decrypt', '--name=vconsole.keymap', '--newline=no', cred, '-'],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual((d.returncode, d.stdout), (0, 'de-nodeadkeys'), d.stderr)

        L = ('org.freedesktop.locale1', '/org/freedesktop/locale1')
        T = ('org.freedesktop.timedate1', '/org/freedesktop/timedate1')
        H = ('org.freedesktop.hostname1', '/org/freedesktop/hostname1')
        self.assertEqual(self.method_calls(*L, 'SetLocale'), [[['LANG=de_DE.UTF-8'], False]])
        self.assertEqual(self.method_calls(*L, 'SetVConsoleKeyboard'), [['de-nodeadkeys', '', True, False]])
        self.assertEqual(self.method_calls(*T, 'SetTimezone'), [['Europe/Berlin', False]])
        self.assertEqual(self.method_calls(*H, 'SetStaticHostname'), [['anna-laptop', False]])
        self.assertEqual(self.method_calls(*H, 'SetPrettyHostname'), [["Anna's Laptop", False]])

        with open(keyfile) as f:
            key = f.read().strip()
        self.assertEqual(os.stat(keyfile).st_mode & 0o777, 0o600)
        self.assertEqual(len(key), 71)

        calls = self.homed_calls()
        self.assertEqual([c[0] for c in calls], ['create'])
        records = self.homed_records()
        self.assertEqual(len(records), 1)
        rec = records[0]
        self.assertEqual(sorted(rec), ['diskSize', 'memberOf', 'privileged', 'realName', 'recoveryKeyType',
                                       'secret', 'storage', 'userName'])
        self.assertEqual(rec['userName'], 'anna')
        self.assertEqual(rec['realName'], 'Anna Example')
        self.assertEqual(rec['storage'], 'luks')
        self.assertEqual(rec['diskSize'], 2 << 30)
        self.assertEqual(rec['memberOf'], [admin_group()])
        self.assertEqual(rec['recoveryKeyType'], ['modhex64'])
        self.assertEqual(sorted(rec['privileged']), ['hashedPassword', 'recoveryKey'])
        self.assertEqual(len(rec['privileged']['hashedPassword']), 1)
        self.assertHash(PASSWORD, rec['privileged']['hashedPassword'][0])
        self.assertEqual(len(rec['privileged']['recoveryKey']), 1)
        self.assertEqual(sorted(rec['privileged']['recoveryKey'][0]), ['hashedPassword', 'type'])
        self.assertEqual(rec['privileged']['recoveryKey'][0]['type'], 'modhex64')
        self.assertHash(key, rec['privileged']['recoveryKey'][0]['hashedPassword'])
        self.assertEqual(rec['secret'], {'password': [PASSWORD, key]})

        self.assertSetupComplete(self.state)
        # The job's log carries the boot-prompt keymap caveat.
        self.assertNotIn(PASSWORD, self.bus.daemon_output())

    def test_user_only_minimal(self):
        self.bus.ctl('setup', '--user', 'bob', '--password-file', self.password_file(),
                     '--no-administrator', check=0)
        rec = self.homed_records()[0]
        self.assertEqual(sorted(rec), ['privileged', 'secret', 'storage', 'userName'])
        self.assertEqual(rec['secret'], {'password': [PASSWORD]})
        self.assertEqual(self.method_calls('org.freedesktop.locale1', '/org/freedesktop/locale1', 'SetLocale'), [])
        self.assertSetupComplete(self.state)

    def test_failure_names_the_step(self):
        self.mock_call('org.freedesktop.home1', '/org/freedesktop/home1', 'SetFailure', 'exists')
        r = self.bus.ctl('setup', '--hostname', 'anna-laptop', '--user', 'anna',
                         '--password-file', self.password_file())
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Creating the user failed', r.stderr)
        self.assertIn('already exists', r.stderr)
        # What succeeded stays; setup stays pending for a retry.
        self.assertEqual(self.method_calls('org.freedesktop.hostname1', '/org/freedesktop/hostname1',
                                           'SetStaticHostname'), [['anna-laptop', False]])
        self.assertSetupComplete(self.state, complete=False)

    def test_refused_before_the_job(self):
        pw = self.password_file()
        for args, text in ((['--hostname', 'bad name'], 'not a valid computer name'),
                           (['--timezone', '../etc/passwd'], 'not a valid time zone'),
                           (['--user', 'Root', '--password-file', pw], 'cannot be a user name'),
                           (['--target', 'disk:/dev/null'], 'is not a disk'),
                           (['--target', os.path.join(self.tmp, 'nonexistent')], 'not the root directory')):
            r = self.bus.ctl('setup', *args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(text, r.stderr, args)
        self.assertEqual(self.homed_calls(), [])
        self.assertSetupComplete(self.state, complete=False)

    def test_not_authorized(self):
        self.bus.polkit_call('SetMode', 'deny')
        r = self.bus.ctl('--no-ask-password', 'setup', '--hostname', 'x', user=65534)
        self.assertEqual(r.returncode, 4, r.stderr)
        actions = self.bus.polkit_call('GetCalls')
        self.assertIn('dev.imprint.Imprint1.create-user', actions)
        self.assertEqual(self.method_calls('org.freedesktop.hostname1', '/org/freedesktop/hostname1',
                                           'SetStaticHostname'), [])


class TestApplyRunningHomed256(SetupTestCase):
    homed_ex = True

    def test_create_home_ex(self):
        self.bus.ctl('setup', '--user', 'anna', '--password-file', self.password_file(), check=0)
        calls = self.method_calls('org.freedesktop.home1', '/org/freedesktop/home1', 'CreateHomeEx')
        self.assertEqual(len(calls), 1)
        record, fds, flags = calls[0]
        self.assertEqual((fds, flags), ({}, 0))
        self.assertEqual(json.loads(record)['userName'], 'anna')
        self.assertEqual(self.method_calls('org.freedesktop.home1', '/org/freedesktop/home1', 'CreateHome'), [])


class TestApplyInstalledRoot(SetupTestCase):
    def make_root(self, name='target'):
        root = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(root, 'etc'))
        os.makedirs(os.path.join(root, 'usr', 'share', 'zoneinfo', 'Europe'))
        open(os.path.join(root, 'usr', 'share', 'zoneinfo', 'Europe', 'Berlin'), 'w').close()
        with open(os.path.join(root, 'etc', 'vconsole.conf'), 'w') as f:
            f.write('FONT=eurlatgr\n')
        return root

    def read(self, root, path):
        with open(os.path.join(root, path)) as f:
            return f.read()

    def test_settings_and_home(self):
        root = self.make_root()
        r = self.bus.ctl('--json', 'setup', '--target', root, '--locale', 'de_DE.UTF-8',
                         '--keymap', 'de-nodeadkeys', '--timezone', 'Europe/Berlin',
                         '--hostname', 'anna-laptop', '--pretty-hostname', 'Anna’s Laptop',
                         '--user', 'anna', '--password-file', self.password_file(),
                         '--home-recovery-key', check=0)
        events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{')]
        keys = [e['recovery-key'] for e in events if e.get('event') == 'home-recovery-key']
        self.assertEqual(len(keys), 1)
        key = keys[0]
        # The keymap caveat reaches the person.
        self.assertIn('passphrase prompt at boot', r.stdout)

        self.assertEqual(self.read(root, 'etc/locale.conf'), 'LANG=de_DE.UTF-8\n')
        self.assertEqual(self.read(root, 'etc/vconsole.conf'), 'FONT=eurlatgr\nKEYMAP=de-nodeadkeys\n')
        self.assertEqual(self.read(root, 'etc/hostname'), 'anna-laptop\n')
        self.assertEqual(self.read(root, 'etc/machine-info'), 'PRETTY_HOSTNAME="Anna’s Laptop"\n')
        self.assertEqual(os.readlink(os.path.join(root, 'etc/localtime')), '../usr/share/zoneinfo/Europe/Berlin')
        # Nothing went to the live system's services.
        self.assertEqual(self.method_calls('org.freedesktop.locale1', '/org/freedesktop/locale1', 'SetLocale'), [])

        image = os.path.join(root, 'home', 'anna.home')
        rec = self.homed_records()[0]
        self.assertEqual(sorted(rec), ['memberOf', 'perMachine', 'privileged', 'recoveryKeyType', 'secret',
                                       'storage', 'uid', 'userName'])
        # The UID travels with the record (homed would keep it only in this
        # machine's binding), from homed's range and free in the target.
        self.assertTrue(60001 <= rec['uid'] <= 60513)
        # The image is made on the installed disk; only this (live) machine
        # looks for it there, the installed system at /home/anna.home.
        self.assertEqual(rec['perMachine'], [{'matchMachineId': [machine_id()], 'imagePath': image}])
        # The target has no /etc/group of its own here: the common name.
        self.assertEqual(rec['memberOf'], ['wheel'])
        self.assertHash(PASSWORD, rec['privileged']['hashedPassword'][0])
        self.assertHash(key, rec['privileged']['recoveryKey'][0]['hashedPassword'])
        self.assertEqual(rec['secret'], {'password': [PASSWORD, key]})
        self.assertTrue(os.path.exists(image))

        # No key pair of this system's homed to hand over (the test host has
        # no homed): the installed homed trusts the key that signed the record.
        pub = os.path.join(root, 'etc', 'systemd', 'home', f'imprint-setup-{machine_id()}.public')
        st = os.stat(pub)
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o644))
        self.assertIn('BEGIN PUBLIC KEY', self.read(root, pub))
        # ... and the live system forgot the home again.
        self.assertEqual([c[0] for c in self.homed_calls()], ['create', 'get', 'unregister'])

        self.assertSetupComplete(os.path.join(root, 'var', 'lib', 'imprint'))
        # The live system's own marker is untouched.
        self.assertSetupComplete(self.state, complete=False)

    def test_uid_taken_in_target_is_skipped(self):
        root = self.make_root()
        # Every UID of homed's range but one is taken in the target, in the
        # ways a system can take them.
        os.makedirs(os.path.join(root, 'etc', 'userdb'))
        os.makedirs(os.path.join(root, 'var', 'lib', 'systemd', 'home'))
        free = 60400
        with open(os.path.join(root, 'etc', 'passwd'), 'w') as pw, \
             open(os.path.join(root, 'etc', 'group'), 'w') as gr:
            for uid in range(60001, 60514):
                if uid == free:
                    continue
                if uid % 3 == 0:
                    pw.write(f'u{uid}:x:{uid}:{uid}::/home/u{uid}:/bin/sh\n')
                elif uid % 3 == 1:
                    gr.write(f'g{uid}:x:{uid}:\n')
                elif uid % 2:
                    open(os.path.join(root, 'etc', 'userdb', f'{uid}.user'), 'w').close()
                else:
                    with open(os.path.join(root, 'var', 'lib', 'systemd', 'home', f'h{uid}.identity'), 'w') as f:
                        json.dump({'userName': f'h{uid}', 'binding': {'0' * 32: {'uid': uid}}}, f)
        self.bus.ctl('setup', '--target', root, '--user', 'anna', '--password-file', self.password_file(), check=0)
        self.assertEqual(self.homed_records()[0]['uid'], free)

        # None left: refused before homed is asked.
        root = self.make_root('full')
        with open(os.path.join(root, 'etc', 'group'), 'w') as gr:
            for uid in range(60001, 60514):
                gr.write(f'g{uid}:x:{uid}:\n')
        r = self.bus.ctl('setup', '--target', root, '--user', 'bert', '--password-file', self.password_file())
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('No user ID is free', r.stderr)
        self.assertEqual(len(self.homed_records()), 1)

    def test_unsigned_record_is_undone(self):
        root = self.make_root()
        self.mock_call('org.freedesktop.home1', '/org/freedesktop/home1', 'SetFailure', 'unsigned')
        r = self.bus.ctl('setup', '--target', root, '--user', 'anna', '--password-file', self.password_file())
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Creating the user failed', r.stderr)
        self.assertIn('did not sign', r.stderr)
        # The home the installed system would refuse is gone again.
        self.assertEqual([c[0] for c in self.homed_calls()], ['create', 'get', 'remove'])
        self.assertFalse(os.path.exists(os.path.join(root, 'home', 'anna.home')))
        self.assertFalse(os.path.exists(os.path.join(root, 'etc', 'systemd', 'home')))
        self.assertSetupComplete(os.path.join(root, 'var', 'lib', 'imprint'), complete=False)


class TestApplyInstalledRootKeyPair(TestApplyInstalledRoot):
    '''This system's homed key pair made the record: the installed system
    gets the pair itself.'''
    PRIVATE = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ7k0b8s\n-----END PRIVATE KEY-----\n'

    def setUp(self):
        self.homed_dir = tempfile.mkdtemp(prefix='imprint-homed-')
        self.addCleanup(shutil.rmtree, self.homed_dir, True)
        sys.path.insert(0, LIB)
        import homed_imprint
        with open(os.path.join(self.homed_dir, 'local.public'), 'w') as f:
            f.write(homed_imprint.PEM)
        with open(os.path.join(self.homed_dir, 'local.private'), 'w') as f:
            f.write(self.PRIVATE)
        os.environ['IMPRINT_HOMED_STATE_DIR'] = self.homed_dir
        self.addCleanup(os.environ.pop, 'IMPRINT_HOMED_STATE_DIR', None)
        super().setUp()

    def test_settings_and_home(self):
        root = self.make_root()
        self.bus.ctl('setup', '--target', root, '--user', 'anna', '--password-file', self.password_file(), check=0)
        keys = os.path.join(root, 'var', 'lib', 'systemd', 'home')
        self.assertEqual(self.read(keys, 'local.private'), self.PRIVATE)
        st = os.stat(os.path.join(keys, 'local.private'))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o600))
        with open(os.path.join(self.homed_dir, 'local.public')) as f:
            self.assertEqual(self.read(keys, 'local.public'), f.read())
        # Its own key: nothing to trust in /etc.
        self.assertFalse(os.path.exists(os.path.join(root, 'etc', 'systemd', 'home')))
        self.assertEqual([c[0] for c in self.homed_calls()], ['create', 'get', 'unregister'])

    def test_existing_pair_is_kept(self):
        root = self.make_root()
        keys = os.path.join(root, 'var', 'lib', 'systemd', 'home')
        os.makedirs(keys)
        with open(os.path.join(keys, 'local.private'), 'w') as f:
            f.write('theirs')
        self.bus.ctl('setup', '--target', root, '--user', 'anna', '--password-file', self.password_file(), check=0)
        self.assertEqual(self.read(keys, 'local.private'), 'theirs')
        self.assertTrue(os.path.exists(os.path.join(root, 'etc', 'systemd', 'home',
                                                    f'imprint-setup-{machine_id()}.public')))


class TestDiskRecoveryKey(SetupTestCase):
    '''OEM first boot: the root is sealed to the TPM2 only, by systemd's own
    tools (systemd-cryptenroll here, systemd-repart on a real machine);
    setup adds a recovery key through that token.'''

    def setUp(self):
        for tool in ('swtpm', 'systemd-cryptenroll', 'cryptsetup'):
            if shutil.which(tool) is None:
                self.skipTest(f'{tool} is not installed')
        super().setUp()
        self.tcti = self.start_swtpm('swtpm')
        self.image = os.path.join(self.tmp, 'root.img')
        with open(self.image, 'wb') as f:
            f.truncate(32 << 20)
        pwfile = os.path.join(self.tmp, 'one-time')
        with open(pwfile, 'w') as f:
            f.write('one-time')
        subprocess.run(['cryptsetup', 'luksFormat', '--type', 'luks2', '--batch-mode', '--pbkdf', 'pbkdf2',
                        '--pbkdf-force-iterations', '1000', self.image, pwfile], check=True)
        subprocess.run(['systemd-cryptenroll', f'--tpm2-device={self.tcti}', '--tpm2-pcrs=7', self.image],
                       env=dict(os.environ, PASSWORD='one-time'), check=True, capture_output=True)
        subprocess.run(['cryptsetup', 'luksKillSlot', '--batch-mode', self.image, '0'], check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)
        self.assertNotIn('"0"', json.loads(self.dump())['keyslots'])

    def start_swtpm(self, name):
        import random
        import socket
        import time
        state = os.path.join(self.tmp, name)
        os.makedirs(state)
        for _ in range(20):
            port = random.randrange(20000, 60000) & ~1
            p = subprocess.Popen(['swtpm', 'socket', '--tpm2', '--server', f'type=tcp,port={port},bindaddr=127.0.0.1',
                                  '--ctrl', f'type=tcp,port={port + 1},bindaddr=127.0.0.1',
                                  '--flags', 'not-need-init,startup-clear', '--tpmstate', f'dir={state}'],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                if p.poll() is not None:
                    break
                try:
                    socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                    self.bus.procs.append(p)
                    return f'swtpm:host=127.0.0.1,port={port}'
                except OSError:
                    time.sleep(0.05)
            if p.poll() is None:
                p.kill()
                p.wait()
        self.fail('swtpm did not start')

    def dump(self):
        return subprocess.run(['cryptsetup', 'luksDump', '--dump-json-metadata', self.image],
                              capture_output=True, text=True, check=True).stdout

    def test_add_recovery_key(self):
        keyfile = os.path.join(self.tmp, 'disk-key')
        self.bus.ctl('setup', '--hostname', 'oem-7', '--disk-recovery-key-file', keyfile,
                     '--disk-device', self.image, '--disk-tpm2-device', self.tcti, check=0)
        with open(keyfile) as f:
            key = f.read().strip()
        # cryptsetup opens the disk with the key (typed: no newline) ...
        r = subprocess.run(['cryptsetup', 'open', '--test-passphrase', '--key-file', '-', self.image],
                           input=key, text=True)
        self.assertEqual(r.returncode, 0)
        # ... its slot carries the token systemd-cryptenroll would write ...
        meta = json.loads(self.dump())
        tokens = [t for t in meta['tokens'].values() if t['type'] == 'systemd-recovery']
        self.assertEqual(len(tokens), 1)
        self.assertEqual(sorted(tokens[0]), ['keyslots', 'type'])
        # ... and systemd's TPM2 token is still there.
        self.assertEqual(len([t for t in meta['tokens'].values() if t['type'] == 'systemd-tpm2']), 1)
        self.assertEqual(len(key), 71)
        self.assertSetupComplete(self.state)

    def test_no_tpm2_unlock(self):
        # Another TPM than the one the disk is sealed to: the step fails by
        # name and nothing was added.
        other = self.start_swtpm('other-swtpm')
        before = self.dump()
        r = self.bus.ctl('setup', '--disk-recovery-key', '--disk-device', self.image,
                         '--disk-tpm2-device', other)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Adding unlock methods to the system disk failed: The TPM did not unlock', r.stderr)
        self.assertEqual(self.dump(), before)
        self.assertSetupComplete(self.state, complete=False)

    def test_only_running_system(self):
        root = os.path.join(self.tmp, 'target')
        os.makedirs(root)
        r = self.bus.ctl('setup', '--target', root, '--disk-recovery-key', '--disk-device', self.image)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('only be added to the running system', r.stderr)


def mounts_under(prefix):
    with open('/proc/self/mountinfo') as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(prefix)]


def targets_left():
    try:
        return sorted(d for d in os.listdir('/run/imprint') if d.startswith('target-'))
    except FileNotFoundError:
        return []


class LoopDisk:
    '''An image file on a loop device with partition scanning; detached at
    cleanup even when the test fails.'''
    def __init__(self, test, size):
        self.image = os.path.join(test.tmp, 'disk.img')
        with open(self.image, 'wb') as f:
            f.truncate(size)
        r = subprocess.run(['losetup', '--find', '--show', '--partscan', self.image],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise unittest.SkipTest('no loop devices: ' + r.stderr.strip())
        self.device = r.stdout.strip()
        test.addCleanup(subprocess.run, ['losetup', '--detach', self.device])

    def partitions(self):
        subprocess.run(['partx', '--update', self.device], capture_output=True)
        subprocess.run(['udevadm', 'settle'], capture_output=True)
        return sorted(p for p in os.listdir('/dev') if p.startswith(os.path.basename(self.device) + 'p'))


class TestApplyDisk(SetupTestCase):
    '''The live-install path: "disk:DEVICE", the installed root found by its
    partition type and mounted by imprintd itself.'''

    def setUp(self):
        super().setUp()
        for tool in ('losetup', 'sfdisk', 'systemd-repart', 'veritysetup', 'partx'):
            if not shutil.which(tool):
                self.skipTest(f'{tool} is not installed')
        import test_install
        self.source = test_install.source_image()
        self.definitions = test_install.DEFINITIONS
        self.before = targets_left()

    def install(self):
        self.disk = LoopDisk(self, 1024 * 1024 * 1024)
        self.bus.ctl('install', '--source', self.source, '--target', self.disk.device, '--erase',
                     '--definitions', self.definitions, '--no-boot-entry', '--no-encrypt',
                     check=0, timeout=600)
        self.disk.partitions()
        root = json.loads(subprocess.run(['sfdisk', '--json', self.disk.device], capture_output=True,
                                         text=True, check=True).stdout)['partitiontable']['partitions']
        node = [p['node'] for p in root if p['type'].lower() == '4f68bce3-e8cd-4db1-96e7-fbcaf984b709']
        self.assertEqual(len(node), 1, root)
        return node[0]

    def assertKeymapCredential(self, keymap):
        '''ESP/loader/credentials/vconsole.keymap.cred, as systemd-creds reads it
        (the null key: the test host has no TPM2).'''
        if os.path.exists('/dev/tpmrm0'):
            return
        parts = json.loads(subprocess.run(['sfdisk', '--json', self.disk.device], capture_output=True,
                                          text=True, check=True).stdout)['partitiontable']['partitions']
        esp = [p['node'] for p in parts if p['type'].lower() == 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b']
        self.assertEqual(len(esp), 1, parts)
        local = os.path.join(self.tmp, 'keymap.cred')
        subprocess.run(['mcopy', '-o', '-n', '-i', esp[0], '::/loader/credentials/vconsole.keymap.cred', local],
                       check=True, timeout=60, env=dict(os.environ, MTOOLS_SKIP_CHECK='1'))
        r = subprocess.run(['systemd-creds', 'decrypt', '--name=vconsole.keymap', '--newline=no', local, '-'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, keymap)

    def assertClosed(self, partition):
        self.assertEqual(targets_left(), self.before)
        with open('/proc/self/mountinfo') as f:
            self.assertNotIn(f' {partition} ', f.read())

    def mount(self, partition):
        mnt = tempfile.mkdtemp(prefix='imprint-root-', dir=self.tmp)
        subprocess.run(['mount', '-o', 'ro', partition, mnt], check=True)
        self.addCleanup(os.rmdir, mnt)
        self.addCleanup(subprocess.run, ['umount', mnt])
        return mnt

    def test_settings_and_home(self):
        partition = self.install()
        d = self.bus.ctl_json('setup-defaults', '--target', 'disk:' + self.disk.device)
        # The live session's choices, not the installed files.
        self.assertEqual(d['locale'], 'en_US.UTF-8')
        self.assertTrue(d['setup-pending'])
        self.assertEqual(d['decided'], [])

        r = self.bus.ctl('setup', '--target', 'disk:' + self.disk.device, '--locale', 'de_DE.UTF-8',
                         '--keymap', 'de-nodeadkeys', '--hostname', 'anna-laptop', '--user', 'anna',
                         '--password-file', self.password_file(), check=0, timeout=120)
        self.assertClosed(partition)
        self.assertIn('loader/credentials/vconsole.keymap.cred', r.stdout + r.stderr)
        self.assertKeymapCredential('de-nodeadkeys')

        rec = self.homed_records()[0]
        image = rec['perMachine'][0]['imagePath']
        # Made under the mount imprintd made, at the place the installed
        # system's homed looks for it.
        self.assertRegex(image, r'^/run/imprint/target-[^/]+/home/anna\.home$')

        root = self.mount(partition)
        with open(os.path.join(root, 'etc/locale.conf')) as f:
            self.assertEqual(f.read(), 'LANG=de_DE.UTF-8\n')
        with open(os.path.join(root, 'etc/hostname')) as f:
            self.assertEqual(f.read(), 'anna-laptop\n')
        self.assertTrue(os.path.exists(os.path.join(root, 'var/lib/imprint/setup-complete')))
        self.assertTrue(os.path.exists(os.path.join(root, 'home/anna.home')))
        self.assertTrue(os.path.exists(os.path.join(root, 'etc/systemd/home',
                                                    f'imprint-setup-{machine_id()}.public')))
        # The live system's own marker is untouched.
        self.assertSetupComplete(self.state, complete=False)

    def test_failure_still_unmounts(self):
        partition = self.install()
        self.mock_call('org.freedesktop.home1', '/org/freedesktop/home1', 'SetFailure', 'unsigned')
        r = self.bus.ctl('setup', '--target', 'disk:' + self.disk.device, '--user', 'anna',
                         '--password-file', self.password_file(), timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Creating the user failed', r.stderr)
        self.assertClosed(partition)

    def test_no_root_partition(self):
        disk = LoopDisk(self, 64 * 1024 * 1024)
        subprocess.run(['sfdisk', '--quiet', disk.device], input='label: gpt\n,\n', text=True, check=True)
        r = self.bus.ctl('setup', '--target', 'disk:' + disk.device, '--hostname', 'x')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('no root partition', r.stderr)
        r = self.bus.ctl('setup', '--target', 'disk:/etc/hostname', '--hostname', 'x')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('is not a disk', r.stderr)


class TestApplyDiskEncrypted(SetupTestCase):
    '''A LUKS2 root: the secret is checked before anything is activated, so
    a wrong one is refused here; opening it needs device-mapper.'''
    PASSPHRASE = 'correct horse battery staple'
    RECOVERY_KEY = '-'.join(['cbdefghi'] * 8)

    def setUp(self):
        super().setUp()
        if not shutil.which('cryptsetup'):
            self.skipTest('cryptsetup is not installed')
        self.before = targets_left()
        self.disk = LoopDisk(self, 64 * 1024 * 1024)
        subprocess.run(['sfdisk', '--quiet', self.disk.device], check=True, text=True,
                       input='label: gpt\n,,4f68bce3-e8cd-4db1-96e7-fbcaf984b709\n')
        parts = self.disk.partitions()
        if not parts:
            self.skipTest('the loop device shows no partitions')
        self.partition = '/dev/' + parts[0]
        fast = ['--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--batch-mode']
        key = os.path.join(self.tmp, 'luks-key')
        with open(key, 'w') as f:
            f.write(self.PASSPHRASE)
        rk = os.path.join(self.tmp, 'luks-rk')
        with open(rk, 'w') as f:
            f.write(self.RECOVERY_KEY)
        subprocess.run(['cryptsetup', 'luksFormat', *fast, '--key-file', key, self.partition],
                       check=True, capture_output=True)
        subprocess.run(['cryptsetup', 'luksAddKey', *fast, '--key-file', key, self.partition, rk],
                       check=True, capture_output=True)

    def setup(self, secret=None):
        args = ['setup', '--target', 'disk:' + self.disk.device, '--hostname', 'anna-laptop']
        if secret is not None:
            path = os.path.join(self.tmp, 'unlock')
            with open(path, 'w') as f:
                f.write(secret + '\n')
            args += ['--unlock-key-file', path]
        r = self.bus.ctl(*args, timeout=120)
        self.assertEqual(targets_left(), self.before)
        return r

    def test_wrong_secret(self):
        r = self.setup('not the passphrase')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('does not unlock the installed system', r.stderr)
        r = self.setup()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('give its passphrase or recovery key', r.stderr)

    def test_right_secret(self):
        # The recovery key typed as people type it is accepted too.
        no_dm = False
        for secret in (self.PASSPHRASE, self.RECOVERY_KEY.replace('-', '').upper()):
            r = self.setup(secret)
            self.assertNotIn('does not unlock', r.stderr)
            if r.returncode != 0:
                # Accepted, then activation failed: no working dm here.
                self.assertIn('Could not open the encrypted installed system', r.stderr)
                no_dm = True
            self.assertEqual([m for m in os.listdir('/dev/mapper') if m.startswith('imprint-target-')], [])
        if no_dm:
            self.skipTest('needs device-mapper (VM test): the right secrets were accepted, '
                          'opening the volume was not possible here')


if __name__ == '__main__':
    imprinttest.main()

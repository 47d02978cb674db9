#!/usr/bin/python3
'''The TPM2 and FIDO2 device options and the secrets a caller sends.

imprintd once handed the tpm2-device option to tpm2-tss's TCTI loader as it
came: "cmd:..." ran a shell command as root, a path made root write TPM
commands into that file, "swtpm:"/"mssim:" made root trust any TCP endpoint
with a sealed secret. Now a caller names "auto" or a /dev/tpm<N>,
/dev/tpmrm<N> node; emulators only as root. The FIDO2 option takes "auto" or
/dev/hidraw<N>. Passphrases, PINs and recovery keys are at most 1024 bytes.'''

import hashlib
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
from imprinttest import NOBODY  # noqa: E402

# A refusal is a quick error, never a wait on something the caller named.
BOUND = 10


def gv(s):
    '''A string as GVariant text.'''
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


def recovery_key(testcase):
    r = testcase.call('GenerateRecoveryKey', '@a{sv} {}')
    testcase.assertEqual(r.returncode, 0, r.stderr)
    return r.stdout.strip().split("'")[1]


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class Listener:
    '''A TCP port that notes whether anyone connected (a fake TPM).'''

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connected(self):
        try:
            c, _ = self.sock.accept()
            c.close()
            return True
        except BlockingIOError:
            return False

    def close(self):
        self.sock.close()


class TpmDeviceTest(imprinttest.HostileTestCase):

    def setUp(self):
        super().setUp()
        self.witness = os.path.join(self.evil, 'pwned')
        # A root-owned file that root would have written TPM commands into.
        self.victim = os.path.join(self.bus.tmp, 'victim')
        with open(self.victim, 'w') as f:
            f.write('precious\n')
        os.utime(self.victim, (1000000000, 1000000000))
        self.victim_digest = digest(self.victim)
        self.fifo = os.path.join(self.evil, 'fifo')
        os.mkfifo(self.fifo)
        os.chown(self.fifo, NOBODY, NOBODY)
        self.null_link = os.path.join(self.evil, 'null')
        os.symlink('/dev/null', self.null_link)
        self.listener = Listener()
        self.addCleanup(self.listener.close)

    def hostile_devices(self):
        w, v = self.witness, self.victim
        port = self.listener.port
        return [
            f'cmd:touch {w}',
            f'cmd:sh -c "touch {w}"',
            f'cmd:/bin/sh -c \'touch {w}; cat\'',
            f'cmd: touch {w}',
            f'CMD:touch {w}',
            f'libtss2-tcti-cmd.so.0:touch {w}',
            f'/usr/lib/x86_64-linux-gnu/libtss2-tcti-cmd.so.0:touch {w}',
            v,
            f'device:{v}',
            f'pcap:device:{v}',
            f'libtpms:{w}',
            self.null_link,
            f'device:{self.null_link}',
            self.fifo,
            f'device:{self.fifo}',
            f'swtpm:host=127.0.0.1,port={port}',
            f'mssim:host=127.0.0.1,port={port}',
            'swtpm:',
            'mssim:',
            'tpmrm0',
            'dev/tpmrm0',
            '../../../dev/tpmrm0',
            'evil/pwned',
            '/dev/tpmrm0/../null',
            '/dev/../dev/tpmrm0',
            '/dev/null',
            '/dev/zero',
            '/proc/self/fd/0',
            'x' * 100000,
        ]

    def assertNothingTouched(self):
        self.assertFalse(os.path.exists(self.witness), 'a command ran as root')
        self.assertEqual(digest(self.victim), self.victim_digest, 'root wrote into a file')
        self.assertEqual(os.stat(self.victim).st_mtime, 1000000000)
        self.assertFalse(self.listener.connected(), 'root connected to a caller-chosen TPM emulator')
        self.assertDaemonAlive()

    def assertRefused(self, r, elapsed, what):
        self.assertLess(elapsed, BOUND, f'{what}: took {elapsed:.1f} s')
        self.assertNotEqual(r.returncode, 0, f'{what}: accepted: {r.stdout}')
        self.assertRegex(r.stderr, r'InvalidArgument|NotAuthorized', f'{what}: {r.stderr}')
        self.assertNotIn('/dev/imprint/Imprint1/Job', r.stdout, f'{what}: a job was started')
        self.assertNothingTouched()

    def timed_call(self, method, *args, **kw):
        start = time.monotonic()
        r = self.call(method, *args, timeout=BOUND * 3, **kw)
        return r, time.monotonic() - start

    def test_security_capabilities(self):
        '''GetSecurityCapabilities: allowed to any active user, so the
        option must be safe for everyone.'''
        for dev in self.hostile_devices():
            with self.subTest(device=dev[:80]):
                r, t = self.timed_call('GetSecurityCapabilities', f"{{'tpm2-device': <{gv(dev)}>}}")
                self.assertRefused(r, t, dev[:80])
                self.assertRegex(r.stderr, r'TPM')

    def test_security_capabilities_auto(self):
        '''What a caller may name still works.'''
        for dev in ('', 'auto', '/dev/tpmrm0', '/dev/tpm7'):
            with self.subTest(device=dev):
                r, t = self.timed_call('GetSecurityCapabilities', f"{{'tpm2-device': <{gv(dev)}>}}")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("'tpm2'", r.stdout)
                self.assertLess(t, BOUND)
        self.assertNothingTouched()

    def test_system_files_refused(self):
        '''Names of the system's own files, which root would open read-write.'''
        before = {p: digest(p) for p in ('/etc/passwd', '/etc/shadow') if os.path.exists(p)}
        saved = {p: open(p, 'rb').read() for p in before}
        try:
            for dev in ('device:/etc/passwd', '/etc/passwd', 'device:/etc/shadow', '/etc/shadow'):
                with self.subTest(device=dev):
                    r, t = self.timed_call('GetSecurityCapabilities', f"{{'tpm2-device': <{gv(dev)}>}}")
                    self.assertRefused(r, t, dev)
        finally:
            # Should this ever run against a daemon without the fix: put
            # the files back as they were.
            for p, data in saved.items():
                if digest(p) != before[p]:
                    with open(p, 'wb') as f:
                        f.write(data)
                    self.fail(f'{p} was written as root')

    def hostile_image(self):
        img = os.path.join(self.evil, 'disk.img')
        with open(img, 'wb') as f:
            f.truncate(64 << 20)
        os.chown(img, NOBODY, NOBODY)
        return img

    def test_authorised_verbs(self):
        '''Install, Enroll, Unenroll and ApplySetup, with polkit saying yes
        to everything: the option is refused before a job starts.'''
        self.bus.polkit_call('SetMode', 'allow')
        img = self.hostile_image()
        root = os.path.join(self.evil, 'root')
        os.mkdir(root)
        os.chown(root, NOBODY, NOBODY)
        key = recovery_key(self)
        for dev in self.hostile_devices():
            d = gv(dev)
            calls = {
                'Install': ('Install', gv(img), gv(img),
                            f"{{'encryption': <['tpm2']>, 'recovery-key': <'{key}'>, 'tpm2-device': <{d}>}}"),
                'Enroll': ('Enroll', gv(img), "'tpm2'",
                           f"{{'unlock-passphrase': <'x'>, 'tpm2-device': <{d}>}}"),
                'Enroll-unlock': ('Enroll', gv(img), "'recovery-key'",
                                  f"{{'unlock-tpm2': <true>, 'tpm2-device': <{d}>}}"),
                'Unenroll': ('Unenroll', gv(img), "'tpm2'",
                             f"{{'unlock-tpm2': <true>, 'tpm2-device': <{d}>}}"),
                'ApplySetup': ('ApplySetup', gv(root), '@a{sv} {}',
                               f"{{'unlock-tpm2': <true>, 'tpm2-device': <{d}>}}"),
                'ApplySetup-disk': ('ApplySetup', "''", f"{{'disk-tpm2-device': <{d}>}}", '@a{sv} {}'),
            }
            for name, (method, *args) in calls.items():
                with self.subTest(verb=name, device=dev[:80]):
                    r, t = self.timed_call(method, *args)
                    self.assertRefused(r, t, f'{name} {dev[:80]}')

    def test_fido2_device(self):
        '''The FIDO2 option reaches libfido2, which opens what it is given
        read-write: only /dev/hidraw<N> (or "auto") for a user.'''
        self.bus.polkit_call('SetMode', 'allow')
        img = self.hostile_image()
        key = recovery_key(self)
        for dev in (self.victim, self.fifo, self.null_link, '/dev/null', '/dev/watchdog',
                    '/dev/hidraw0/../null', 'hidraw0', 'soft:0', 'pcsc://slot0', 'nfc:/dev/null',
                    '/dev/hidraw9999', '/dev/hidraw01', '/etc/shadow'):
            d = gv(dev)
            calls = {
                'Install': ('Install', gv(img), gv(img),
                            f"{{'encryption': <['fido2']>, 'recovery-key': <'{key}'>, 'fido2-device': <{d}>}}"),
                'Enroll': ('Enroll', gv(img), "'fido2'",
                           f"{{'unlock-passphrase': <'x'>, 'fido2-device': <{d}>}}"),
                'ApplySetup-user': ('ApplySetup', "''",
                                    f"{{'user': <{{'user-name': <'eve'>, 'password': <'x'>, "
                                    f"'fido2': <true>, 'fido2-device': <{d}>}}>}}", '@a{sv} {}'),
                'ApplySetup-disk': ('ApplySetup', "''",
                                    f"{{'disk-fido2': <true>, 'disk-fido2-device': <{d}>}}", '@a{sv} {}'),
            }
            for name, (method, *args) in calls.items():
                with self.subTest(verb=name, device=dev):
                    r, t = self.timed_call(method, *args)
                    self.assertLess(t, BOUND)
                    self.assertNotEqual(r.returncode, 0, f'{name} {dev}: accepted: {r.stdout}')
                    self.assertRegex(r.stderr, r'InvalidArgument|NotFound|NotAuthorized', r.stderr)
                    self.assertNothingTouched()


# Runs as NOBODY: sends one call whose arguments are built here (too big
# for a command line) and prints the outcome and the time it took.
BIG_CALL = r'''
import sys, time
from gi.repository import Gio, GLib
method, iface, sig, expr = sys.argv[1:5]
args = eval(expr)
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
start = time.monotonic()
try:
    bus.call_sync('dev.imprint.Imprint1', '/dev/imprint/Imprint1/Manager', iface, method,
                  GLib.Variant(sig, args), None, Gio.DBusCallFlags.NONE, 60000, None)
    print('OK')
except GLib.Error as e:
    print('ERROR', Gio.DBusError.get_remote_error(e) or '', e.message[:300])
print(time.monotonic() - start)
'''


class SecretLengthTest(imprinttest.HostileTestCase):

    def big_call(self, method, sig, expr, iface='dev.imprint.Imprint1.Manager'):
        cmd = ['setpriv', f'--reuid={NOBODY}', f'--regid={NOBODY}', '--clear-groups',
               '/usr/bin/python3', '-c', BIG_CALL, method, iface, sig, expr]
        r = subprocess.run(cmd, env=self.bus.env, capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        outcome, elapsed = r.stdout.strip().rsplit('\n', 1)
        return outcome, float(elapsed)

    def test_check_passphrase_10mb(self):
        outcome, elapsed = self.big_call('CheckPassphrase', '(sa{sv})', "('a' * (10 << 20), {})")
        self.assertTrue(outcome.startswith('ERROR dev.imprint.Imprint1.Error.InvalidArgument'), outcome)
        self.assertLess(elapsed, BOUND)
        self.assertDaemonAlive()

    def test_check_passphrase_cap(self):
        '''1024 bytes are rated, 1025 refused.'''
        outcome, _ = self.big_call('CheckPassphrase', '(sa{sv})', "('Zq7#' * 256, {})")
        self.assertEqual(outcome, 'OK')
        outcome, _ = self.big_call('CheckPassphrase', '(sa{sv})', "('Zq7#' * 256 + 'x', {})")
        self.assertTrue(outcome.startswith('ERROR dev.imprint.Imprint1.Error.InvalidArgument'), outcome)
        self.assertDaemonAlive()

    def test_secrets_in_options_10mb(self):
        '''Every option that carries a passphrase, PIN or recovery key.'''
        self.bus.polkit_call('SetMode', 'allow')
        img = os.path.join(self.evil, 'disk.img')
        with open(img, 'wb') as f:
            f.truncate(64 << 20)
        os.chown(img, NOBODY, NOBODY)
        big = "'k' * (10 << 20)"
        key = recovery_key(self)
        tree = os.path.join(self.evil, 'setup-tree')
        os.makedirs(os.path.join(tree, 'etc'))
        for dirpath, _dirs, _files in os.walk(tree):
            os.chown(dirpath, NOBODY, NOBODY)
        calls = [
            ('Install', '(ssa{sv})',
             f"({img!r}, {img!r}, {{'encryption': GLib.Variant('as', ['passphrase']), "
             f"'recovery-key': GLib.Variant('s', {big}), 'passphrase': GLib.Variant('s', 'x')}})"),
            ('Install', '(ssa{sv})',
             f"({img!r}, {img!r}, {{'recovery-key': GLib.Variant('s', {key!r}), "
             f"'passphrase': GLib.Variant('s', {big})}})"),
            ('Install', '(ssa{sv})',
             f"({img!r}, {img!r}, {{'encryption': GLib.Variant('as', ['tpm2']), "
             f"'recovery-key': GLib.Variant('s', {key!r}), 'tpm2-pin': GLib.Variant('s', {big})}})"),
            ('Enroll', '(ssa{sv})',
             f"({img!r}, 'passphrase', {{'unlock-passphrase': GLib.Variant('s', {big}), "
             f"'passphrase': GLib.Variant('s', 'x')}})"),
            ('Enroll', '(ssa{sv})',
             f"({img!r}, 'passphrase', {{'unlock-passphrase': GLib.Variant('s', 'x'), "
             f"'passphrase': GLib.Variant('s', {big})}})"),
            ('Enroll', '(ssa{sv})',
             f"({img!r}, 'tpm2', {{'unlock-tpm2': GLib.Variant('b', True), "
             f"'unlock-tpm2-pin': GLib.Variant('s', {big})}})"),
            # A tree of the caller's where setup is pending: the running
            # system's setup is complete here, which is refused first.
            ('ApplySetup', '(sa{sv}a{sv})',
             f"({tree!r}, {{'user': GLib.Variant('a{{sv}}', {{'user-name': GLib.Variant('s', 'eve'), "
             f"'password': GLib.Variant('s', {big})}})}}, {{}})"),
            ('ApplySetup', '(sa{sv}a{sv})',
             f"({tree!r}, {{'disk-recovery-key': GLib.Variant('s', {big})}}, {{}})"),
        ]
        for method, sig, expr in calls:
            with self.subTest(method=method, args=expr[:120]):
                outcome, elapsed = self.big_call(method, sig, expr)
                self.assertTrue(outcome.startswith('ERROR dev.imprint.Imprint1.Error.InvalidArgument'),
                                outcome)
                self.assertIn('1024', outcome)
                self.assertLess(elapsed, BOUND)
                self.assertDaemonAlive()


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''Later changes to how a LUKS2 volume unlocks, through imprintd on a test
bus and imprintctl: list, recovery key, passphrase, TPM2 re-seal (swtpm),
FIDO2 (the soft authenticator, preloaded into imprintd); the last way in is
never removed, a wrong unlock secret and polkit refusal change nothing.
Volumes are LUKS2 image files (no device-mapper needed).'''

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
from test_install import Swtpm  # noqa: E402

PASSPHRASE = 'correct horse battery staple 42'
RECOVERY_RE = r'^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$'
ACTION_LIST_ENROLLMENTS = 'dev.imprint.Imprint1.list-enrollments'
ACTION_ENROLL = 'dev.imprint.Imprint1.enroll'
ACTION_UNENROLL = 'dev.imprint.Imprint1.unenroll'


class EnrollTestBase(imprinttest.ImprintTestCase):

    @classmethod
    def setUpClass(cls):
        if not shutil.which('cryptsetup'):
            raise imprinttest.unittest.SkipTest('cryptsetup is not installed')

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='imprint-enroll-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.volume = os.path.join(self.work, 'volume.img')
        with open(self.volume, 'wb') as f:
            f.truncate(32 * 1024 * 1024)
        # A cheap PBKDF: the tests are about keyslots, not about brute force.
        subprocess.run(['cryptsetup', 'luksFormat', '--type', 'luks2', '--batch-mode',
                        '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000',
                        '--key-file=-', self.volume], input=PASSPHRASE.encode(), check=True)
        self.pw_file = self.secret_file('pw', PASSPHRASE)

    def secret_file(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, 'w') as f:
            f.write(text + '\n')
        return path

    def opens(self, secret):
        '''cryptsetup's own check: no device-mapper, nothing activated.'''
        return subprocess.run(['cryptsetup', 'open', '--test-passphrase', '--key-file=-', self.volume],
                              input=secret.encode(), capture_output=True).returncode == 0

    def metadata(self):
        r = subprocess.run(['cryptsetup', 'luksDump', '--dump-json-metadata', self.volume],
                           capture_output=True, text=True, check=True)
        return json.loads(r.stdout)

    def enrollments(self):
        return self.bus.ctl_json('enrollments', self.volume)

    def types(self):
        return sorted(e['type'] for e in self.enrollments())

    def enroll(self, *args, check=0, timeout=120):
        return self.bus.ctl('--json', 'enroll', self.volume, *args, check=check, timeout=timeout)

    def unenroll(self, *args, check=0, timeout=120):
        return self.bus.ctl('--json', 'unenroll', self.volume, *args, check=check, timeout=timeout)

    def new_recovery_key(self, *unlock):
        r = self.enroll('--recovery-key', *unlock)
        ev = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{')]
        self.assertEqual(ev[-1]['event'], 'recovery-key')
        key = ev[-1]['recovery-key']
        self.assertRegex(key, RECOVERY_RE)
        return key


class SecretsTest(EnrollTestBase):

    def test_list_plain_volume(self):
        e = self.enrollments()
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]['type'], 'passphrase')
        self.assertEqual(e[0]['keyslot'], 0)
        self.assertEqual(e[0]['token'], -1)
        r = self.bus.ctl('enrollments', self.volume, check=0)
        self.assertIn('passphrase', r.stdout)

    def test_recovery_key_regenerated(self):
        key = self.new_recovery_key('--unlock-key-file', self.pw_file)
        self.assertTrue(self.opens(key))
        self.assertEqual(self.types(), ['passphrase', 'recovery-key'])
        tokens = [t for t in self.metadata()['tokens'].values()]
        self.assertEqual(tokens[0]['type'], 'systemd-recovery')
        self.assertEqual(set(tokens[0]), {'type', 'keyslots'})

        # The old key, typed sloppily (upper case, no dashes), proves the
        # way in; afterwards only the new key opens.
        typed = self.secret_file('typed', key.upper().replace('-', ''))
        key2 = self.new_recovery_key('--unlock-key-file', typed)
        self.assertNotEqual(key, key2)
        self.assertTrue(self.opens(key2))
        self.assertFalse(self.opens(key))
        self.assertTrue(self.opens(PASSPHRASE))
        self.assertEqual(self.types(), ['passphrase', 'recovery-key'])

    def test_recovery_key_file(self):
        out = os.path.join(self.work, 'rk')
        self.enroll('--recovery-key', f'--recovery-key-file={out}', '--unlock-key-file', self.pw_file)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        with open(out) as f:
            self.assertTrue(self.opens(f.read().strip()))

    def test_change_and_remove_passphrase(self):
        key = self.new_recovery_key('--unlock-key-file', self.pw_file)
        rk_file = self.secret_file('rk', key)
        new = self.secret_file('new', 'an entirely new passphrase 7')
        self.enroll('--passphrase-file', new, '--unlock-key-file', rk_file, timeout=300)
        self.assertTrue(self.opens('an entirely new passphrase 7'))
        self.assertFalse(self.opens(PASSPHRASE))
        self.assertEqual(self.types(), ['passphrase', 'recovery-key'])

        self.unenroll('--passphrase', '--unlock-key-file', rk_file)
        self.assertFalse(self.opens('an entirely new passphrase 7'))
        self.assertTrue(self.opens(key))
        self.assertEqual(self.types(), ['recovery-key'])

        # Now the recovery key is the last way in.
        r = self.unenroll('--recovery-key', '--unlock-key-file', rk_file, check=1)
        self.assertIn('last way', r.stdout + r.stderr)
        self.assertTrue(self.opens(key))
        self.assertEqual(self.types(), ['recovery-key'])

    def test_last_passphrase_is_kept(self):
        before = self.metadata()
        r = self.unenroll('--passphrase', '--unlock-key-file', self.pw_file, check=1)
        self.assertIn('last way', r.stdout + r.stderr)
        self.assertEqual(self.metadata(), before)
        self.assertTrue(self.opens(PASSPHRASE))

    def test_wrong_unlock_secret_is_refused(self):
        wrong = self.secret_file('wrong', 'not the passphrase')
        before = self.metadata()
        r = self.enroll('--recovery-key', '--unlock-key-file', wrong, check=4)
        self.assertIn('does not unlock', r.stdout + r.stderr)
        r = self.unenroll('--passphrase', '--unlock-key-file', wrong, check=4)
        self.assertEqual(self.metadata(), before)
        # No recovery key was printed for a change that did not happen.
        self.assertNotIn('recovery-key"', r.stdout)

    def test_usage_errors(self):
        self.bus.ctl('enroll', self.volume, '--recovery-key', check=2)          # no unlock
        self.bus.ctl('enroll', self.volume, '--tpm2', '--fido2', '--unlock-tpm2', check=2)
        self.bus.ctl('unenroll', self.volume, '--unlock-tpm2', check=2)          # no method
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager',
                           '--method', 'dev.imprint.Imprint1.Manager.Enroll', self.volume, 'pkcs12',
                           "{'unlock-passphrase': <'x'>}")
        self.assertIn('InvalidArgument', r.stderr)
        r = self.bus.ctl('enrollments', os.path.join(self.work, 'missing'), check=5)


class PolkitTest(EnrollTestBase):

    def test_refused_changes_nothing(self):
        self.bus.polkit_call('SetMode', 'deny')
        self.bus.polkit_call('SetAllowed', [ACTION_LIST_ENROLLMENTS])
        before = self.metadata()
        r = self.enroll('--recovery-key', '--unlock-key-file', self.pw_file, check=4)
        self.assertIn('not allowed', r.stderr)
        self.unenroll('--passphrase', '--unlock-key-file', self.pw_file, check=4)
        calls = self.bus.polkit_call('GetCalls')
        self.assertIn(ACTION_ENROLL, calls)
        self.assertIn(ACTION_UNENROLL, calls)
        self.assertEqual(self.metadata(), before)
        # Listing is its own action, and still allowed.
        self.assertEqual(self.types(), ['passphrase'])
        self.bus.polkit_call('SetAllowed', [])
        self.bus.ctl('enrollments', self.volume, check=4)


class Tpm2Test(EnrollTestBase):

    def setUp(self):
        super().setUp()
        self.tpm = Swtpm(os.path.join(self.work, 'tpm'))
        self.addCleanup(self.tpm.stop)
        self.dev = f'--tpm2-device={self.tpm.tcti}'

    def extend_pcr7(self):
        subprocess.run(['tpm2_pcrextend', '-T', self.tpm.tcti,
                        '7:sha256=' + '11' * 32], check=True, capture_output=True)

    def test_enroll_unlock_and_reseal(self):
        if not shutil.which('tpm2_pcrextend'):
            self.skipTest('tpm2-tools is not installed')
        self.enroll('--tpm2', self.dev, '--unlock-key-file', self.pw_file)
        e = [x for x in self.enrollments() if x['type'] == 'tpm2']
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]['tpm2-pcrs'], [7])
        self.assertEqual(e[0]['tpm2-pcr-bank'], 'sha256')
        self.assertFalse(e[0]['tpm2-pin'])
        self.assertFalse(e[0]['tpm2-signed-policy'])
        token = next(t for t in self.metadata()['tokens'].values() if t['type'] == 'systemd-tpm2')
        for field in ('tpm2-blob', 'tpm2-pcrs', 'tpm2-policy-hash', 'tpm2-pcr-bank', 'tpm2-primary-alg', 'tpm2-pin'):
            self.assertIn(field, token)
        first_slot = e[0]['keyslot']

        # The TPM proves the way in: here to add a recovery key.
        key = self.new_recovery_key('--unlock-tpm2', self.dev)
        self.assertTrue(self.opens(key))

        # "A firmware update": PCR 7 changes, the seal no longer opens.
        self.extend_pcr7()
        r = self.unenroll('--passphrase', '--unlock-tpm2', self.dev, check=8)
        self.assertIn('TPM', r.stdout + r.stderr)
        self.assertTrue(self.opens(PASSPHRASE))

        # Re-seal with the recovery key: one TPM2 keyslot again, and it works.
        rk = self.secret_file('rk', key)
        self.enroll('--tpm2', self.dev, '--tpm2-pcrs=7', '--unlock-key-file', rk)
        e = [x for x in self.enrollments() if x['type'] == 'tpm2']
        self.assertEqual(len(e), 1)
        self.assertEqual(self.types(), ['passphrase', 'recovery-key', 'tpm2'])
        self.unenroll('--passphrase', '--unlock-tpm2', self.dev)
        self.assertEqual(self.types(), ['recovery-key', 'tpm2'])
        self.assertFalse(self.opens(PASSPHRASE))
        # The old seal's keyslot was destroyed, not just its token.
        self.assertNotIn(str(first_slot), self.metadata()['keyslots']
                         if first_slot != e[0]['keyslot'] else {})

        # TPM2 may go while the recovery key stays; then the key is the last.
        self.unenroll('--tpm2', '--unlock-key-file', rk)
        self.assertEqual(self.types(), ['recovery-key'])

    def test_pin(self):
        pin = self.secret_file('pin', '123456')
        wrong = self.secret_file('wrong-pin', '654321')
        self.enroll('--tpm2', self.dev, f'--tpm2-pin={pin}', '--unlock-key-file', self.pw_file)
        e = next(x for x in self.enrollments() if x['type'] == 'tpm2')
        self.assertTrue(e['tpm2-pin'])
        before = self.metadata()
        self.enroll('--recovery-key', '--unlock-tpm2', self.dev, f'--unlock-tpm2-pin={wrong}', check=4)
        self.assertEqual(self.metadata(), before)
        self.new_recovery_key('--unlock-tpm2', self.dev, f'--unlock-tpm2-pin={pin}')


def preload_env():
    '''imprintd's environment with the soft FIDO2 key preloaded. In a
    sanitizer build the preloaded library comes before libasan, which ASan
    would refuse at start-up.'''
    asan = os.environ.get('ASAN_OPTIONS')
    return {'LD_PRELOAD': os.environ.get('IMPRINT_SOFT_FIDO2_PRELOAD', ''),
            'ASAN_OPTIONS': (asan + ':' if asan else '') + 'verify_asan_link_order=0'}


class Fido2Test(EnrollTestBase):
    daemon_env = preload_env()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.path.exists(cls.daemon_env['LD_PRELOAD']):
            raise imprinttest.unittest.SkipTest('IMPRINT_SOFT_FIDO2_PRELOAD is not set to the built preload library')

    def test_add_unlock_remove(self):
        key = '--fido2-device=soft:0'
        self.enroll('--fido2', key, '--unlock-key-file', self.pw_file)
        e = next(x for x in self.enrollments() if x['type'] == 'fido2')
        self.assertEqual(e['fido2-rp'], 'io.systemd.cryptsetup')
        self.assertTrue(e['fido2-credential'])
        token = next(t for t in self.metadata()['tokens'].values() if t['type'] == 'systemd-fido2')
        for field in ('fido2-credential', 'fido2-salt', 'fido2-rp', 'fido2-clientPin-required',
                      'fido2-up-required', 'fido2-uv-required'):
            self.assertIn(field, token)
        # The key has no PIN: the PIN requirement was dropped, as
        # systemd-cryptenroll does.
        self.assertFalse(token['fido2-clientPin-required'])

        # A second key; then the security key proves the way in.
        self.enroll('--fido2', '--fido2-device=soft:1', '--unlock-fido2', key)
        self.assertEqual(self.types(), ['fido2', 'fido2', 'passphrase'])
        self.unenroll('--passphrase', '--unlock-fido2', key)
        self.assertFalse(self.opens(PASSPHRASE))
        self.assertEqual(self.types(), ['fido2', 'fido2'])

        # One key goes by keyslot; the other is then the last way in.
        slot = next(x['keyslot'] for x in self.enrollments() if x['type'] == 'fido2')
        self.unenroll('--fido2', f'--keyslot={slot}', '--unlock-fido2', key)
        self.assertEqual(self.types(), ['fido2'])
        r = self.unenroll('--fido2', '--unlock-fido2', key, check=1)
        self.assertIn('last way', r.stdout + r.stderr)
        self.assertEqual(self.types(), ['fido2'])
        # A key the volume does not know cannot unlock it.
        self.unenroll('--fido2', '--unlock-fido2', '--fido2-device=soft:9', check=8)


class Fido2PinTest(Fido2Test):
    '''A key with a PIN: imprintd asks for it through the Job's Request
    signal, imprintctl on the terminal (a pty here) and answers.'''
    daemon_env = dict(Fido2Test.daemon_env, IMPRINT_SOFT_FIDO2_PIN='123456')

    def ctl_with_terminal(self, *args, answers=()):
        master, slave = pty.openpty()
        try:
            # Typed ahead: the terminal keeps the lines until imprintctl reads.
            os.write(master, ''.join(a + '\n' for a in answers).encode())
            r = subprocess.run([self.bus.imprintctl, '--json', *args], env=self.bus.env, stdin=slave,
                               capture_output=True, text=True, timeout=120)
        finally:
            os.close(slave)
            os.close(master)
        return r

    def test_add_unlock_remove(self):
        key = '--fido2-device=soft:0'
        # Without a terminal to ask on, the PIN request is cancelled.
        self.enroll('--fido2', key, '--unlock-key-file', self.pw_file, check=130)
        self.assertEqual(self.types(), ['passphrase'])

        r = self.ctl_with_terminal('enroll', self.volume, '--fido2', key, '--unlock-key-file', self.pw_file,
                                   answers=['123456'] * 4)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.bus.daemon_output())
        token = next(t for t in self.metadata()['tokens'].values() if t['type'] == 'systemd-fido2')
        self.assertTrue(token['fido2-clientPin-required'])

        # A wrong PIN first: asked again, then the right one unlocks.
        r = self.ctl_with_terminal('unenroll', self.volume, '--passphrase', '--unlock-fido2', key,
                                   answers=['000000'] + ['123456'] * 4)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.bus.daemon_output())
        self.assertIn('rong PIN', r.stdout + r.stderr)
        self.assertEqual(self.types(), ['fido2'])
        self.assertFalse(self.opens(PASSPHRASE))


if __name__ == '__main__':
    imprinttest.main()

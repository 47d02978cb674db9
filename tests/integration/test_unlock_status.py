#!/usr/bin/python3
'''GetUnlockStatus: the real imprintd reads the host's root and this
boot's journal; then, with its test hooks, a LUKS2 image standing for the
root and journal files written by systemd-journal-remote (real journal
files, real sd-journal reading) saying what systemd-cryptsetup 252 logs
when the TPM refuses; then "Unlock Automatically Again": Enroll tpm2 with
the passphrase on swtpm, after which the status says "resealed". The
parsing of the messages themselves is backend/crypt/test-unlock-log.c.'''

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
from test_install import Swtpm  # noqa: E402

JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote'
PASSPHRASE = 'correct horse battery staple 42'

KEYS = {'encrypted': 'b', 'device': 's', 'volume': 's', 'boot-id': 's', 'journal-read': 'b',
        'needed-recovery': 'b', 'reason': 's', 'detail': 's', 'resealed': 'b'}


def call_status(bus):
    return bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager', '--method',
                     'dev.imprint.Imprint1.Manager.GetUnlockStatus', '{}')


class UnlockStatusTest(imprinttest.ImprintTestCase):
    def status(self):
        r = call_status(self.bus)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_keys(self):
        out = self.status()
        for key, sig in KEYS.items():
            self.assertIn(f"'{key}': <", out, out)
        with open('/proc/sys/kernel/random/boot_id') as f:
            self.assertIn(f"'boot-id': <'{f.read().strip().replace('-', '')}'>", out)
        # The host's own root: when it is not on LUKS2 nothing else is known.
        if "'encrypted': <false>" in out:
            self.assertIn("'needed-recovery': <false>", out)
            self.assertIn("'device': <''>", out)
            self.assertNotIn('tpm2-enrolled', out)
        else:
            self.assertTrue(re.search(r"'device': <'/dev/[^']+'>", out), out)
        # Nothing has been re-sealed by this daemon.
        self.assertIn("'resealed': <false>", out)


class UnlockStatusPolkitTest(imprinttest.ImprintTestCase):
    polkit_mode = 'deny'

    def status(self):
        return UnlockStatusTest.status(self)

    def test_polkit_action(self):
        self.bus.polkit_call('SetAllowed', ['dev.imprint.Imprint1.list-disks'])
        r = call_status(self.bus)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('NotAuthorized', r.stderr)
        self.bus.polkit_call('SetAllowed', [imprinttest.ACTION_READ_STATUS])
        self.status()


def boot_id():
    with open('/proc/sys/kernel/random/boot_id') as f:
        return f.read().strip().replace('-', '')


def write_journal(directory, entries, boot=None):
    '''entries: (unit, message); written as journal files by systemd's own
    journal-remote from the export format.'''
    out = []
    for i, (unit, message) in enumerate(entries):
        out.append(f'__CURSOR=s=1;i={i + 1}\n__REALTIME_TIMESTAMP={1700000000000000 + i}\n'
                   f'__MONOTONIC_TIMESTAMP={1000 + i}\n_BOOT_ID={boot or boot_id()}\n'
                   f'SYSLOG_IDENTIFIER=systemd-cryptsetup\n_SYSTEMD_UNIT={unit}\nMESSAGE={message}\n\n')
    subprocess.run([JOURNAL_REMOTE, f'--output={directory}/remote.journal', '--split-mode=none', '-'],
                   input=''.join(out).encode(), check=True, capture_output=True, timeout=30)


V252_PCR_CHANGED = [
    ('systemd-cryptsetup@root.service', 'Set cipher aes, mode xts-plain64, key size 512 bits for device /dev/vda3.'),
    ('systemd-cryptsetup@root.service', 'Failed to unseal HMAC key in TPM: tpm:session(1):a policy check failed'),
    ('systemd-cryptsetup@root.service',
     'TPM2 operation failed, falling back to traditional unlocking: State not recoverable'),
]


class HealTest(imprinttest.ImprintTestCase):
    '''A root that needed its passphrase at this start, healed.'''
    entries = V252_PCR_CHANGED
    boot = None

    def setUp(self):
        if not os.access(JOURNAL_REMOTE, os.X_OK):
            self.skipTest('systemd-journal-remote is not installed')
        if not shutil.which('cryptsetup'):
            self.skipTest('cryptsetup is not installed')
        self.work = tempfile.mkdtemp(prefix='imprint-heal-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        journal = os.path.join(self.work, 'journal')
        run = os.path.join(self.work, 'run')
        os.mkdir(journal)
        os.mkdir(run, 0o700)
        write_journal(journal, self.entries, self.boot)
        self.volume = os.path.join(self.work, 'root.img')
        with open(self.volume, 'wb') as f:
            f.truncate(32 * 1024 * 1024)
        subprocess.run(['cryptsetup', 'luksFormat', '--type', 'luks2', '--batch-mode',
                        '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000',
                        '--key-file=-', self.volume], input=PASSPHRASE.encode(), check=True)
        self.pw_file = os.path.join(self.work, 'pw')
        with open(self.pw_file, 'w') as f:
            f.write(PASSPHRASE + '\n')
        self.daemon_env = {'IMPRINTD_TEST_UNLOCK_DEVICE': self.volume, 'IMPRINTD_TEST_UNLOCK_VOLUME': 'root',
                           'IMPRINTD_TEST_JOURNAL_DIR': journal, 'RUNTIME_DIRECTORY': run}
        super().setUp()
        self.tpm = Swtpm(os.path.join(self.work, 'tpm'))
        self.addCleanup(self.tpm.stop)
        self.dev = f'--tpm2-device={self.tpm.tcti}'

    def status(self):
        return UnlockStatusTest.status(self)

    def enroll_tpm2(self):
        return self.bus.ctl('--json', 'enroll', self.volume, '--tpm2', self.dev, '--unlock-key-file',
                            self.pw_file, check=0, timeout=120)

    def tpm2_tokens(self):
        r = subprocess.run(['cryptsetup', 'luksDump', '--dump-json-metadata', self.volume],
                           capture_output=True, text=True, check=True)
        return [t for t in json.loads(r.stdout)['tokens'].values() if t['type'] == 'systemd-tpm2']

    def test_needed_recovery_then_heal(self):
        out = self.status()
        self.assertIn("'encrypted': <true>", out)
        self.assertIn(f"'device': <'{self.volume}'>", out)
        self.assertIn("'journal-read': <true>", out)
        self.assertIn("'needed-recovery': <true>", out)
        self.assertIn("'reason': <'pcr-mismatch'>", out)
        self.assertIn('a policy check failed', out)
        self.assertIn("'tpm2-enrolled': <false>", out)
        self.assertIn("'resealed': <false>", out)

        # Sealed once (the install), then PCR 7 moves (the firmware update
        # that made the TPM refuse), then healed with the passphrase.
        self.enroll_tpm2()
        self.assertIn("'tpm2-enrolled': <true>", self.status())
        self.assertIn("'resealed': <true>", self.status())
        subprocess.run(['tpm2_pcrextend', '-T', self.tpm.tcti, '7:sha256=' + '11' * 32],
                       check=True, capture_output=True)
        old = self.tpm2_tokens()
        self.enroll_tpm2()
        new = self.tpm2_tokens()
        self.assertEqual(len(new), 1)
        self.assertNotEqual(new[0]['keyslots'], old[0]['keyslots'])
        self.assertEqual(new[0]['tpm2-pcrs'], [7])
        out = self.status()
        # This start's journal still says what happened; "resealed" says
        # the next start should unlock by itself.
        self.assertIn("'needed-recovery': <true>", out)
        self.assertIn("'resealed': <true>", out)
        # imprintctl says the same (what the VM tests read).
        st = self.bus.ctl_json('unlock-status')
        self.assertEqual((st['needed-recovery'], st['reason'], st['resealed']), (True, 'pcr-mismatch', True))
        text = self.bus.ctl('unlock-status', check=0).stdout
        self.assertIn('needed the recovery key or a passphrase (pcr-mismatch', text)
        self.assertIn('Sealed again:     yes', text)


class OtherBootTest(HealTest):
    '''The same messages from another boot say nothing about this one.'''
    boot = '0123456789abcdef0123456789abcdef'

    def test_needed_recovery_then_heal(self):
        out = self.status()
        self.assertIn("'journal-read': <true>", out)
        self.assertIn("'needed-recovery': <false>", out)
        self.assertIn("'reason': <''>", out)


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''Security capabilities, passphrase rating and recovery keys through
imprintd: what the installer's security page is built on.'''

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
from test_install import Swtpm  # noqa: E402

MODHEX_KEY = r'^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$'


class SecurityTest(imprinttest.ImprintTestCase):

    def test_tpm2_present(self):
        tpm = Swtpm(os.path.join(self.bus.tmp, 'tpm'))
        self.addCleanup(tpm.stop)
        caps = self.bus.ctl_json('security', f'--tpm2-device={tpm.tcti}')
        self.assertTrue(caps['tpm2']['available'], caps['tpm2'])
        self.assertEqual(caps['tpm2']['best-bank'], 'sha256')
        self.assertIn('7', [str(p) for p in caps['tpm2']['banks']['sha256']])
        self.assertFalse(caps['tpm2']['lockout'])
        self.assertIsInstance(caps['fido2'], list)
        for part in ('secure-boot', 'uki'):
            self.assertIn('available', caps[part])
            if not caps[part]['available']:
                self.assertTrue(caps[part]['reason'], part)

    def test_no_tpm2_says_why(self):
        # A TPM node name that is not there (only /dev/tpm<N> and
        # /dev/tpmrm<N> may be named at all).
        caps = self.bus.ctl_json('security', '--tpm2-device=/dev/tpmrm9999')
        self.assertFalse(caps['tpm2']['available'])
        self.assertTrue(caps['tpm2']['reason'])
        r = self.bus.ctl('security', '--tpm2-device=/dev/tpmrm9999', check=0)
        self.assertRegex(r.stdout, r'TPM2\s+no')

    def test_not_a_tpm_refused(self):
        r = self.bus.ctl('security', '--tpm2-device=/dev/nonexistent-tpm')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('not a TPM device', r.stderr)

    def test_recovery_keys_are_fresh_and_well_formed(self):
        a = self.bus.ctl('recovery-key', check=0).stdout.strip()
        b = self.bus.ctl('recovery-key', check=0).stdout.strip()
        self.assertRegex(a, MODHEX_KEY)
        self.assertRegex(b, MODHEX_KEY)
        self.assertNotEqual(a, b)

    def test_recovery_key_needs_no_authorization(self):
        self.bus.polkit_call('SetMode', 'deny')
        self.bus.ctl('recovery-key', check=0)

    def check_passphrase(self, pw):
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager',
                           '--method', 'dev.imprint.Imprint1.Manager.CheckPassphrase', pw, '{}')
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.match(r"\((-?\d+), '(.*)'\)", r.stdout.strip())
        self.assertIsNotNone(m, r.stdout)
        return int(m.group(1)), m.group(2)

    def test_passphrase_rating(self):
        weak, message = self.check_passphrase('password')
        self.assertEqual(weak, -1)
        self.assertTrue(message)
        strong, message = self.check_passphrase('Tr0ub4dor&3 horse battery staple')
        self.assertGreater(strong, 50)
        self.assertEqual(message, '')
        # Nothing about the passphrase reaches the log.
        self.assertNotIn('staple', self.bus.daemon_output())


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''GetUnlockStatus on the host: the real imprintd reads the host's root
and this boot's journal. The parsing of systemd-cryptsetup's messages is
backend/crypt/test-unlock-log.c; here: the method, its keys and types,
and its polkit action.'''

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import imprinttest  # noqa: E402

KEYS = {'encrypted': 'b', 'device': 's', 'volume': 's', 'boot-id': 's', 'journal-read': 'b',
        'needed-recovery': 'b', 'reason': 's', 'detail': 's', 'resealed': 'b'}


class UnlockStatusTest(imprinttest.ImprintTestCase):
    def status(self):
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager', '--method',
                           'dev.imprint.Imprint1.Manager.GetUnlockStatus', '{}')
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
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager', '--method',
                           'dev.imprint.Imprint1.Manager.GetUnlockStatus', '{}')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('NotAuthorized', r.stderr)
        self.bus.polkit_call('SetAllowed', [imprinttest.ACTION_READ_STATUS])
        self.status()


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''imprintd asks polkit for every privileged call: allowed, denied,
dismissed and hanging polkit answers each end the right way.'''

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import imprinttest  # noqa: E402
from imprinttest import ACTION_LIST_DISKS  # noqa: E402


class PolkitTest(imprinttest.ImprintTestCase):

    def test_allowed(self):
        disks = self.bus.ctl_json('list-disks')
        self.assertIsInstance(disks, list)
        calls = self.bus.polkit_call('GetCalls')
        self.assertIn(ACTION_LIST_DISKS, calls)

    def test_denied(self):
        self.bus.polkit_call('SetMode', 'deny')
        r = self.bus.ctl('list-disks', check=4)
        self.assertIn('not allowed', r.stderr)
        # A person never reads a D-Bus error name.
        self.assertNotIn('dev.imprint', r.stderr)
        self.assertNotIn('GDBus', r.stderr)
        self.assertDaemonAlive()

    def test_dismissed_is_told_apart(self):
        self.bus.polkit_call('SetMode', 'dismiss')
        r = self.bus.ctl('list-disks', check=4)
        self.assertIn('dismissed', r.stderr)
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager',
                           '--method', 'dev.imprint.Imprint1.Manager.ListDisks', '{}')
        self.assertIn('dev.imprint.Imprint1.Error.AuthDismissed', r.stderr)

    def test_denied_error_name(self):
        self.bus.polkit_call('SetMode', 'deny')
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager',
                           '--method', 'dev.imprint.Imprint1.Manager.ListDisks', '{}')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('dev.imprint.Imprint1.Error.NotAuthorized', r.stderr)

    def test_no_user_interaction_is_passed_on(self):
        self.bus.polkit_call('ClearCalls')
        self.bus.ctl('--no-ask-password', 'list-disks', check=0)
        self.bus.ctl('list-disks', check=0)
        calls = self.bus.polkit_call('GetCalls').replace('uint32 ', '')
        # (action, flags): 0 without interaction, 1 with it.
        self.assertIn(f"('{ACTION_LIST_DISKS}', 0)", calls)
        self.assertIn(f"('{ACTION_LIST_DISKS}', 1)", calls)

    def test_challenge_without_interaction(self):
        self.bus.polkit_call('SetMode', 'challenge')
        r = self.bus.ctl('--no-ask-password', 'list-disks', check=4)
        self.assertIn('not allowed', r.stderr)

    def test_hanging_polkit_does_not_hang_imprintd(self):
        self.bus.polkit_call('SetMode', 'hang')
        start = time.monotonic()
        r = self.bus.ctl('--no-ask-password', 'list-disks', timeout=30)
        elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn('did not answer', r.stderr)
        self.assertLess(elapsed, self.bus.polkit_timeout + 10)

    def test_main_loop_answers_while_polkit_hangs(self):
        self.bus.polkit_call('SetMode', 'hang')
        import subprocess
        pending = subprocess.Popen([self.bus.imprintctl, '--no-ask-password', 'list-disks'],
                                   env=self.bus.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.5)
            start = time.monotonic()
            r = subprocess.run(['gdbus', 'call', '--system', '--dest', 'dev.imprint.Imprint1',
                                '--object-path', '/dev/imprint/Imprint1/Manager',
                                '--method', 'org.freedesktop.DBus.Properties.Get',
                                'dev.imprint.Imprint1.Manager', 'Version'],
                               env=self.bus.env, capture_output=True, text=True, timeout=5)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertLess(time.monotonic() - start, 2)
        finally:
            pending.wait(30)
        self.assertEqual(pending.returncode, 4)

    def test_unprivileged_user_is_checked_too(self):
        self.bus.polkit_call('SetMode', 'deny')
        r = self.bus.ctl('list-disks', user=65534, check=4)
        self.assertIn('not allowed', r.stderr)


class NoPolkitTest(imprinttest.unittest.TestCase):
    '''Without polkitd on the bus, root is let through and others are not.'''

    def setUp(self):
        self.bus = imprinttest.TestBus(start_polkit=False)
        self.addCleanup(self.bus.stop)

    def test_root_without_polkit(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to tell root from others')
        self.bus.ctl('list-disks', check=0)
        r = self.bus.ctl('list-disks', user=65534, check=4)
        self.assertIn('not running', r.stderr)


if __name__ == '__main__':
    imprinttest.main()

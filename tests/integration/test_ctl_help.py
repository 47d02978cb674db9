#!/usr/bin/python3
'''imprintctl VERB --help prints the verb's options and exits 0 without a
bus: help and usage errors never need imprintd (issue 14, item 8).'''

import os
import subprocess
import sys
import unittest

VERBS = {
    'list-disks': '--include-loop',
    'security': '--tpm2-device',
    'inspect': '--root-hash',
    'install': '--use-free-space',
    'recovery-key': '--help',
    'update-status': '--help',
    'check-updates': '--help',
    'update': '--help',
    'auto-update': 'on|off',
    'factory-reset-info': '--help',
    'factory-reset': '--clear-tpm',
    'setup-defaults': '--target',
    'setup': '--password-file',
    'enrollments': 'DEVICE',
    'enroll': '--unlock-key-file',
    'unenroll': '--keyslot',
    'unlock-status': '--help',
}


class CtlHelpTest(unittest.TestCase):

    def run_ctl(self, *args):
        env = dict(os.environ)
        # Nothing listens here: a connection attempt would fail.
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent/imprint-test-bus'
        env['LC_ALL'] = 'C.UTF-8'
        return subprocess.run([os.environ.get('IMPRINTCTL', 'imprintctl'), *args], env=env,
                              capture_output=True, text=True, timeout=30)

    def test_every_verb_help(self):
        for verb, option in VERBS.items():
            with self.subTest(verb=verb):
                r = self.run_ctl(verb, '--help')
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, '')
                self.assertIn('imprintctl ' + verb, r.stdout)
                self.assertIn(option, r.stdout)

    def test_global_options_then_verb_help(self):
        r = self.run_ctl('--json', '--no-ask-password', 'install', '-h')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('--target', r.stdout)

    def test_usage_errors_need_no_bus(self):
        r = self.run_ctl('install', '--erase')
        self.assertEqual(r.returncode, 2)
        self.assertIn('--target', r.stderr)
        r = self.run_ctl('update-status', 'extra')
        self.assertEqual(r.returncode, 2)
        self.assertIn('takes no arguments', r.stderr)
        r = self.run_ctl('list-disks', '--no-such-option')
        self.assertEqual(r.returncode, 2)

    def test_a_call_still_needs_the_bus(self):
        r = self.run_ctl('list-disks')
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.startswith('imprintctl: '), r.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)

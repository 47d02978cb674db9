#!/usr/bin/python3
'''The polkit rules Imprint installs (data/*.rules), evaluated in order as
polkitd does (the first rule that answers wins) by a JavaScript engine
(node) with a stand-in for polkit's API: the live-session rule grants the
installer's actions to "imprint-setup" only when the running kernel's
command line has the word imprint.live, only in an active local session,
and nothing else; the first-boot rule is unchanged beside it.'''

import json
import os
import shutil
import subprocess
import unittest

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data')
RULES = ['49-imprint-live.rules', '50-imprint-setup.rules']
A = 'dev.imprint.Imprint1.'
LIVE_GRANTED = ['list-disks', 'read-security', 'inspect', 'install', 'read-setup-defaults', 'create-user']
NEVER = ['update', 'factory-reset', 'enroll', 'unenroll', 'list-enrollments', 'read-status']
LIVE_CMDLINE = 'BOOT_IMAGE=/x imprint.live root=/dev/zram0 rootfstype=btrfs quiet'

# A stand-in for polkitd's JavaScript API. spawn() answers only the fixed
# commands the rules may run (else it throws, like a failing command) and
# records every argv, so the test sees what the rules ran.
HARNESS = r'''
const fs = require('fs'), vm = require('vm');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = [];
for (const c of input.cases) {
  const spawned = [];
  const rules = [];
  const polkit = {
    Result: { NO: 'no', YES: 'yes', AUTH_SELF: 'auth_self', AUTH_SELF_KEEP: 'auth_self_keep',
              AUTH_ADMIN: 'auth_admin', AUTH_ADMIN_KEEP: 'auth_admin_keep', NOT_HANDLED: null },
    addRule: (f) => rules.push(f),
    addAdminRule: () => {},
    log: () => {},
    spawn: (argv) => {
      spawned.push(argv);
      const a = argv.join(' ');
      if (a === '/usr/bin/cat /proc/cmdline' && c.cmdline !== null)
        return c.cmdline + '\n';
      if (argv[0] === '/usr/bin/test' && argv[1] === '-e' && c.files.includes(argv[2]))
        return '';
      throw new Error('exited with status 1');
    },
  };
  const ctx = vm.createContext({ polkit });
  for (const f of input.rules)
    vm.runInContext(fs.readFileSync(f, 'utf8'), ctx, { filename: f });
  const action = { id: c.action, lookup: () => undefined };
  const subject = { user: c.user, local: c.local, active: c.active, pid: 1234,
                    isInGroup: () => false, isInNetGroup: () => false };
  let result = null;
  for (const r of rules) {
    const v = r(action, subject);
    if (v !== null && v !== undefined) { result = v; break; }
  }
  out.push({ result, spawned });
}
process.stdout.write(JSON.stringify(out));
'''


@unittest.skipIf(shutil.which('node') is None, 'node is not installed (a JavaScript engine for the rules)')
class PolkitRulesTest(unittest.TestCase):

    def evaluate(self, cases):
        full = [dict({'user': 'imprint-setup', 'local': True, 'active': True,
                      'cmdline': LIVE_CMDLINE, 'files': []}, **c) for c in cases]
        for c in full:
            c['action'] = A + c['action']
        r = subprocess.run(['node', '-e', HARNESS],
                           input=json.dumps({'rules': [os.path.join(DATA, f) for f in RULES], 'cases': full}),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def results(self, cases):
        return [o['result'] for o in self.evaluate(cases)]

    def test_live_grants_the_installer(self):
        self.assertEqual(self.results([{'action': a} for a in LIVE_GRANTED]), ['yes'] * len(LIVE_GRANTED))

    def test_live_grants_create_user_though_setup_is_complete(self):
        # The target is the installed disk, not the running live system.
        r = self.results([{'action': 'create-user', 'files': ['/var/lib/imprint/setup-complete']}])
        self.assertEqual(r, ['yes'])

    def test_live_grants_nothing_else(self):
        self.assertEqual(self.results([{'action': a} for a in NEVER]), [None] * len(NEVER))

    def test_not_live(self):
        for cmdline in ['BOOT_IMAGE=/x root=/dev/sda2 quiet', 'imprint.live=1', 'imprint.lived',
                        'x.imprint.live', 'imprint-live', 'imprint_live', '', None]:
            with self.subTest(cmdline=cmdline):
                r = self.results([{'action': a, 'cmdline': cmdline,
                                   'files': ['/var/lib/imprint/setup-complete']}
                                  for a in ['inspect', 'install', 'create-user']])
                # First-boot setup's rule answers create-user on its own terms.
                self.assertEqual(r, [None, None, 'no'])

    def test_live_word_anywhere(self):
        for cmdline in ['imprint.live', 'imprint.live quiet', 'quiet\timprint.live', 'a  imprint.live  b']:
            with self.subTest(cmdline=cmdline):
                self.assertEqual(self.results([{'action': 'install', 'cmdline': cmdline}]), ['yes'])

    def test_only_imprint_setup_active_local(self):
        cases = [{'action': 'install', 'user': 'alice'},
                 {'action': 'install', 'user': 'root'},
                 {'action': 'install', 'active': False},
                 {'action': 'install', 'local': False},
                 {'action': 'install', 'local': False, 'active': False}]
        self.assertEqual(self.results(cases), [None] * len(cases))

    def test_only_the_fixed_command_is_run(self):
        for o in self.evaluate([{'action': 'install'}, {'action': 'install', 'cmdline': 'quiet'}]):
            self.assertEqual(o['spawned'], [['/usr/bin/cat', '/proc/cmdline']])
        # Actions it never grants do not read the command line at all.
        for o in self.evaluate([{'action': a} for a in NEVER]):
            self.assertNotIn(['/usr/bin/cat', '/proc/cmdline'], o['spawned'])

    def test_first_boot_setup_unchanged(self):
        pending = {'cmdline': 'quiet', 'files': ['/var/lib/imprint/setup-pending']}
        r = self.results([dict(pending, action=a) for a in
                          ['list-disks', 'read-security', 'read-setup-defaults', 'create-user', 'install']])
        self.assertEqual(r, ['yes', 'yes', 'yes', 'yes', None])


if __name__ == '__main__':
    unittest.main()

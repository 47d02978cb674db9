#!/usr/bin/python3
'''Setup targets a hostile local user builds: GetSetupDefaults and ApplySetup
on a tree owned by uid 65534 full of symlinks to root-only files, FIFOs and
non-UTF-8 values, "/" spelled differently, and setup applied again after it
completed. Nothing outside the tree may be read or written.'''

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import imprinttest  # noqa: E402
from imprinttest import NOBODY  # noqa: E402

SECRET = 'TOPSECRET-7f3a'


def chown_tree(path):
    subprocess.run(['chown', '-hR', f'{NOBODY}:{NOBODY}', path], check=True, timeout=30)


class SetupTreeTestCase(imprinttest.HostileTestCase):
    def setUp(self):
        # A state directory of imprintd's own (StateDirectory=), so that
        # whether the running system's setup is pending is this test's.
        self.state = tempfile.mkdtemp(prefix='imprint-sec-state-')
        self.addCleanup(shutil.rmtree, self.state, True)
        self.daemon_env = {'STATE_DIRECTORY': self.state}
        super().setUp()
        # A root-only file: what the hostile user wants to read.
        self.secret = os.path.join(self.bus.tmp, 'secret')
        with open(self.secret, 'w') as f:
            f.write(f'{SECRET}\nLANG={SECRET}\nKEYMAP={SECRET}\nPRETTY_HOSTNAME={SECRET}\nID={SECRET}\n')
        os.chmod(self.secret, 0o600)
        # Root-owned files the hostile user wants written: content and
        # mtime must not change.
        self.sentinel_dir = os.path.join(self.bus.tmp, 'sentinel')
        os.mkdir(self.sentinel_dir, 0o755)
        for name in ('hostname', 'locale.conf', 'vconsole.conf', 'machine-info', 'localtime', 'setup-complete'):
            with open(os.path.join(self.sentinel_dir, name), 'w') as f:
                f.write('SENTINEL\n')
        self.sentinels = self.snapshot(self.sentinel_dir)

    def snapshot(self, d):
        out = {}
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            st = os.lstat(p)
            out[name] = (st.st_mtime_ns, st.st_mode, open(p, 'rb').read() if os.path.isfile(p) else None)
        return out

    def tree(self, name='root'):
        root = os.path.join(self.evil, name)
        os.makedirs(os.path.join(root, 'etc'))
        return root

    def defaults(self, target):
        return self.call('GetSetupDefaults', repr(target), '@a{sv} {}', timeout=20)

    def apply(self, target, *args):
        return self.bus.ctl('setup', '--target', target, *args, user=NOBODY, timeout=60)

    def assertNoSecret(self, r):
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        self.assertNotIn(SECRET, self.bus.daemon_output())

    def assertSentinelsUntouched(self):
        self.assertEqual(self.snapshot(self.sentinel_dir), self.sentinels)


class TestDefaults(SetupTreeTestCase):
    def test_symlinked_files(self):
        root = self.tree()
        etc = os.path.join(root, 'etc')
        os.symlink(self.secret, os.path.join(etc, 'hostname'))
        os.symlink(self.secret, os.path.join(etc, 'locale.conf'))
        os.symlink('../../../secret', os.path.join(etc, 'vconsole.conf'))
        os.symlink('/' + os.path.relpath(self.secret, '/'), os.path.join(etc, 'machine-info'))
        os.symlink(self.secret, os.path.join(etc, 'os-release'))
        os.symlink(self.secret, os.path.join(etc, 'machine-id'))
        chown_tree(root)
        r = self.defaults(root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNoSecret(r)

    def test_symlinked_etc(self):
        root = os.path.join(self.evil, 'root')
        os.mkdir(root)
        os.symlink(self.bus.tmp, os.path.join(root, 'etc'))
        # bus.tmp holds "secret" under the names setup reads.
        for name in ('hostname', 'locale.conf'):
            os.symlink('secret', os.path.join(self.bus.tmp, name))
        chown_tree(root)
        r = self.defaults(root)
        self.assertNoSecret(r)

    def test_symlinked_target(self):
        # The target itself a symlink to a root-only directory.
        private = os.path.join(self.bus.tmp, 'private')
        os.makedirs(os.path.join(private, 'etc'))
        os.chmod(private, 0o700)
        shutil.copy(self.secret, os.path.join(private, 'etc', 'hostname'))
        link = os.path.join(self.evil, 'link')
        os.symlink(private, link)
        for target in (link, private):
            r = self.defaults(target)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertNoSecret(r)

    def test_fifo(self):
        root = self.tree()
        for name in ('hostname', 'locale.conf', 'vconsole.conf', 'machine-info'):
            os.mkfifo(os.path.join(root, 'etc', name))
        chown_tree(root)
        try:
            r = self.defaults(root)
        except subprocess.TimeoutExpired:
            self.fail('GetSetupDefaults hung on a FIFO' + self.bus.daemon_output())
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_not_utf8(self):
        root = self.tree()
        etc = os.path.join(root, 'etc')
        for name, text in (('hostname', b'\xff\xfe\n'), ('locale.conf', b'LANG=\xc3\x28\n'),
                           ('vconsole.conf', b'KEYMAP=\x80\n'), ('machine-info', b'PRETTY_HOSTNAME=\xfe\n')):
            with open(os.path.join(etc, name), 'wb') as f:
                f.write(text)
        os.symlink('../usr/share/zoneinfo/\xff', os.path.join(etc, 'localtime').encode(), )
        chown_tree(root)
        r = self.defaults(root)
        self.assertDaemonAlive()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn('CRITICAL', self.bus.daemon_output())

    def test_root_spelled_differently(self):
        link = os.path.join(self.evil, 'slash')
        os.symlink('/', link)
        for target in ('/', '/.', '//', '/usr/..', '/./', '/etc/..', link + '/.', '/proc/self/root', '/proc/1/root/.'):
            r = self.defaults(target)
            self.assertNotEqual(r.returncode, 0, f'{target}: {r.stdout}')
            self.assertIn('not the root directory', r.stderr, target)


class TestApply(SetupTreeTestCase):
    SETTINGS = ('--hostname', 'evil-host', '--locale', 'de_DE.UTF-8', '--keymap', 'de',
                '--pretty-hostname', 'Evil', '--timezone', 'Etc/UTC')

    def setUp(self):
        super().setUp()
        # Authorised, hostile tree: polkit says yes to everything.
        self.bus.polkit_call('SetMode', 'allow')

    def test_symlinked_files(self):
        root = self.tree()
        etc = os.path.join(root, 'etc')
        for name in ('hostname', 'locale.conf', 'vconsole.conf', 'machine-info', 'localtime'):
            os.symlink(os.path.join(self.sentinel_dir, name), os.path.join(etc, name))
        os.makedirs(os.path.join(root, 'var', 'lib'))
        os.symlink(self.sentinel_dir, os.path.join(root, 'var', 'lib', 'imprint'))
        chown_tree(root)
        self.apply(root, *self.SETTINGS)
        self.assertSentinelsUntouched()
        # What was written is in the tree, as regular root-owned files.
        st = os.lstat(os.path.join(etc, 'hostname'))
        self.assertTrue(os.path.isfile(os.path.join(etc, 'hostname')) and not os.path.islink(os.path.join(etc, 'hostname')))
        self.assertEqual(st.st_uid, 0)
        with open(os.path.join(etc, 'hostname')) as f:
            self.assertEqual(f.read(), 'evil-host\n')

    def test_symlinked_etc(self):
        root = os.path.join(self.evil, 'root')
        os.mkdir(root)
        os.symlink(self.sentinel_dir, os.path.join(root, 'etc'))
        os.symlink(self.sentinel_dir, os.path.join(root, 'var'))
        chown_tree(root)
        r = self.apply(root, *self.SETTINGS)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertSentinelsUntouched()

    def test_symlinked_etc_to_etc(self):
        before = {n: os.stat(os.path.join('/etc', n)).st_mtime_ns
                  for n in ('hostname', 'locale.conf', 'vconsole.conf', 'machine-info')
                  if os.path.exists(os.path.join('/etc', n))}
        root = os.path.join(self.evil, 'root')
        os.mkdir(root)
        os.symlink('/etc', os.path.join(root, 'etc'))
        chown_tree(root)
        r = self.apply(root, '--hostname', 'evil-host')
        self.assertNotEqual(r.returncode, 0, r.stdout)
        after = {n: os.stat(os.path.join('/etc', n)).st_mtime_ns for n in before}
        self.assertEqual(before, after)

    def test_root_spelled_differently(self):
        for target in ('/', '/.', '//', '/usr/..'):
            r = self.apply(target, '--hostname', 'evil-host')
            self.assertNotEqual(r.returncode, 0, f'{target}: {r.stdout}')
            self.assertIn('not the root directory', r.stderr, target)

    def test_after_setup_completed(self):
        # An installed root whose setup is complete.
        root = self.tree()
        os.makedirs(os.path.join(root, 'var', 'lib', 'imprint'))
        with open(os.path.join(root, 'var', 'lib', 'imprint', 'setup-complete'), 'w') as f:
            f.write('2026-01-01T00:00:00Z\n')
        chown_tree(root)
        r = self.apply(root, '--hostname', 'evil-host')
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertFalse(os.path.exists(os.path.join(root, 'etc', 'hostname')))
        # The running system, setup complete in imprintd's state directory.
        with open(os.path.join(self.state, 'setup-complete'), 'w') as f:
            f.write('2026-01-01T00:00:00Z\n')
        r = self.bus.ctl('setup', '--hostname', 'evil-host', user=NOBODY, timeout=60)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('already complete', r.stderr)
        # Asked for again (an OEM line): allowed to start.
        open(os.path.join(self.state, 'setup-pending'), 'w').close()
        r = self.bus.ctl('setup', '--hostname', 'evil-host', user=NOBODY, timeout=60)
        self.assertNotIn('already complete', r.stderr)


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''Paths and devices a hostile local user names to the verbs besides
InspectSource/PlanInstall/Install: ListDisks' include-files, the LUKS
device of ListEnrollments, Enroll and Unenroll (and Enroll's tpm2-signature
and tpm2-public-key files), ApplySetup's disk-device and the "disk:DEVICE"
target of GetSetupDefaults and ApplySetup.

imprintd once checked these by name as root (stat, following symlinks) and
opened them again later: a symlink to a root-only file or a root-only file
behind a directory the user cannot enter answered differently from a missing
one (an oracle), and Enroll read its signature and key files as root. Now
each is opened once, as the caller, with O_NOFOLLOW and O_NONBLOCK, and
used through that fd. Every refusal must be the same as for a missing file
at the same place, quick, and leave the daemon running.'''

import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
from imprinttest import NOBODY  # noqa: E402

SECRET = 'TOPSECRET-5e0a91'
PASSPHRASE = 'correct horse battery staple'
# The daemon gives up an open after 5 s; a FIFO must not make it wait at all.
BOUNDED = 20


def gv(s):
    '''A string as GVariant text.'''
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


def luks_image(path):
    with open(path, 'wb') as f:
        f.truncate(32 * 1024 * 1024)
    subprocess.run(['cryptsetup', 'luksFormat', '--type', 'luks2', '--batch-mode',
                    '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000',
                    '--key-file=-', path], input=PASSPHRASE.encode(), check=True, timeout=60,
                   capture_output=True)


class Paths2Test(imprinttest.HostileTestCase):

    @classmethod
    def setUpClass(cls):
        if not shutil.which('cryptsetup'):
            raise imprinttest.unittest.SkipTest('cryptsetup is not installed')

    def setUp(self):
        super().setUp()
        # Root's corner: a directory the hostile user cannot enter, with a
        # root-only LUKS2 image in it, and a root-only image and text file
        # next to it (reachable, but not readable).
        self.root_dir = os.path.join(self.bus.tmp, 'rootonly')
        os.mkdir(self.root_dir, 0o700)
        self.hidden = os.path.join(self.root_dir, 'volume.img')
        luks_image(self.hidden)
        os.chmod(self.hidden, 0o600)
        self.root_volume = os.path.join(self.bus.tmp, 'root-volume.img')
        shutil.copy(self.hidden, self.root_volume)
        os.chmod(self.root_volume, 0o600)
        self.secret = os.path.join(self.bus.tmp, 'secret.pem')
        with open(self.secret, 'w') as f:
            f.write(f'-----BEGIN PUBLIC KEY-----\n{SECRET}\n-----END PUBLIC KEY-----\n')
        os.chmod(self.secret, 0o600)
        # The hostile user's own volume.
        self.my_volume = os.path.join(self.evil, 'volume.img')
        shutil.copy(self.hidden, self.my_volume)
        os.chown(self.my_volume, NOBODY, NOBODY)
        os.chmod(self.my_volume, 0o600)
        # A setup tree the hostile user owns (not yet set up).
        self.tree = os.path.join(self.evil, 'tree')
        os.makedirs(os.path.join(self.tree, 'etc'))
        subprocess.run(['chown', '-R', f'{NOBODY}:{NOBODY}', self.tree], check=True, timeout=30)

    # ---- helpers -----------------------------------------------------------

    def mine(self, p):
        os.lchown(p, NOBODY, NOBODY)
        return p

    def symlink(self, name, target):
        p = os.path.join(self.evil, name)
        os.symlink(target, p)
        return self.mine(p)

    def fifo(self, name='fifo'):
        p = os.path.join(self.evil, name)
        os.mkfifo(p)
        return self.mine(p)

    def timed_call(self, method, *args):
        start = time.monotonic()
        try:
            r = self.call(method, *args, timeout=BOUNDED)
        except subprocess.TimeoutExpired:
            self.fail(f'{method}{args} did not return within {BOUNDED} s' + self.bus.daemon_output())
        self.assertLess(time.monotonic() - start, BOUNDED)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        return r

    def admin(self):
        '''The verbs behind admin actions: authorised, hostile arguments.'''
        self.bus.polkit_call('SetMode', 'allow')

    # One probe per verb and path argument: (name, admin?, call(path)); the
    # ones allowed to an active user first, before polkit allows everything.
    def probes(self):
        return [
            ('ListDisks include-files', False,
             lambda p: self.timed_call('ListDisks', '{"include-files": <[%s]>}' % gv(p))),
            ('ListEnrollments', False,
             lambda p: self.timed_call('ListEnrollments', gv(p), '@a{sv} {}')),
            ('GetSetupDefaults disk:', False,
             lambda p: self.timed_call('GetSetupDefaults', gv('disk:' + p), '@a{sv} {}')),
            ('Enroll', True,
             lambda p: self.timed_call('Enroll', gv(p), "'passphrase'",
                                       "{'unlock-passphrase': <%s>, 'passphrase': <'new one'>}" % gv(PASSPHRASE))),
            ('Unenroll', True,
             lambda p: self.timed_call('Unenroll', gv(p), "'passphrase'",
                                       "{'unlock-passphrase': <%s>}" % gv(PASSPHRASE))),
            ('Enroll tpm2-signature', True,
             lambda p: self.timed_call('Enroll', gv(self.my_volume), "'tpm2'",
                                       "{'unlock-passphrase': <%s>, 'tpm2-signature': <%s>}"
                                       % (gv(PASSPHRASE), gv(p)))),
            ('Enroll tpm2-public-key', True,
             lambda p: self.timed_call('Enroll', gv(self.my_volume), "'tpm2'",
                                       "{'unlock-passphrase': <%s>, 'tpm2-public-key': <%s>}"
                                       % (gv(PASSPHRASE), gv(p)))),
            ('ApplySetup disk-device', True,
             lambda p: self.timed_call('ApplySetup', gv(self.tree), "{'disk-device': <%s>}" % gv(p),
                                       '@a{sv} {}')),
            ('ApplySetup disk:', True,
             lambda p: self.timed_call('ApplySetup', gv('disk:' + p), '@a{sv} {}',
                                       "{'unlock-passphrase': <%s>}" % gv(PASSPHRASE))),
        ]

    def assertSameRefusal(self, what, a, a_path, b, b_path):
        self.assertNotEqual(a.returncode, 0, f'{what}: {a.stdout}')
        self.assertNotEqual(b.returncode, 0, f'{what}: {b.stdout}')
        self.assertEqual(a.stderr.replace(a_path, 'PATH'), b.stderr.replace(b_path, 'PATH'), what)

    def each_probe(self, check):
        for name, admin, probe in self.probes():
            with self.subTest(verb=name):
                if admin:
                    self.admin()
                check(name, probe)
                self.assertDaemonAlive()

    # ---- the attacks -------------------------------------------------------

    def test_symlink_to_root_only_file(self):
        to_real = self.symlink('real', self.root_volume)
        to_secret = self.symlink('secret', self.secret)
        to_none = self.symlink('none', os.path.join(self.bus.tmp, 'nonexistent'))

        def check(name, probe):
            none = probe(to_none)
            self.assertSameRefusal(name, probe(to_real), to_real, none, to_none)
            self.assertSameRefusal(name, probe(to_secret), to_secret, none, to_none)
        self.each_probe(check)

    def test_fifo(self):
        fifo = self.fifo()

        def check(name, probe):
            r = probe(fifo)
            self.assertNotEqual(r.returncode, 0, f'{name}: {r.stdout}')
        self.each_probe(check)

    def test_root_only_file_behind_closed_directory(self):
        missing = os.path.join(self.root_dir, 'missing.img')

        def check(name, probe):
            self.assertSameRefusal(name, probe(self.hidden), self.hidden, probe(missing), missing)
        self.each_probe(check)

    def test_root_only_volume_is_not_listed(self):
        # Reachable but not readable: refused, and no token list returned.
        r = self.timed_call('ListEnrollments', gv(self.root_volume), '@a{sv} {}')
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertNotIn('passphrase', r.stdout)
        r = self.timed_call('ListDisks', '{"include-files": <[%s]>}' % gv(self.root_volume))
        self.assertNotEqual(r.returncode, 0, r.stdout)

    def test_root_only_volume_not_enrolled_even_when_authorised(self):
        self.admin()
        before = open(self.root_volume, 'rb').read(1 << 20)
        r = self.timed_call('Enroll', gv(self.root_volume), "'passphrase'",
                            "{'unlock-passphrase': <%s>, 'passphrase': <'new one'>}" % gv(PASSPHRASE))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertEqual(open(self.root_volume, 'rb').read(1 << 20), before)

    def test_readable_volume_not_enrolled_when_not_writable(self):
        # Enroll writes the header: the caller must be able to write the file.
        self.admin()
        os.chmod(self.root_volume, 0o644)
        r = self.timed_call('Enroll', gv(self.root_volume), "'passphrase'",
                            "{'unlock-passphrase': <%s>, 'passphrase': <'new one'>}" % gv(PASSPHRASE))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('Permission denied', r.stderr)

    # ---- the control: what the user may do still works ------------------------

    def test_own_files_work(self):
        r = self.timed_call('ListEnrollments', gv(self.my_volume), '@a{sv} {}')
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        self.assertIn('passphrase', r.stdout)
        r = self.timed_call('ListDisks', '{"include-files": <[%s]>}' % gv(self.my_volume))
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        self.assertIn(self.my_volume, r.stdout)
        self.assertNotIn('/proc/', r.stdout)

    def test_ctl_resolves_symlinks(self):
        # imprintd takes no symlink; imprintctl resolves what the user typed
        # (a /dev/disk/by-id/... name, say) in the user's own view.
        link = self.symlink('by-id-volume', self.my_volume)
        r = self.bus.ctl('--json', 'enrollments', link, user=NOBODY, timeout=BOUNDED)
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        self.assertIn('passphrase', r.stdout)
        r = self.bus.ctl('--json', 'list-disks', '--file', link, user=NOBODY, timeout=BOUNDED)
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        self.assertIn(self.my_volume, r.stdout)
        # A symlink to root's file stays refused: resolving it gains nothing.
        link = self.symlink('by-id-root', self.root_volume)
        r = self.bus.ctl('enrollments', link, user=NOBODY, timeout=BOUNDED)
        self.assertNotEqual(r.returncode, 0, r.stdout)


if __name__ == '__main__':
    imprinttest.main()

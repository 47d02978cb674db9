#!/usr/bin/python3
'''Paths a hostile local user names to InspectSource and PlanInstall
(source, target, certificate, definitions): no hang on a FIFO, no root-only
file read through a symlink or behind a directory the user cannot enter,
no /proc or device files read, no target opened for writing by a verb that
only looks.'''

import ctypes
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import imprinttest  # noqa: E402
from imprinttest import NOBODY  # noqa: E402
from test_install import DEFINITIONS, source_image  # noqa: E402

SECRET = 'TOPSECRET-7d1f0c'
# Every call must come back well within this (the daemon gives up an open
# after 5 s); the old daemon never came back from a FIFO.
BOUNDED = 20


def gv(s):
    '''A GVariant string literal.'''
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


class Inotify:
    '''Watches one file for IN_CLOSE_WRITE: the file was opened for writing
    (and closed), whether or not anything was written.'''
    IN_CLOSE_WRITE = 0x08
    IN_MODIFY = 0x02
    IN_NONBLOCK = 0o4000

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(self.IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_init1')
        if self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_CLOSE_WRITE | self.IN_MODIFY) < 0:
            raise OSError(ctypes.get_errno(), 'inotify_add_watch')

    def events(self):
        try:
            return os.read(self.fd, 4096)
        except BlockingIOError:
            return b''

    def close(self):
        os.close(self.fd)


class PathsTest(imprinttest.HostileTestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ('sfdisk', 'systemd-repart', 'veritysetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        cls.source = source_image()

    def setUp(self):
        super().setUp()
        # Root's corner: a root-only directory and root-only files.
        self.root_dir = os.path.join(self.bus.tmp, 'rootonly')
        os.mkdir(self.root_dir, 0o700)
        self.secret = os.path.join(self.bus.tmp, 'secret')
        with open(self.secret, 'w') as f:
            f.write(f'[Partition]\nType=root\nLabel={SECRET}\n')
        os.chmod(self.secret, 0o600)
        # The source's certificate, readable by root only.
        self.secret_cert = os.path.join(self.bus.tmp, 'secret.crt')
        shutil.copy(self.source + '.crt', self.secret_cert)
        os.chmod(self.secret_cert, 0o600)
        # A copy of the source the hostile user may read.
        self.my_source = self.evil_path('source.img', copy=self.source)
        self.my_cert = self.evil_path('source.crt', copy=self.source + '.crt')
        self.my_target = self.evil_path('target.img', size=1 << 30)
        self.my_defs = os.path.join(self.evil, 'repart.d')
        shutil.copytree(DEFINITIONS, self.my_defs)
        for n in os.listdir(self.my_defs):
            os.chown(os.path.join(self.my_defs, n), NOBODY, NOBODY)
        os.chown(self.my_defs, NOBODY, NOBODY)

    def evil_path(self, name, copy=None, size=None):
        p = os.path.join(self.evil, name)
        if copy is not None:
            subprocess.run(['cp', '--sparse=always', copy, p], check=True, timeout=60)
        elif size is not None:
            with open(p, 'wb') as f:
                f.truncate(size)
        os.chown(p, NOBODY, NOBODY)
        return p

    def symlink(self, name, target):
        p = os.path.join(self.evil, name)
        os.symlink(target, p)
        os.lchown(p, NOBODY, NOBODY)
        return p

    def timed_call(self, method, *args):
        start = time.monotonic()
        try:
            r = self.call(method, *args, timeout=BOUNDED)
        except subprocess.TimeoutExpired:
            self.fail(f'{method}{args} did not return within {BOUNDED} s' + self.bus.daemon_output())
        self.assertLess(time.monotonic() - start, BOUNDED)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        return r

    def inspect(self, source, **options):
        opts = '{' + ', '.join(f"'{k}': <{gv(v)}>" for k, v in options.items()) + '}'
        return self.timed_call('InspectSource', gv(source), opts)

    def plan(self, source, target, **options):
        opts = {'mode': 'erase', 'definitions': self.my_defs, **options}
        text = '{' + ', '.join(f"'{k}': <{gv(v)}>" for k, v in opts.items()) + '}'
        return self.timed_call('PlanInstall', gv(source), gv(target), text)

    def assertRefused(self, r):
        self.assertNotEqual(r.returncode, 0, r.stdout)

    def assertStillAnswers(self):
        self.assertDaemonAlive()
        r = self.call('GenerateRecoveryKey', '{}', timeout=BOUNDED)
        self.assertEqual(r.returncode, 0, r.stderr)

    def error_text(self, r, *names):
        '''The error with the named paths taken out: what is left must not
        depend on what lies behind them.'''
        text = r.stderr
        for n in names:
            text = text.replace(n, 'PATH')
        return text

    # The control: what the hostile user may do works.
    def test_own_files_work(self):
        r = self.inspect(self.my_source, certificate=self.my_cert)
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        self.assertIn(self.my_source, r.stdout)
        r = self.plan(self.my_source, self.my_target)
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        self.assertIn(self.my_target, r.stdout)
        self.assertNotIn('/proc/', r.stdout)

    # Finding 5: a FIFO hung a worker thread in open() for ever.
    def test_fifo_source(self):
        fifo = os.path.join(self.evil, 'fifo')
        os.mkfifo(fifo)
        os.chown(fifo, NOBODY, NOBODY)
        self.assertRefused(self.inspect(fifo))
        self.assertRefused(self.plan(fifo, self.my_target))
        self.assertRefused(self.plan(self.my_source, fifo))
        self.assertStillAnswers()

    def test_fifo_certificate(self):
        fifo = os.path.join(self.evil, 'cert.fifo')
        os.mkfifo(fifo)
        os.chown(fifo, NOBODY, NOBODY)
        self.assertRefused(self.inspect(self.my_source, certificate=fifo))
        self.assertStillAnswers()

    # Symlinks to root's files: neither their contents nor whether they exist.
    def test_symlink_source(self):
        shutil.copy(self.source, os.path.join(self.root_dir, '..', 'root-source.img'))
        root_source = os.path.join(self.bus.tmp, 'root-source.img')
        os.chmod(root_source, 0o600)
        to_real = self.symlink('real', root_source)
        to_none = self.symlink('none', os.path.join(self.bus.tmp, 'nonexistent.img'))
        a, b = self.inspect(to_real), self.inspect(to_none)
        self.assertRefused(a)
        self.assertRefused(b)
        self.assertEqual(self.error_text(a, to_real), self.error_text(b, to_none))

    def test_symlink_certificate(self):
        to_real = self.symlink('real.crt', self.secret_cert)
        to_none = self.symlink('none.crt', os.path.join(self.bus.tmp, 'nonexistent.crt'))
        a = self.inspect(self.my_source, certificate=to_real)
        b = self.inspect(self.my_source, certificate=to_none)
        self.assertRefused(a)
        self.assertRefused(b)
        self.assertEqual(self.error_text(a, to_real), self.error_text(b, to_none))

    def test_root_only_certificate(self):
        # Named directly: the caller's own open fails, as for a missing one.
        a = self.inspect(self.my_source, certificate=self.secret_cert)
        self.assertRefused(a)
        self.assertNotIn('verif', a.stderr.lower())

    def test_symlink_in_definitions(self):
        defs = self.my_defs
        for n in os.listdir(defs):
            if 'root' in n:
                os.unlink(os.path.join(defs, n))
        link = os.path.join(defs, '10-root.conf')
        os.symlink(self.secret, link)
        os.lchown(link, NOBODY, NOBODY)
        r = self.plan(self.my_source, self.my_target, definitions=defs)
        self.assertRefused(r)
        # A symlinked directory is refused too.
        self.assertRefused(self.plan(self.my_source, self.my_target,
                                     definitions=self.symlink('defs-link', defs)))

    # Drop-ins (NAME.conf.d/*.conf) are read as the caller too: neither a
    # symlinked drop-in directory nor a symlinked drop-in file lets a
    # root-only file into the plan.
    def test_symlink_in_definition_drop_ins(self):
        hidden = os.path.join(self.root_dir, 'label.conf')
        shutil.copy(self.secret, hidden)
        os.chmod(hidden, 0o600)
        dropin_link = os.path.join(self.my_defs, '50-root.conf.d')
        os.symlink(self.root_dir, dropin_link)
        os.lchown(dropin_link, NOBODY, NOBODY)
        r = self.plan(self.my_source, self.my_target)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        os.unlink(dropin_link)
        os.mkdir(dropin_link)
        os.chown(dropin_link, NOBODY, NOBODY)
        link = os.path.join(dropin_link, 'label.conf')
        os.symlink(self.secret, link)
        os.lchown(link, NOBODY, NOBODY)
        r = self.plan(self.my_source, self.my_target)
        self.assertRefused(r)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        self.assertStillAnswers()

    # Parent-directory oracle: a readable file in a directory the caller
    # cannot enter must look exactly like a missing one.
    def test_file_behind_root_only_directory(self):
        inner = os.path.join(self.root_dir, 'inner.img')
        subprocess.run(['cp', '--sparse=always', self.source, inner], check=True, timeout=60)
        os.chmod(inner, 0o644)
        inner_cert = os.path.join(self.root_dir, 'inner.crt')
        shutil.copy(self.source + '.crt', inner_cert)
        os.chmod(inner_cert, 0o644)
        missing = os.path.join(self.root_dir, 'missing.img')
        a, b = self.inspect(inner), self.inspect(missing)
        self.assertRefused(a)
        self.assertRefused(b)
        self.assertEqual(self.error_text(a, inner), self.error_text(b, missing))
        a = self.inspect(self.my_source, certificate=inner_cert)
        b = self.inspect(self.my_source, certificate=missing)
        self.assertRefused(a)
        self.assertEqual(self.error_text(a, inner_cert), self.error_text(b, missing))

    # Kernel files, devices, directories: refused at once.
    def test_special_sources(self):
        for path in ('/proc/self/mountinfo', '/proc/self/environ', '/sys/kernel/uevent_seqnum',
                     '/dev/zero', '/dev/stdin', '/dev/null', '/dev/urandom', self.evil, '/'):
            with self.subTest(path=path):
                self.assertRefused(self.inspect(path))
                self.assertRefused(self.plan(path, self.my_target))
                self.assertRefused(self.inspect(self.my_source, certificate=path))
        self.assertStillAnswers()

    def test_special_targets(self):
        for path in ('/proc/self/mountinfo', '/dev/zero', '/dev/null', self.evil):
            with self.subTest(path=path):
                self.assertRefused(self.plan(self.my_source, path))
        self.assertStillAnswers()

    # PlanInstall only looks: someone else's image file is not opened for
    # writing (the old daemon opened it O_RDWR as root).
    def test_plan_does_not_open_target_for_writing(self):
        target = os.path.join(self.bus.tmp, 'someone-elses.img')
        with open(target, 'wb') as f:
            f.truncate(1 << 30)
        os.chmod(target, 0o644)
        before = os.stat(target)
        watch = Inotify(target)
        self.addCleanup(watch.close)
        r = self.plan(self.my_source, target)
        self.assertEqual(r.returncode, 0, r.stderr + self.bus.daemon_output())
        after = os.stat(target)
        self.assertEqual((before.st_mtime_ns, before.st_ctime_ns, before.st_size),
                         (after.st_mtime_ns, after.st_ctime_ns, after.st_size))
        self.assertEqual(watch.events(), b'', 'the target was opened for writing')


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''Stopping imprintd and its scratch files: SIGTERM during an install cancels
the job, waits for its cleanup and only then exits; the scratch cleaner
removes only what imprintd made; polkit is told which disk a call changes.'''

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import imprinttest  # noqa: E402
from imprinttest import NOBODY  # noqa: E402
import test_install  # noqa: E402
from test_install import DEFINITIONS, Swtpm, gpt, source_image  # noqa: E402

# imprintd's --stop-timeout default, plus slack for a loaded machine. (A job
# stops at its next safe point; encrypting the data partition in place has
# none, and takes a while on a busy machine.)
STOP_BOUND = 80 + 15


def scratch_base():
    base = tempfile.mkdtemp(prefix='imprint-shutdown-')
    os.chmod(base, 0o1777)   # like /tmp: anyone may plant entries
    return base


def dead_pid():
    with open('/proc/sys/kernel/pid_max') as f:
        pid_max = int(f.read())
    for pid in range(pid_max - 1, 1, -1):
        if not os.path.exists(f'/proc/{pid}'):
            return pid
    raise RuntimeError('no free pid')


class ShutdownTest(imprinttest.ImprintTestCase):
    '''Root caller, polkit allowing everything: the daemon side of a stop.'''

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise imprinttest.unittest.SkipTest('needs root (loop, dm, swtpm)')
        for tool in ('cryptsetup', 'sfdisk', 'systemd-repart', 'veritysetup', 'dmsetup', 'losetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        cls.source = source_image()

    def setUp(self):
        self.base = scratch_base()
        self.addCleanup(shutil.rmtree, self.base, ignore_errors=True)
        self.daemon_env = {'TMPDIR': self.base}
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='imprint-shutdown-work-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.target = os.path.join(self.work, 'target.img')
        with open(self.target, 'wb') as f:
            f.truncate(1024 * 1024 * 1024)

    def assert_labelled_slots_complete(self):
        test_install.InstallTest.assert_labelled_slots_complete(self)

    def leftovers(self, pid):
        '''What imprintd (pid) could have left behind: scratch entries, its
        dm devices, loop devices on the target, mounts in its scratch.'''
        left = [f'scratch: {n}' for n in os.listdir(self.base)]
        dm = subprocess.run(['dmsetup', 'ls'], capture_output=True, text=True, timeout=30).stdout
        left += [f'dm: {line}' for line in dm.splitlines() if f'-{pid}' in line and 'imprint' in line]
        loops = subprocess.run(['losetup', '-j', self.target], capture_output=True, text=True,
                               timeout=30).stdout
        left += [f'loop: {line}' for line in loops.splitlines() if line.strip()]
        with open('/proc/self/mountinfo') as f:
            left += [f'mount: {line}' for line in f if self.base in line or self.work in line]
        return left

    def test_sigterm_during_install_cancels_and_cleans_up(self):
        tpm = Swtpm(os.path.join(self.work, 'tpm'))
        self.addCleanup(tpm.stop)
        pw = os.path.join(self.work, 'pw')
        with open(pw, 'w') as f:
            f.write('correct horse battery staple 42\n')
        cmd = [self.bus.imprintctl, '--json', 'install', '--source', self.source, '--target', self.target,
               '--erase', '--definitions', DEFINITIONS, '--no-boot-entry', '--tpm2',
               f'--tpm2-device={tpm.tcti}', f'--passphrase-file={pw}']
        client = subprocess.Popen(cmd, env=self.bus.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.addCleanup(lambda: client.poll() is None and client.kill())
        out = []
        signalled = None
        # Late in the install: the LUKS volume is open (dm), scratch files
        # exist (the mkfs tree), the slots are labelled.
        for line in client.stdout:
            out.append(line)
            if '"Encrypting' in line or '"Creating the file system' in line or '"Creating the data' in line:
                self.bus.daemon.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                break
        self.assertIsNotNone(signalled, 'the install ended before it could be stopped:\n' + ''.join(out)
                             + self.bus.daemon_output())

        # Meanwhile nothing new starts.
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1/Manager', '--method',
                           'dev.imprint.Imprint1.Manager.ListDisks', '{}', timeout=30)
        if self.bus.daemon.poll() is None and r.returncode != 0:
            self.assertTrue('Busy' in r.stderr or 'ServiceUnknown' in r.stderr or 'NoReply' in r.stderr
                            or 'NameHasNoOwner' in r.stderr, r.stderr)

        self.bus.daemon.wait(STOP_BOUND)
        stopped_after = time.monotonic() - signalled
        self.assertLess(stopped_after, STOP_BOUND)
        self.assertEqual(self.bus.daemon.returncode, 0, self.bus.daemon_output())

        # The client heard how the job ended before the daemon went.
        try:
            rest, err = client.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            client.kill()
            rest, err = client.communicate()
            self.fail('the client did not end after imprintd stopped:\n' + ''.join(out) + rest + err
                      + self.bus.daemon_output())
        events = [json.loads(x) for x in (''.join(out) + rest).splitlines() if x.startswith('{')]
        completed = [e for e in events if e.get('event') == 'completed']
        self.assertTrue(completed, f'no Completed signal reached the client:\n{rest}\n{err}'
                        + self.bus.daemon_output())
        if not completed[0]['success']:
            self.assertEqual(completed[0]['error'], 'dev.imprint.Imprint1.Error.Cancelled', completed)

        self.assertEqual(self.leftovers(self.bus.daemon.pid), [], self.bus.daemon_output())
        if gpt_table(self.target) is not None:
            self.assert_labelled_slots_complete()


def gpt_table(path):
    try:
        return gpt(path)
    except subprocess.CalledProcessError:
        return None


class ScratchCleanerTest(imprinttest.unittest.TestCase):
    '''The cleaner of stale scratch files never touches what imprintd did
    not make: other users' entries, symlinks, directories in use.'''

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to plant files of several owners')
        self.base = scratch_base()
        self.addCleanup(shutil.rmtree, self.base, ignore_errors=True)
        self.outside = tempfile.mkdtemp(prefix='imprint-shutdown-outside-')
        self.addCleanup(shutil.rmtree, self.outside, ignore_errors=True)
        self.precious = os.path.join(self.outside, 'precious')
        with open(self.precious, 'w') as f:
            f.write('keep me')

    def plant(self):
        b = self.base
        # Another user's directory and file, named like imprintd's.
        os.mkdir(os.path.join(b, 'imprintd-Nob0dy'))
        with open(os.path.join(b, 'imprintd-Nob0dy', 'data'), 'w') as f:
            f.write('theirs')
        with open(os.path.join(b, 'imprintd-N0file'), 'w') as f:
            f.write('theirs')
        for p in ('imprintd-Nob0dy', 'imprintd-Nob0dy/data', 'imprintd-N0file'):
            os.chown(os.path.join(b, p), NOBODY, NOBODY)
        # Named like the old cleaner's files, of a process that is gone.
        self.old_style = os.path.join(b, f'imprint-plan-{dead_pid()}-AbCdEf.img')
        with open(self.old_style, 'w') as f:
            f.write('theirs')
        os.chown(self.old_style, NOBODY, NOBODY)
        # A symlink (root's) to a directory elsewhere: never followed.
        os.symlink(self.outside, os.path.join(b, 'imprintd-L1nked'))
        # A stale one of ours: removed, without following what is in it.
        stale = os.path.join(b, 'imprintd-St4le1')
        os.makedirs(os.path.join(stale, 'sub', 'deeper'))
        with open(os.path.join(stale, 'sub', 'file'), 'w') as f:
            f.write('stale')
        os.symlink(self.precious, os.path.join(stale, 'link-to-precious'))
        os.symlink(self.outside, os.path.join(stale, 'sub', 'link-to-outside'))
        # One of ours in use (locked by a running imprintd): kept.
        busy = os.path.join(b, 'imprintd-Busy01')
        os.mkdir(busy, 0o700)
        self.busy_fd = os.open(busy, os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, self.busy_fd)
        import fcntl
        fcntl.flock(self.busy_fd, fcntl.LOCK_EX)

    def test_cleaner_removes_only_its_own(self):
        self.plant()
        bus = imprinttest.TestBus(polkit_mode='allow', daemon_env={'TMPDIR': self.base})
        try:
            # A plan with data partitions: the old code cleaned stale plan
            # images (anyone's) here.
            source = source_image()
            target = os.path.join(self.outside, 'target.img')
            with open(target, 'wb') as f:
                f.truncate(1024 * 1024 * 1024)
            bus.ctl('--json', 'install', '--source', source, '--target', target, '--erase', '--dry-run',
                    '--definitions', DEFINITIONS, check=0, timeout=120)
            ours = [(n, os.lstat(os.path.join(self.base, n))) for n in os.listdir(self.base)
                    if n.startswith('imprintd-') and n not in
                    ('imprintd-Nob0dy', 'imprintd-N0file', 'imprintd-L1nked', 'imprintd-Busy01')]
        finally:
            bus.stop()

        left = sorted(os.listdir(self.base))
        self.assertEqual(left, sorted(['imprintd-Nob0dy', 'imprintd-N0file', 'imprintd-L1nked', 'imprintd-Busy01',
                                       os.path.basename(self.old_style)]))
        with open(os.path.join(self.base, 'imprintd-Nob0dy', 'data')) as f:
            self.assertEqual(f.read(), 'theirs')
        with open(self.old_style) as f:
            self.assertEqual(f.read(), 'theirs')
        with open(self.precious) as f:
            self.assertEqual(f.read(), 'keep me')
        self.assertTrue(os.path.islink(os.path.join(self.base, 'imprintd-L1nked')))
        # While it ran, imprintd had exactly one scratch directory, root's
        # and 0700; the stale one was gone by then.
        mine = [(n, st.st_uid, st.st_mode & 0o7777) for n, st in ours]
        self.assertEqual(len(mine), 1, mine)
        self.assertEqual(mine[0][1:], (0, 0o700))


class PolkitDetailsTest(imprinttest.HostileTestCase):
    '''polkit is told which disk a call would change, so a prompt and a rule
    can name it.'''

    def some_disk(self):
        for name in sorted(os.listdir('/sys/class/block')):
            model = os.path.join('/sys/class/block', name, 'device', 'model')
            if os.path.exists(model):
                with open(model) as f:
                    return f'/dev/{name}', f.read().strip()
        return '/dev/sdz', ''

    def test_install_names_the_disk(self):
        device, model = self.some_disk()
        self.bus.polkit_call('ClearCalls')
        # Refused (install needs an administrator), so nothing happens.
        r = self.call('Install', "'/nonexistent.img'", f"'{device}'", '{}')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('NotAuthorized', r.stderr)
        details = self.bus.polkit_call('GetDetails')
        self.assertIn("'dev.imprint.Imprint1.install'", details)
        self.assertIn(f"'device': '{device}'", details)
        self.assertIn("'polkit.gettext_domain': 'imprint'", details)
        self.assertIn('$(drive)', details)
        if model:
            self.assertIn(model, details)

    def test_enroll_and_unenroll_name_the_disk(self):
        for method in ('Enroll', 'Unenroll'):
            self.bus.polkit_call('ClearCalls')
            r = self.call(method, "'/dev/sdz3'", "'recovery'", '{}')
            self.assertNotEqual(r.returncode, 0)
            details = self.bus.polkit_call('GetDetails')
            self.assertIn("'device': '/dev/sdz3'", details)
            self.assertIn('$(drive)', details)

    def test_hostile_path_is_one_short_line(self):
        self.bus.polkit_call('ClearCalls')
        evil = '/tmp/x\nAuthentication is NOT required, this is harmless\n' + 'A' * 500
        r = self.call('Install', "'/nonexistent.img'", json.dumps(evil), '{}')
        self.assertNotEqual(r.returncode, 0)
        details = self.bus.polkit_call('GetDetails')
        self.assertNotIn('\\n', details)
        self.assertNotIn('A' * 200, details)

    def test_read_only_verbs_have_their_own_actions(self):
        self.bus.polkit_call('ClearCalls')
        self.call('InspectSource', "'/nonexistent.img'", '{}')
        self.call('GetUpdateStatus', '{}')
        calls = self.bus.polkit_call('GetCalls')
        self.assertIn(imprinttest.ACTION_INSPECT, calls)
        self.assertIn(imprinttest.ACTION_READ_STATUS, calls)


if __name__ == '__main__':
    imprinttest.main()

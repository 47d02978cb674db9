#!/usr/bin/python3
'''One job per disk (issue 13, finding 6): a second job on a disk a job
already writes fails at once with Busy naming that job, and the install
holds the target's BSD lock (what udev and systemd honour) for the whole
job, not only while it copies.'''

import fcntl
import json
import os
import shutil
import subprocess
import sys
import re
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import imprinttest  # noqa: E402
from test_install import DEFINITIONS, source_image  # noqa: E402

# Steps during which the target must be flock()ed by the job. Not "Creating
# the data partitions"/"Encrypting": systemd-repart takes the lock itself
# there (see install.c); the end is left out as the lock goes with it.
HELD_STEPS = ('Checking the system image', 'Planning the partitions', 'Checking the installation source', 'Partitioning the disk', 'Copying the boot loader',
              'Copying the system', 'Copying the system’s verity hashes',
              'Copying the system’s signature', 'Marking the system as installed')


class LockTest(imprinttest.HostileTestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ('cryptsetup', 'sfdisk', 'systemd-repart', 'veritysetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        # Big enough that the job lasts a few seconds to sample.
        cls.source = source_image('--usr-mib', '128', name='source-128.img')

    def setUp(self):
        super().setUp()
        self.bus.polkit_call('SetMode', 'allow')
        self.target = os.path.join(self.bus.tmp, 'target.img')
        with open(self.target, 'wb') as f:
            f.truncate(1024 * 1024 * 1024)
        # The hostile caller's own image: imprintd opens a caller-named
        # file as the caller, read-write for Install and Enroll.
        os.chown(self.target, imprinttest.NOBODY, imprinttest.NOBODY)

    def start_install(self):
        '''imprintctl install (root, as the integration tests run it) in the
        background; returns the process once its job is running.'''
        cmd = [self.bus.imprintctl, '--json', 'install', '--source', self.source, '--target', self.target,
               '--erase', '--definitions', DEFINITIONS, '--no-boot-entry', '--no-encrypt']
        p = subprocess.Popen(cmd, env=self.bus.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait(10)))
        return p

    def install_call(self):
        return self.call('Install', self.source, self.target,
                         f"{{'mode': <'erase'>, 'definitions': <'{DEFINITIONS}'>, "
                         "'encrypt': <false>, 'no-boot-entry': <true>}")

    def test_second_install_is_busy(self):
        p = self.start_install()
        job = self.wait_for_job(p)

        t0 = time.monotonic()
        r = self.install_call()
        self.assertLess(time.monotonic() - t0, 10, 'the second install did not fail at once')
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('Error.Busy', r.stderr)
        self.assertIn(f'(job {job})', r.stderr)
        self.assertIn('installation', r.stderr)
        # No second job was started.
        self.assertEqual(self.jobs(), [job])

        out, err = p.communicate(timeout=300)
        events = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
        done = next(e for e in events if e['event'] == 'completed')
        self.assertTrue(done['success'], done)
        self.assertEqual(p.returncode, 0, err)
        # And once that job is over, the disk is free for the next one.
        r = self.install_call()
        self.assertEqual(r.returncode, 0, r.stderr)

    def jobs(self):
        r = self.bus.gdbus('--object-path', '/dev/imprint/Imprint1',
                           '--method', 'org.freedesktop.DBus.ObjectManager.GetManagedObjects')
        if r.returncode != 0:
            r = self.bus.gdbus('--object-path', '/', '--method',
                               'org.freedesktop.DBus.ObjectManager.GetManagedObjects')
        return sorted(set(re.findall(r'/dev/imprint/Imprint1/job/[0-9]+', r.stdout)))

    def job_step(self, job):
        r = self.bus.gdbus('--object-path', job, '--method', 'org.freedesktop.DBus.Properties.Get',
                           'dev.imprint.Imprint1.Job', 'Step')
        m = re.search(r"<'(.*)'>", r.stdout)
        return m.group(1) if m else None

    def wait_for_job(self, p):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = self.jobs()
            if jobs:
                return jobs[0]
            self.assertIsNone(p.poll(), 'imprintctl ended before its job showed')
            time.sleep(0.05)
        self.fail('no job appeared')

    def test_lock_held_for_the_whole_job(self):
        p = self.start_install()
        job = self.wait_for_job(p)
        samples = []           # (step before, could lock, step after)
        before = self.job_step(job)
        while p.poll() is None:
            fd = os.open(self.target, os.O_RDONLY | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
            except BlockingIOError:
                got = False
            finally:
                os.close(fd)   # drops the lock too
            if got:
                # The job's Step property lags behind the job by up to its
                # flush interval (200 ms): only a step still shown well
                # after the lock was had is the step it was had in.
                time.sleep(0.6)
            after = self.job_step(job)
            samples.append((before, got, after))
            before = after
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, out + err)

        held = [s for s in samples if s[0] in HELD_STEPS]
        self.assertGreater(len(held), 2, f'too few samples during the job: {samples}')
        # Got the lock while the job said, before and after, that it was in
        # a step that holds it: the lock was not held.
        bad = [s for s in held if s[1] and s[0] == s[2]]
        self.assertEqual(bad, [], 'the target could be locked by another program during the job')

    def test_install_while_enroll_holds_the_disk(self):
        '''An Enroll job on an (image file) volume: an Install onto it is
        refused at once while the Enroll runs.'''
        vol = os.path.join(self.bus.tmp, 'vol.img')
        with open(vol, 'wb') as f:
            f.truncate(64 * 1024 * 1024)
        # A slow key derivation keeps the Enroll job busy for seconds.
        subprocess.run(['cryptsetup', 'luksFormat', '--batch-mode', '--type', 'luks2', '--pbkdf', 'pbkdf2',
                        '--iter-time', '3000', '--key-file=-', vol],
                       input=b'old passphrase 123', check=True, timeout=120, capture_output=True)
        os.chown(vol, imprinttest.NOBODY, imprinttest.NOBODY)
        r = self.call('Enroll', vol, 'passphrase',
                      "{'unlock-passphrase': <'old passphrase 123'>, 'passphrase': <'a new passphrase 456'>}")
        self.assertEqual(r.returncode, 0, r.stderr)
        job = re.search(r'/dev/imprint/Imprint1/job/[0-9]+', r.stdout).group(0)
        r = self.call('Install', self.source, vol,
                      f"{{'mode': <'erase'>, 'definitions': <'{DEFINITIONS}'>, 'encrypt': <false>}}")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('Error.Busy', r.stderr)
        self.assertIn(job, r.stderr)
        # Nothing was written by the refused install: still a LUKS2 volume.
        self.assertEqual(subprocess.run(['cryptsetup', 'isLuks', vol], timeout=60).returncode, 0)


class EspCheckTest(imprinttest.HostileTestCase):
    '''With a certificate the ESP is checked too: the source's UKI must name
    the verified /usr (usrhash= on its .cmdline), else nothing is written.'''

    @classmethod
    def setUpClass(cls):
        for tool in ('objcopy', 'mcopy', 'sfdisk', 'systemd-repart'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        cls.source = source_image()

    def setUp(self):
        super().setUp()
        self.bus.polkit_call('SetMode', 'allow')
        self.target = os.path.join(self.bus.tmp, 'target.img')
        with open(self.target, 'wb') as f:
            f.truncate(1024 * 1024 * 1024)

    def install(self, source):
        return self.bus.ctl('--json', 'install', '--source', source, '--target', self.target, '--erase',
                            '--definitions', DEFINITIONS, '--no-boot-entry', '--no-encrypt',
                            '--certificate', self.source + '.crt', timeout=300)

    def test_uki_naming_another_usr_is_refused(self):
        bad = os.path.join(self.bus.tmp, 'bad.img')
        shutil.copy(self.source, bad)
        esp = next(p for p in json.loads(subprocess.run(['sfdisk', '--json', bad], capture_output=True,
                                                        check=True, timeout=60).stdout)
                   ['partitiontable']['partitions']
                   if p['type'].upper() == 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B')
        spec = f'{bad}@@{esp["start"] * 512}'
        env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
        ls = subprocess.run(['mdir', '-b', '-i', spec, '::/EFI/Linux'], capture_output=True, text=True,
                            env=env, check=True, timeout=60).stdout.split()
        uki = next(f for f in ls if f.lower().endswith('.efi'))
        local = os.path.join(self.bus.tmp, 'uki.efi')
        subprocess.run(['mcopy', '-n', '-i', spec, uki, local], env=env, check=True, timeout=60)
        cmdline = os.path.join(self.bus.tmp, 'cmdline')
        with open(cmdline, 'w') as f:
            f.write('usrhash=' + 'ab' * 32 + ' rw\n')
        subprocess.run(['objcopy', '--update-section', f'.cmdline={cmdline}', local], check=True, timeout=60)
        subprocess.run(['mcopy', '-o', '-i', spec, local, uki], env=env, check=True, timeout=60)

        r = self.install(bad)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('SourceInvalid', r.stdout + r.stderr)
        self.assertIn('usrhash', r.stdout + r.stderr)
        # Refused before anything was written.
        with open(self.target, 'rb') as f:
            self.assertEqual(f.read(1024 * 1024), bytes(1024 * 1024))

    def test_uki_naming_the_verified_usr_installs(self):
        r = self.install(self.source)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''Installing beside Windows through imprintd: ListDisks' shrink facts of a
real NTFS (probe-shrink), imprintctl install --shrink --dry-run printing
the shrink, the install shrinking the NTFS with every file intact, and a
hibernated Windows refused before anything is written.'''

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
import layouts  # noqa: E402
from test_install import DEFINITIONS, source_image  # noqa: E402

MiB = 1024 * 1024
NEW = 700 * MiB


def run(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, timeout=300, **kw)


class ShrinkTest(imprinttest.ImprintTestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ('mkntfs', 'ntfsresize', 'ntfscp', 'ntfscat', 'sfdisk', 'systemd-repart', 'losetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        if os.getuid() != 0:
            raise imprinttest.unittest.SkipTest('needs root (loop devices)')
        cls.source = source_image()

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='imprint-shrink-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        with layouts.Layout('gpt-windows-whole', loop=False) as disk:
            shutil.copyfile(disk.path, os.path.join(self.work, 'disk.img'))
        self.target = os.path.join(self.work, 'disk.img')
        table = json.loads(run('sfdisk', '--json', self.target).stdout)['partitiontable']
        p = table['partitions'][2]
        self.ntfs_at, self.ntfs_size = p['start'] * 512, p['size'] * 512
        self.files = {}
        with self.volume(self.ntfs_size) as v:
            for i, size in enumerate([0, 100, 5 * MiB, 30 * MiB, 4096 * 3 + 1]):
                data = os.urandom(size)
                path = os.path.join(self.work, f'f{i}')
                with open(path, 'wb') as f:
                    f.write(data)
                run('ntfscp', '-q', v, path, f'f{i}.dat')
                self.files[f'f{i}.dat'] = hashlib.sha256(data).hexdigest()

    def volume(self, size):
        test = self

        class Loop:
            def __enter__(self):
                self.node = run('losetup', '-f', '--show', '-o', str(test.ntfs_at), '--sizelimit', str(size),
                                test.target, text=True).stdout.strip()
                return self.node

            def __exit__(self, *exc):
                subprocess.run(['losetup', '-d', self.node])
        return Loop()

    def install(self, *extra, check=0):
        return self.bus.ctl('install', '--source', self.source, '--target', self.target, '--definitions',
                            DEFINITIONS, '--no-boot-entry', '--no-encrypt', '--shrink', f'3:{NEW}', *extra,
                            check=check, timeout=600)

    def test_list_disks_probe_shrink(self):
        node = run('losetup', '-f', '--show', self.target, text=True).stdout.strip()
        self.addCleanup(subprocess.run, ['losetup', '-d', node])
        disks = self.bus.ctl_json('list-disks', '--include-loop', '--probe-shrink')
        d = next(d for d in disks if d['device'] == node)
        ntfs = d['partitions'][2]
        self.assertTrue(ntfs['shrink']['possible'], ntfs['shrink'])
        self.assertGreater(ntfs['shrink']['used'], 35 * 1000 * 1000)
        self.assertLess(ntfs['shrink']['min-size'], NEW)
        self.assertEqual(ntfs['shrink']['reason-codes'], [])
        # Not asked: no ntfsresize run, no key.
        d = next(d for d in self.bus.ctl_json('list-disks', '--include-loop') if d['device'] == node)
        self.assertNotIn('shrink', d['partitions'][2])

    def test_dry_run_then_install(self):
        with open(self.target, 'rb') as f:
            before = hashlib.sha256(f.read()).hexdigest()
        r = self.install('--dry-run')
        self.assertIn('Windows (NTFS, partition 3) will be shrunk from', r.stdout)
        plan = json.loads(self.install('--dry-run', '--json').stdout)
        ntfs = next(p for p in plan['partitions'] if p['number'] == 3)
        self.assertEqual((ntfs['shrink-from'], ntfs['size']), (self.ntfs_size, NEW))
        with open(self.target, 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), before, 'the dry run wrote')

        self.install('--json')
        table = json.loads(run('sfdisk', '--json', self.target).stdout)['partitiontable']
        self.assertEqual(table['partitions'][2]['size'] * 512, NEW)
        with self.volume(NEW) as v:
            run('ntfsresize', '--check', '--force', '--no-progress-bar', v)
            for name, digest in self.files.items():
                data = run('ntfscat', '--force', v, name).stdout
                self.assertEqual(hashlib.sha256(data).hexdigest(), digest, name)

    def test_hibernated_is_refused(self):
        hib = os.path.join(self.work, 'hiberfil')
        with open(hib, 'wb') as f:
            f.write(b'HIBR' + bytes(8188))
        with self.volume(self.ntfs_size) as v:
            run('ntfscp', '-q', v, hib, 'hiberfil.sys')
        with open(self.target, 'rb') as f:
            before = hashlib.sha256(f.read()).hexdigest()
        r = self.install('--json', check=None)
        self.assertNotEqual(r.returncode, 0)
        said = r.stdout + r.stderr   # --json: the error is a JSON line
        self.assertIn('Fast Startup', said)
        self.assertIn('nothing was changed', said)
        with open(self.target, 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), before, 'a refusal wrote')
        self.assertDaemonAlive()

    def test_unprivileged_plan_of_an_image_is_refused(self):
        '''PlanInstall needs no password: a shrink plan of the caller's own
        image file would feed ntfs-3g the caller's bytes as root.'''
        os.chmod(self.work, 0o755)
        os.chmod(self.target, 0o644)
        r = self.bus.ctl('install', '--source', self.source, '--target', self.target, '--definitions',
                         DEFINITIONS, '--shrink', f'3:{NEW}', '--dry-run', user=65534)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('only offered for disks', r.stdout + r.stderr)
        self.assertDaemonAlive()


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''System update and factory reset through imprintd and imprintctl, on a
test root: os-release, repart.d and a disk image with ImprintOS slots in a
temporary tree, EFI variables and the TPM's PPI file in temporary
directories (IMPRINTD_TEST_* overrides, honoured for tests only).

When a Debian 13 tree with systemd-sysupdate 257 is at hand (tests/vm's
tools chroot, or IMPRINT_TEST_SYSUPDATE_CHROOT), the update path runs the
real sysupdate against a loop device: list, check, update with progress.'''

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import imprinttest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, '..', '..'))
REPART_D = os.path.join(SRCDIR, 'repart.d')
SYSUPDATE_D = os.path.join(SRCDIR, 'data', 'sysupdate.d')
SYSUPDATED_MOCK = os.path.join(SRCDIR, 'tests', 'update', 'sysupdated_mock.py')
MAKE_UPDATE_SOURCE = os.path.join(SRCDIR, 'tests', 'update', 'make-update-source')
EFI_FACTORY_RESET = 'FactoryReset-8cf2644b-4b0b-428f-9387-6d876050dc67'
ACTION_LIST_DISKS = 'dev.imprint.Imprint1.list-disks'
ACTION_READ_STATUS = 'dev.imprint.Imprint1.read-status'
ACTION_FACTORY_RESET = 'dev.imprint.Imprint1.factory-reset'

USR = '8484680c-9521-48c6-9c11-b0720656f69e'
VER = '77ff5f63-e7b6-4633-acf4-1565b864c0e6'
SIG = 'e7bb33fb-06cf-4e81-8273-e543b413e2e2'


def make_disk(path, labels_b):
    '''A GPT image like an installed ImprintOS: slot A holds version 1.'''
    with open(path, 'wb') as f:
        f.truncate(64 << 20)
    table = ('label: gpt\n'
             f'size=8M, type={USR}, name="ImprintOS_1"\n'
             f'size=1M, type={VER}, name="ImprintOS_1"\n'
             f'size=64K, type={SIG}, name="ImprintOS_1"\n'
             f'size=8M, type={USR}, name="{labels_b}"\n'
             f'size=1M, type={VER}, name="{labels_b}"\n'
             f'size=64K, type={SIG}, name="{labels_b}"\n')
    subprocess.run(['sfdisk', '-q', path], input=table, text=True, check=True,
                   stdout=subprocess.DEVNULL)


RELEASE_USR_UUID = '5e1ea5e0-0000-4000-8000-000000000002'
RELEASE_VERITY_UUID = '5e1ea5e0-0000-4000-8000-0000000000f2'


def make_release(path, version):
    '''A release image like mkosi builds: ESP with the UKI, and /usr,
    usr-verity, usr-verity-sig labelled ImprintOS_<version>.'''
    esp = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'
    with open(path, 'wb') as f:
        f.truncate(48 << 20)
    table = ('label: gpt\n'
             f'start=2048, size=32M, type={esp}, name="esp"\n'
             f'size=4M, type={USR}, name="ImprintOS_{version}", uuid={RELEASE_USR_UUID}\n'
             f'size=512K, type={VER}, name="ImprintOS_{version}", uuid={RELEASE_VERITY_UUID}\n'
             f'size=16K, type={SIG}, name="ImprintOS_{version}"\n')
    subprocess.run(['sfdisk', '-q', path], input=table, text=True, check=True, stdout=subprocess.DEVNULL)
    with open(path, 'r+b') as f:
        f.seek((2048 + 65536) * 512)
        f.write(os.urandom(4 << 20))
    subprocess.run(['mkfs.vfat', '--offset=2048', path, str(32 * 1024)],
                   check=True, capture_output=True)
    uki = os.path.join(os.path.dirname(path), f'ImprintOS_{version}.efi')
    with open(uki, 'wb') as f:
        f.write(b'MZ' + os.urandom(65534))
    target = f'{path}@@{2048 * 512}'
    subprocess.run(['mmd', '-i', target, '::EFI', '::EFI/Linux'], check=True)
    subprocess.run(['mcopy', '-i', target, uki, f'::EFI/Linux/ImprintOS_{version}.efi'], check=True)
    os.unlink(uki)


def make_test_root(tmp, slot_b='_empty', with_sysupdate_d=True):
    '''An installed ImprintOS 1 under @tmp for imprintd's IMPRINTD_TEST_*
    overrides: os-release, the project's repart.d (and sysupdate.d), EFI
    variables, the TPM's PPI file and a disk whose slot B is @slot_b. Also
    used by the panels' UI test (tests/ui/run-ui-panels.py).'''
    root = os.path.join(tmp, 'root')
    os.makedirs(os.path.join(root, 'usr/lib/repart.d'))
    os.makedirs(os.path.join(root, 'etc'))
    with open(os.path.join(root, 'usr/lib/os-release'), 'w') as f:
        f.write('NAME="ImprintOS"\nPRETTY_NAME="ImprintOS 1"\nID=imprintos\n'
                'IMAGE_ID=ImprintOS\nIMAGE_VERSION=1\n')
    for name in os.listdir(REPART_D):
        shutil.copy(os.path.join(REPART_D, name), os.path.join(root, 'usr/lib/repart.d'))
    if with_sysupdate_d:
        shutil.copytree(SYSUPDATE_D, os.path.join(root, 'usr/lib/sysupdate.d'))
    efivars = os.path.join(tmp, 'efivars')
    os.makedirs(efivars)
    sysfs = os.path.join(tmp, 'sys')
    ppi = os.path.join(sysfs, 'class/tpm/tpm0/ppi')
    os.makedirs(ppi)
    ppi_request = os.path.join(ppi, 'request')
    with open(ppi_request, 'w') as f:
        f.write('0\n')
    disk = os.path.join(tmp, 'disk.raw')
    make_disk(disk, slot_b)
    return {'root': root, 'efivars': efivars, 'sysfs': sysfs, 'ppi_request': ppi_request, 'disk': disk,
            'env': {'IMPRINTD_TEST_ROOT': root, 'IMPRINTD_TEST_EFIVARS': efivars,
                    'IMPRINTD_TEST_SYSFS': sysfs, 'IMPRINTD_TEST_USR_DISK': disk}}


class UpdateTestBase(imprinttest.ImprintTestCase):
    with_sysupdate_d = True
    slot_b = '_empty'

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='imprint-update-test-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        paths = make_test_root(self.tmp, self.slot_b, self.with_sysupdate_d)
        self.root, self.efivars, self.sysfs = paths['root'], paths['efivars'], paths['sysfs']
        self.ppi_request, self.disk = paths['ppi_request'], paths['disk']

        saved = dict(os.environ)
        self.addCleanup(lambda: (os.environ.clear(), os.environ.update(saved)))
        os.environ.update(paths['env'])
        self.extra_env()
        super().setUp()

    def extra_env(self):
        pass


class UpdateStatusTest(UpdateTestBase):
    slot_b = 'ImprintOS_2'

    def test_status(self):
        st = self.bus.ctl_json('update-status')
        self.assertEqual(st['image-id'], 'ImprintOS')
        self.assertEqual(st['current-version'], '1')
        # Slot B's labels say version 2: newer than the booted 1.
        self.assertEqual(st['other-version'], '2')
        self.assertEqual(st['pending-version'], '2')
        # No service manager on the test bus: the timer is not enabled.
        self.assertFalse(st['automatic'])
        if not os.path.exists('/usr/lib/systemd/systemd-sysupdate'):
            self.assertFalse(st['supported'])
            self.assertIn('systemd-sysupdate', st['reason'])

    def test_status_text(self):
        r = self.bus.ctl('update-status', check=0)
        self.assertIn('ImprintOS 1', r.stdout)
        self.assertIn('restart', r.stdout)

    def test_automatic_without_systemd(self):
        r = self.bus.ctl('auto-update', 'on', check=8)
        self.assertIn('service manager', r.stderr)
        self.bus.ctl('auto-update', 'maybe', check=2)


class UpdateUnsupportedTest(UpdateTestBase):
    with_sysupdate_d = False

    def test_no_definitions(self):
        st = self.bus.ctl_json('update-status')
        self.assertEqual(st['other-version'], '')
        self.assertEqual(st['pending-version'], '')
        self.assertFalse(st['supported'])
        self.assertIn('sysupdate.d', st['reason'])
        r = self.bus.ctl('check-updates')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('sysupdate.d', r.stderr)
        r = self.bus.ctl('update')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('sysupdate.d', r.stderr)
        self.assertDaemonAlive()


class FactoryResetTest(UpdateTestBase):

    def efivar(self):
        path = os.path.join(self.efivars, EFI_FACTORY_RESET)
        if not os.path.exists(path):
            return None
        with open(path, 'rb') as f:
            return f.read()

    def ppi(self):
        with open(self.ppi_request) as f:
            return f.read().strip()

    def test_info(self):
        info = self.bus.ctl_json('factory-reset-info')
        self.assertTrue(info['supported'])
        self.assertFalse(info['pending'])
        self.assertEqual(info['mechanism'], 'efi-variable')
        self.assertEqual([p['definition'] for p in info['erased']], ['50-root.conf'])
        self.assertEqual(info['erased'][0]['type'], 'root')
        self.assertIn('/etc', info['erased'][0]['description'])
        self.assertTrue(any('ImprintOS version 1' in k for k in info['kept']))
        self.assertTrue(info['tpm-clear-supported'])
        r = self.bus.ctl('factory-reset-info', check=0)
        self.assertIn('erases', r.stdout)

    def test_request_and_cancel(self):
        self.bus.ctl('factory-reset', '--yes', check=0)
        # What systemd-repart reads: NV|BS|RT, then UTF-16LE "1" and NUL.
        self.assertEqual(self.efivar(), b'\x07\x00\x00\x00' + '1'.encode('utf-16-le') + b'\x00\x00')
        self.assertTrue(self.bus.ctl_json('factory-reset-info')['pending'])
        self.assertEqual(self.ppi(), '0')
        self.bus.ctl('factory-reset', '--cancel', check=0)
        self.assertIsNone(self.efivar())
        self.assertFalse(self.bus.ctl_json('factory-reset-info')['pending'])

    def test_request_with_tpm_clear(self):
        self.bus.ctl('factory-reset', '--yes', '--clear-tpm', check=0)
        self.assertIsNotNone(self.efivar())
        self.assertEqual(self.ppi(), '5')
        self.assertTrue(self.bus.ctl_json('factory-reset-info')['tpm-clear-pending'])
        self.bus.ctl('factory-reset', '--cancel', check=0)
        self.assertIsNone(self.efivar())
        self.assertEqual(self.ppi(), '0')

    def test_needs_confirmation(self):
        # No terminal and no --yes: refused, nothing written.
        r = self.bus.ctl('factory-reset', check=2)
        self.assertIn('--yes', r.stderr)
        self.assertIsNone(self.efivar())

    def test_refused_by_polkit(self):
        self.bus.polkit_call('SetMode', 'deny')
        self.bus.polkit_call('SetAllowed', [ACTION_LIST_DISKS, ACTION_READ_STATUS])
        self.bus.polkit_call('ClearCalls')
        r = self.bus.ctl('factory-reset', '--yes', check=4)
        self.assertIn('not allowed', r.stderr)
        self.assertIsNone(self.efivar())
        self.assertIn(ACTION_FACTORY_RESET, self.bus.polkit_call('GetCalls'))
        # Reading what a reset would do stays allowed.
        self.bus.ctl_json('factory-reset-info')
        self.bus.ctl('factory-reset', '--cancel', check=4)
        self.assertDaemonAlive()


class FactoryResetUnsupportedTest(UpdateTestBase):

    def extra_env(self):
        # No FactoryReset=yes partition and no EFI.
        os.remove(os.path.join(self.root, 'usr/lib/repart.d/50-root.conf'))
        shutil.rmtree(self.efivars)

    def test_unsupported(self):
        info = self.bus.ctl_json('factory-reset-info')
        self.assertFalse(info['supported'])
        self.assertIn('FactoryReset=yes', info['reason'])
        self.assertEqual(info['erased'], [])
        r = self.bus.ctl('factory-reset', '--yes')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('FactoryReset=yes', r.stderr)


def find_sysupdate_chroot():
    candidates = [os.environ.get('IMPRINT_TEST_SYSUPDATE_CHROOT', '')]
    candidates += sorted(glob.glob(os.path.join(SRCDIR, 'tests/vm/cache/tools-*')))
    for c in candidates:
        if c and os.path.isdir(c) and os.access(os.path.join(c, 'usr/lib/systemd/systemd-sysupdate'), os.X_OK):
            return c
    return None


class RealSysupdateTest(UpdateTestBase):
    '''imprintd drives the real systemd-sysupdate 257 (in a Debian 13 tree)
    against a loop device holding ImprintOS slots.'''

    def extra_env(self):
        self.chroot = find_sysupdate_chroot()
        if self.chroot is None:
            self.skipTest('no Debian 13 tree with systemd-sysupdate (build tests/vm or set IMPRINT_TEST_SYSUPDATE_CHROOT)')
        if os.geteuid() != 0:
            self.skipTest('needs root (loop devices, chroot)')
        self.work = tempfile.mkdtemp(prefix='imprint-sysupdate-', dir=os.path.join(self.chroot, 'tmp'))
        self.addCleanup(shutil.rmtree, self.work, True)
        inside = '/' + os.path.relpath(self.work, self.chroot)
        self.mounts = []
        self.addCleanup(self.unmount)
        for d in ('dev', 'proc', 'sys'):
            target = os.path.join(self.chroot, d)
            subprocess.run(['mount', '--bind', '/' + d, target], check=True)
            self.mounts.append(target)
        r = subprocess.run(['losetup', '--show', '-f', '-P', self.disk], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest('no loop device: ' + r.stderr.strip())
        self.loop = r.stdout.strip()
        self.addCleanup(subprocess.run, ['losetup', '-d', self.loop])
        source = os.path.join(self.work, 'source')
        esp = os.path.join(self.work, 'esp/EFI/Linux')
        os.makedirs(source)
        os.makedirs(esp)
        with open(os.path.join(esp, 'ImprintOS_1.efi'), 'wb') as f:
            f.write(os.urandom(65536))
        make_release(os.path.join(self.tmp, 'release.raw'), '2')
        r = subprocess.run([MAKE_UPDATE_SOURCE, os.path.join(self.tmp, 'release.raw'), source],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), '2')
        defs = os.path.join(self.work, 'defs')
        os.makedirs(defs)
        for name in os.listdir(SYSUPDATE_D):
            with open(os.path.join(SYSUPDATE_D, name)) as f:
                text = f.read()
            text = text.replace('Path=auto', f'Path={self.loop}')
            text = text.replace('Path=/var/lib/imprint/updates', f'Path={inside}/source')
            with open(os.path.join(defs, name), 'w') as f:
                f.write(text)
        os.environ['IMPRINTD_TEST_SYSUPDATE'] = (
            f'chroot {self.chroot} env SYSTEMD_ESP_PATH={inside}/esp '
            f'/usr/lib/systemd/systemd-sysupdate --definitions={inside}/defs')

    def unmount(self):
        for m in reversed(self.mounts):
            subprocess.run(['umount', '-l', m])

    def test_check_and_update(self):
        st = self.bus.ctl_json('update-status')
        self.assertTrue(st['supported'], st.get('reason'))
        self.assertEqual(st['backend'], 'cli')
        versions = self.bus.ctl_json('check-updates')
        by_version = {v['version']: v for v in versions}
        self.assertEqual(sorted(by_version), ['1', '2'])
        self.assertTrue(by_version['1']['installed'])
        self.assertTrue(by_version['2']['available'])
        self.assertFalse(by_version['2']['installed'])

        r = self.bus.ctl('--json', 'update', check=0, timeout=300)
        lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        # Progress events carry the properties that changed.
        progress, valid = [], False
        for line in lines:
            if line.get('event') != 'progress':
                continue
            valid = line.get('ProgressValid', valid)
            if valid and 'Progress' in line:
                progress.append(line['Progress'])
        completed = [line for line in lines if line.get('event') == 'completed']
        result = lines[-1]
        self.assertTrue(completed and completed[0]['success'], r.stdout)
        self.assertEqual(result['version'], '2')
        self.assertTrue(result['reboot-required'])
        self.assertEqual(progress, sorted(progress))
        self.assertTrue(progress and progress[-1] == 1.0, r.stdout)

        gpt = subprocess.run(['sfdisk', '-d', self.disk], capture_output=True, text=True, check=True).stdout
        self.assertEqual(gpt.count('name="ImprintOS_2"'), 3, gpt)
        # The release's partition UUIDs (root hash halves) came along.
        self.assertIn(RELEASE_USR_UUID.upper(), gpt.upper())
        self.assertIn(RELEASE_VERITY_UUID.upper(), gpt.upper())
        self.assertNotIn('_empty', gpt)
        st = self.bus.ctl_json('update-status')
        self.assertEqual(st['other-version'], '2')
        self.assertEqual(st['pending-version'], '2')
        self.assertTrue(os.path.exists(os.path.join(self.work, 'esp/EFI/Linux/ImprintOS_2+3-0.efi')))

    def test_missing_version(self):
        r = self.bus.ctl('update', '9', timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('not available', r.stdout + r.stderr)


class SysupdatedTest(UpdateTestBase):
    '''The systemd >= 257 path: imprintd talks to systemd-sysupdated over
    D-Bus (a stand-in here, tests/update/sysupdated_mock.py: no Debian
    release ships sysupdated).'''
    mock_parameters = '{}'

    def setUp(self):
        super().setUp()
        self.mock = subprocess.Popen(
            ['/usr/bin/python3', '-m', 'dbusmock', '--system', '--template', SYSUPDATED_MOCK,
             '--parameters', self.mock_parameters],
            env=self.bus.env, stdout=subprocess.DEVNULL)
        self.bus.procs.append(self.mock)
        self.bus.wait_for_name('org.freedesktop.sysupdate1')

    def test_status_uses_sysupdated(self):
        st = self.bus.ctl_json('update-status')
        self.assertTrue(st['supported'], st.get('reason'))
        self.assertEqual(st['backend'], 'sysupdated')

    def test_check(self):
        versions = self.bus.ctl_json('check-updates')
        self.assertEqual([v['version'] for v in versions], ['2', '1'])
        self.assertTrue(versions[1]['installed'])
        self.assertTrue(versions[1]['protected'])
        self.assertTrue(versions[0]['available'])
        self.assertFalse(versions[0]['installed'])

    def test_update(self):
        r = self.bus.ctl('--json', 'update', check=0, timeout=60)
        lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        self.assertEqual(lines[-1], {'version': '2', 'reboot-required': True})
        progress, valid = [], False
        for line in lines:
            if line.get('event') == 'progress':
                valid = line.get('ProgressValid', valid)
                if valid and 'Progress' in line:
                    progress.append(line['Progress'])
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(progress[-1], 1.0)


class SysupdatedCancelTest(SysupdatedTest):
    mock_parameters = '{"step_ms": 3000}'

    def test_update(self):
        p = subprocess.Popen([self.bus.imprintctl, '--json', 'update'], env=self.bus.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Wait until sysupdated's job moved once, then interrupt.
            for line in p.stdout:
                event = json.loads(line)
                if event.get('event') == 'progress' and event.get('ProgressValid'):
                    break
            p.send_signal(signal.SIGINT)
            out, _err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 130, out)
        self.assertIn('cancelled', out)
        self.assertDaemonAlive()

    def test_check(self):
        pass

    def test_status_uses_sysupdated(self):
        pass


class SysupdatedFailureTest(SysupdatedTest):
    mock_parameters = '{"fail": true}'

    def test_update(self):
        r = self.bus.ctl('update', timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('failed', r.stderr)
        self.assertDaemonAlive()

    def test_check(self):
        pass

    def test_status_uses_sysupdated(self):
        pass


if __name__ == '__main__':
    imprinttest.main()

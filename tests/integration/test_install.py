#!/usr/bin/python3
'''imprintctl install through imprintd on a test bus: a real source image
onto an image file, LUKS2 root with TPM2 (swtpm) + recovery key +
passphrase; polkit refusal, cancel and a tampered source.'''

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import imprinttest  # noqa: E402
from imprinttest import ACTION_LIST_DISKS  # noqa: E402

TOP = os.path.dirname(os.path.dirname(HERE))
MAKE_SOURCE = os.path.join(TOP, 'tests', 'image', 'make-source-image')
DEFINITIONS = os.path.join(TOP, 'tests', 'engine', 'repart.d')
CACHE = os.environ.get('IMPRINT_TEST_CACHE', os.path.join(tempfile.gettempdir(), 'imprint-test-cache'))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def source_image(*options, name='source.img'):
    '''The test source image, built once and cached (the script caches too).'''
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, name)
    r = subprocess.run([MAKE_SOURCE, *options, path], capture_output=True, text=True)
    if r.returncode == 77:
        raise imprinttest.unittest.SkipTest('source image: ' + r.stderr.strip())
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return path


class Swtpm:
    def __init__(self, directory):
        if not shutil.which('swtpm'):
            raise imprinttest.unittest.SkipTest('swtpm is not installed')
        os.makedirs(directory, exist_ok=True)
        # The swtpm TCTI talks to the control channel on port + 1, which may
        # be taken by someone else: try a few ports until swtpm listens.
        for _ in range(10):
            self.port = free_port()
            self.proc = subprocess.Popen(['swtpm', 'socket', '--tpm2',
                                          '--server', f'type=tcp,port={self.port},bindaddr=127.0.0.1',
                                          '--ctrl', f'type=tcp,port={self.port + 1},bindaddr=127.0.0.1',
                                          '--flags', 'not-need-init,startup-clear',
                                          '--tpmstate', f'dir={directory}'],
                                         stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                    socket.create_connection(('127.0.0.1', self.port + 1), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            if self.proc.poll() is None:
                break
        else:
            raise RuntimeError('swtpm did not start')
        self.tcti = f'swtpm:host=127.0.0.1,port={self.port}'

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def gpt(path):
    r = subprocess.run(['sfdisk', '--json', path], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)['partitiontable']


def luks_metadata(path, offset):
    r = subprocess.run(['cryptsetup', 'luksDump', '--dump-json-metadata', f'--header-offset={offset}', path]
                       if False else ['cryptsetup', 'luksDump', '--dump-json-metadata', path],
                       capture_output=True, text=True)
    return r


class InstallTest(imprinttest.ImprintTestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ('cryptsetup', 'sfdisk', 'systemd-repart', 'veritysetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        cls.source = source_image()

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='imprint-install-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.target = os.path.join(self.work, 'target.img')
        with open(self.target, 'wb') as f:
            f.truncate(1024 * 1024 * 1024)

    def install(self, *extra, check=0, timeout=600):
        return self.bus.ctl('--json', 'install', '--source', self.source, '--target', self.target,
                            '--definitions', DEFINITIONS, '--no-boot-entry', *extra,
                            check=check, timeout=timeout)

    def events(self, r):
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{')]

    def labels(self):
        return [p.get('name', '') for p in gpt(self.target).get('partitions', [])]

    def assert_labelled_slots_complete(self):
        src = {p['type']: p for p in gpt(self.source)['partitions'] if p.get('name') == 'ImprintOS_1'}
        # A blank target gets its table only after the slot verified: a
        # cancel before that leaves none at all.
        table = gpt_or_none(self.target)
        for p in table['partitiontable'].get('partitions', []) if table else []:
            if p.get('name') != 'ImprintOS_1':
                continue
            s = src[p['type']]
            with open(self.source, 'rb') as a, open(self.target, 'rb') as b:
                a.seek(s['start'] * 512)
                b.seek(p['start'] * 512)
                left = s['size'] * 512
                while left > 0:
                    n = min(left, 8 << 20)
                    self.assertEqual(a.read(n), b.read(n),
                                     f'partition {p["node"]} is labelled but differs from the source')
                    left -= n

    def partition_file(self, number, out):
        '''Copies partition @number out of the target, for tools that need a
        device or file of its own (no loop partitions needed).'''
        part = gpt(self.target)['partitions'][number - 1]
        subprocess.run(['dd', f'if={self.target}', f'of={out}', 'bs=512', f'skip={part["start"]}',
                        f'count={part["size"]}', 'status=none'], check=True)
        return out

    def test_dry_run_writes_nothing(self):
        r = self.bus.ctl('--json', 'install', '--source', self.source, '--target', self.target,
                         '--erase', '--dry-run', '--definitions', DEFINITIONS, check=0)
        plan = json.loads(r.stdout)
        types = [p['type-name'] for p in plan['partitions']]
        self.assertIn('esp', types)
        self.assertEqual(types.count('usr-x86-64'), 2)
        self.assertIn('root-x86-64', types)
        self.assertTrue(plan['erased'])
        with open(self.target, 'rb') as f:
            self.assertEqual(f.read(1024 * 1024), bytes(1024 * 1024))

    def test_plan_names_definitions(self):
        '''The plan says whose partition definitions it used, as facts.'''
        r = self.bus.ctl('--json', 'install', '--source', self.source, '--target', self.target,
                         '--erase', '--dry-run', '--definitions', DEFINITIONS, check=0)
        plan = json.loads(r.stdout)
        self.assertEqual(plan['definitions-source'], 'caller-directory')
        # The caller's own name for the directory, not imprintd's private copy.
        self.assertEqual(plan['definitions-directory'], os.path.abspath(DEFINITIONS))
        root = [p for p in plan['partitions'] if p['type-name'] == 'root-x86-64']
        self.assertEqual(root[0]['content'], 'repart')
        self.assertTrue(root[0]['definition'].endswith('.conf'))
        self.assertIn('everything on', ' '.join(plan['erased']))
        r = self.bus.ctl('install', '--source', self.source, '--target', self.target,
                         '--erase', '--dry-run', '--definitions', DEFINITIONS, check=0)
        self.assertIn('partition definitions in', r.stdout)

    def test_plan_without_definitions(self):
        '''Without "definitions" an image's own /usr/lib/repart.d is used,
        read through dm-verity only; without device-mapper the error says
        to pass definitions, and nothing unverified is read.'''
        r = self.bus.ctl('--json', 'install', '--source', self.source, '--target', self.target,
                         '--erase', '--dry-run', check=None)
        if subprocess.run(['dmsetup', 'version'], capture_output=True).returncode == 0:
            self.assertEqual(r.returncode, 0, r.stderr)
            plan = json.loads(r.stdout)
            self.assertEqual(plan['definitions-source'], 'source-image')
            self.assertEqual(plan['definitions-directory'], '/usr/lib/repart.d')
        else:
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('device-mapper', r.stderr)
            self.assertIn('explicitly', r.stderr)

    def test_install_tpm2_recovery_passphrase(self):
        tpm = Swtpm(os.path.join(self.work, 'tpm'))
        self.addCleanup(tpm.stop)
        pw = os.path.join(self.work, 'pw')
        with open(pw, 'w') as f:
            f.write('correct horse battery staple 42\n')
        r = self.install('--erase', '--tpm2', f'--tpm2-device={tpm.tcti}', f'--passphrase-file={pw}')
        ev = self.events(r)
        kinds = [e['event'] for e in ev]
        self.assertIn('progress', kinds)
        self.assertEqual(ev[-1]['event'], 'recovery-key')
        done = next(e for e in ev if e['event'] == 'completed')
        self.assertTrue(done['success'], done)
        key = ev[-1]['recovery-key']
        self.assertRegex(key, r'^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$')
        # Progress went forward and reached the end.
        progress = [e['Progress'] for e in ev if e['event'] == 'progress' and 'Progress' in e]
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(progress[-1], 1.0)

        labels = self.labels()
        self.assertEqual(labels.count('ImprintOS_1'), 3, labels)
        self.assertEqual(labels.count('_empty'), 3, labels)

        root_no = next(i + 1 for i, p in enumerate(gpt(self.target)['partitions'])
                       if p['type'].upper() == '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709')
        root = self.partition_file(root_no, os.path.join(self.work, 'root.img'))
        meta = json.loads(subprocess.run(['cryptsetup', 'luksDump', '--dump-json-metadata', root],
                                         capture_output=True, text=True, check=True).stdout)
        tokens = {t['type']: t for t in meta['tokens'].values()}
        self.assertEqual(set(tokens), {'systemd-tpm2', 'systemd-recovery'})
        self.assertEqual(set(tokens['systemd-recovery']), {'type', 'keyslots'})
        tpm2 = tokens['systemd-tpm2']
        for field in ('tpm2-blob', 'tpm2-pcrs', 'tpm2-policy-hash', 'tpm2-pcr-bank', 'tpm2-primary-alg', 'tpm2-pin'):
            self.assertIn(field, tpm2)
        self.assertEqual(tpm2['tpm2-pcrs'], [7])
        self.assertNotIn('tpm2_srk', tpm2)
        self.assertEqual(len(tpm2['keyslots']), 1)

        def opens(secret):
            return subprocess.run(['cryptsetup', 'open', '--test-passphrase', '--key-file=-', root],
                                  input=secret.encode(), capture_output=True).returncode
        self.assertEqual(opens(key), 0)
        self.assertEqual(opens('correct horse battery staple 42'), 0)
        self.assertEqual(opens(key.upper().replace('-', 'x')), 2)
        self.assertEqual(opens('wrong'), 2)

        # The copied A slot verifies against the image's root hash.
        with open(self.source + '.roothash') as f:
            roothash = f.read().strip()
        usr = self.partition_file(2, os.path.join(self.work, 'usr.img'))
        verity = self.partition_file(3, os.path.join(self.work, 'verity.img'))
        v = subprocess.run(['veritysetup', 'verify', usr, verity, roothash], capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stderr)

    def test_install_tpm2_signed_pcr11_policy(self):
        '''A source whose UKI carries .pcrsig/.pcrpkey: the TPM2 token gets
        the signed PCR 11 policy, and once PCR 11 holds what the signed boot
        would measure, the TPM unlocks the installed root with the UKI's
        signature (through imprintd's enroll, which proves a way in first).'''
        source = source_image('--pcr-signature', name='source-pcrsig.img')
        tpm = Swtpm(os.path.join(self.work, 'tpm'))
        self.addCleanup(tpm.stop)
        r = self.bus.ctl('--json', 'install', '--source', source, '--target', self.target, '--erase',
                         '--definitions', DEFINITIONS, '--no-boot-entry', '--tpm2',
                         f'--tpm2-device={tpm.tcti}', check=0, timeout=600)
        self.assertIn('signed PCR 11 policy', r.stdout)
        key = self.events(r)[-1]['recovery-key']

        root_no = next(i + 1 for i, p in enumerate(gpt(self.target)['partitions'])
                       if p['type'].upper() == '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709')
        root = self.partition_file(root_no, os.path.join(self.work, 'root.img'))
        meta = json.loads(subprocess.run(['cryptsetup', 'luksDump', '--dump-json-metadata', root],
                                         capture_output=True, text=True, check=True).stdout)
        tpm2 = next(t for t in meta['tokens'].values() if t['type'] == 'systemd-tpm2')
        self.assertEqual(tpm2['tpm2-pcrs'], [7])
        self.assertEqual(tpm2['tpm2_pubkey_pcrs'], [11])
        with open(source + '.pcrpkey.pem', 'rb') as f:
            self.assertEqual(base64.b64decode(tpm2['tpm2_pubkey']), f.read())

        # This boot's PCR 11 is not the signed one: the TPM refuses.
        signature = source + '.pcrsig.json'
        enroll = ['--json', 'enroll', root, '--recovery-key', '--unlock-tpm2', f'--tpm2-device={tpm.tcti}',
                  f'--tpm2-signature={signature}']
        self.bus.ctl(*enroll, check=8)
        # Measure what systemd-stub and systemd-pcrphase would: now it opens.
        with open(source + '.pcr11') as f:
            for digest in f.read().split():
                subprocess.run(['tpm2_pcrextend', '-T', tpm.tcti, f'11:sha256={digest}'],
                               check=True, capture_output=True)
        r = self.bus.ctl(*enroll, check=0)
        new_key = self.events(r)[-1]['recovery-key']
        self.assertNotEqual(new_key, key)
        opens = subprocess.run(['cryptsetup', 'open', '--test-passphrase', '--key-file=-', root],
                               input=new_key.encode(), capture_output=True)
        self.assertEqual(opens.returncode, 0)

    def test_unauthorised_install_is_refused(self):
        self.bus.polkit_call('SetMode', 'deny')
        self.bus.polkit_call('SetAllowed', [ACTION_LIST_DISKS])
        r = self.bus.ctl('install', '--source', self.source, '--target', self.target, '--erase',
                         '--definitions', DEFINITIONS, '--no-encrypt', check=4)
        self.assertIn('not allowed', r.stderr)
        self.assertNotIn('dev.imprint', r.stderr)
        calls = self.bus.polkit_call('GetCalls')
        self.assertIn('dev.imprint.Imprint1.install', calls)
        with open(self.target, 'rb') as f:
            self.assertEqual(f.read(1024 * 1024), bytes(1024 * 1024))

    def test_cancel_leaves_no_version_label(self):
        cmd = [self.bus.imprintctl, '--json', 'install', '--source', self.source, '--target', self.target,
               '--erase', '--definitions', DEFINITIONS, '--no-boot-entry', '--no-encrypt']
        p = subprocess.Popen(cmd, env=self.bus.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in p.stdout:
            if '"Partitioning' in line or '"Copying' in line:
                p.send_signal(signal.SIGINT)
                break
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 130, out + err)
        completed = [json.loads(l) for l in out.splitlines() if '"completed"' in l]
        self.assertTrue(completed and not completed[0]['success'])
        self.assertEqual(completed[0]['error'], 'dev.imprint.Imprint1.Error.Cancelled')
        # The copy of this small, sparse source can be over before the
        # Cancel arrives. Whatever the moment, a partition that carries the
        # version holds exactly the source's bytes: labelling comes after
        # the verified copy. (The engine tests cancel and kill inside the
        # copy deterministically.)
        self.assert_labelled_slots_complete()
        # And the same install runs to the end afterwards.
        self.install('--erase', '--no-encrypt')
        self.assertEqual(self.labels().count('ImprintOS_1'), 3)

    def test_tampered_source_is_refused(self):
        bad = os.path.join(self.work, 'bad.img')
        shutil.copy(self.source, bad)
        usr = next(p for p in gpt(bad)['partitions'] if p.get('name') == 'ImprintOS_1')
        with open(bad, 'r+b') as f:
            f.seek(usr['start'] * 512 + 4096 * 3 + 17)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0xFF]))
        r = self.bus.ctl('install', '--source', bad, '--target', self.target, '--erase',
                         '--definitions', DEFINITIONS, '--no-encrypt', '--no-boot-entry', check=6)
        self.assertNotIn('GDBus', r.stderr)
        # Refused before anything was written.
        with open(self.target, 'rb') as f:
            self.assertEqual(f.read(1024 * 1024), bytes(1024 * 1024))


def gpt_or_none(path):
    r = subprocess.run(['sfdisk', '--json', path], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''Clients when imprintd dies or hangs (issue 13, finding 8): imprintctl
following an install must notice imprintd vanishing and fail with a clear
message at once, and Ctrl-C / SIGTERM must always end it within a bounded
time, even when imprintd no longer answers. Before the fix it waited for a
Completed that never came, forever (6 of 8 tries), and SIGTERM asked the
dead daemon to cancel.'''

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import imprinttest  # noqa: E402
from test_install import DEFINITIONS, Swtpm, source_image  # noqa: E402

VANISHED = 'imprintd stopped while the installation was running'
# How long imprintctl may take to notice a dead imprintd.
NOTICE_SECONDS = 5
# Ctrl-C with a hung imprintd: the Cancel call's own timeout (5 s) and slack.
HUNG_SECONDS = 10


class Install:
    '''imprintctl --json install, its stdout read line by line in a thread so
    the test can wait for an event with a timeout.'''

    def __init__(self, bus, source, target, *extra):
        cmd = [bus.imprintctl, '--json', 'install', '--source', source, '--target', target,
               '--erase', '--definitions', DEFINITIONS, '--no-boot-entry', *extra]
        self.proc = subprocess.Popen(cmd, env=bus.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = queue.Queue()
        self.out = []
        self.err = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.out, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.err, None), daemon=True).start()

    @staticmethod
    def _read(stream, keep, q):
        for line in stream:
            keep.append(line)
            if q is not None:
                q.put(line)
        if q is not None:
            q.put(None)

    def wait_running(self, timeout=120):
        '''Until the job reports progress with its copy under way; False when
        it ended first.'''
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                return False
            if not line.startswith('{'):
                continue
            ev = json.loads(line)
            if ev.get('event') == 'completed':
                return False
            if ev.get('event') == 'progress' and 0 < ev.get('Progress', 0) < 1 and ev.get('ProgressValid', True):
                return True
        raise AssertionError('the install never got going: ' + self.output())

    def wait_exit(self, timeout):
        '''The exit code, or None when imprintctl is still running after
        @timeout (it is killed then, so the test never hangs).'''
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return None

    def output(self):
        time.sleep(0.1)  # let the reader threads drain the pipes
        return 'stdout:\n' + ''.join(self.out) + '\nstderr:\n' + ''.join(self.err)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class ClientDeathTest(imprinttest.ImprintTestCase):
    '''imprintctl as root (so the swtpm TCTI is allowed), polkit allowing
    the install: the daemon's death is the attack here, not the caller.'''

    @classmethod
    def setUpClass(cls):
        for tool in ('cryptsetup', 'sfdisk', 'systemd-repart', 'veritysetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        cls.source = source_image()

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='imprint-client-death-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.target = os.path.join(self.work, 'target.img')
        with open(self.target, 'wb') as f:
            f.truncate(1024 * 1024 * 1024)
        self.tpm = Swtpm(os.path.join(self.work, 'tpm'))
        self.addCleanup(self.tpm.stop)

    def start(self):
        inst = Install(self.bus, self.source, self.target, '--tpm2', f'--tpm2-device={self.tpm.tcti}')
        self.addCleanup(inst.kill)
        return inst

    def restart_daemon(self):
        '''A new imprintd on the same bus, as systemd would start one.'''
        old = self.bus.daemon
        if old.poll() is None:
            os.kill(old.pid, signal.SIGCONT)
            old.kill()
        old.wait(10)
        self.bus.procs.remove(old)
        self.bus.daemon = subprocess.Popen(
            [self.bus.imprintd, '--debug', '--idle-timeout=0', f'--polkit-timeout={self.bus.polkit_timeout}'],
            env=self.bus.env, stdout=self.bus.daemon_log, stderr=subprocess.STDOUT)
        self.bus.procs.append(self.bus.daemon)
        self.bus.wait_for_name('dev.imprint.Imprint1')

    def hang_daemon(self):
        os.kill(self.bus.daemon.pid, signal.SIGSTOP)
        # Never leave a stopped daemon behind: TestBus.stop() would wait on it.
        self.addCleanup(lambda: self.bus.daemon.poll() is None and os.kill(self.bus.daemon.pid, signal.SIGCONT))

    def test_killed_daemon_fails_the_job(self):
        '''kill -9 imprintd mid-install, several times (the hang was racy):
        imprintctl exits non-zero within seconds, saying what happened and
        what state the disk is in.'''
        killed = 0
        for attempt in range(6):
            if attempt > 0:
                self.restart_daemon()
            inst = self.start()
            if not inst.wait_running():
                # Over before we could kill it: nothing to learn this time.
                inst.wait_exit(60)
                continue
            self.bus.daemon.kill()
            killed += 1
            t0 = time.monotonic()
            rc = inst.wait_exit(NOTICE_SECONDS + 5)
            took = time.monotonic() - t0
            out = inst.output()
            self.assertIsNotNone(rc, f'attempt {attempt}: imprintctl still waiting after imprintd died\n' + out)
            self.assertLess(took, NOTICE_SECONDS, f'attempt {attempt}: took {took:.1f} s\n' + out)
            self.assertNotEqual(rc, 0, out)
            self.assertIn(VANISHED, out)
            self.assertIn('safe to install onto it again', out)
            completed = [json.loads(l) for l in inst.out if '"completed"' in l]
            self.assertTrue(completed and not completed[-1]['success'], out)
            self.assertTrue(completed[-1].get('daemon-vanished'), out)
        self.assertGreaterEqual(killed, 3, 'the install was always over before imprintd could be killed')
        # And the half-written target takes a new install.
        self.restart_daemon()
        inst = self.start()
        self.assertEqual(inst.wait_exit(600), 0, inst.output())

    def test_interrupt_ends_imprintctl(self):
        '''SIGINT during a job: the job is cancelled and imprintctl ends in
        seconds, with the cancelled status.'''
        inst = self.start()
        self.assertTrue(inst.wait_running())
        inst.proc.send_signal(signal.SIGINT)
        rc = inst.wait_exit(HUNG_SECONDS + 10)
        self.assertIsNotNone(rc, 'imprintctl did not end after SIGINT\n' + inst.output())
        self.assertNotEqual(rc, 0, inst.output())
        self.assertDaemonAlive()

    def _interrupt_with_hung_daemon(self, sig):
        inst = self.start()
        self.assertTrue(inst.wait_running())
        self.hang_daemon()
        t0 = time.monotonic()
        inst.proc.send_signal(sig)
        rc = inst.wait_exit(HUNG_SECONDS + 20)
        took = time.monotonic() - t0
        out = inst.output()
        self.assertIsNotNone(rc, f'imprintctl did not end after {sig.name} with imprintd hung\n' + out)
        self.assertLess(took, HUNG_SECONDS, f'took {took:.1f} s\n' + out)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('imprintd does not answer', out)

    def test_sigint_with_hung_daemon(self):
        self._interrupt_with_hung_daemon(signal.SIGINT)

    def test_sigterm_with_hung_daemon(self):
        self._interrupt_with_hung_daemon(signal.SIGTERM)

    def test_second_interrupt_ends_at_once(self):
        '''The second Ctrl-C does not wait for anything.'''
        inst = self.start()
        self.assertTrue(inst.wait_running())
        self.hang_daemon()
        inst.proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        t0 = time.monotonic()
        inst.proc.send_signal(signal.SIGINT)
        rc = inst.wait_exit(HUNG_SECONDS + 20)
        took = time.monotonic() - t0
        out = inst.output()
        self.assertIsNotNone(rc, 'imprintctl did not end after a second SIGINT\n' + out)
        self.assertLess(took, 2, f'took {took:.1f} s\n' + out)
        self.assertEqual(rc, 130, out)
        self.assertIn('not waiting for the job any longer', out)


if __name__ == '__main__':
    imprinttest.main()

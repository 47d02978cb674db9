'''Test harness: imprintd on a private bus that stands in for the system bus,
next to a polkitd stand-in, driven through the real imprintctl.

Runs with Debian's /usr/bin/python3 (python3-dbusmock). Paths to the built
binaries come from the environment (meson sets them): IMPRINTD, IMPRINTCTL.
'''

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
POLKIT_TEMPLATE = os.path.join(HERE, 'polkitd_imprint.py')
BUS_CONFIG = os.path.join(HERE, 'test-bus.conf')

ACTION_LIST_DISKS = 'dev.imprint.Imprint1.list-disks'
ACTION_INSTALL = 'dev.imprint.Imprint1.install'
ACTION_INSPECT = 'dev.imprint.Imprint1.inspect'
ACTION_READ_STATUS = 'dev.imprint.Imprint1.read-status'

# The uid a hostile local user runs as in the security suite.
NOBODY = 65534


def active_user_actions():
    '''The polkit actions a real polkit grants an active local user without
    a password: those whose allow_active is "yes" in the shipped policy.'''
    import re
    path = os.path.join(HERE, '..', '..', 'data', 'dev.imprint.Imprint1.policy.in')
    with open(path) as f:
        text = f.read()
    actions = []
    for m in re.finditer(r'<action id="([^"]+)">(.*?)</action>', text, re.S):
        if re.search(r'<allow_active>yes</allow_active>', m.group(2)):
            actions.append(m.group(1))
    return actions


def which_or_env(var, name):
    path = os.environ.get(var)
    if path:
        return path
    found = shutil.which(name)
    if not found:
        raise unittest.SkipTest(f'{name} not found: set {var} to the built binary')
    return found


class TestBus:
    '''A private dbus-daemon, a polkit stand-in and imprintd.'''

    def __init__(self, polkit_mode='allow', polkit_timeout=3, start_polkit=True, daemon_env=None):
        self.tmp = tempfile.mkdtemp(prefix='imprint-test-')
        self.procs = []
        self.imprintd = which_or_env('IMPRINTD', 'imprintd')
        self.imprintctl = which_or_env('IMPRINTCTL', 'imprintctl')
        self.polkit_timeout = polkit_timeout

        bus = subprocess.Popen(['dbus-daemon', '--config-file', BUS_CONFIG,
                                '--nofork', '--print-address=1'],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(bus)
        self.address = bus.stdout.readline().strip()
        bus.stdout.close()
        if not self.address:
            self.stop()
            raise RuntimeError('dbus-daemon did not start')
        self.env = dict(os.environ)
        self.env['DBUS_SYSTEM_BUS_ADDRESS'] = self.address
        # Nothing may leak to the real buses.
        self.env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        self.env['LC_ALL'] = 'C.UTF-8'

        self.polkit = None
        if start_polkit:
            self.polkit = subprocess.Popen(
                ['/usr/bin/python3', '-m', 'dbusmock', '--system', '--template', POLKIT_TEMPLATE],
                env=self.env, stdout=subprocess.DEVNULL)
            self.procs.append(self.polkit)
            self.wait_for_name('org.freedesktop.PolicyKit1')
            self.polkit_call('SetMode', polkit_mode)

        self.daemon_log = open(os.path.join(self.tmp, 'imprintd.log'), 'w+')
        self.daemon = subprocess.Popen(
            [self.imprintd, '--debug', '--idle-timeout=0', f'--polkit-timeout={polkit_timeout}'],
            env=dict(self.env, **(daemon_env or {})), stdout=self.daemon_log, stderr=subprocess.STDOUT)
        self.procs.append(self.daemon)
        self.wait_for_name('dev.imprint.Imprint1')

    def wait_for_name(self, name, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(['dbus-send', '--system', '--print-reply', '--dest=org.freedesktop.DBus',
                                '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner',
                                f'string:{name}'], env=self.env, capture_output=True, text=True)
            if 'boolean true' in r.stdout:
                return
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f'{p.args[0]} exited with {p.returncode}' + self.daemon_output())
            time.sleep(0.05)
        raise RuntimeError(f'{name} did not appear on the test bus')

    def daemon_output(self):
        try:
            self.daemon_log.seek(0)
            return '\n--- imprintd log ---\n' + self.daemon_log.read()
        except Exception:
            return ''

    def polkit_call(self, method, *args):
        sig = {'SetMode': 's', 'SetAllowed': 'as', 'GetCalls': '', 'GetDetails': '', 'ClearCalls': ''}[method]
        cmd = ['gdbus', 'call', '--system', '--dest', 'org.freedesktop.PolicyKit1',
               '--object-path', '/org/freedesktop/PolicyKit1/Authority',
               '--method', f'org.freedesktop.DBus.Mock.{method}']
        for a in args:
            cmd.append(repr(a) if sig != 'as' else '[' + ','.join(repr(x) for x in a) + ']')
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return r.stdout

    def ctl(self, *args, user=None, timeout=60, check=None):
        cmd = [self.imprintctl, *args]
        if user is not None:
            cmd = ['setpriv', f'--reuid={user}', f'--regid={user}', '--clear-groups', *cmd]
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check is not None and r.returncode != check:
            raise AssertionError(f'{" ".join(args)}: exit {r.returncode}, expected {check}\n'
                                 f'stdout: {r.stdout}\nstderr: {r.stderr}' + self.daemon_output())
        return r

    def ctl_json(self, *args, **kw):
        r = self.ctl('--json', *args, check=0, **kw)
        return json.loads(r.stdout)

    def gdbus(self, *args, user=None, timeout=30):
        cmd = ['gdbus', 'call', '--system', '--dest', 'dev.imprint.Imprint1', *args]
        if user is not None:
            cmd = ['setpriv', f'--reuid={user}', f'--regid={user}', '--clear-groups', *cmd]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        for f in (getattr(self, 'daemon_log', None),):
            if f is not None:
                f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class ImprintTestCase(unittest.TestCase):
    polkit_mode = 'allow'
    daemon_env = None

    def setUp(self):
        self.bus = TestBus(polkit_mode=self.polkit_mode, daemon_env=self.daemon_env)
        self.addCleanup(self.bus.stop)

    def assertDaemonAlive(self):
        self.assertIsNone(self.bus.daemon.poll(), 'imprintd died' + self.bus.daemon_output())


class HostileTestCase(ImprintTestCase):
    '''The security suite's base: polkit grants exactly what it grants an
    active local user (no password), and calls are made as NOBODY.'''
    polkit_mode = 'deny'

    def setUp(self):
        # The running system is never set up by these tests, even when one
        # of them reaches ApplySetup("") with polkit saying yes: imprintd's
        # state directory says setup is complete (and it is not the host's).
        state = tempfile.mkdtemp(prefix='imprint-state-')
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        with open(os.path.join(state, 'setup-complete'), 'w') as f:
            f.write('security suite\n')
        self.daemon_env = dict(self.daemon_env or {})
        self.daemon_env.setdefault('STATE_DIRECTORY', state)
        super().setUp()
        self.bus.polkit_call('SetAllowed', active_user_actions())
        # A scratch directory the hostile user owns (symlinks, FIFOs, trees).
        self.evil = os.path.join(self.bus.tmp, 'evil')
        os.mkdir(self.evil)
        os.chown(self.evil, NOBODY, NOBODY)
        os.chmod(self.bus.tmp, 0o755)

    def call(self, method, *args, iface='Manager', path='/dev/imprint/Imprint1/Manager',
             timeout=30):
        '''gdbus call as NOBODY; args are GVariant texts.'''
        return self.bus.gdbus('--object-path', path, '--method',
                              f'dev.imprint.Imprint1.{iface}.{method}', *args,
                              user=NOBODY, timeout=timeout)

    def tearDown(self):
        self.assertDaemonAlive()
        super().tearDown()


def main():
    # Plain unittest output; meson reads the exit code.
    unittest.main(verbosity=2)

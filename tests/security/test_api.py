#!/usr/bin/python3
'''The whole D-Bus API of imprintd, attacked generically.

Every method of every interface in data/dev.imprint.Imprint1.xml (and
org.freedesktop.DBus.Properties on each object) is called as uid 65534,
once with polkit answering as for an active local user and once with polkit
allowing everything (an authorised caller with hostile arguments): wrong
signatures, every string argument replaced by hostile strings (empty, 1 MiB,
control characters and format directives, traversal, /proc and /dev paths,
a FIFO, a symlink to a root-only file, a directory, other users' files,
shell and option injection), and every option key the daemon reads given
wrong types, huge values and the same hostile strings (tpm2-device and
friends also get `cmd:` payloads).

Asserted per call: a reply or a D-Bus error within CALL_BOUND seconds (and a
started job finishes within JOB_BOUND), imprintd alive and on the bus, no
sentinel secret in the reply or in a job's properties, no sentinel file
touched and no injected command run, no GLib CRITICAL/WARNING in imprintd's
log, and the authorization matrix: the polkit action each method checks is
the one the API document names, and methods whose action is not
allow_active=yes are refused (NotAuthorized) for an active user.

Cases that fail because of a finding another slice of issue 13 fixes are
listed in KNOWN_BY_SLICE below and run as expected failures, one test each;
remove an entry once that slice's fix is merged.
'''

import fnmatch
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import imprinttest  # noqa: E402

SRCDIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
API_XML = os.path.join(SRCDIR, 'data', 'dev.imprint.Imprint1.xml')
POLICY = os.path.join(SRCDIR, 'data', 'dev.imprint.Imprint1.policy.in')
SYSUPDATE_D = os.path.join(SRCDIR, 'data', 'sysupdate.d')
REPART_D = os.path.join(SRCDIR, 'repart.d')

BUS_NAME = 'dev.imprint.Imprint1'
MANAGER_PATH = '/dev/imprint/Imprint1/Manager'
ROOT_PATH = '/dev/imprint/Imprint1'
IFACE_PREFIX = 'dev.imprint.Imprint1.'

CALL_BOUND = 10      # seconds a call may take before it counts as a hang
JOB_BOUND = 15       # seconds a started job may take to finish

# ---------------------------------------------------------------------------
# Cases that fail on findings other slices of issue 13 fix. Case ids are
# "<mode>:<Method>:<what>" (mode "active" or "allow"); keys may be fnmatch
# patterns. Each entry runs as its own expected-failure test; remove it when
# the slice's fix is merged (the test then reports an unexpected success).
# ---------------------------------------------------------------------------
KNOWN_BY_SLICE = {
    # Empty: the tpm, setup and paths fixes are merged.
}


# ---- The API document ------------------------------------------------------

def parse_api():
    '''{iface: {'methods': {name: {'in': [(name, sig)], 'action': str|None}},
                'properties': {name: (sig, access)}}} from the XML, the
    polkit action of each method taken from its doc comment.'''
    text = open(API_XML).read()
    actions = {}
    for m in re.finditer(r'<!--(.*?)-->\s*<method name="([^"]+)"', text, re.S):
        comment, name = m.group(1), m.group(2)
        a = re.search(r'Polkit action:\s*(\S+)', comment)
        actions[name] = a.group(1) if a else None
    api = {}
    root = ET.fromstring(re.sub(r'<!DOCTYPE[^>]*>', '', text))
    for iface in root.findall('interface'):
        methods = {}
        for m in iface.findall('method'):
            methods[m.get('name')] = {
                'in': [(a.get('name'), a.get('type')) for a in m.findall('arg')
                       if a.get('direction', 'in') == 'in'],
                'action': actions.get(m.get('name')),
            }
        props = {p.get('name'): (p.get('type'), p.get('access')) for p in iface.findall('property')}
        api[iface.get('name')] = {'methods': methods, 'properties': props}
    return api


def policy_allow_active():
    text = open(POLICY).read()
    return {m.group(1): re.search(r'<allow_active>([^<]*)</allow_active>', m.group(2)).group(1)
            for m in re.finditer(r'<action id="([^"]+)">(.*?)</action>', text, re.S)}


API = parse_api()
ALLOW_ACTIVE = policy_allow_active()
MANAGER = API[IFACE_PREFIX + 'Manager']
JOB = API[IFACE_PREFIX + 'Job']


def needs_admin(method):
    action = MANAGER['methods'][method]['action']
    return action is not None and ALLOW_ACTIVE.get(action) != 'yes'


# ---- Values ----------------------------------------------------------------
# Arguments travel to the worker as JSON: a GVariant is {"__v": sig, "val": x}.

def V(sig, val):
    return {'__v': sig, 'val': val}


MIB = 1 << 20
TOKEN = uuid.uuid4().hex
SECRET_FILE = 'imprint-root-only-' + TOKEN          # content of root-only files
SECRET_ENV = 'imprint-env-' + TOKEN                 # in imprintd's environment
SECRET_PASS = 'imprint-pass-' + TOKEN               # passphrases the caller gives
PWNED = f'/tmp/imprint-pwned-{TOKEN}'               # an injected command touches it

# Keys the daemon reads (backend/daemon/*.c), by method, with their type.
# "path" marks strings that name files or devices: they get the path attacks.
COMMON_OPTIONS = {'auth.no_user_interaction': 'b', 'locale': 's'}
PATH_KEYS = {'include-files', 'source', 'certificate', 'definitions', 'tpm2-device', 'fido2-device',
             'tpm2-public-key', 'tpm2-signature', 'disk-device', 'disk-fido2-device',
             'disk-tpm2-device'}
DEVICE_KEYS = {'tpm2-device', 'fido2-device', 'disk-fido2-device', 'disk-tpm2-device'}
SECRET_KEYS = {'passphrase', 'unlock-passphrase', 'tpm2-pin', 'unlock-tpm2-pin', 'password',
               'recovery-key', 'disk-recovery-key'}
UNLOCK_OPTIONS = {'unlock-passphrase': 's', 'unlock-tpm2': 'b', 'unlock-tpm2-pin': 's',
                  'unlock-fido2': 'b', 'tpm2-device': 's', 'fido2-device': 's', 'tpm2-signature': 's',
                  'keyslot': 'i'}
PLAN_OPTIONS = {'mode': 's', 'defer-data-partitions': 'b', 'definitions': 's', 'encryption': 'as',
                'root-hash': 's', 'certificate': 's', 'shrink-partition': 't', 'shrink-size': 't'}
OPTION_KEYS = {
    'ListDisks': {'include-loop': 'b', 'include-files': 'as', 'min-size': 't', 'source': 's',
                  'probe-shrink': 'b'},
    'GetSecurityCapabilities': {'tpm2-device': 's'},
    'CheckPassphrase': {},
    'GenerateRecoveryKey': {},
    'InspectSource': {'root-hash': 's', 'certificate': 's'},
    'PlanInstall': PLAN_OPTIONS,
    'Install': dict(PLAN_OPTIONS, **{
        'encrypt': 'b', 'recovery-key': 's', 'passphrase': 's', 'tpm2-device': 's', 'tpm2-pin': 's',
        'tpm2-pcrs': 's', 'fido2-device': 's', 'tpm2-public-key': 's', 'no-boot-entry': 'b',
        'verify-first': 'b', 'handover': 'b'}),
    'GetSetupDefaults': {},
    'ApplySetup': {'unlock-passphrase': 's', 'unlock-tpm2': 'b', 'tpm2-device': 's'},
    'GetUpdateStatus': {},
    'CheckForUpdates': {},
    'Update': {},
    'SetAutomaticUpdates': {},
    'GetFactoryResetInfo': {},
    'RequestFactoryReset': {'clear-tpm': 'b'},
    'CancelFactoryReset': {},
    'ListEnrollments': {},
    'Enroll': dict(UNLOCK_OPTIONS, **{
        'passphrase': 's', 'recovery-key': 's', 'tpm2-pin': 's', 'tpm2-public-key': 's',
        'tpm2-pcrs': 's', 'tpm2-public-key-pcrs': 's', 'fido2-with-client-pin': 'b',
        'fido2-with-user-presence': 'b', 'fido2-with-user-verification': 'b'}),
    'Unenroll': UNLOCK_OPTIONS,
    'GetUnlockStatus': {},
}
# ApplySetup's settings dictionary and its "user" dictionary.
SETTINGS_KEYS = {'locale': 's', 'keymap': 's', 'timezone': 's', 'hostname': 's', 'pretty-hostname': 's',
                 'user': 'a{sv}', 'disk-recovery-key': 's', 'disk-fido2': 'b', 'disk-fido2-device': 's',
                 'disk-device': 's', 'disk-tpm2-device': 's'}
USER_KEYS = {'user-name': 's', 'real-name': 's', 'password': 's', 'recovery-key': 's', 'fido2': 'b',
             'fido2-device': 's', 'disk-size': 't', 'auto-login': 'b', 'administrator': 'b'}
# Which positional string arguments name files or devices.
PATH_ARGS = {('InspectSource', 'source'), ('PlanInstall', 'source'), ('PlanInstall', 'target'),
             ('Install', 'source'), ('Install', 'target'), ('GetSetupDefaults', 'target'),
             ('ApplySetup', 'target'), ('ListEnrollments', 'device'), ('Enroll', 'device'),
             ('Unenroll', 'device')}
SETUP_TARGET_ARGS = {('GetSetupDefaults', 'target'), ('ApplySetup', 'target')}

WRONG_TYPES = {
    'int': lambda: V('i', 7),
    'bool': lambda: V('b', True),
    'strv': lambda: V('as', ['a', 'b']),
    'dict': lambda: V('a{sv}', {'x': V('a{sv}', {'y': V('i', 1)})}),
    'nested': lambda: V('v', V('v', V('v', V('s', 'deep')))),
}


def wrong_types_for(sig):
    out = {}
    for name, make in WRONG_TYPES.items():
        v = make()
        if v['__v'] != sig:
            out[name] = v
    if sig == 't':
        out['huge-int'] = V('x', -1)
    if sig in ('i', 't'):
        out['max'] = V(sig, 2 ** 31 - 1 if sig == 'i' else 2 ** 64 - 1)
        if sig == 'i':
            out['min'] = V('i', -2 ** 31)
    return out


class Hang(Exception):
    pass


# ---- The caller: one long-lived gdbus-like worker running as uid 65534 ------

WORKER = r'''
import json, sys, time
import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)

def conv(x):
    if isinstance(x, dict):
        if '__v' in x:
            return GLib.Variant(x['__v'], conv(x['val']))
        return {k: conv(v) for k, v in x.items()}
    if isinstance(x, list):
        return [conv(i) for i in x]
    return x

for line in sys.stdin:
    req = json.loads(line)
    t0 = time.monotonic()
    try:
        params = GLib.Variant(req['sig'], tuple(conv(a) for a in req['args']))
    except Exception as e:
        print(json.dumps({'ok': False, 'reply': '', 'error': 'worker', 'message': repr(e), 'elapsed': 0}),
              flush=True)
        continue
    try:
        reply = bus.call_sync(req['dest'], req['path'], req['iface'], req['method'], params,
                              None, Gio.DBusCallFlags.NO_AUTO_START, req['timeout_ms'], None)
        out = {'ok': True, 'reply': reply.print_(True) if reply is not None else '',
               'error': '', 'message': ''}
    except GLib.Error as e:
        out = {'ok': False, 'reply': '', 'error': Gio.DBusError.get_remote_error(e) or '',
               'message': e.message}
    out['elapsed'] = time.monotonic() - t0
    print(json.dumps(out), flush=True)
'''


class Caller:
    def __init__(self, env, uid):
        cmd = ['/usr/bin/python3', '-c', WORKER]
        if uid is not None:
            cmd = ['setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', *cmd]
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def call(self, path, iface, method, sig, args, bound=CALL_BOUND, dest=BUS_NAME):
        req = {'dest': dest, 'path': path, 'iface': iface, 'method': method, 'sig': sig,
               'args': args, 'timeout_ms': int(bound * 1000)}
        self.proc.stdin.write(json.dumps(req) + '\n')
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], bound + 10)
        if not ready:
            self.stop()
            raise Hang(f'{method}: no answer within {bound + 10} s')
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('the caller process died')
        out = json.loads(line)
        if out['error'] in ('org.freedesktop.DBus.Error.NoReply', 'org.freedesktop.DBus.Error.TimedOut') \
           or out['elapsed'] > bound:
            raise Hang(f'{method}: {out["error"] or "answered"} after {out["elapsed"]:.1f} s')
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


# ---- The test case ---------------------------------------------------------

class ApiBase(imprinttest.HostileTestCase):
    '''Sets up the scene and makes the calls; no tests of its own.'''

    def setUp(self):
        # The update and factory reset verbs work on a test root, test EFI
        # variables and a stand-in systemd-sysupdate: nothing on this machine.
        self.scene = tempfile.mkdtemp(prefix='imprint-api-scene-')
        os.chmod(self.scene, 0o755)
        self.addCleanup(shutil.rmtree, self.scene, True)
        self.make_update_scene()
        self.daemon_env = dict(self.update_env, IMPRINT_API_TEST_SECRET=SECRET_ENV)
        super().setUp()
        self.addCleanup(self.remove_pwned)
        self.make_files()
        self.log_path = os.path.join(self.bus.tmp, 'imprintd.log')
        self.log_offset = 0
        self.nobody = Caller(self.bus.env, imprinttest.NOBODY)
        self.addCleanup(lambda: self.nobody.stop())
        self.root = None
        self.recovery_key = self.nobody.call(MANAGER_PATH, IFACE_PREFIX + 'Manager', 'GenerateRecoveryKey',
                                             '(a{sv})', [{}])['reply'].split("'")[1]
        self.host_before = self.host_snapshot()
        self.failures = []
        self.jobs_started = 0
        self.started = time.monotonic()

    def tearDown(self):
        print(f'[{time.monotonic() - self.started:.1f} s] ', end='', file=sys.stderr, flush=True)
        super().tearDown()

    def remove_pwned(self):
        if os.path.lexists(PWNED):
            os.unlink(PWNED)

    def make_update_scene(self):
        root = os.path.join(self.scene, 'root')
        os.makedirs(os.path.join(root, 'usr/lib/repart.d'))
        os.makedirs(os.path.join(root, 'etc'))
        with open(os.path.join(root, 'usr/lib/os-release'), 'w') as f:
            f.write('ID=imprintos\nIMAGE_ID=ImprintOS\nIMAGE_VERSION=1\n')
        for name in os.listdir(REPART_D):
            shutil.copy(os.path.join(REPART_D, name), os.path.join(root, 'usr/lib/repart.d'))
        shutil.copytree(SYSUPDATE_D, os.path.join(root, 'usr/lib/sysupdate.d'))
        efivars = os.path.join(self.scene, 'efivars')
        os.makedirs(efivars)
        ppi = os.path.join(self.scene, 'sys/class/tpm/tpm0/ppi')
        os.makedirs(ppi)
        with open(os.path.join(ppi, 'request'), 'w') as f:
            f.write('0\n')
        disk = os.path.join(self.scene, 'usr-disk.raw')
        with open(disk, 'wb') as f:
            f.truncate(1 << 20)
        # Records its arguments (NUL-separated, one record per run) and never
        # updates anything; "sleepy" keeps an update job running.
        self.sysupdate_log = os.path.join(self.scene, 'sysupdate.log')
        fake = os.path.join(self.scene, 'fake-sysupdate')
        with open(fake, 'w') as f:
            f.write('#!/bin/sh\n'
                    f'{{ printf "%s\\0" "$@"; printf "\\1\\0"; }} >> {self.sysupdate_log}\n'
                    'case "$1" in --version) echo "systemd 257 (257.4-1)"; exit 0;; esac\n'
                    'for a; do [ "$a" = sleepy ] && exec sleep 20; done\n'
                    'echo "[]"\n'
                    'exit 1\n')
        os.chmod(fake, 0o755)
        self.efivars = efivars
        self.update_env = {'IMPRINTD_TEST_ROOT': root, 'IMPRINTD_TEST_EFIVARS': efivars,
                           'IMPRINTD_TEST_SYSFS': os.path.join(self.scene, 'sys'),
                           'IMPRINTD_TEST_USR_DISK': disk, 'IMPRINTD_TEST_SYSUPDATE': fake}

    def make_files(self):
        tmp = self.bus.tmp
        evil = self.evil
        # Root-only secrets: a file in a 0700 directory, one beside it, and
        # one of another user.
        secret_dir = os.path.join(tmp, 'root-only')
        os.mkdir(secret_dir, 0o700)
        self.secret = os.path.join(secret_dir, 'secret')
        self.secret_beside = os.path.join(tmp, 'secret-0600')
        self.other_user = os.path.join(tmp, 'other-user-0600')
        self.sentinels = [self.secret, self.secret_beside, self.other_user]
        for p in self.sentinels:
            with open(p, 'w') as f:
                f.write(SECRET_FILE + '\n')
            os.chmod(p, 0o600)
        os.chown(self.other_user, 4242, 4242)
        self.sentinel_stat = {p: self.file_state(p) for p in self.sentinels}

        self.fifo = os.path.join(evil, 'fifo')
        os.mkfifo(self.fifo, 0o666)
        self.link = os.path.join(evil, 'link-to-secret')
        os.symlink(self.secret, self.link)
        self.link_beside = os.path.join(evil, 'link-to-secret-0600')
        os.symlink(self.secret_beside, self.link_beside)
        self.dir = os.path.join(evil, 'dir')
        os.mkdir(self.dir)
        # A setup target tree whose files point at the secret.
        self.tree = os.path.join(evil, 'tree')
        os.makedirs(os.path.join(self.tree, 'etc'))
        for name in ('hostname', 'locale.conf', 'vconsole.conf', 'machine-info', 'os-release', 'localtime'):
            os.symlink(self.secret, os.path.join(self.tree, 'etc', name))
        # Image files the caller owns: junk and the install target.
        self.junk = os.path.join(evil, 'junk.img')
        with open(self.junk, 'wb') as f:
            f.write(os.urandom(64 << 10))
            f.truncate(8 << 20)
        self.target = os.path.join(evil, 'target.img')
        with open(self.target, 'wb') as f:
            f.truncate(64 << 20)
        self.definitions = os.path.join(evil, 'repart.d')
        os.mkdir(self.definitions)
        os.symlink(self.secret, os.path.join(self.definitions, '10-root.conf'))
        # All of it is the hostile user's.
        subprocess.run(['chown', '-hR', f'{imprinttest.NOBODY}:{imprinttest.NOBODY}', evil], check=True)
        self.evil_files = [self.junk, self.target]

    @staticmethod
    def file_state(p):
        st = os.lstat(p)
        with open(p, 'rb') as f:
            content = f.read()
        return (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns, st.st_ctime_ns, content)

    HOST_FILES = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/hostname',
                  '/etc/machine-id', '/etc/locale.conf', '/etc/vconsole.conf', '/etc/localtime',
                  '/etc/adjtime', '/etc/machine-info', '/etc/default/locale']

    def host_snapshot(self):
        snap = {}
        for p in self.HOST_FILES:
            try:
                st = os.lstat(p)
                snap[p] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)
            except FileNotFoundError:
                snap[p] = None
        return snap

    # ---- hostile values ----------------------------------------------------

    def hostile_strings(self):
        '''name -> string, for arguments that are not paths.'''
        return {
            'empty': '',
            'huge': 'A' * MIB,
            'control': 'a\nb\r\tc\x01\x1b[2J\x7f%n%s%s%x%p',
            'shell': f'$(touch {PWNED});`touch {PWNED}`;touch {PWNED}',
            'option': f'--definitions={self.evil}',
            'traversal': '../../../../etc/shadow',
            'unicode': '\u202e\ufeff\U0001F4A9' * 64,
        }

    def hostile_paths(self):
        '''name -> string, for arguments that name files or devices.'''
        s = self.hostile_strings()
        return dict(s, **{
            'relative': 'etc/shadow',
            'proc-self-mem': '/proc/self/mem',
            'proc-1-environ': '/proc/1/environ',
            'proc-self-environ': '/proc/self/environ',
            'dev-zero': '/dev/zero',
            'dev-stdin': '/dev/stdin',
            'fifo': self.fifo,
            'symlink-root-only': self.link,
            'symlink-0600': self.link_beside,
            'root-only': self.secret_beside,
            'other-user': self.other_user,
            'directory': self.dir,
            'tree-with-links': self.tree,
            'trailing-slash': self.junk + '/',
            'dot-dot': os.path.join(self.dir, '..', 'junk.img'),
        })

    def device_payloads(self):
        return {
            'cmd': f'cmd:touch {PWNED}',
            'cmd-args': f'cmd:/bin/sh -c "touch {PWNED}"',
            'device-root-only': 'device:' + self.secret_beside,
            'swtpm': 'swtpm:path=' + self.fifo,
            'mssim': 'mssim:host=127.0.0.1,port=1',
            'libtss': f'libtss2-tcti-cmd.so:touch {PWNED}',
            'tpm-fifo-path': self.fifo,
            'root-only': self.secret_beside,
        }

    def setup_target_paths(self, mode):
        p = self.hostile_paths()
        out = {k: v for k, v in p.items()}
        for k in ('fifo', 'symlink-root-only', 'dev-zero', 'other-user'):
            out['disk-' + k] = 'disk:' + p[k]
        out['disk-junk'] = 'disk:' + self.junk
        out['disk-empty'] = 'disk:'
        if mode == 'active':
            # Only where polkit refuses anyway: an authorised ApplySetup on
            # these would write into this machine's /etc.
            out['root-dot'] = '/.'
            out['root-slashes'] = '//'
        return out

    def safe_for_allow(self, value):
        '''Never let an authorised call name a real directory tree or a block
        device of this machine.'''
        if not isinstance(value, str):
            return True
        v = value[len('disk:'):] if value.startswith('disk:') else value
        if not v or len(v) > 4096:
            return True
        try:
            st = os.stat(v)
        except OSError:
            return True
        if stat.S_ISBLK(st.st_mode):
            return False
        real = os.path.realpath(v)
        if stat.S_ISDIR(st.st_mode) and not real.startswith(self.bus.tmp + '/'):
            return False
        return True

    # ---- base (well-formed) arguments ---------------------------------------

    def base_args(self, method):
        '''(sig, args) of a well-formed call, options last.'''
        b = {
            'ListDisks': [{}],
            'GetSecurityCapabilities': [{}],
            'CheckPassphrase': ['correct horse battery staple', {}],
            'GenerateRecoveryKey': [{}],
            'InspectSource': [self.junk, {}],
            'PlanInstall': [self.junk, self.target, {}],
            'Install': [self.junk, self.target, {
                'recovery-key': V('s', self.recovery_key), 'passphrase': V('s', SECRET_PASS),
                'encryption': V('as', ['passphrase', 'recovery-key']), 'no-boot-entry': V('b', True)}],
            'GetSetupDefaults': [self.dir, {}],
            'ApplySetup': [self.dir, {'hostname': V('s', 'imprint-api-test'),
                                      'user': V('a{sv}', {'user-name': V('s', 'apitest'),
                                                          'password': V('s', SECRET_PASS)})}, {}],
            'GetUpdateStatus': [{}],
            'CheckForUpdates': [{}],
            'Update': ['', {}],
            'SetAutomaticUpdates': [False, {}],
            'GetFactoryResetInfo': [{}],
            'RequestFactoryReset': [{}],
            'CancelFactoryReset': [{}],
            'ListEnrollments': [self.junk, {}],
            'Enroll': [self.junk, 'passphrase', {'unlock-passphrase': V('s', SECRET_PASS),
                                                 'passphrase': V('s', SECRET_PASS)}],
            'Unenroll': [self.junk, 'passphrase', {'unlock-passphrase': V('s', SECRET_PASS)}],
            'GetUnlockStatus': [{}],
        }[method]
        sig = '(' + ''.join(t for _, t in MANAGER['methods'][method]['in']) + ')'
        return sig, b

    # ---- one call and its checks --------------------------------------------

    def new_log(self):
        with open(self.log_path, errors='replace') as f:
            f.seek(self.log_offset)
            text = f.read()
            self.log_offset = f.tell()
        return text

    def daemon_on_bus(self):
        out = self.nobody.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameHasOwner', '(s)',
                               [BUS_NAME], dest='org.freedesktop.DBus')
        return out['reply'] == '(true,)'

    def sysupdate_runs(self):
        try:
            with open(self.sysupdate_log, 'rb') as f:
                data = f.read()
        except FileNotFoundError:
            return []
        runs = []
        for rec in data.split(b'\x01\x00'):
            args = [a.decode(errors='replace') for a in rec.split(b'\x00')[:-1]]
            if args:
                runs.append(args)
        return runs

    def check_call(self, case, out, log, expect=None):
        '''Problems with one answered call, as a list of strings.'''
        problems = []
        if out['error'] == 'worker':
            problems.append('the test could not build the call: ' + out['message'])
        text = out['reply'] + out['message']
        for secret in (SECRET_FILE, SECRET_ENV, SECRET_PASS):
            if secret in text:
                problems.append(f'reply contains a secret ({secret.split("-")[1]})')
        for secret in (SECRET_FILE, SECRET_ENV, SECRET_PASS):
            if secret in log:
                problems.append(f"imprintd's log contains a secret ({secret.split('-')[1]})")
        for line in log.splitlines():
            if re.search(r'\b(CRITICAL|WARNING) \*\*', line) or 'GLib-CRITICAL' in line:
                problems.append('imprintd logged: ' + line[:300])
                break
        if expect == 'NotAuthorized' and out['error'] != IFACE_PREFIX + 'Error.NotAuthorized':
            problems.append(f'expected NotAuthorized, got {out["error"] or "success"}: {out["message"][:200]}')
        if expect == 'Error' and out['ok']:
            problems.append('expected an error, the call succeeded')
        if expect == 'InvalidArgs' and out['error'] not in ('org.freedesktop.DBus.Error.InvalidArgs',
                                                            'org.freedesktop.DBus.Error.UnknownMethod'):
            problems.append(f'expected InvalidArgs, got {out["error"] or "success"}: {out["message"][:200]}')
        return problems

    def check_world(self):
        problems = []
        if self.bus.daemon.poll() is not None:
            problems.append(f'imprintd died (exit {self.bus.daemon.returncode})')
        elif not self.daemon_on_bus():
            problems.append('imprintd is not on the bus')
        if os.path.lexists(PWNED):
            problems.append('an injected command ran (pwned marker exists)')
            os.unlink(PWNED)
        for p, before in self.sentinel_stat.items():
            try:
                now = self.file_state(p)
            except OSError as e:
                now = repr(e)
            if now != before:
                problems.append(f'sentinel {p} was touched')
                if isinstance(now, tuple):
                    self.sentinel_stat[p] = now
        host = self.host_snapshot()
        if host != self.host_before:
            changed = [p for p in host if host[p] != self.host_before[p]]
            problems.append(f'host files changed: {changed}')
            self.host_before = host
        for run in self.sysupdate_runs()[self.sysupdate_seen:]:
            if 'update' in run:
                rest = run[run.index('update') + 1:]
                if any(a.startswith('-') for a in rest):
                    problems.append(f'option injected into systemd-sysupdate: {run}')
        self.sysupdate_seen = len(self.sysupdate_runs())
        return problems

    def jobs_finished(self):
        with open(self.log_path, errors='replace') as f:
            return f.read().count(' finished: ')

    def wait_for_job(self, path, log_so_far):
        '''Waits until the job at @path (and every job before it) has
        completed; returns (problems, log).'''
        self.jobs_started += 1
        deadline = time.monotonic() + JOB_BOUND
        while time.monotonic() < deadline:
            if self.bus.daemon.poll() is not None:
                return ['imprintd died while the job ran'], log_so_far + self.new_log()
            if self.jobs_finished() >= self.jobs_started:
                out = self.nobody.call(path, 'org.freedesktop.DBus.Properties', 'GetAll', '(s)',
                                       [IFACE_PREFIX + 'Job'])
                if not out['ok']:
                    return [f'job properties unreadable: {out["error"]} {out["message"][:200]}'], log_so_far
                problems = []
                for secret in (SECRET_FILE, SECRET_ENV, SECRET_PASS, self.recovery_key):
                    if secret in out['reply']:
                        problems.append("the job's properties hold a secret")
                return problems, log_so_far + self.new_log()
            time.sleep(0.02)
        # Count it as finished: later jobs are judged on their own.
        return [f'the job did not finish within {JOB_BOUND} s'], log_so_far + self.new_log()

    def run_case(self, case, path, iface, method, sig, args, expect=None):
        '''Makes one call and records what went wrong under @case.'''
        if any(fnmatch.fnmatchcase(case, k) for k in KNOWN_BY_SLICE) and case not in self.only:
            return None
        if self.only and case not in self.only:
            return None
        self.new_log()
        try:
            out = self.nobody.call(path, iface, method, sig, args)
        except Hang as e:
            self.failures.append((case, [f'hang: {e}']))
            self.nobody = Caller(self.bus.env, imprinttest.NOBODY)
            return None
        log = self.new_log()
        problems = []
        if out['ok'] and re.fullmatch(r"\(objectpath '(/dev/imprint/Imprint1/job/\d+)',\)", out['reply']):
            job = re.fullmatch(r"\(objectpath '([^']+)',\)", out['reply']).group(1)
            job_problems, log = self.wait_for_job(job, log)
            problems += job_problems
            self.jobs.append(job)
        problems += self.check_call(case, out, log, expect)
        problems += self.check_world()
        if problems:
            self.failures.append((case, problems + [f'answer: {out["error"]} {out["message"][:300]}']))
        return out

    def report(self):
        if self.failures:
            lines = []
            for case, problems in self.failures:
                lines.append(f'{case}:')
                lines += ['    ' + p for p in problems]
            self.fail(f'{len(self.failures)} case(s) failed:\n' + '\n'.join(lines))

    # ---- the attacks ---------------------------------------------------------

    def set_mode(self, mode):
        self.mode = mode
        if mode == 'allow':
            self.bus.polkit_call('SetMode', 'allow')

    def manager_cases(self, method):
        '''Yields (case, sig, args, expect) for @method in self.mode.'''
        mode = self.mode
        sig, base = self.base_args(method)
        in_args = MANAGER['methods'][method]['in']
        admin_refused = mode == 'active' and needs_admin(method)
        expect = 'NotAuthorized' if admin_refused else None
        pre = f'{mode}:{method}:'

        yield pre + 'base', sig, base, expect

        # Wrong signatures: GDBus refuses them before imprintd sees them.
        yield pre + 'sig:none', '()', [], 'InvalidArgs'
        yield pre + 'sig:too-many', sig[:-1] + 's)', base + ['extra'], 'InvalidArgs'
        if len(base) > 1:
            yield pre + 'sig:too-few', '(' + ''.join(t for _, t in in_args[1:]) + ')', base[1:], 'InvalidArgs'
        yield pre + 'sig:options-a{ss}', sig[:-6] + 'a{ss})', base[:-1] + [{'locale': 'C'}], 'InvalidArgs'
        yield pre + 'sig:options-as-v', sig[:-6] + 'v)', base[:-1] + [V('a{sv}', {})], 'InvalidArgs'
        for i, (name, t) in enumerate(in_args[:-1]):
            wrong = 'i' if t != 'i' else 's'
            args = list(base)
            args[i] = 7 if wrong == 'i' else 'x'
            types = [t for _, t in in_args]
            types[i] = wrong
            yield pre + f'sig:{name}-as-{wrong}', '(' + ''.join(types) + ')', args, 'InvalidArgs'

        # Positional string arguments.
        for i, (name, t) in enumerate(in_args[:-1]):
            if t != 's' and not (t == 'a{sv}' and name == 'settings'):
                continue
            if t == 's':
                if (method, name) in SETUP_TARGET_ARGS:
                    values = self.setup_target_paths(mode)
                elif (method, name) in PATH_ARGS:
                    values = self.hostile_paths()
                else:
                    values = self.hostile_strings()
                for vname, v in values.items():
                    if mode == 'allow' and not self.safe_for_allow(v):
                        continue
                    args = list(base)
                    args[i] = v
                    yield pre + f'{name}={vname}', sig, args, expect

        # Options (and ApplySetup's settings and user dictionaries).
        dicts = [('options', len(base) - 1, dict(COMMON_OPTIONS, **OPTION_KEYS[method]))]
        if method == 'ApplySetup':
            dicts.append(('settings', 1, SETTINGS_KEYS))
            dicts.append(('user', 'user', USER_KEYS))
        for dname, where, keys in dicts:
            for key, t in keys.items():
                for vname, v in self.option_values(key, t).items():
                    # polkit refuses before the options are read: a sample.
                    if admin_refused and vname not in ('type-int', 'huge', 'cmd', 'secret'):
                        continue
                    if mode == 'allow' and not self.safe_for_allow(v['val']):
                        continue
                    args = [dict(a) if isinstance(a, dict) else a for a in base]
                    if where == 'user':
                        user = dict(args[1].get('user', V('a{sv}', {}))['val'])
                        user[key] = v
                        args[1]['user'] = V('a{sv}', user)
                    else:
                        args[where][key] = v
                    yield pre + f'{dname}:{key}={vname}', sig, args, expect
            args = [dict(a) if isinstance(a, dict) else a for a in base]
            target = args[where] if where != 'user' else None
            if target is not None:
                target.update({'unknown-key': V('s', 'x'), '': V('s', ''), 'x' * 4096: V('ay', [0] * 1024)})
                yield pre + f'{dname}:unknown-keys', sig, args, expect
                many = dict(target)
                many.update({f'k{n}': V('s', 'v') for n in range(2000)})
                args[where] = many
                yield pre + f'{dname}:2000-keys', sig, args, expect

    def option_values(self, key, t):
        out = {f'type-{n}': v for n, v in wrong_types_for(t).items() if n not in ('nested', 'strv') or t == 'b'}
        # Options get the attacks that differ in kind; the positional
        # arguments get the full lists (keeps the file within its time).
        brief = ('empty', 'huge', 'control', 'shell', 'option', 'traversal')
        paths = ('proc-self-mem', 'proc-1-environ', 'dev-zero', 'dev-stdin', 'fifo', 'symlink-root-only',
                 'root-only', 'other-user', 'directory', 'tree-with-links')
        if t == 's':
            values = self.hostile_paths() if key in PATH_KEYS else self.hostile_strings()
            values = {n: v for n, v in values.items() if n in brief or (key in PATH_KEYS and n in paths)}
            if key in DEVICE_KEYS:
                values = dict(values, **self.device_payloads())
            if key in SECRET_KEYS:
                values = dict(values, secret=SECRET_PASS)
            out.update({n: V('s', v) for n, v in values.items()})
        elif t == 'as':
            values = self.hostile_paths() if key in PATH_KEYS else self.hostile_strings()
            out.update({n: V('as', [v]) for n, v in values.items() if n in brief or n in paths})
            out['many'] = V('as', ['x'] * 10000)
            out['empty-list'] = V('as', [])
        elif t == 'a{sv}':
            out['empty'] = V('a{sv}', {})
        elif t == 'b':
            out['true'] = V('b', True)
        return out

    def attack_manager_method(self, method):
        self.sysupdate_seen = len(self.sysupdate_runs())
        self.jobs = []
        self.check_authorization(method)
        for case, sig, args, expect in self.manager_cases(method):
            self.run_case(case, MANAGER_PATH, IFACE_PREFIX + 'Manager', method, sig, args, expect)
        self.report()

    def check_authorization(self, method):
        '''The action imprintd asks polkit for is the one the API names, and
        an active user gets exactly what the policy's allow_active says.'''
        if self.only:
            return
        sig, base = self.base_args(method)
        self.bus.polkit_call('ClearCalls')
        out = self.nobody.call(MANAGER_PATH, IFACE_PREFIX + 'Manager', method, sig, base)
        calls = self.bus.polkit_call('GetCalls')
        asked = set(re.findall(r"\('([^']+)', uint32 \d+\)|\('([^']+)', \d+\)", calls))
        asked = {a or b for a, b in asked}
        expected = MANAGER['methods'][method]['action']
        self.assertEqual(asked, {expected} if expected else set(),
                         f'{method} asked polkit for {asked}, the API says {expected}')
        is_refused = out['error'] == IFACE_PREFIX + 'Error.NotAuthorized' and 'not allowed to read' not in out['message']
        if self.mode == 'active':
            self.assertEqual(is_refused, needs_admin(method),
                             f'{method} as an active user: {out["error"]} {out["message"][:200]}')
        else:
            self.assertFalse(is_refused, f'{method} refused with polkit allowing: {out["message"][:200]}')
        # Wait for a job the base call may have started.
        m = re.fullmatch(r"\(objectpath '([^']+)',\)", out['reply'])
        if m:
            problems, _ = self.wait_for_job(m.group(1), '')
            self.assertEqual(problems, [], f'{method} base call')

    only = ()


class ApiAttack(ApiBase):
    '''Every Manager method; the test methods are generated below.'''


# One test per method and mode, the cases KNOWN_BY_SLICE lists left out...
def _make_method_test(method, mode):
    def test(self):
        self.set_mode(mode)
        self.attack_manager_method(method)
    test.__doc__ = f'{method} with hostile arguments, polkit {mode}'
    return test


for _mode in ('active', 'allow'):
    for _method in MANAGER['methods']:
        setattr(ApiAttack, f'test_{_mode}_{_method}', _make_method_test(_method, _mode))


# ...and the KNOWN_BY_SLICE entries as expected failures, one test per
# mode, method and slice (each pattern must match a case and each case fail).
def _make_known_test(mode, method, slice_name, patterns):
    def test(self):
        self.set_mode(mode)
        self.sysupdate_seen = len(self.sysupdate_runs())
        self.jobs = []
        self.only = ()
        cases = list(self.manager_cases(method))
        for pattern in patterns:
            self.assertTrue([c for c in cases if fnmatch.fnmatchcase(c[0], pattern)],
                            f'KNOWN_BY_SLICE pattern {pattern} matches no case')
        cases = [c for c in cases if any(fnmatch.fnmatchcase(c[0], p) for p in patterns)]
        self.only = tuple(c[0] for c in cases)
        for case, sig, args, expect in cases:
            self.run_case(case, MANAGER_PATH, IFACE_PREFIX + 'Manager', method, sig, args, expect)
        # Once the slice's fix is in, nothing fails: unittest reports an
        # unexpected success and the entries should go.
        self.report()
    test.__doc__ = f'{mode}:{method}: known, fixed by the {slice_name} slice: {", ".join(patterns)}'
    return unittest.expectedFailure(test)


_known_groups = {}
for _pattern, _slice in KNOWN_BY_SLICE.items():
    _mode, _method = _pattern.split(':')[:2]
    _known_groups.setdefault((_mode, _method, _slice), []).append(_pattern)
for (_mode, _method, _slice), _patterns in sorted(_known_groups.items()):
    setattr(ApiAttack, f'test_known_{_slice}_{_mode}_{_method}',
            _make_known_test(_mode, _method, _slice, _patterns))


class ObjectsAttack(ApiBase):
    '''Properties, introspection and the Job interface.'''

    def test_manager_properties(self):
        props = 'org.freedesktop.DBus.Properties'
        mgr = IFACE_PREFIX + 'Manager'
        self.sysupdate_seen = 0
        self.jobs = []
        for name, (sig, access) in MANAGER['properties'].items():
            self.run_case(f'props:Get:{name}', MANAGER_PATH, props, 'Get', '(ss)', [mgr, name])
            self.run_case(f'props:Set:{name}', MANAGER_PATH, props, 'Set', '(ssv)',
                          [mgr, name, V('s', 'evil')], 'Error')
            self.run_case(f'props:Set:{name}-huge', MANAGER_PATH, props, 'Set', '(ssv)',
                          [mgr, name, V('s', 'A' * MIB)], 'Error')
        out = self.run_case('props:GetAll', MANAGER_PATH, props, 'GetAll', '(s)', [mgr])
        self.assertIn('Version', out['reply'])
        for n, v in self.hostile_strings().items():
            self.run_case(f'props:Get:iface={n}', MANAGER_PATH, props, 'Get', '(ss)', [v, 'Version'])
            self.run_case(f'props:Get:name={n}', MANAGER_PATH, props, 'Get', '(ss)', [mgr, v])
            self.run_case(f'props:GetAll:iface={n}', MANAGER_PATH, props, 'GetAll', '(s)', [v])
            self.run_case(f'props:Set:name={n}', MANAGER_PATH, props, 'Set', '(ssv)', [mgr, v, V('s', v)],
                          'Error')
        self.run_case('props:Get:wrong-sig', MANAGER_PATH, props, 'Get', '(s)', [mgr], 'InvalidArgs')
        self.run_case('introspect', MANAGER_PATH, 'org.freedesktop.DBus.Introspectable', 'Introspect', '()', [])
        self.run_case('managed-objects', ROOT_PATH, 'org.freedesktop.DBus.ObjectManager',
                      'GetManagedObjects', '()', [])
        self.run_case('unknown-method', MANAGER_PATH, mgr, 'Frobnicate', '(a{sv})', [{}], 'InvalidArgs')
        self.run_case('unknown-iface', MANAGER_PATH, IFACE_PREFIX + 'Nope', 'ListDisks', '(a{sv})', [{}],
                      'InvalidArgs')
        self.run_case('unknown-object', ROOT_PATH + '/job/999999', IFACE_PREFIX + 'Job', 'Cancel',
                      '(a{sv})', [{}], 'InvalidArgs')
        self.report()

    def start_job_as_root(self):
        '''An update job of root's that keeps running (the stand-in
        sysupdate sleeps on "sleepy").'''
        root = Caller(self.bus.env, None)
        self.addCleanup(root.stop)
        self.bus.polkit_call('SetMode', 'allow')
        out = root.call(MANAGER_PATH, IFACE_PREFIX + 'Manager', 'Update', '(sa{sv})', ['sleepy', {}])
        self.bus.polkit_call('SetMode', 'deny')
        self.assertTrue(out['ok'], out)
        return root, re.fullmatch(r"\(objectpath '([^']+)',\)", out['reply']).group(1)

    def attack_job(self, path, owner):
        '''Every Job method and property on @path, as nobody.'''
        job = IFACE_PREFIX + 'Job'
        props = 'org.freedesktop.DBus.Properties'
        foreign = owner != 'nobody'
        refused = 'NotAuthorized' if foreign else None
        for name, (sig, access) in JOB['properties'].items():
            self.run_case(f'job-{owner}:Get:{name}', path, props, 'Get', '(ss)', [job, name])
            self.run_case(f'job-{owner}:Set:{name}', path, props, 'Set', '(ssv)',
                          [job, name, V(sig if sig != 'a{sv}' else 'a{sv}', {} if sig == 'a{sv}' else
                                        {'s': 'x', 'd': 2.0, 'b': True, 't': 1, 'u': 0}[sig])], 'Error')
        self.run_case(f'job-{owner}:GetAll', path, props, 'GetAll', '(s)', [job])
        for n, v in self.hostile_strings().items():
            self.run_case(f'job-{owner}:Answer:id={n}', path, job, 'Answer', '(ssa{sv})', [v, '', {}], refused)
            self.run_case(f'job-{owner}:Answer:value={n}', path, job, 'Answer', '(ssa{sv})', ['1', v, {}],
                          refused)
        for n, v in wrong_types_for('b').items():
            self.run_case(f'job-{owner}:Answer:cancel={n}', path, job, 'Answer', '(ssa{sv})',
                          ['1', '', {'cancel': v}], refused)
        self.run_case(f'job-{owner}:Answer:sig', path, job, 'Answer', '(s)', ['1'], 'InvalidArgs')
        self.run_case(f'job-{owner}:Cancel:sig', path, job, 'Cancel', '(s)', ['1'], 'InvalidArgs')
        self.run_case(f'job-{owner}:Cancel:options', path, job, 'Cancel', '(a{sv})',
                      [{'x': V('s', 'A' * MIB)}], refused)

    def test_job_of_another_user(self):
        '''A job root started: nobody may read it but not steer it.'''
        self.sysupdate_seen = 0
        self.jobs = []
        root, path = self.start_job_as_root()
        self.attack_job(path, 'root')
        out = self.nobody.call(path, 'org.freedesktop.DBus.Properties', 'Get', '(ss)',
                               [IFACE_PREFIX + 'Job', 'Cancelable'])
        self.assertIn('true', out['reply'], 'the job should still be running after nobody tried to cancel it')
        out = root.call(path, IFACE_PREFIX + 'Job', 'Cancel', '(a{sv})', [{}])
        self.assertTrue(out['ok'], out)
        problems, _ = self.wait_for_job(path, '')
        self.assertEqual(problems, [])
        self.report()

    def test_own_job(self):
        '''A job nobody started (polkit allowing): hostile answers and cancel.'''
        self.sysupdate_seen = 0
        self.jobs = []
        self.bus.polkit_call('SetMode', 'allow')
        out = self.nobody.call(MANAGER_PATH, IFACE_PREFIX + 'Manager', 'Update', '(sa{sv})', ['sleepy', {}])
        self.assertTrue(out['ok'], out)
        path = re.fullmatch(r"\(objectpath '([^']+)',\)", out['reply']).group(1)
        self.attack_job(path, 'nobody')
        self.run_case('job-nobody:Cancel', path, IFACE_PREFIX + 'Job', 'Cancel', '(a{sv})', [{}])
        problems, _ = self.wait_for_job(path, '')
        self.assertEqual(problems, [])
        self.run_case('job-nobody:Cancel-finished', path, IFACE_PREFIX + 'Job', 'Cancel', '(a{sv})', [{}])
        self.report()


if __name__ == '__main__':
    imprinttest.main()

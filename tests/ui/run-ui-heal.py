#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Runs the heal UI test (test-heal-ui) under Xvfb against the real imprintd
on a private bus, one case per fresh daemon whose test hooks point
GetUnlockStatus at a LUKS2 image standing for the root (passphrase + a TPM2
seal on swtpm, then PCR 7 moved) and at journal files written by
systemd-journal-remote with what systemd-cryptsetup logs when the TPM
refuses (tests/integration/test_unlock_status.py). Then `imprint
--heal-check` itself against a notification daemon stand-in (dbusmock's
notification_daemon, GLib's freedesktop backend): one notification, and
none the second time in the same boot. Prints TAP.

  run-ui-heal.py HARNESS IMPRINT LOCALEDIR     (IMPRINTD, IMPRINTCTL from meson)

With IMPRINT_SCREENSHOT_DIR set, the harness saves PNGs there.'''

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(SRCDIR, 'tests', 'lib'))
sys.path.insert(0, os.path.join(SRCDIR, 'tests', 'integration'))

PASSPHRASE = 'correct horse battery staple 42'
FINE = [('systemd-cryptsetup@root.service', 'Set cipher aes, mode xts-plain64, key size 512 bits for device /dev/vda3.')]
# (case, journal entries or None for the --heal-check run)
CASES = [
    ('/heal/panel', 'refused'),
    ('/heal/not-needed', 'fine'),
    ('/heal/notification', 'fine'),
    ('heal-check', 'refused'),
]


def skip(why):
    print(f'1..0 # SKIP {why}')
    sys.exit(77)


class Setup:
    '''A daemon whose root "needed its passphrase" (or not), and swtpm.'''

    def __init__(self, journal_kind):
        import imprinttest
        import test_unlock_status as t
        from test_install import Swtpm

        self.tmp = tempfile.mkdtemp(prefix='imprint-ui-heal-')
        self.bus = self.tpm = None
        journal = os.path.join(self.tmp, 'journal')
        run = os.path.join(self.tmp, 'run')
        os.mkdir(journal)
        os.mkdir(run, 0o700)
        t.write_journal(journal, t.V252_PCR_CHANGED if journal_kind == 'refused' else FINE)
        self.volume = os.path.join(self.tmp, 'root.img')
        with open(self.volume, 'wb') as f:
            f.truncate(32 * 1024 * 1024)
        subprocess.run(['cryptsetup', 'luksFormat', '--type', 'luks2', '--batch-mode', '--pbkdf', 'pbkdf2',
                        '--pbkdf-force-iterations', '1000', '--key-file=-', self.volume],
                       input=PASSPHRASE.encode(), check=True, timeout=60)
        self.tpm = Swtpm(os.path.join(self.tmp, 'tpm'))
        # The rest of the panel shows an installed ImprintOS 1, as in
        # run-ui-panels.py.
        import test_update
        paths = test_update.make_test_root(os.path.join(self.tmp, 'os'))
        self.bus = imprinttest.TestBus(daemon_env=dict(paths['env'], **{
            'IMPRINTD_TEST_UNLOCK_DEVICE': self.volume, 'IMPRINTD_TEST_UNLOCK_VOLUME': 'root',
            'IMPRINTD_TEST_JOURNAL_DIR': journal, 'RUNTIME_DIRECTORY': run}))
        pw = os.path.join(self.tmp, 'pw')
        with open(pw, 'w') as f:
            f.write(PASSPHRASE + '\n')
        # Installed with a TPM2 seal; then "a firmware update" moves PCR 7.
        self.bus.ctl('enroll', self.volume, '--tpm2', f'--tpm2-device={self.tpm.tcti}', '--unlock-key-file', pw,
                     check=0, timeout=120)
        subprocess.run(['tpm2_pcrextend', '-T', self.tpm.tcti, '7:sha256=' + '11' * 32],
                       check=True, capture_output=True, timeout=30)
        # The enroll above counts as a re-seal in this boot: forget it, as a
        # new boot would.
        os.remove(os.path.join(run, 'tpm2-resealed'))
        self.env = dict(self.bus.env)
        self.env.update({
            'DBUS_SESSION_BUS_ADDRESS': self.bus.address,
            'GTK_A11Y': 'test', 'NO_AT_BRIDGE': '1', 'GSETTINGS_BACKEND': 'memory',
            'GDK_BACKEND': 'x11', 'GSK_RENDERER': 'cairo', 'XDG_RUNTIME_DIR': self.tmp,
            'IMPRINT_TEST_TPM2_DEVICE': self.tpm.tcti, 'IMPRINT_TEST_PASSPHRASE': PASSPHRASE,
        })

    def close(self):
        if self.bus is not None:
            self.bus.stop()
        if self.tpm is not None:
            self.tpm.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_harness(setup, harness, localedir, case):
    env = dict(setup.env, IMPRINT_TEST_LOCALEDIR=localedir)
    wrapper = os.environ.get('IMPRINT_UI_WRAPPER', '').split()
    r = subprocess.run([*wrapper, harness, '-p', case], env=env, capture_output=True, text=True, timeout=240)
    return r.returncode == 0, r.stdout + r.stderr


def notify_calls(setup):
    r = subprocess.run(['gdbus', 'call', '--session', '--dest', 'org.freedesktop.Notifications',
                        '--object-path', '/org/freedesktop/Notifications',
                        '--method', 'org.freedesktop.DBus.Mock.GetCalls'],
                       env=setup.env, capture_output=True, text=True, timeout=10)
    return r.stdout.split("'Notify'")[1:]


def heal_check_env(setup, localedir, state):
    '''The environment of `imprint --heal-check` at a login: GLib's
    freedesktop notifications, its own state directory (one notification
    per boot is remembered there), no test TPM.'''
    env = dict(setup.env, GNOTIFICATION_BACKEND='freedesktop', XDG_STATE_HOME=os.path.join(setup.tmp, state),
               IMPRINT_LOCALEDIR=localedir)
    env.pop('IMPRINT_TEST_TPM2_DEVICE')
    return env


def run_heal_check(setup, imprint, localedir):
    '''imprint --heal-check: one notification per boot.'''
    log = []
    daemon = subprocess.Popen(['/usr/bin/python3', '-m', 'dbusmock', '--template', 'notification_daemon'],
                              env=setup.env, stdout=subprocess.DEVNULL)
    setup.bus.procs.append(daemon)
    setup.bus.wait_for_name('org.freedesktop.Notifications')
    env = heal_check_env(setup, localedir, 'state')
    check = subprocess.Popen([imprint, '--heal-check'], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not notify_calls(setup) and check.poll() is None:
        time.sleep(0.2)
    calls = notify_calls(setup)
    log.append(f'Notify calls: {calls}')
    ok = len(calls) == 1 and 'The disk needed its recovery key at the last start' in calls[0]
    ok = ok and 'start-up software changed' in calls[0] and 'Unlock Automatically Again' in calls[0]
    # It waits for its notification to be used.
    ok = ok and check.poll() is None
    check.terminate()
    log.append(check.communicate(timeout=10)[0])
    # Same boot: the second login says nothing and exits at once.
    second = subprocess.run([imprint, '--heal-check'], env=env, capture_output=True, text=True, timeout=60)
    log.append(second.stdout + second.stderr)
    ok = ok and second.returncode == 0 and len(notify_calls(setup)) == 1
    return ok, '\n'.join(log)


DUNSTRC = '''[global]
    font = Cantarell 11
    width = 460
    height = 300
    origin = top-right
    offset = 16x16
    padding = 14
    horizontal_padding = 16
    frame_width = 1
    frame_color = "#c0bfbc"
    corner_radius = 0
    separator_height = 0
    markup = full
    format = "<b>%s</b>\\n%b"
    word_wrap = yes
    show_indicators = no
    background = "#fafafa"
    foreground = "#2e3436"
[urgency_critical]
    background = "#fafafa"
    foreground = "#2e3436"
    frame_color = "#c0bfbc"
    timeout = 0
'''


def screenshot_notification(setup, imprint, localedir, out_dir):
    '''The notification as a desktop's notification server draws it: dunst
    (a real org.freedesktop.Notifications server) on the Xvfb screen, its
    window saved with xwd. Only for tools/screenshots; says why it did not.'''
    for tool in ('dunst', 'xwd', 'xwdtopnm', 'pnmtopng'):
        if shutil.which(tool) is None:
            return f'no notification screenshot: {tool} is not installed'
    # The stand-in from run_heal_check() holds the name: let it go first.
    for p in [p for p in setup.bus.procs if 'notification_daemon' in p.args]:
        setup.bus.procs.remove(p)
        p.terminate()
        p.wait(timeout=10)
    rc = os.path.join(setup.tmp, 'dunstrc')
    with open(rc, 'w') as f:
        f.write(DUNSTRC)
    dunst = subprocess.Popen(['dunst', '-config', rc], env=setup.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    setup.bus.procs.append(dunst)
    setup.bus.wait_for_name('org.freedesktop.Notifications')
    env = heal_check_env(setup, localedir, 'state2')
    check = subprocess.Popen([imprint, '--heal-check'], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        png = os.path.join(out_dir, 'heal-0-notification.png')
        for _ in range(50):
            time.sleep(0.3)
            xwd = subprocess.run(['xwd', '-silent', '-name', 'Dunst'], env=setup.env, capture_output=True)
            if xwd.returncode == 0 and xwd.stdout:
                break
        else:
            return 'no notification screenshot: no dunst window appeared'
        time.sleep(0.5)
        xwd = subprocess.run(['xwd', '-silent', '-name', 'Dunst'], env=setup.env, capture_output=True, check=True)
        pnm = subprocess.run(['xwdtopnm'], input=xwd.stdout, capture_output=True, check=True)
        with open(png, 'wb') as f:
            f.write(subprocess.run(['pnmtopng'], input=pnm.stdout, capture_output=True, check=True).stdout)
        return f'saved {png}'
    finally:
        check.terminate()
        check.wait(timeout=10)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    harness, imprint, localedir = sys.argv[1], sys.argv[2], sys.argv[3]
    for tool in ('dbus-daemon', 'gdbus', 'cryptsetup', 'swtpm', 'tpm2_pcrextend'):
        if shutil.which(tool) is None:
            skip(f'{tool} is not installed')
    if not os.access('/lib/systemd/systemd-journal-remote', os.X_OK):
        skip('systemd-journal-remote is not installed')
    if os.getuid() != 0:
        skip('needs root (LUKS2 keyslots of an image file through imprintd)')
    try:
        import dbusmock  # noqa: F401
    except ImportError:
        skip('python3-dbusmock is not installed')
    if not os.environ.get('DISPLAY') and not os.environ.get('IMPRINT_UI_IN_XVFB'):
        if shutil.which('xvfb-run') is None:
            skip('xvfb-run is not installed')
        os.environ['IMPRINT_UI_IN_XVFB'] = '1'
        os.execvp('xvfb-run', ['xvfb-run', '-a', '-s', '-screen 0 1280x1024x24', sys.executable, *sys.argv])

    print(f'1..{len(CASES)}', flush=True)
    failed = 0
    for i, (case, journal) in enumerate(CASES, 1):
        setup = None
        try:
            setup = Setup(journal)
            if case == 'heal-check':
                ok, log = run_heal_check(setup, imprint, localedir)
                if ok and os.environ.get('IMPRINT_SCREENSHOT_DIR'):
                    print('# ' + screenshot_notification(setup, imprint, localedir,
                                                         os.environ['IMPRINT_SCREENSHOT_DIR']), flush=True)
            else:
                ok, log = run_harness(setup, harness, localedir, case)
            if not ok:
                log += setup.bus.daemon_output()
        except Exception as e:  # noqa: BLE001 - reported as a failed case
            ok, log = False, repr(e)
        finally:
            if setup is not None:
                setup.close()
        if not ok or os.environ.get('IMPRINT_UI_VERBOSE'):
            for line in log.splitlines():
                print('# ' + line)
        print(f'{"ok" if ok else "not ok"} {i} {case}', flush=True)
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()

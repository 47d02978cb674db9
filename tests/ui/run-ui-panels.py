#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Runs the System Update and Reset panels' UI test (test-panels-ui) under
Xvfb against the real imprintd on a private bus (tests/lib/imprinttest.py),
one case per fresh daemon: a test root like an installed ImprintOS 1
(tests/integration/test_update.py's make_test_root), the polkit stand-in,
and for updates the systemd-sysupdated stand-in that answers with the
output systemd-sysupdate 257 really printed (tests/update/recorded-257).
Prints TAP, one line per case.

  run-ui-panels.py HARNESS LOCALEDIR     (IMPRINTD, IMPRINTCTL from meson)

With IMPRINT_SCREENSHOT_DIR set, the harness saves PNGs there.'''

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(SRCDIR, 'tests', 'lib'))
sys.path.insert(0, os.path.join(SRCDIR, 'tests', 'integration'))

# (case, slot B's label, sysupdated stand-in parameters or None, options)
CASES = [
    ('/panels/update/check-and-update', '_empty', '{}', {}),
    ('/panels/update/failure', '_empty', '{"fail": true}', {}),
    ('/panels/update/cancel', '_empty', '{"step_ms": 3000}', {}),
    ('/panels/update/pending', 'ImprintOS_2', '{}', {}),
    ('/panels/update/unsupported', '_empty', None, {'no_sysupdate_d': True}),
    ('/panels/reset/request-and-cancel', '_empty', None, {}),
    ('/panels/reset/denied', '_empty', None, {'deny_reset': True}),
    ('/panels/reset/unsupported', '_empty', None, {'no_factory_reset': True}),
    ('/panels/reset/german', '_empty', None, {}),
]


def skip(why):
    print(f'1..0 # SKIP {why}')
    sys.exit(77)


def run_case(harness, localedir, case, slot_b, mock, opts):
    import imprinttest
    import test_update

    tmp = tempfile.mkdtemp(prefix='imprint-ui-panels-')
    saved = dict(os.environ)
    bus = None
    try:
        paths = test_update.make_test_root(tmp, slot_b, not opts.get('no_sysupdate_d'))
        if opts.get('no_factory_reset'):
            os.remove(os.path.join(paths['root'], 'usr/lib/repart.d/50-root.conf'))
            shutil.rmtree(paths['efivars'])
        os.environ.update(paths['env'])
        # imprintd answers in the panel's language from the build tree's
        # translations.
        os.environ['IMPRINT_LOCALEDIR'] = localedir
        bus = imprinttest.TestBus()
        if opts.get('deny_reset'):
            bus.polkit_call('SetMode', 'deny')
            bus.polkit_call('SetAllowed', [imprinttest.ACTION_LIST_DISKS, imprinttest.ACTION_READ_STATUS])
        if mock is not None:
            bus.procs.append(subprocess.Popen(
                ['/usr/bin/python3', '-m', 'dbusmock', '--system', '--template',
                 test_update.SYSUPDATED_MOCK, '--parameters', mock],
                env=bus.env, stdout=subprocess.DEVNULL))
            bus.wait_for_name('org.freedesktop.sysupdate1')
        env = dict(bus.env)
        env.update({
            'DBUS_SESSION_BUS_ADDRESS': bus.address,
            'GTK_A11Y': 'test', 'NO_AT_BRIDGE': '1', 'GSETTINGS_BACKEND': 'memory',
            'GDK_BACKEND': 'x11', 'GSK_RENDERER': 'cairo',
            'IMPRINT_TEST_LOCALEDIR': localedir, 'XDG_RUNTIME_DIR': tmp,
        })
        # IMPRINT_UI_WRAPPER="gdb -batch -ex run -ex bt --args" to debug.
        wrapper = os.environ.get('IMPRINT_UI_WRAPPER', '').split()
        r = subprocess.run([*wrapper, harness, '-p', case], env=env, capture_output=True, text=True, timeout=240)
        ok = r.returncode == 0
        log = r.stdout + r.stderr
        if not ok:
            log += bus.daemon_output()
        return ok, log
    finally:
        if bus is not None:
            bus.stop()
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    harness, localedir = sys.argv[1], sys.argv[2]
    for tool in ('dbus-daemon', 'sfdisk', 'gdbus'):
        if shutil.which(tool) is None:
            skip(f'{tool} is not installed')
    try:
        import dbusmock  # noqa: F401
    except ImportError:
        skip('python3-dbusmock is not installed')
    if not os.environ.get('DISPLAY') and not os.environ.get('IMPRINT_UI_IN_XVFB'):
        if shutil.which('xvfb-run') is None:
            skip('xvfb-run is not installed')
        os.environ['IMPRINT_UI_IN_XVFB'] = '1'
        os.execvp('xvfb-run', ['xvfb-run', '-a', '-s', '-screen 0 1280x1024x24',
                               sys.executable, *sys.argv])

    print(f'1..{len(CASES)}', flush=True)
    failed = 0
    only = os.environ.get('IMPRINT_UI_CASE')
    for i, (case, slot_b, mock, opts) in enumerate(CASES, 1):
        if only and only not in case:
            print(f'ok {i} {case} # SKIP not selected')
            continue
        ok, log = run_case(harness, localedir, case, slot_b, mock, opts)
        if not ok or os.environ.get('IMPRINT_UI_VERBOSE'):
            for line in log.splitlines():
                print('# ' + line)
        print(f'{"ok" if ok else "not ok"} {i} {case}', flush=True)
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()

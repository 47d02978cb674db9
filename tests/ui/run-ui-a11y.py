#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''Walks the accessibility tree of every installer and first-boot setup
page as a screen reader sees it, and fails on an interactive widget without
an accessible name, naming the page and the widget's path.

The pages are reached by the UI tests that already drive them
(test-installer-ui against the imprintd stand-in, test-setup-ui against the
real imprintd with its stand-ins, through run-ui-tests.sh and
run-ui-setup.sh); with IMPRINT_A11Y_SYNC set, their check_names() hands
each page over (ui-harness.c) and waits. Here they run under Xvfb in a
private D-Bus session with at-spi2-core's accessibility bus, GTK's AT-SPI
backend on, and this script reads the tree over AT-SPI (pyatspi).

  run-ui-a11y.py INSTALLER_HARNESS STANDIN XML SCENARIO \\
                 SETUP_HARNESS IMPRINTD LIBDIR LOCALEDIR

Prints TAP, one line per page shown. IMPRINT_A11Y_VERBOSE=1 prints every
widget checked.'''

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The cases that together show every page: the installer's success path
# (welcome to done), its security key PIN prompt and its failure page;
# setup's whole flow and its network page.
INSTALLER_CASES = ['/ui/install/success', '/ui/install/fido2', '/ui/install/failure']
SETUP_CASES = ['/ui/setup/flow', '/ui/setup/network']

# A widget type's name: what GTK 4.8 names a widget that has no name.
TYPE_NAME = re.compile(r'(Gtk|Adw|Imprint)[A-Z][A-Za-z]+')

TIMEOUT = 150           # seconds for one harness run, all its pages


def skip(why):
    print(f'1..0 # SKIP {why}')
    sys.exit(77)


def ensure_session():
    '''Re-runs this script under Xvfb and in a D-Bus session of its own.'''
    if os.environ.get('IMPRINT_A11Y_SESSION'):
        return
    for tool in ('xvfb-run', 'dbus-run-session', 'dbus-daemon', 'gdbus'):
        if shutil.which(tool) is None:
            skip(f'{tool} is not installed')
    try:
        import dbusmock  # noqa: F401
        import pyatspi  # noqa: F401
    except ImportError as e:
        skip(f'{e.name} is not installed (python3-dbusmock, python3-pyatspi)')
    # TAP goes out on a descriptor of its own: the daemons the session
    # starts (at-spi2-registryd) print to the stdout they inherit.
    tap_fd = os.dup(1)
    os.set_inheritable(tap_fd, True)
    os.dup2(2, 1)
    env = dict(os.environ, IMPRINT_A11Y_SESSION='1', IMPRINT_A11Y_TAP_FD=str(tap_fd))
    # A desktop's own accessibility bus must not be reached.
    for var in ('AT_SPI_BUS_ADDRESS', 'DBUS_SESSION_BUS_ADDRESS', 'DISPLAY', 'WAYLAND_DISPLAY'):
        env.pop(var, None)
    os.execvpe('xvfb-run', ['xvfb-run', '-a', '-s', '-screen 0 1280x1024x24',
                            'dbus-run-session', '--', sys.executable, *sys.argv], env)


def start_a11y_bus():
    '''Starts at-spi2-core's bus launcher through the session bus and
    returns the accessibility bus's address.'''
    r = subprocess.run(['gdbus', 'call', '--session', '--dest', 'org.a11y.Bus',
                        '--object-path', '/org/a11y/bus', '--method', 'org.a11y.Bus.GetAddress'],
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        # Not a skip: with pyatspi there, a missing bus is a broken set-up.
        print(f'Bail out! at-spi2-core\'s bus launcher did not start: {r.stderr.strip()}')
        sys.exit(1)
    # ('unix:path=/tmp/…,guid=…',)
    return r.stdout.strip().strip('(),').strip("'")


# Roles a person operates; a list item only when it takes the focus (a
# row that can be chosen), text only when it is editable.
def interactive_roles(pyatspi):
    names = ['PUSH_BUTTON', 'TOGGLE_BUTTON', 'CHECK_BOX', 'RADIO_BUTTON', 'SWITCH',
             'ENTRY', 'PASSWORD_TEXT', 'COMBO_BOX', 'SPIN_BUTTON', 'LINK', 'SLIDER',
             'MENU_ITEM', 'CHECK_MENU_ITEM', 'RADIO_MENU_ITEM', 'TEXT', 'LIST_ITEM']
    return {getattr(pyatspi, 'ROLE_' + n) for n in names if hasattr(pyatspi, 'ROLE_' + n)}


class Walker:
    def __init__(self, pyatspi):
        self.pyatspi = pyatspi
        self.roles = interactive_roles(pyatspi)
        self.verbose = bool(os.environ.get('IMPRINT_A11Y_VERBOSE'))
        self.showing_supported = True

    def find_app(self, pid):
        desktop = self.pyatspi.Registry.getDesktop(0)
        for _ in range(100):
            for app in desktop:
                try:
                    if app is not None and app.get_process_id() == pid:
                        return app
                except Exception:
                    continue
            time.sleep(0.1)
        return None

    def label(self, node, index=None):
        role = node.getRoleName()
        name = node.name or ''
        if name:
            return f'{role} "{name}"'
        return role if index is None else f'{role}[{index}]'

    @staticmethod
    def unnamed(node):
        '''No name, or only the one GTK 4.8 makes up from the widget's type
        ("GtkExpander"), which a screen reader would read out as is.'''
        name = (node.name or '').strip()
        return not name or bool(TYPE_NAME.fullmatch(name))

    def needs_name(self, node, role, states):
        p = self.pyatspi
        if role not in self.roles:
            return False
        if role == p.ROLE_TEXT and not states.contains(p.STATE_EDITABLE):
            return False
        if role == p.ROLE_LIST_ITEM and not states.contains(p.STATE_FOCUSABLE):
            return False
        return True

    def in_view(self, node, role, states, page_type):
        '''Whether a screen reader would read @node now. GTK 4.10 and
        newer say so ("showing"); GTK 4.8 marks only windows showing and
        presents the pages the window is not showing too, so there the page
        in view is told from the others by its type name.'''
        p = self.pyatspi
        if states.contains(p.STATE_SHOWING):
            return True
        if self.showing_supported:
            return False
        if role != p.ROLE_FILLER:
            return True
        name = node.name or ''
        return not (name.startswith('Imprint') and name.endswith('Page') and name != page_type)

    def path(self, trail):
        return ' > '.join(self.label(n, i) for n, i in trail)

    def walk(self, node, trail, problems, counts, page_type):
        try:
            states = node.getState()
            role = node.getRole()
        except Exception:
            return  # gone while walking (a row replaced): not a finding
        if not self.in_view(node, role, states, page_type):
            return
        if states.contains(self.pyatspi.STATE_FOCUSED):
            counts[1] += 1
        if self.needs_name(node, role, states):
            counts[0] += 1
            if self.verbose:
                print('#   ' + self.path(trail))
            if self.unnamed(node):
                problems.append('no accessible name: ' + self.path(trail))
        for i in range(node.childCount):
            try:
                c = node.getChildAtIndex(i)
            except Exception:
                continue
            if c is not None:
                self.walk(c, trail + [(c, i)], problems, counts, page_type)

    def showing(self, node):
        try:
            return node.getState().contains(self.pyatspi.STATE_SHOWING)
        except Exception:
            return False

    def check(self, pid, page_type):
        app = self.find_app(pid)
        if app is None:
            return None, 0
        problems, counts = [], [0, 0]    # named, focused
        # What libatspi cached of an earlier page would be read instead.
        # Right after a page changes, GTK 4.8 briefly lists no window.
        app.clear_cache()
        for _ in range(50):
            if app.childCount > 0:
                break
            time.sleep(0.1)
            app.clear_cache()
        windows = [app.getChildAtIndex(i) for i in range(app.childCount)]
        windows = [w for w in windows if w is not None and self.showing(w)]
        self.showing_supported = any(self.showing(w.getChildAtIndex(i))
                                     for w in windows for i in range(w.childCount))
        for win in windows:
            self.walk(win, [(win, None)], problems, counts, page_type)
        # A keyboard user starts from the focus: some widget has it. (GTK
        # 4.8 does not say so for the text inside libadwaita's entry rows;
        # the harness checks the focus there.)
        if windows and not counts[1] and self.showing_supported:
            problems.append('no widget has the keyboard focus')
        return problems, counts[0]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, what, lines=()):
        self.n += 1
        self.failed += not ok
        for line in lines:
            print('# ' + line)
        print(f'{"ok" if ok else "not ok"} {self.n} {what}', flush=True)


def run_harness(argv, env, walker, tap, sync):
    '''Runs one UI harness, walking each page it hands over.'''
    log = tempfile.TemporaryFile(mode='w+')
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    page_file, done_file = os.path.join(sync, 'page'), os.path.join(sync, 'done')
    deadline = time.monotonic() + TIMEOUT
    pages = 0
    while proc.poll() is None and time.monotonic() < deadline:
        if not os.path.exists(page_file):
            time.sleep(0.05)
            continue
        with open(page_file) as f:
            pid, page_type, page = f.read().split('\n', 2)
        os.unlink(page_file)
        start = time.monotonic()
        problems, checked = walker.check(int(pid), page_type)
        took = time.monotonic() - start
        pages += 1
        page = page.strip()
        if problems is None:
            tap.result(False, f'{page}: the window is not on the accessibility bus')
        else:
            tap.result(not problems and checked > 0,
                       f'{page}: {checked} interactive widgets named ({took:.1f} s)',
                       [f'{page}: {p}' for p in problems] +
                       ([] if checked else [f'{page}: no interactive widget found']))
        open(done_file, 'w').close()
    if proc.poll() is None:
        proc.terminate()    # the script's trap stops its bus and daemons
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        tap.result(False, f'{argv[0]} timed out after {TIMEOUT} s')
    log.seek(0)
    output = log.read()
    ok = proc.returncode == 0 and pages > 0
    tap.result(ok, f'{os.path.basename(argv[0])} {" ".join(a for a in argv if a.startswith("/ui/"))}'
               f' ran ({pages} pages)', [] if ok else output.splitlines())


def main():
    if len(sys.argv) < 9:
        sys.exit(__doc__)
    installer, standin, xml, scenario, setup, imprintd, libdir, localedir = sys.argv[1:9]
    ensure_session()
    if os.environ.get('IMPRINT_A11Y_TAP_FD'):
        sys.stdout = os.fdopen(int(os.environ.pop('IMPRINT_A11Y_TAP_FD')), 'w')
    os.environ['AT_SPI_BUS_ADDRESS'] = start_a11y_bus()
    import pyatspi
    walker = Walker(pyatspi)
    tap = Tap()

    sync = tempfile.mkdtemp(prefix='imprint-a11y-')
    try:
        env = dict(os.environ, IMPRINT_A11Y_SYNC=sync, IMPRINT_UI_GTK_A11Y='atspi',
                   IMPRINT_UI_IN_XVFB='1')
        env.pop('IMPRINT_SCREENSHOT_DIR', None)
        cases = [a for c in INSTALLER_CASES for a in ('-p', c)]
        run_harness([os.path.join(HERE, 'run-ui-tests.sh'), installer, standin, xml, scenario,
                     localedir, *cases], env, walker, tap, sync)
        if os.access(imprintd, os.X_OK):
            cases = [a for c in SETUP_CASES for a in ('-p', c)]
            run_harness([os.path.join(HERE, 'run-ui-setup.sh'), setup, imprintd, libdir,
                         localedir, *cases], env, walker, tap, sync)
        else:
            tap.result(True, f'first-boot setup # SKIP {imprintd} is not built')
    finally:
        shutil.rmtree(sync, ignore_errors=True)
    print(f'1..{tap.n}')
    sys.exit(1 if tap.failed else 0)


if __name__ == '__main__':
    main()

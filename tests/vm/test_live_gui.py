#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: a person installs from the live stick with the graphical
installer, by keyboard only.

  boot 1: the live stick (build-image --variant live) on usb-storage, a
          blank virtio disk, a TPM and a VGA card. The installer comes up
          full screen in the kiosk. The host presses keys through QMP
          (send-key: Tab, Space, Enter, Alt+Right, typing) and never calls
          imprintd. What it sees comes from the accessibility tree, as a
          screen reader user hears it: tests/vm/guest/a11y-watch.py prints
          the focused widget and the texts that came into view. Choices:
          erase the disk, TPM (the default) plus the recovery key, the key's
          re-type check, Install on the summary; then on the done page "Set
          Up the Installed System": computer name and an account with a
          password. Every page is saved as a screendump
          (out/test_live_gui/NN-name.png; tools/screenshots copies them to
          screenshots/live/).
  boot 2: the installed disk alone (stick removed), same TPM: unlocked
          with no prompt, /usr verity = the stick's root hash, no live
          settings, no failed units, the account logs in (homectl
          authenticate).
Exit 77 (skip) when the host lacks the tools.
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_boot import check  # noqa: E402
from test_setup_gui import read_ppm, wait_for_page, write_png  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = 'Imprint-Gui-Passw0rd'
USER_NAME = 'Dora Example'
HOSTNAME = 'gui-live'

with open(os.path.join(HERE, 'guest', 'a11y-watch.py')) as f:
    WATCHER = f.read()

LIVE_HEAD = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
marker "LIVE_ROOT=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
marker "USRHASH=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
app=
for _ in $(seq 1 600); do
    app=$(pgrep -x imprint | head -1)
    [ -n "$app" ] && break
    sleep 1
done
marker "APP_CMDLINE=$(tr '\0' ' ' < /proc/${app:-0}/cmdline 2>/dev/null)"
env_of() { tr '\0' '\n' < /proc/$app/environ | sed -n "s/^$1=//p"; }
bus=$(env_of DBUS_SESSION_BUS_ADDRESS)
rt=$(env_of XDG_RUNTIME_DIR)
as_app() {
    setpriv --reuid=imprint-setup --regid=imprint-setup --init-groups \
        env DBUS_SESSION_BUS_ADDRESS="$bus" XDG_RUNTIME_DIR="$rt" "$@"
}
a11y=
for _ in $(seq 1 60); do
    a11y=$(as_app busctl --user call org.a11y.Bus /org/a11y/bus org.a11y.Bus GetAddress 2>/dev/null |
           sed -n 's/^s "\(.*\)"$/\1/p')
    [ -n "$a11y" ] && break
    sleep 2
done
marker "A11Y_BUS=${a11y:+yes}"
cat > /run/a11y-watch.py <<'WATCHER'
@WATCHER@
WATCHER
as_app env AT_SPI_BUS_ADDRESS="$a11y" python3 /run/a11y-watch.py &
watcher=$!
marker "APP_STARTED"
# The host drives the app now; it says DONE (or gives up) at the end.
read -r -t 5400 said < /dev/ttyS0 || said=timeout
kill $watcher 2>/dev/null
marker "HOST_SAID=$said"
'''


def live_script(tail):
    """The live session's script: finds the installer, starts the
    accessibility watcher as the kiosk's account, waits until the host says
    DONE on the serial line, then runs @tail (shell)."""
    return (LIVE_HEAD + tail).replace('@WATCHER@', WATCHER).replace('@PASSWORD@', PASSWORD)


LIVE = live_script(r'''journalctl -b -u imprintd -o cat | tail -40
# The handover: this session runs from the disk, the stick is gone.
# imprintd's job log is not in the journal: btrfs says when the replace
# started and finished, and how much the root holds.
marker "HANDOVER_LOG=$(btrfs replace status -1 / 2>&1 | head -1); $(btrfs filesystem df -b / 2>/dev/null | awk -F'used=' '/^Data/ {printf "data %d MiB", $2 / 1048576}')"
marker "ROOT_NOW=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
marker "ROOT_ON=$(lsblk -snro NAME "$(findmnt -no SOURCE /)" | tr '\n' ' ')"
usr_devs=
for d in $(dmsetup table usr | awk '{print $5, $6}'); do
    usr_devs="$usr_devs $(basename "$(readlink /sys/dev/block/$d)")"
done
marker "USR_DEVS=$usr_devs"
marker "USB_DISKS=$(lsblk -dno TRAN | grep -c usb)"
marker "ZRAM_SIZE=$(cat /sys/block/zram0/disksize 2>/dev/null)"
find /usr -xdev -type f -print0 | xargs -0 -r cat > /dev/null 2> /run/usr-read.err
marker "USR_READ_ERRORS=$(wc -l < /run/usr-read.err)"
head -5 /run/usr-read.err
findmnt /efi /boot || true
user=$(homectl list --no-legend 2>/dev/null | awk 'NR == 1 {print $1}')
marker "USER=$user"
PASSWORD='@PASSWORD@' homectl authenticate "$user"
marker "AUTH_RC=$?"
echo handover > /var/lib/imprint-handover-marker
PASSWORD='@PASSWORD@' homectl activate "$user" &&
    echo handover > "/home/$user/handover-marker"
marker "HOME_MARKER_RC=$?"
# homed may still be busy with the activation (it grows the image): retry.
for _ in $(seq 1 30); do
    homectl deactivate "$user" 2>/dev/null && break
    sleep 2
done
sync
esp=$(sfdisk -d /dev/vda 2>/dev/null | awk '/type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B/ {print $1}')
marker "TARGET_UKIS=$(mdir -b -i "$esp" ::/EFI/Linux 2>/dev/null | grep -c '\.efi$')"
marker "TARGET_ADDONS=$(mdir -b -i "$esp" ::/loader/addons >/dev/null 2>&1 && echo yes || echo no)"
''')

# The installed disk's first lines: how the root was unlocked, what it is.
INSTALLED_HEAD = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
journalctl -b -o cat | grep -q 'Automatically discovered security TPM2 token unlocks volume' \
    && marker "ROOT_UNLOCK=tpm2" || marker "ROOT_UNLOCK=other"
marker "ROOT=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
'''

TARGET = INSTALLED_HEAD + r'''marker "LIVE_CMDLINE=$(tr ' ' '\n' < /proc/cmdline | grep -cx imprint.live)"
marker "USRHASH=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
marker "VERITY_USR=$(veritysetup status usr 2>/dev/null | sed -n 's/^ *root hash: *//p')"
marker "HOSTNAME=$(cat /etc/hostname)"
marker "PRETTY=$(hostnamectl --pretty 2>/dev/null)"
homectl list
user=$(homectl list --no-legend 2>/dev/null | awk 'NR == 1 {print $1}')
marker "USER=$user"
PASSWORD='@PASSWORD@' homectl authenticate "$user"
marker "AUTH_RC=$?"
marker "VAR_MARKER=$(cat /var/lib/imprint-handover-marker 2>/dev/null)"
PASSWORD='@PASSWORD@' homectl activate "$user" &&
    marker "HOME_MARKER=$(cat "/home/$user/handover-marker" 2>/dev/null)" &&
    homectl deactivate "$user"
marker "SETUP_STARTED=$(systemctl show -P ExecMainStartTimestampMonotonic imprint-setup.service)"
for _ in $(seq 1 60); do
    [ "$(systemctl is-system-running 2>/dev/null)" != starting ] && break
    sleep 2
done
systemctl --failed --no-legend
marker "FAILED_UNITS=$(systemctl --failed --no-legend | wc -l)"
'''.replace('@PASSWORD@', PASSWORD)


class Person:
    """Looks at the screen (the watcher's markers) and types (QMP keys)."""

    def __init__(self, boot, workdir):
        self.b = boot
        self.workdir = workdir
        self.shots = 0

    def markers(self, prefix):
        return [m.text[len(prefix):] for m in self.b.markers() if m.text.startswith(prefix)]

    def focus(self):
        f = self.markers('FOCUS=')
        return f[-1] if f else ''

    def labels(self):
        return self.markers('LABEL=')

    def wait_marker(self, pattern, timeout, since=0):
        """Waits for a marker matching `pattern` among the markers after
        the first `since`. Returns its text."""
        regex = re.compile(pattern, re.IGNORECASE)
        deadline = time.monotonic() + timeout
        while True:
            for mk in self.b.markers()[since:]:
                if regex.search(mk.text):
                    return mk.text
            if time.monotonic() > deadline:
                raise qemu.VMError(f'no marker {pattern!r} within {timeout} s', self.b.log)
            time.sleep(1)

    def wait_label(self, pattern, timeout=300, since=0):
        """Waits until a text matching `pattern` came into view (after the
        first `since` LABEL markers). Returns the re.Match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for text in self.labels()[since:]:
                m = regex.search(text)
                if m:
                    return m
            if time.monotonic() > deadline:
                raise qemu.VMError(f'no text {pattern!r} came into view within {timeout} s; '
                                   f'last texts: {self.labels()[-12:]}; focus: {self.focus()!r}', self.b.log)
            time.sleep(1)

    def tab_to(self, pattern, max_tabs=40, key='tab'):
        """Presses Tab until the focused widget (role|name) matches."""
        regex = re.compile(pattern)
        seen = []
        for _ in range(max_tabs):
            f = self.focus()
            if regex.search(f):
                return f
            seen.append(f)
            self.b.key(key)
            deadline = time.monotonic() + 20
            while self.focus() == f and time.monotonic() < deadline:
                time.sleep(0.5)
        raise qemu.VMError(f'Tab never reached {pattern!r}; focus went {seen}', self.b.log)

    def shot(self, name):
        self.shots += 1
        ppm = os.path.join(self.workdir, 'screen.ppm')
        self.b.screendump(ppm)
        for _ in range(50):
            if os.path.exists(ppm) and os.path.getsize(ppm) > 0:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        width, height, rgb = read_ppm(ppm)
        png = os.path.join(self.workdir, f'{self.shots:02d}-{name}.png')
        write_png(png, width, height, rgb)
        print(f'  [{self.b.elapsed():5.0f} s] page {name}: {png}')

    def retype_key(self, since):
        """The recovery key page: the key groups in view, the group asked
        for, the "I have saved" box, the group typed."""
        asked = int(self.wait_label(r'Type group (\d+) of the key', since=since).group(1))
        # Each group is shown (and named for screen readers) as "Group N: xxxxxxxx".
        groups = {}
        for t in self.labels()[since:]:
            m = re.fullmatch(r'Group (\d+): ([cbdefghijklnrtuv]{8})', t)
            if m:
                groups[int(m.group(1))] = m.group(2)
        if asked not in groups:
            raise qemu.VMError(f'group {asked} of the key is not in view ({sorted(groups)})', self.b.log)
        self.tab_to(r'\|I have saved')
        self.b.key('spc')
        self.tab_to(r'Type group')
        self.b.type(groups[asked])
        return '-'.join(groups[i] for i in sorted(groups))


def open_installer(p, screen_reader=True):
    """The welcome page (with the screen reader on and off by its
    shortcut), Install, until the disk page lists /dev/vda."""
    p.wait_label(r'^Welcome$')
    p.shot('welcome')
    if screen_reader:
        # Super+Alt+S: Orca starts and registers on the accessibility bus;
        # off again before going on.
        n = len(p.b.markers())
        p.b.key('meta_l-alt-s')
        apps = p.wait_marker(r'^APPS=.*\borca\b', 240, since=n)
        print(f'  screen reader on: {apps}')
        p.shot('screen-reader')
        n = len(p.b.markers())
        p.b.key('meta_l-alt-s')
        p.wait_marker(r'^APPS=(?!.*orca)', 120, since=n)
    n = len(p.labels())
    # The watcher polls: after the screen reader went off, a Tab may be
    # reported late and Enter land on the next widget. Try again then.
    for attempt in range(3):
        p.tab_to(r'^(push )?button\|Install$')
        p.b.key('ret')
        try:
            p.wait_label(r'Where Should the System Go', timeout=90, since=n)
            break
        except qemu.VMError:
            if attempt == 2:
                raise
            print('  Install not reached; again')
    p.wait_label(r'/dev/vda', since=n)


def unlock_and_key(p):
    """The security page as it comes (TPM, the default), the recovery key
    read off the screen and its group typed back; ends on the summary.
    Returns the key."""
    n = len(p.labels())
    p.wait_label(r'How Is the Disk Unlocked', since=n)
    p.shot('security')
    p.b.key('alt-right')

    n = len(p.labels())
    p.wait_label(r'Save Your Recovery Key', since=n)
    key = p.retype_key(n)
    p.shot('recovery-key')
    p.b.key('alt-right')

    n = len(p.labels())
    p.wait_label(r'Ready to Install', since=n)
    return key


def commit_install(p, button):
    """Presses the summary's @button (regex of its name) and waits for the
    done page; sets p.install_s. Returns the done page's match."""
    p.tab_to(r'^(push )?button\|' + button)
    p.b.key('ret')
    started = time.monotonic()
    n = len(p.labels())
    m = p.wait_label(r'this session already runs from it|could not move onto the disk|Installation Failed',
                     timeout=1800, since=n)
    p.install_s = time.monotonic() - started
    time.sleep(3)
    p.shot('done')
    return m


def install_by_keyboard(p):
    open_installer(p)
    # The blank disk (the stick and the RAM root are listed, not usable).
    p.tab_to(r'\bvda\b')
    p.b.key('spc')
    time.sleep(3)
    p.shot('disk')
    p.b.key('alt-right')

    key = unlock_and_key(p)
    p.shot('summary')
    m = commit_install(p, r'Erase .* and Install')
    if 'already runs' not in m.group(0):
        raise qemu.VMError(f'no handover: {p.labels()[-8:]}', p.b.log)
    # The person pulls the stick; the session goes on.
    p.b.qmp('device_del', id='usb0')
    time.sleep(10)
    p.shot('done-stick-removed')
    return key


SETUP_PAGES = (
    ('language', r'^Choose Your Language$'),
    ('keyboard', r'^Choose Your Keyboard Layout$'),
    ('network', r'^Connect to the Internet$'),
    ('timezone', r'^Choose Your Time Zone$'),
    ('hostname', r'^Name This Computer$'),
    ('user', r'^Create Your Account$'),
    ('home-recovery-key', r'^Save Your Recovery Key$'),
    ('setup-summary', r'^Ready to Set Up$'),
    ('setup-done', r'^All Set$'),
    ('setup-failed', r'^Setup Failed$'),
)


def setup_by_keyboard(p):
    """From the installer's done page after the handover: "Set Up This
    System" (in this session, on the installed disk), then every setup page
    that comes, until "All Set"."""
    p.tab_to(r'^(push )?button\|Set Up This System')
    p.b.key('ret')
    done = set()
    since = len(p.labels())
    while True:
        page = None
        deadline = time.monotonic() + 600
        while page is None:
            for text in p.labels()[since:]:
                for name, pattern in SETUP_PAGES:
                    if name not in done and re.search(pattern, text):
                        page = name
                        break
                if page:
                    break
            if page is None:
                if time.monotonic() > deadline:
                    raise qemu.VMError(f'no setup page came; last texts: {p.labels()[-12:]}', p.b.log)
                time.sleep(1)
        n = len(p.labels())
        time.sleep(2)
        p.shot(page)
        done.add(page)
        if page == 'setup-failed':
            raise qemu.VMError('setup failed', p.b.log)
        if page == 'setup-done':
            return
        if page == 'hostname':
            p.tab_to(r'\|Computer name')
            p.b.key('ctrl-a')
            p.b.type(HOSTNAME)
        elif page == 'user':
            p.tab_to(r'\|Full name')
            p.b.type(USER_NAME)
            p.tab_to(r'\|Password$')
            p.b.type(PASSWORD)
            p.tab_to(r'\|Confirm password$')
            p.b.type(PASSWORD)
            time.sleep(3)        # the strength meter rates a moment after typing
        elif page == 'home-recovery-key':
            p.retype_key(since)
        elif page == 'setup-summary':
            p.tab_to(r'^(push )?button\|Set Up$')
            p.b.key('ret')
            since = n
            continue
        p.b.key('alt-right')
        since = n


def main():
    t0 = time.monotonic()
    image = qemu.build_image(1, variant='live')
    print(f'live stick: {image} ({time.monotonic() - t0:.0f} s)')
    workdir = os.path.join(qemu.OUT_DIR, 'test_live_gui')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir, memory=3072)
    stick = qemu.Disk.overlay(os.path.join(workdir, 'stick.qcow2'), image, interface='usb')
    target = qemu.Disk.blank(os.path.join(workdir, 'target.raw'), '8G')
    ok = False
    try:
        print('boot 1: the live stick; the installer, driven by keyboard')
        start = time.monotonic()
        with m.boot([stick, target], name='live-gui', script=LIVE, display=True) as b:
            b.wait_for(r'IMPRINT-TEST: BEGIN', 900, label='multi-user.target')
            b.wait_for(r'IMPRINT-TEST: APP_STARTED', 900, label='installer started')
            b.wait_for(r'IMPRINT-TEST: A11Y=ready', 600, label='accessibility tree')
            wait_for_page(b, workdir, name='00-first')
            p = Person(b, workdir)
            try:
                install_by_keyboard(p)
                install_s = p.install_s
                setup_by_keyboard(p)
            finally:
                b.send('DONE\n')
            m_end = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 600, label='script end')
            b.wait_exit(120)
            r = qemu.Result('live-gui', int(m_end.group(1)), b.markers(), b.log,
                            time.monotonic() - start, b.waits)
        v = r.marker_value
        for mk in r.markers:
            if not mk.text.startswith(('LABEL=', 'FOCUS=')):
                print(f'  {mk.elapsed:7.1f}s {mk.text}')
        check(v('LIVE_ROOT') == 'btrfs,/dev/zram0', f'live root in RAM ({v("LIVE_ROOT")})', r)
        check(any(mk.text.startswith('APPS=') and 'orca' in mk.text.lower() for mk in r.markers),
              'the screen reader came on by keyboard (Orca on the accessibility bus)', r)
        check(v('TARGET_UKIS') not in (None, '', '0') and v('TARGET_ADDONS') == 'no',
              'the installed ESP has the UKI, not the add-on', r)
        print(f'  install (copy, encryption, handover) took {install_s:.0f} s; '
              f'handover (btrfs replace): {v("HANDOVER_LOG")}')
        check(v('ROOT_NOW') in ('btrfs,/dev/mapper/root', 'btrfs,/dev/mapper/imprint-root'),
              f'after the handover / is btrfs on the LUKS2 root ({v("ROOT_NOW")})', r)
        check('vda' in (v('ROOT_ON') or ''), f'... on the virtio disk ({v("ROOT_ON")})', r)
        check((v('USR_DEVS') or '').split() == ['vda2', 'vda3'] or
              all(d.startswith('vda') for d in (v('USR_DEVS') or 'x').split()),
              f'/usr\'s verity table names the disk\'s partitions ({v("USR_DEVS")})', r)
        check(v('USB_DISKS') == '0', 'the stick is gone', r)
        check(v('USR_READ_ERRORS') == '0', f'every file under /usr reads ({v("USR_READ_ERRORS")} errors)', r)
        check(v('ZRAM_SIZE') == '0', f'the RAM device is freed ({v("ZRAM_SIZE")})', r)
        check(bool(v('USER')) and v('AUTH_RC') == '0',
              f'the account made after the handover ({v("USER")}) takes its password', r)
        check(v('HOME_MARKER_RC') == '0', 'a file written into the home', r)
        r.check()
        usrhash = v('USRHASH')

        print('boot 2: the installed disk alone')
        r = m.run([qemu.Disk(target.path)], TARGET, name='target', timeout=1500)
        r.print_markers()
        v = r.marker_value
        check(v('ROOT_UNLOCK') == 'tpm2', 'root unlocked through the TPM2 token', r)
        check((v('ROOT') or '').startswith('btrfs,'), f'the root is the live session\'s btrfs ({v("ROOT")})', r)
        check(v('VAR_MARKER') == 'handover', 'the file written to /var in the live session is there', r)
        check(v('HOME_MARKER') == 'handover', 'the file written to the home in the live session is there', r)
        check(v('SETUP_STARTED') in ('0', ''), f'first-boot setup did not run again ({v("SETUP_STARTED")})', r)
        check(v('LIVE_CMDLINE') == '0', 'no live settings', r)
        check(bool(usrhash) and v('VERITY_USR') == usrhash, f'/usr verity is the stick\'s ({v("VERITY_USR")})', r)
        check(v('FAILED_UNITS') == '0', f'no failed units ({v("FAILED_UNITS")})', r)
        # The name typed goes in as the pretty name; the network name (here
        # the image's "imprintos", prefilled) stays unless edited itself.
        check(v('PRETTY') == HOSTNAME, f'the computer name typed in setup ({v("PRETTY")}, '
              f'network name {v("HOSTNAME")})', r)
        check(bool(v('USER')) and v('AUTH_RC') == '0',
              f'the account made in setup ({v("USER")}) takes its password', r)
        r.check()
        ok = True
    finally:
        print(f'total {time.monotonic() - t0:.0f} s')
        qemu.drop_disks(workdir, ok, suffixes=('.qcow2', '.raw', '.ppm'))
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)

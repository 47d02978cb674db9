#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test: an OEM machine's first boot shows first-boot setup full screen.

Boots the "gui" variant of ImprintOS (GTK app, cage) as the only disk with a
TPM and a VGA card, like an OEM preload at the buyer:
  boot 1: systemd-repart creates the TPM-sealed root; imprint-setup.service
          starts `imprint --setup --kiosk` in cage on tty7 as its account;
          the host takes screendumps until the first page is drawn (many
          colours: a text console has at most 16) and keeps the last one;
          the setup is then applied with imprintctl (as the issue allows)
          and marked complete.
  boot 2: imprint-setup.service does not run again (its condition fails),
          the console login is on tty1, the user is still there.
The screen of boot 1 is saved as out/test_setup_gui/first-boot-setup.png.
Exit 77 (skip) when the host lacks the tools.
"""

import os
import shutil
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_boot import check  # noqa: E402

PASSWORD = 'Imprint-Test-Passw0rd'

FIRST = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
marker "PENDING_BEFORE=$(imprintctl --json setup-defaults | tr -d ' \n' | grep -o '"setup-pending":[a-z]*' | cut -d: -f2)"
# The kiosk comes up on its own: wait for the app inside it.
app=
for _ in $(seq 1 300); do
    app=$(pgrep -x imprint | head -1)
    [ -n "$app" ] && break
    sleep 1
done
marker "SETUP_UNIT=$(systemctl is-active imprint-setup.service)"
marker "APP_CMDLINE=$(tr '\0' ' ' < /proc/${app:-0}/cmdline 2>/dev/null)"
marker "APP_USER=$(ps -o user:32= -p "${app:-0}" 2>/dev/null)"
marker "COMPOSITOR=$(pgrep -x cage >/dev/null && echo cage || echo none)"
# The account's session on a VT (its user manager has one of its own).
session=
for s in $(loginctl show-user imprint-setup -P Sessions 2>/dev/null); do
    [ -n "$(loginctl show-session "$s" -P TTY 2>/dev/null)" ] && session=$s
done
marker "SESSION=$(loginctl show-session "${session:-none}" -P TTY -P Class -P Active 2>/dev/null | paste -sd, -)"
# The host now takes screendumps until the page is drawn, then says GO.
marker "APP_STARTED"
read -r -t 600 go < /dev/ttyS0 || go=timeout
marker "HOST_SAID=$go"
marker "APP_ALIVE=$(kill -0 "${app:-0}" 2>/dev/null && echo yes || echo no)"
journalctl -b -u imprint-setup.service -o cat | tail -30

printf '%s' '@PASSWORD@' > /run/pw
imprintctl --no-ask-password setup --hostname gui-1 \
    --user carla --real-name 'Carla Example' --password-file /run/pw --disk-size 300M
marker "SETUP_RC=$?"
marker "SETUP_COMPLETE=$(test -e /var/lib/imprint/setup-complete && echo yes || echo no)"
'''.replace('@PASSWORD@', PASSWORD)

SECOND = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
# Let the boot settle (not `is-system-running --wait`: this script is part
# of the boot): the console login comes up on tty1.
for _ in $(seq 1 90); do
    systemctl is-active -q getty@tty1.service && break
    sleep 1
done
marker "SETUP_UNIT=$(systemctl is-active imprint-setup.service)"
marker "SETUP_CONDITION=$(systemctl show -P ConditionResult imprint-setup.service)"
marker "APP_RUNNING=$(pgrep -x imprint >/dev/null && echo yes || echo no)"
marker "GETTY_TTY1=$(systemctl is-active getty@tty1.service)"
marker "USER_KNOWN=$(homectl inspect carla >/dev/null 2>&1 && echo yes || echo no)"
marker "HOSTNAME=$(cat /etc/hostname)"
'''


def read_ppm(path):
    """(width, height, RGB bytes) of a binary PPM (P6), as QEMU writes it."""
    with open(path, 'rb') as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b'P6' or fields[3] != b'255':
        raise ValueError(f'{path}: not an 8-bit P6 PPM')
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1:pos + 1 + width * height * 3]


def screen_stats(width, height, rgb):
    """Distinct colours and the share of pixels unlike the most common one,
    on every 4th pixel of every 4th row."""
    counts = {}
    for y in range(0, height, 4):
        row = y * width * 3
        for x in range(0, width, 4):
            i = row + x * 3
            px = rgb[i:i + 3]
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    background = max(counts.values()) if counts else 0
    return len(counts), (total - background) / total if total else 0.0


def write_png(path, width, height, rgb):
    def chunk(kind, payload):
        return (struct.pack('>I', len(payload)) + kind + payload +
                struct.pack('>I', zlib.crc32(kind + payload) & 0xffffffff))
    raw = b''.join(b'\x00' + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b'IDAT', zlib.compress(raw, 9)))
        f.write(chunk(b'IEND', b''))


def wait_for_page(boot, workdir, timeout=420, name='first-boot-setup'):
    """Screendumps every few seconds until the screen holds a drawn page.
    Returns (colours, share, png path) of the last one (WORKDIR/NAME.png)."""
    ppm = os.path.join(workdir, 'screen.ppm')
    png = os.path.join(workdir, f'{name}.png')
    deadline = time.monotonic() + timeout
    colours, share = 0, 0.0
    while True:
        boot.screendump(ppm)
        for _ in range(50):          # QEMU writes the file asynchronously
            if os.path.exists(ppm) and os.path.getsize(ppm) > 0:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        width, height, rgb = read_ppm(ppm)
        colours, share = screen_stats(width, height, rgb)
        # A drawn GTK page: antialiased text and icons give far more than
        # the 16 colours of a text console, over more than 1 % of the screen.
        if (colours >= 32 and share >= 0.01) or time.monotonic() > deadline:
            # ... and a little more time for the last frames.
            time.sleep(5)
            boot.screendump(ppm)
            time.sleep(1)
            width, height, rgb = read_ppm(ppm)
            colours, share = screen_stats(width, height, rgb)
            write_png(png, width, height, rgb)
            return colours, share, png
        time.sleep(5)


def main():
    t0 = time.monotonic()
    image = qemu.build_image(1, variant='gui')
    print(f'image: {image} ({time.monotonic() - t0:.0f} s)')
    workdir = os.path.join(qemu.OUT_DIR, 'test_setup_gui')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir)
    disk = qemu.Disk.overlay(os.path.join(workdir, 'disk.qcow2'), image, size='4G')
    ok = False
    try:
        print('boot 1: OEM first boot shows setup')
        start = time.monotonic()
        with m.boot([disk], name='setup', script=FIRST, display=True) as b:
            b.wait_for(r'IMPRINT-TEST: BEGIN', 900, label='multi-user.target')
            b.wait_for(r'IMPRINT-TEST: APP_STARTED', 600, label='setup app started')
            colours, share, png = wait_for_page(b, workdir)
            b.send('GO\n')
            m_end = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 900, label='script end')
            b.wait_exit(120)
            r = qemu.Result('setup', int(m_end.group(1)), b.markers(), b.log,
                            time.monotonic() - start, b.waits)
        r.print_markers()
        print(f'  screen: {colours} colours, {share:.1%} of it drawn on; {png}')
        v = r.marker_value
        check(v('PENDING_BEFORE') == 'true', 'setup pending on the first boot', r)
        check(v('SETUP_UNIT') == 'activating', f'imprint-setup.service running ({v("SETUP_UNIT")})', r)
        check((v('APP_CMDLINE') or '').split()[1:] == ['--setup', '--kiosk'],
              f'the app runs in setup mode ({v("APP_CMDLINE")})', r)
        check(v('APP_USER') == 'imprint-setup', f'as the setup account ({v("APP_USER")})', r)
        check(v('COMPOSITOR') == 'cage', 'inside the cage kiosk', r)
        session = (v('SESSION') or '').split(',')      # TTY, Class, Active
        check(len(session) == 3 and session[0] == 'tty7' and session[2] == 'yes',
              f'in an active logind session on tty7 ({v("SESSION")})', r)
        check(colours >= 32 and share >= 0.01,
              f'the screen shows a drawn page ({colours} colours, {share:.1%})', r)
        check(v('HOST_SAID') == 'GO' and v('APP_ALIVE') == 'yes', 'the app is still running', r)
        check(v('SETUP_RC') == '0', 'imprintctl setup finished', r)
        check(v('SETUP_COMPLETE') == 'yes', 'setup marked complete', r)
        r.check()

        print('boot 2: no setup again')
        r = m.run([qemu.Disk(disk.path)], SECOND, name='after-setup', timeout=1500,
                  expect=[('multi-user.target', r'IMPRINT-TEST: BEGIN', 900)])
        r.print_markers()
        v = r.marker_value
        check(v('SETUP_UNIT') != 'activating' and v('SETUP_UNIT') != 'active',
              f'imprint-setup.service did not start ({v("SETUP_UNIT")})', r)
        check(v('SETUP_CONDITION') == 'no', 'its condition failed: setup complete', r)
        check(v('APP_RUNNING') == 'no', 'no setup app', r)
        check(v('GETTY_TTY1') == 'active', 'the console login is on tty1', r)
        check(v('USER_KNOWN') == 'yes', 'carla is known to homed', r)
        check(v('HOSTNAME') == 'gui-1', 'the computer name stayed', r)
        r.check()
        ok = True
    finally:
        print(f'total {time.monotonic() - t0:.0f} s')
        qemu.drop_disks(workdir, ok, suffixes=('.qcow2', '.ppm'))
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)

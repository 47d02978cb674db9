#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test (vm-extra): the live handover when things go wrong mid-replace.

The root of the live session is btrfs on zram; the handover moves it onto
the installed disk with btrfs device replace (backend/engine/handover.h).
Whatever happens during the replace, the session's file system must stay
consistent on one side and nothing written to it may be lost.

  boot 1: the live stick and a blank disk. 700 MiB of random data go into
          the live root first (so the replace takes a while), then
          `imprintctl install --handover`; once the replace runs, imprintd
          is killed (SIGKILL). Afterwards: no replace left running, the root
          is on one device (the RAM device, or the disk if the kernel
          finished the replace), the data reads back with its checksum, a
          scrub finds no errors, the root takes new files.
  boot 2: the same, but the host pulls the target disk (QMP device_del)
          while the replace runs: the install reports the failure, the root
          stays in RAM, the data reads back, a scrub is clean, the root is
          writable.
Exit 77 (skip) when the host lacks the tools.
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from test_boot import check  # noqa: E402

COMMON = r'''
set -u
export SYSTEMD_PAGER=cat PAGER=cat
marker "LIVE_ROOT=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
head -c 700M /dev/urandom > /var/tmp/ballast
sum=$(sha256sum < /var/tmp/ballast)
sync
imprintctl --no-ask-password install --target /dev/vda --erase --tpm2 --handover \
    --recovery-key-file /run/recovery-key > /run/install.out 2>&1 &
install=$!
for _ in $(seq 1 9000); do
    btrfs replace status -1 / 2>/dev/null | grep -q '% done' && break
    kill -0 $install 2>/dev/null || break
    sleep 0.2
done
marker "REPLACING=$(btrfs replace status -1 / 2>/dev/null)"
'''

CHECKS = r'''
for _ in $(seq 1 300); do
    btrfs replace status -1 / 2>/dev/null | grep -q '% done' || break
    sleep 1
done
marker "REPLACE_STATUS=$(btrfs replace status -1 / 2>/dev/null | head -1)"
marker "ROOT_AFTER=$(findmnt -no FSTYPE,SOURCE / | tr -s ' ' ,)"
marker "ROOT_DEVICES=$(btrfs filesystem show / 2>/dev/null | grep -c 'devid')"
marker "BALLAST_OK=$([ "$(sha256sum < /var/tmp/ballast)" = "$sum" ] && echo yes || echo no)"
btrfs scrub start -B / > /run/scrub.out 2>&1
marker "SCRUB_RC=$?"
cat /run/scrub.out
echo alive > /var/tmp/alive && sync && marker "WRITABLE=$(cat /var/tmp/alive)"
marker "USR_READS=$(cat /usr/lib/os-release > /dev/null && echo yes || echo no)"
'''

KILL = COMMON + r'''
sleep 2
systemctl kill -s KILL imprintd.service
wait $install
marker "INSTALL_RC=$?"
cat /run/install.out | tail -5
''' + CHECKS

PULL = COMMON + r'''
marker "PULL_NOW"
wait $install
marker "INSTALL_RC=$?"
cat /run/install.out | tail -8
''' + CHECKS


def checks(r, pulled):
    v = r.marker_value
    check(v('LIVE_ROOT') == 'btrfs,/dev/zram0', f'live root in RAM ({v("LIVE_ROOT")})', r)
    check('% done' in (v('REPLACING') or ''), f'the replace was running ({v("REPLACING")})', r)
    check(v('ROOT_DEVICES') == '1', f'the root is on one device ({v("ROOT_DEVICES")})', r)
    if pulled:
        check(v('INSTALL_RC') != '0', f'the install reports the failure (rc {v("INSTALL_RC")})', r)
        check(v('ROOT_AFTER') == 'btrfs,/dev/zram0', f'the root stayed in RAM ({v("ROOT_AFTER")})', r)
    check(v('BALLAST_OK') == 'yes', 'the data written before reads back unchanged', r)
    check(v('SCRUB_RC') == '0', f'scrub finds no errors (rc {v("SCRUB_RC")})', r)
    check(v('WRITABLE') == 'alive', 'the root takes new files', r)
    check(v('USR_READS') == 'yes', '/usr still reads', r)
    r.check()


def main():
    t0 = time.monotonic()
    image = qemu.build_image(1, variant='live')
    workdir = os.path.join(qemu.OUT_DIR, 'test_live_handover_faults')
    shutil.rmtree(workdir, ignore_errors=True)
    m = qemu.Machine(workdir, memory=3072)
    ok = False
    try:
        for name, script, pulled in (('kill', KILL, False), ('pull', PULL, True)):
            print(f'boot {name}: the replace interrupted ({name})')
            stick = qemu.Disk.overlay(os.path.join(workdir, f'stick-{name}.qcow2'), image, interface='usb')
            target = qemu.Disk.blank(os.path.join(workdir, f'target-{name}.raw'), '8G')
            start = time.monotonic()
            with m.boot([stick, target], name=f'faults-{name}', script=script, display=True) as b:
                if pulled:
                    b.wait_for(r'IMPRINT-TEST: PULL_NOW', 3600, label='replace running')
                    b.qmp('device_del', id='vd1')
                m_end = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', 3600, label='script end')
                b.wait_exit(300)
                r = qemu.Result(f'faults-{name}', int(m_end.group(1)), b.markers(), b.log,
                                time.monotonic() - start, b.waits)
            r.print_markers()
            checks(r, pulled)
        ok = True
    finally:
        print(f'total {time.monotonic() - t0:.0f} s')
        qemu.drop_disks(workdir, ok, suffixes=('.qcow2', '.raw', '.ppm'))
    print('PASS')
    return 0


if __name__ == '__main__':
    qemu.test_main(main)

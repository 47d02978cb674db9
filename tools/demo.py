#!/usr/bin/python3
'''The demo behind tools/demo: Imprint's main job, installing an
image-based OS, on a safe default. imprintd runs on a private bus (not the
system bus); the source is a real signed verity image made by
tests/image/make-source-image; the target is an image file; the TPM is
swtpm. Nothing on this machine's own disks is touched.'''

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'lib'))
import imprinttest  # noqa: E402


def say(text):
    print(f'\n\033[1m== {text}\033[0m', flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def qemu_has_window():
    """QEMU's GTK window is a module of its own (Debian: qemu-system-gui)."""
    try:
        out = subprocess.run(['qemu-system-x86_64', '-display', 'help'], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return 'gtk' in out.split()


def live_vm():
    '''The real thing, by hand: the ImprintOS live image (built from Debian 13
    packages by tests/vm/build-image --variant live, cached) boots as a USB
    stick under QEMU + OVMF + swtpm with a blank 16 GiB disk beside it, into
    the installer: in a QEMU window when there is a display, else on this
    terminal's serial console.'''
    sys.path.insert(0, os.path.join(TOP, 'tests', 'vm'))
    import qemu  # noqa: E402
    missing = qemu.missing_tools()
    if missing:
        sys.exit(f'missing: {" ".join(missing)} (tools/install-deps.sh installs them)')
    qemu.install_signal_handlers()
    window = bool(os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY'))
    if window and not qemu_has_window():
        print('QEMU has no GTK window here (Debian: apt-get install qemu-system-gui): '
              'using the serial console.', flush=True)
        window = False
    say('Building (or reusing) the ImprintOS live image: a few minutes the first time')
    image = qemu.build_image(1, variant='live')
    work = os.path.join(qemu.OUT_DIR, 'demo-vm')
    shutil.rmtree(work, ignore_errors=True)
    m = qemu.Machine(work, memory=3072)  # the live root is in RAM (zram), beside the GUI
    stick = qemu.Disk.overlay(os.path.join(work, 'stick.qcow2'), image, interface='usb')
    target = qemu.Disk.blank(os.path.join(work, 'target.raw'), '16G')
    if window:
        say('Booting the live stick in a QEMU window (TCG: a few minutes to the installer)')
        print('The installer opens full screen in the window; the serial console\n'
              'stays on this terminal.', flush=True)
    else:
        say('Booting the live stick on this terminal\'s serial console (no display: no window)')
        print('Log in as root with the password "imprint", then for example:\n'
              '  imprintctl list-disks\n'
              '  imprintctl install --target /dev/vda --erase --tpm2 --dry-run\n'
              '  imprintctl install --target /dev/vda --erase --tpm2\n'
              '  poweroff', flush=True)
    print('Ctrl-A X on this terminal quits QEMU at any time. The target disk stays\n'
          f'in {target.path}; the TPM state in {m.tpm_dir}.', flush=True)
    # The live command line comes from the stick's own signed UKI add-on.
    # The root password is a system credential that systemd-sysusers reads
    # when it creates root on the empty /etc of the live root. A window: the
    # VGA card of display=True, shown by GTK (QEMU takes the last -display
    # given, so this one replaces Boot's "-display none"), and a USB tablet
    # so the pointer follows the host's without a grab.
    gui = ['-display', 'gtk', '-device', 'usb-tablet,bus=xhci.0'] if window else []
    b = m.boot([stick, target], name='demo-vm', interactive=True, display=window, extra_args=gui,
               credentials={'passwd.plaintext-password.root': 'imprint'})
    with b:
        b.proc.wait()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    gui = '--gui' in sys.argv
    if '--vm' in sys.argv:
        live_vm()
        return
    build = os.path.abspath(args[0] if args else 'build-demo')
    os.environ['IMPRINTD'] = os.path.join(build, 'backend', 'daemon', 'imprintd')
    os.environ['IMPRINTCTL'] = os.path.join(build, 'backend', 'ctl', 'imprintctl')
    work = tempfile.mkdtemp(prefix='imprint-demo-')
    source = os.path.join(work, 'ImprintOS_1.raw')
    target = os.path.join(work, 'disk.img')
    procs = []

    try:
        say('Building a small image-based OS to install (ESP, verity-signed /usr, version label)')
        subprocess.run([os.path.join(TOP, 'tests', 'image', 'make-source-image'), source], check=True)
        with open(target, 'wb') as f:
            f.truncate(1024 ** 3)

        port = free_port()
        tpmdir = os.path.join(work, 'tpm')
        os.makedirs(tpmdir)
        procs.append(subprocess.Popen(['swtpm', 'socket', '--tpm2',
                                       '--server', f'type=tcp,port={port},bindaddr=127.0.0.1',
                                       '--ctrl', f'type=tcp,port={port + 1},bindaddr=127.0.0.1',
                                       '--flags', 'not-need-init,startup-clear', '--tpmstate', f'dir={tpmdir}']))
        time.sleep(0.5)

        # As root, imprintd needs no polkit: nothing else is asked.
        bus = imprinttest.TestBus(start_polkit=False)
        ctl = [os.environ['IMPRINTCTL']]

        tcti = f'swtpm:host=127.0.0.1,port={port}'
        definitions = os.path.join(TOP, 'tests', 'engine', 'repart.d')
        if gui:
            # The installer itself, on this display, over the same private
            # bus: pick the image file as the disk and install onto it.
            say('The installer: choose "disk.img" on the disk page')
            subprocess.run([os.path.join(build, 'app', 'imprint'), '--source', source,
                            '--target-image', target, '--tpm2-device', tcti,
                            '--definitions', definitions], env=bus.env)
            bus.stop()
            return

        say(f'imprintctl inspect {source}')
        subprocess.run(ctl + ['inspect', source], env=bus.env)
        say('imprintctl security --tpm2-device=swtpm (the TPM2 is a software TPM here)')
        subprocess.run(ctl + ['security', f'--tpm2-device=swtpm:host=127.0.0.1,port={port}'], env=bus.env)
        say(f'imprintctl install --dry-run: the plan for {target} (1 GiB image file)')
        common = ['--source', source, '--target', target, '--erase',
                  '--definitions', os.path.join(TOP, 'tests', 'engine', 'repart.d'), '--no-boot-entry']
        subprocess.run(ctl + ['install', '--dry-run'] + common, env=bus.env)
        say('imprintctl install --tpm2: copy, verify, encrypt, enroll')
        r = subprocess.run(ctl + ['install', '--tpm2', f'--tpm2-device=swtpm:host=127.0.0.1,port={port}'] + common,
                           env=bus.env)
        if r.returncode != 0:
            sys.exit(r.returncode)

        say('The result: the partition table of the installed disk')
        subprocess.run(['sfdisk', '--list', target])
        bus.stop()
        print(f'\nThe installed disk image is {target} (removed when the demo ends).')
        print('The VM suite (meson test --suite vm) boots such a disk under QEMU + OVMF + swtpm.')
    finally:
        for p in procs:
            p.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

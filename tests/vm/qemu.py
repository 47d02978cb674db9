#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Boot ImprintOS disk images under QEMU (TCG) + OVMF + swtpm for the VM tests.

Stdlib only. Used as a module by the tests and as a CLI (see --help).

    import qemu
    m = qemu.Machine('out/test_boot/machine')          # firmware vars + TPM, kept between boots
    disk = qemu.Disk.overlay('out/test_boot/disk.qcow2', image, size='8G')
    r = m.run([disk], script='marker hello; findmnt /', timeout=900, name='boot1')
    r.check()                                          # raises with the log path unless rc == 0
    print(r.marker_value('ROOT'))

A test script runs in the guest as root once multi-user.target is reached
(imprint-test.service, fed through the SMBIOS credential "imprint.test"); its
output goes to the serial console; lines "IMPRINT-TEST: TEXT" (or `marker TEXT`
in the script) are markers. The guest powers off when the script ends.

Every process started here (qemu, swtpm) dies with the Python process, even
when that process is killed: they get PR_SET_PDEATHSIG and are killed in
finally blocks.
"""

import argparse
import base64
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.environ.get('IMPRINT_VM_OUT', os.path.join(HERE, 'out'))

OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd'
OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd'
# Secure Boot: OVMF's secure-boot build (SMM) with a variable store in which
# the test-only key (tests/vm/keys/secureboot-test-only.crt, which signs the
# image) is PK, KEK and db: `build-image --ovmf-vars` makes it.
OVMF_CODE_SB = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd'
ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'

MARKER = 'IMPRINT-TEST: '
# Console lines after which a boot cannot reach the test script: waits fail
# at once instead of running into their timeout.
FATAL_PATTERNS = (
    r'Kernel panic - not syncing',
    r'You are in emergency mode',
    r'Entering emergency mode',
    r'Cannot open access to console, the root account is locked',
    r'Give root password for maintenance',
    r'Freezing execution',
)
# The kernel's oops line for a trap on an int3 it did not place (a code
# patch seen half done): "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI" (6.x),
# "int3: 0000 [#1] SMP" (older).
INT3_OOPS = re.compile(r'\bint3: [0-9a-f]{4} \[#\d+\]')
# Characters Boot.type() can type besides letters and digits (US layout).
QCODES = {' ': 'spc', '-': 'minus', '.': 'dot', ',': 'comma', '_': 'shift-minus',
          '@': 'shift-2', '!': 'shift-1', '/': 'slash', ':': 'shift-semicolon'}
# Terminal control sequences (CSI, OSC, charset selection) that systemd and
# agetty write to the console.
ANSI_RE = re.compile(r'\x1b\[[0-9;?!>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78cM]')


class VMError(Exception):
    """A VM did not do what was expected; `log` is the console log path."""

    def __init__(self, message, log=None):
        super().__init__(f'{message} (console log: {log})' if log else message)
        self.log = log


class VMTimeout(VMError):
    pass


class VMExited(VMError):
    pass


def missing_tools():
    """Names of what the VM tests need and this host lacks."""
    missing = []
    for tool, package in (('qemu-system-x86_64', 'qemu-system-x86'), ('qemu-img', 'qemu-utils'),
                          ('swtpm', 'swtpm'), ('swtpm_setup', 'swtpm-tools'),
                          ('mmdebstrap', 'mmdebstrap')):
        if not shutil.which(tool):
            missing.append(package)
    if not all(os.path.exists(f) for f in (OVMF_CODE, OVMF_VARS, OVMF_CODE_SB)):
        missing.append('ovmf')
    return missing


def _die_with_parent():
    # Runs in the child between fork and exec: get SIGKILL when the test dies.
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kill(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def install_signal_handlers():
    """Turn SIGTERM/SIGHUP (meson's timeout, CI cancel) into SystemExit so
    that finally blocks run and kill the VM."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def parse_size(size):
    """'8G', '512M', 1024 -> bytes."""
    if isinstance(size, int):
        return size
    m = re.fullmatch(r'(\d+)([KMGT]?)i?B?', str(size).strip(), re.I)
    if not m:
        raise ValueError(f'bad size {size!r}')
    return int(m.group(1)) * 1024 ** ' KMGT'.index((m.group(2) or ' ').upper())


class Disk:
    """A disk attached to the VM. interface: 'virtio' (default) or 'usb'
    (usb-storage on xhci, removable: what a live stick looks like)."""

    def __init__(self, path, fmt=None, interface='virtio', serial=None, readonly=False):
        self.path = os.path.abspath(path)
        self.format = fmt or ('qcow2' if path.endswith('.qcow2') else 'raw')
        self.interface = interface
        self.serial = serial
        self.readonly = readonly

    @classmethod
    def blank(cls, path, size, **kw):
        """A new sparse, all-zero raw disk."""
        if os.path.exists(path):
            os.unlink(path)
        with open(path, 'wb') as f:
            f.truncate(parse_size(size))
        return cls(path, 'raw', **kw)

    @classmethod
    def overlay(cls, path, backing, size=None, **kw):
        """A qcow2 copy-on-write disk over `backing` (left untouched), grown to
        `size` when given: instant, whatever the image size."""
        if os.path.exists(path):
            os.unlink(path)
        cmd = ['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw',
               '-b', os.path.abspath(backing), path]
        if size is not None:
            cmd.append(str(parse_size(size)))
        subprocess.run(cmd, check=True)
        return cls(path, 'qcow2', **kw)

    @classmethod
    def copy(cls, path, source, size=None, **kw):
        """A sparse raw copy of `source` (e.g. to hand the guest a raw image file)."""
        subprocess.run(['cp', '--sparse=always', source, path], check=True)
        if size is not None and parse_size(size) > os.path.getsize(path):
            with open(path, 'r+b') as f:
                f.truncate(parse_size(size))
        return cls(path, 'raw', **kw)

    @classmethod
    def stick(cls, path, image, addons=(), **kw):
        """A live USB stick: a sparse raw copy of `image` with signed UKI
        add-ons (`addon()`) in its ESP's loader/addons/. Under Secure Boot this
        is how a boot gets a command line of its own (systemd-stub ignores the
        SMBIOS one there)."""
        kw.setdefault('interface', 'usb')
        d = cls.copy(path, image, **kw)
        for a in addons:
            esp_put(d.path, a, f'loader/addons/{os.path.basename(a)}')
        return d

    def qemu_args(self, index, bootindex=None):
        drive = f'if=none,id=disk{index},file={self.path},format={self.format},cache=unsafe,discard=unmap'
        if self.readonly:
            drive += ',readonly=on'
        args = ['-drive', drive]
        serial = self.serial or f'disk{index}'
        boot = f',bootindex={bootindex}' if bootindex is not None else ''
        if self.interface == 'virtio':
            args += ['-device', f'virtio-blk-pci,drive=disk{index},serial={serial},id=vd{index}{boot}']
        elif self.interface == 'usb':
            # id=usbN: a test pulls the stick with QMP device_del usbN.
            args += ['-device', f'usb-storage,bus=xhci.0,drive=disk{index},removable=on,serial={serial},'
                     f'id=usb{index}{boot}']
        else:
            raise ValueError(f'unknown disk interface {self.interface}')
        return args


def _esp_spec(path):
    """mtools' image@@offset for the ESP of the raw disk image at `path`."""
    table = json.loads(subprocess.run(['sfdisk', '--json', path], check=True, stdout=subprocess.PIPE,
                                      text=True).stdout)['partitiontable']
    sector = table.get('sectorsize', 512)
    for part in table.get('partitions', []):
        if part.get('type', '').upper() == ESP_TYPE:
            return f'{path}@@{part["start"] * sector}'
    raise VMError(f'no ESP on {path}')


def esp_put(path, src, dest):
    """Copy the file `src` to `dest` (e.g. 'EFI/Linux/x.efi') in the ESP of
    the raw disk image `path`, making directories on the way."""
    spec = _esp_spec(path)
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    parts = dest.strip('/').split('/')
    for i in range(1, len(parts)):
        subprocess.run(['mmd', '-i', spec, '::/' + '/'.join(parts[:i])], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(['mcopy', '-o', '-i', spec, src, '::/' + '/'.join(parts)], env=env, check=True)


def esp_get(path, src, dest):
    """Copy `src` out of the ESP of the raw disk image `path` to the file `dest`."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    subprocess.run(['mcopy', '-o', '-i', _esp_spec(path), '::/' + src.strip('/'), dest], env=env, check=True)


def esp_list(path, directory):
    """File names in `directory` of the ESP of the raw disk image `path`."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    out = subprocess.run(['mdir', '-b', '-i', _esp_spec(path), '::/' + directory.strip('/')], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return [os.path.basename(l.rstrip('/')) for l in out.split()]


def esp_delete(path, name):
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    subprocess.run(['mdel', '-i', _esp_spec(path), '::/' + name.strip('/')], env=env, check=True)


class SWTPM:
    """A software TPM 2.0 whose state lives in `state_dir` (kept between boots:
    same endorsement key, same sealed secrets)."""

    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)
        self.sock = os.path.join(self.state_dir, 'sock')
        self.proc = None

    def setup(self):
        os.makedirs(self.state_dir, exist_ok=True)
        if os.path.exists(os.path.join(self.state_dir, 'tpm2-00.permall')):
            return
        subprocess.run(['swtpm_setup', '--tpm2', '--tpmstate', self.state_dir,
                        '--create-ek-cert', '--create-platform-cert', '--overwrite'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self.setup()
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(
            ['swtpm', 'socket', '--tpm2', '--tpmstate', f'dir={self.state_dir}',
             '--ctrl', f'type=unixio,path={self.sock}',
             '--log', f'file={os.path.join(self.state_dir, "swtpm.log")},level=1'],
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise VMError(f'swtpm exited with {self.proc.returncode}')
            if time.monotonic() > deadline:
                raise VMError('swtpm did not create its socket')
            time.sleep(0.05)

    def stop(self):
        _kill(self.proc)
        self.proc = None

    def qemu_args(self):
        return ['-chardev', f'socket,id=chrtpm,path={self.sock}',
                '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
                '-device', 'tpm-crb,tpmdev=tpm0']


class Marker:
    def __init__(self, text, elapsed):
        self.text = text
        self.elapsed = elapsed  # seconds since QEMU started

    def __repr__(self):
        return f'Marker({self.text!r} at {self.elapsed:.1f}s)'


class Result:
    """What a finished boot left: exit status, markers, the console log."""

    def __init__(self, name, rc, markers, log, duration, waits):
        self.name = name
        self.rc = rc                  # rc of the guest script (END rc=), None if it never ended
        self.markers = markers        # [Marker]
        self.log = log                # console log path
        self.duration = duration      # QEMU wall time, seconds
        self.waits = waits            # [(label, seconds since start)] of matched waits

    def texts(self):
        return [m.text for m in self.markers]

    def has(self, text):
        return any(m.text == text for m in self.markers)

    def marker_value(self, key):
        """Value of the last marker "KEY=value" (None when absent)."""
        value = None
        for m in self.markers:
            if m.text.startswith(key + '='):
                value = m.text[len(key) + 1:]
        return value

    def elapsed(self, text_prefix):
        for m in self.markers:
            if m.text.startswith(text_prefix):
                return m.elapsed
        return None

    def check(self):
        if self.rc != 0:
            raise VMError(f'{self.name}: guest script ended with rc={self.rc}', self.log)
        return self

    def console(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def print_markers(self, width=None):
        """The markers with their times, as the tests print them."""
        for mk in self.markers:
            print(f'  {mk.elapsed:7.1f}s  {mk.text[:width] if width else mk.text}')


class Boot:
    """A running VM. Reads the serial console into `log` (a file) and lets the
    caller wait for patterns and type text. Use as a context manager: QEMU and
    swtpm are always killed on exit."""

    def __init__(self, machine, disks, name, credentials=None, cmdline_extra=None,
                 memory=None, extra_args=None, interactive=False, display=False):
        self.machine = machine
        self.name = name
        self.disks = disks
        self.log = os.path.join(machine.dir, f'{name}.log')
        # display: a VGA card (bochs-drm in the guest) whose screen
        # screendump() saves, through a QMP socket.
        self.qmp_path = os.path.join(machine.dir, f'{name}.qmp') if display else None
        self.tpm = SWTPM(machine.tpm_dir) if machine.tpm else None
        self.proc = None
        self.interactive = interactive
        self._lines = []          # [(monotonic time, cleaned line)]
        self._partial = ''
        self._cursor = 0          # index into _lines where the next wait starts
        self._cond = threading.Condition()
        self._reader = None
        self._eof = False
        self.waits = []
        self.early_crashes = 0    # restarts after an emulator fault (see _early_crash)
        self.driven = False       # the test typed something into this boot
        self.fatal = [re.compile(p) for p in FATAL_PATTERNS]
        self.start_time = None
        self.args = self._qemu_args(credentials or {}, cmdline_extra, memory, extra_args or [])

    def _qemu_args(self, credentials, cmdline_extra, memory, extra_args):
        m = self.machine
        args = ['qemu-system-x86_64',
                '-machine', 'q35,smm=on' if m.secure_boot else 'q35',
                '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', str(m.smp),
                '-m', str(memory or m.memory),
                '-nodefaults', '-no-user-config', '-display', 'none',
                '-nic', 'none',
                '-device', 'virtio-rng-pci',
                '-device', 'qemu-xhci,id=xhci']
        if m.secure_boot:
            args += ['-global', 'driver=cfi.pflash01,property=secure,value=on']
        args += ['-drive', f'if=pflash,format=raw,unit=0,readonly=on,file={m.ovmf_code}',
                 '-drive', f'if=pflash,format=raw,unit=1,file={m.vars}']
        if self.interactive:
            args += ['-serial', 'mon:stdio']
        else:
            args += ['-serial', 'stdio', '-monitor', 'none']
        if self.tpm:
            args += self.tpm.qemu_args()
        if self.qmp_path:
            args += ['-device', 'VGA,xres=1280,yres=800',
                     '-qmp', f'unix:{self.qmp_path},server=on,wait=off']
        for i, disk in enumerate(self.disks):
            args += disk.qemu_args(i, bootindex=i + 1)
        for name, value in credentials.items():
            if isinstance(value, str):
                value = value.encode()
            b64 = base64.b64encode(value).decode()
            args += ['-smbios', f'type=11,value=io.systemd.credential.binary:{name}={b64}']
        if cmdline_extra:
            if m.secure_boot:
                raise ValueError('an SMBIOS command line is ignored under Secure Boot: use a signed '
                                 'add-on (qemu.addon(), Disk.stick())')
            # Honoured by systemd-stub when Secure Boot is off.
            value = cmdline_extra.replace(',', ',,')
            args += ['-smbios', f'type=11,value=io.systemd.stub.kernel-cmdline-extra={value}']
        return args + list(extra_args)

    # -- lifecycle -------------------------------------------------------------
    def start(self):
        os.makedirs(self.machine.dir, exist_ok=True)
        if self.tpm:
            self.tpm.start()
        with open(os.path.join(self.machine.dir, f'{self.name}.cmdline'), 'w') as f:
            f.write(' '.join(self.args) + '\n')
        self.start_time = time.monotonic()
        if self.interactive:
            self.proc = subprocess.Popen(self.args, preexec_fn=_die_with_parent)
            return self
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        with open(self.log, 'wb') as logf:
            fd = self.proc.stdout.fileno()
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b''
                if not data:
                    break
                logf.write(data)
                logf.flush()
                text = self._partial + data.decode('utf-8', 'replace')
                parts = text.split('\n')
                self._partial = parts.pop()
                now = time.monotonic()
                with self._cond:
                    for p in parts:
                        self._lines.append((now, ANSI_RE.sub('', p).replace('\r', '')))
                    self._cond.notify_all()
        with self._cond:
            if self._partial:
                self._lines.append((time.monotonic(), ANSI_RE.sub('', self._partial).replace('\r', '')))
            self._eof = True
            self._cond.notify_all()

    def stop(self):
        _kill(self.proc, grace=3)
        if self._reader:
            self._reader.join(10)
        if self.tpm:
            self.tpm.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- console ---------------------------------------------------------------
    def elapsed(self):
        return time.monotonic() - self.start_time

    def wait_for(self, pattern, timeout, label=None, fatal=True):
        """Wait for a console line matching `pattern` (regex, searched) after
        the previous match. Returns the re.Match. Raises VMTimeout or VMExited,
        or VMError at once on a FATAL_PATTERNS line (unless fatal=False).
        A kernel crash before init is not an error: see _early_crash()."""
        regex = re.compile(pattern)
        while True:
            crash = self._wait_for(regex, pattern, timeout, label, fatal)
            if isinstance(crash, re.Match):
                return crash
            self._restart_after_early_crash(crash)

    def _wait_for(self, regex, pattern, timeout, label, fatal):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                while self._cursor < len(self._lines):
                    t, line = self._lines[self._cursor]
                    self._cursor += 1
                    m = regex.search(line)
                    if m:
                        self.waits.append((label or pattern, t - self.start_time))
                        return m
                    if fatal and any(f.search(line) for f in self.fatal):
                        if self._early_crash(line):
                            return line
                        raise VMError(f'{self.name}: {line.strip()!r} while waiting for {pattern!r}', self.log)
                if self._eof:
                    raise VMExited(f'{self.name}: QEMU exited (rc={self.proc.poll()}) before {pattern!r}', self.log)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VMTimeout(f'{self.name}: no {pattern!r} within {timeout}s', self.log)
                self._cond.wait(min(left, 1.0))

    def _early_crash(self, line):
        """True when `line` is a kernel panic that booting again answers.
        Under TCG with a thread per vCPU, the guest kernel now and then takes
        an "Oops: int3" while it patches its own code (static keys and jump
        labels: the int3 the patch puts in is seen by another vCPU before the
        patch is published; the oops RIP then points one byte into the patched
        instruction). It is an emulator fault, seen on CI and here, at
        "sched_clock: Marking stable" before init and once in dm's
        clone_endio 20 s into a boot. Booting again is answered:
        - before the kernel started init: nothing of the image has run;
        - or after an int3 oops, before the test's script said anything and
          before the test typed anything: what ran is the system's own boot,
          which has to survive a power cut at that point anyway.
        Only while the kernel's own messages show (not with "quiet"), and at
        most twice per boot; any other panic fails the test."""
        if 'Kernel panic' not in line or self.early_crashes >= 2:
            return False
        seen = [text for _, text in self._lines[:self._cursor]]
        if not any('Linux version' in text for text in seen):
            return False
        if not any('as init process' in text for text in seen):
            return True
        return (not self.driven and
                any(INT3_OOPS.search(text) for text in seen) and
                not any(MARKER in text for text in seen))

    def _restart_after_early_crash(self, line):
        self.early_crashes += 1
        kept = os.path.join(self.machine.dir, f'{self.name}.early-crash-{self.early_crashes}.log')
        print(f'  {self.name}: the guest kernel crashed ({line.strip()}) before the '
              f'test began, an emulator fault (see Boot._early_crash); booting '
              f'again (console: {kept})')
        self.stop()
        os.replace(self.log, kept)
        self.waits.append((f'emulator fault, boot {self.early_crashes + 1}', self.elapsed()))
        self._lines = []
        self._partial = ''
        self._cursor = 0
        self._eof = False
        self.start()

    def qmp(self, name, **arguments):
        """One QMP command on the display's socket (needs display=True);
        returns its "return"."""
        if not self.qmp_path:
            raise VMError(f'{self.name}: no QMP socket (display=False)')
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(self.qmp_path)
            stream = sock.makefile('rw')

            def command(cmd, **args):
                stream.write(json.dumps({'execute': cmd, 'arguments': args}) + '\n')
                stream.flush()
                while True:
                    reply = json.loads(stream.readline())
                    if 'return' in reply:
                        return reply['return']
                    if 'error' in reply:
                        raise VMError(f'{self.name}: QMP {cmd}: {reply["error"].get("desc")}')
                    # events (and the greeting) are skipped

            json.loads(stream.readline())          # greeting
            command('qmp_capabilities')
            return command(name, **arguments)

    def screendump(self, path):
        """Save the VGA screen as PPM (P6) at `path` (needs display=True)."""
        if os.path.exists(path):
            os.unlink(path)
        self.qmp('screendump', filename=os.path.abspath(path))
        return path

    def key(self, combo):
        """Press one key combination on the VM's keyboard, as a person
        would: "tab", "ret", "spc", "alt-right", "shift-tab" (QEMU qcodes
        joined by "-")."""
        self.driven = True
        keys = [{'type': 'qcode', 'data': k} for k in combo.split('-')]
        self.qmp('send-key', keys=keys, **{'hold-time': 60})
        time.sleep(0.15)

    def type(self, text):
        """Type `text` on the VM's keyboard (US layout: letters, digits,
        space and the few punctuation marks in QCODES)."""
        for ch in text:
            if ch.isalpha() and ch.isascii():
                self.key(f'shift-{ch.lower()}' if ch.isupper() else ch)
            elif ch.isdigit():
                self.key(ch)
            elif ch in QCODES:
                self.key(QCODES[ch])
            else:
                raise VMError(f'{self.name}: cannot type {ch!r}')

    def send(self, text):
        """Type `text` on the serial console (e.g. a passphrase plus '\\n')."""
        self.driven = True
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_exit(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise VMTimeout(f'{self.name}: QEMU still running after {timeout}s', self.log) from None
        if self._reader:
            self._reader.join(10)
        return rc

    def lines(self):
        with self._cond:
            return [line for _, line in self._lines]

    def markers(self):
        with self._cond:
            return [Marker(line.split(MARKER, 1)[1].strip(), t - self.start_time)
                    for t, line in self._lines if MARKER in line]


class Machine:
    """A virtual machine's persistent identity in `dir`: its UEFI variables
    (a copy of OVMF's) and its TPM state. Boots of the same Machine see the same
    TPM (sealed keys unlock); `reset_tpm()` gives it a new one."""

    def __init__(self, dir, secure_boot=True, tpm=True, memory=2048, smp=2):
        self.dir = os.path.abspath(dir)
        self.secure_boot = secure_boot
        self.tpm = tpm
        self.memory = memory
        self.smp = smp
        self.tpm_dir = os.path.join(self.dir, 'tpm')
        self.vars = os.path.join(self.dir, 'OVMF_VARS.fd')
        self.ovmf_code = OVMF_CODE_SB if secure_boot else OVMF_CODE
        os.makedirs(self.dir, exist_ok=True)
        if not os.path.exists(self.vars):
            shutil.copyfile(ovmf_vars() if secure_boot else OVMF_VARS, self.vars)

    def enroll_db(self, cert):
        """A firmware key update: the test key plus `cert` (PEM) in db, so
        PCR 7 changes. Other variables start over (OVMF finds the disks again)."""
        shutil.copyfile(ovmf_vars(extra_db=cert), self.vars)

    def reset_tpm(self):
        shutil.rmtree(self.tpm_dir, ignore_errors=True)

    def boot(self, disks, name='boot', script=None, credentials=None, **kw):
        """A Boot (not yet started; use `with m.boot(...) as b:`)."""
        creds = dict(credentials or {})
        if script is not None:
            creds['imprint.test'] = script
        return Boot(self, disks, name, credentials=creds, **kw)

    def run(self, disks, script, name='boot', timeout=900, expect=None, **kw):
        """Boot `disks` (the first one boots), run `script` in the guest after
        multi-user.target, wait for the guest to power off. `expect` is a list
        of (label, regex, timeout) console waits done in order on the way (for
        stage timings). Returns a Result; raises VMError/VMTimeout on a hang or
        when QEMU dies before the script ended."""
        start = time.monotonic()
        with self.boot(disks, name=name, script=script, **kw) as b:
            for label, pattern, t in expect or ():
                b.wait_for(pattern, t, label=label)
            left = max(1, timeout - (time.monotonic() - start))
            m = b.wait_for(r'IMPRINT-TEST: END rc=(\d+)', left, label='script end')
            rc = int(m.group(1))
            b.wait_exit(120)
            return Result(name, rc, b.markers(), b.log, time.monotonic() - start, b.waits)


def skip_reason():
    """Why the VM tests cannot run here (None: they can)."""
    missing = missing_tools()
    if missing:
        return f'missing {" ".join(missing)} (tools/install-deps.sh installs them)'
    if os.geteuid() != 0:
        return 'the VM tests build the image as root'
    return None


def drop_disks(workdir, ok, suffixes=('.qcow2',)):
    """After a test: on success the disks go (console logs stay); on failure
    everything is kept for a look."""
    if not ok:
        print(f'artifacts kept in {workdir}')
        return
    for f in os.listdir(workdir):
        if f.endswith(suffixes):
            os.unlink(os.path.join(workdir, f))


def test_main(main):
    """Runs a VM test's main() and exits with its return code: 77 (skip,
    saying why) where the VM tests cannot run, 1 on a VMError. SIGTERM and
    SIGHUP end it through finally blocks, which kill the VM."""
    # One ordered stream: meson shows a failed test's stdout and then its
    # stderr, cut to the last 100 lines, so the image build's chatter on
    # stderr would hide the reason. With both on stdout the reason comes last.
    sys.stdout.flush()
    os.dup2(sys.stdout.fileno(), sys.stderr.fileno())
    sys.stdout.reconfigure(line_buffering=True)
    install_signal_handlers()
    reason = skip_reason()
    if reason:
        print(f'SKIP: {reason}')
        sys.exit(77)
    try:
        sys.exit(main())
    except VMError as e:
        print_log_tail(e.log)
        print(f'FAIL: {e}')
        sys.exit(1)


def print_log_tail(path, lines=40):
    """The end of a console (or build) log, for whoever sees only this
    test's output (CI keeps no artifacts)."""
    if not path or not os.path.exists(path):
        return
    with open(path, 'rb') as f:
        tail = f.read().decode('utf-8', 'replace').splitlines()[-lines:]
    print(f'--- last {len(tail)} lines of {path} ---')
    for line in tail:
        print(f'| {line}')
    print('---')


def _build_image_print(args):
    out = subprocess.run([os.path.join(HERE, 'build-image')] + args, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise VMError(f'build-image {" ".join(args)} failed (rc {out.returncode})')
    return out.stdout.strip().splitlines()[-1]


def tools_run(args, files=(), outputs=()):
    """Run `args` in build-image's Debian 13 tools chroot (ukify, sbsign,
    systemd-measure of systemd 257). `files` are host paths copied in first:
    `{}` in args stands for the chroot's scratch directory, where they land
    under their base names; `outputs` are base names copied back out, to
    the host directory of the first file (returned as host paths)."""
    tools = _build_image_print(['--tools-only', '--print-tools'])
    work = tempfile.mkdtemp(prefix='imprint-test.', dir=os.path.join(tools, 'tmp'))
    inner = '/tmp/' + os.path.basename(work)
    try:
        for f in files:
            shutil.copyfile(f, os.path.join(work, os.path.basename(f)))
        cmd = ['chroot', tools, '/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin'] + \
              [a.replace('{}', inner) for a in args]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if out.returncode != 0:
            raise VMError(f'{" ".join(args)} failed in the tools chroot (rc {out.returncode}):\n{out.stdout}')
        dest = os.path.dirname(os.path.abspath(files[0])) if files else OUT_DIR
        result = []
        for name in outputs:
            shutil.copyfile(os.path.join(work, name), os.path.join(dest, name))
            result.append(os.path.join(dest, name))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ovmf_vars(extra_db=None):
    """OVMF variables with the test Secure Boot key enrolled (cached)."""
    return _build_image_print(['--ovmf-vars'] + (['--extra-db', extra_db] if extra_db else []))


def addon(cmdline):
    """A UKI add-on with the kernel command line `cmdline`, signed with the
    test Secure Boot key (cached)."""
    return _build_image_print(['--addon', cmdline])


def build_image(version=1, variant=None):
    """Run build-image (cached) and return the image path. variant='gui':
    the image with Imprint's GTK app and the first-boot setup kiosk."""
    args = [os.path.join(HERE, 'build-image'), '--version', str(version)]
    if variant:
        args += ['--variant', variant]
    out = subprocess.run(args, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise VMError(f'{" ".join(args[1:])} failed (rc {out.returncode})',
                      os.path.join(os.environ.get('IMPRINT_VM_CACHE', os.path.join(HERE, 'cache')),
                                   'mkosi', 'last-build.log'))
    return out.stdout.strip().splitlines()[-1]


def _main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--machine', default=os.path.join(OUT_DIR, 'cli'),
                   help='machine directory (UEFI vars + TPM state, console logs)')
    p.add_argument('--image', help='ImprintOS image to boot (default: build-image --version 1)')
    p.add_argument('--version', default='1', help='image version to build when --image is not given')
    p.add_argument('--size', default='8G', help='size of the boot disk (a qcow2 overlay of the image)')
    p.add_argument('--usb', action='store_true', help='attach the image as a USB stick')
    p.add_argument('--blank', action='append', default=[], metavar='SIZE',
                   help='add a blank virtio disk of SIZE (repeatable)')
    p.add_argument('--script', help='guest test script (file) to run after boot')
    p.add_argument('--fresh', action='store_true', help='new TPM state and disks')
    p.add_argument('--cmdline', help='extra kernel command line (systemd-stub SMBIOS; needs --no-secure-boot)')
    p.add_argument('--no-secure-boot', dest='secure_boot', action='store_false',
                   help='OVMF without Secure Boot (default: on, the test key enrolled)')
    p.add_argument('--timeout', type=int, default=900)
    p.add_argument('--interactive', action='store_true',
                   help='console on this terminal (Ctrl-A X quits QEMU)')
    args = p.parse_args()

    install_signal_handlers()
    missing = missing_tools()
    if missing:
        sys.exit(f'missing: {" ".join(missing)} (run tools/install-deps.sh)')
    image = args.image or build_image(args.version)
    m = Machine(args.machine, secure_boot=args.secure_boot)
    if args.fresh:
        m.reset_tpm()
    boot_disk = os.path.join(m.dir, 'disk0.qcow2')
    if args.fresh or not os.path.exists(boot_disk):
        Disk.overlay(boot_disk, image, size=args.size)
    disks = [Disk(boot_disk, interface='usb' if args.usb else 'virtio')]
    for i, size in enumerate(args.blank, 1):
        path = os.path.join(m.dir, f'disk{i}.raw')
        disks.append(Disk.blank(path, size) if args.fresh or not os.path.exists(path) else Disk(path))
    if args.interactive:
        b = m.boot(disks, name='interactive', interactive=True, cmdline_extra=args.cmdline)
        with b:
            b.proc.wait()
        return 0
    script = open(args.script).read() if args.script else 'true'
    r = m.run(disks, script, name='cli', timeout=args.timeout, cmdline_extra=args.cmdline)
    for mk in r.markers:
        print(f'{mk.elapsed:7.1f}s  {mk.text}')
    print(f'console log: {r.log}')
    return 0 if r.rc == 0 else 1


if __name__ == '__main__':
    sys.exit(_main())

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Disk layouts for tests: image files with real partition tables and
filesystems, optionally attached to loop devices. Standard library only;
works with any Python 3.9+ (both the pyenv python3 and /usr/bin/python3).

    from layouts import Layout, LAYOUTS, missing_tools

    with Layout("gpt-windows", sector_size=4096, loop=True) as disk:
        disk.path            # the image file
        disk.node            # "/dev/loopN" (None without loop=True)
        disk.partition_node(3)   # "/dev/loopNp3" (loop only)
        disk.table           # "gpt" / "dos" / ""
        disk.partitions      # [Part(number, start, size, type, name, fs, label, uuid, fs_uuid), ...] in bytes
        disk.free            # [(start, size), ...] 1 MiB-aligned unpartitioned regions >= 1 MiB
        disk.contents        # expected whole-disk words, e.g. "Windows"
        disk.expected()      # the ListDisks keys this layout determines
        disk.mismatches(d)   # [] when ListDisks dict d (parsed JSON) matches
        with disk.mount(3) as mountpoint:   # loop only, mountable filesystems (ext4)
            ...
    # everything detached and deleted here, also after an exception

Tables are written by sfdisk (through a temporary loop device when the
sector size is not 512, since sfdisk cannot set it on a file); filesystems
are made by mkfs.vfat, mkntfs, mkfs.ext4, mkswap and cryptsetup in separate
files and copied into the image. BitLocker has no Linux tool: its header is
written by hand (what blkid checks, nothing more).

Building and loop devices need root. `missing_tools(name)` says what a
layout needs that is not installed, so tests can skip with a reason.
"""

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import threading
import time
import weakref

MiB = 1024 * 1024

ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
MSR = "e3c9e316-0b5c-4db8-817d-f92df00215ae"
BASIC_DATA = "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"
WINDOWS_RECOVERY = "de94bba4-06d1-4d40-a16a-bfd50179d6ac"
LINUX_FS = "0fc63daf-8483-4772-8e79-3d69d8477de4"
ROOT_X86_64 = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
SWAP = "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"
LINUX_LUKS = "ca7d7ccb-63ed-4c53-861c-1742536059cc"

# Passphrase of the LUKS partitions (test data only).
LUKS_PASSPHRASE = b"imprint-test-passphrase"


class PartSpec:
    """What to create: size in MiB (None = rest of the disk), GPT type GUID
    or MBR id ("0x07"), GPT name, filesystem kind, filesystem label, and
    the words the disk library should use for it."""

    def __init__(self, size_mib, type, fs=None, name="", label="", contents="", bootable=False,
                 files=None, fat32=False, leave_free=None):
        self.size_mib = size_mib
        self.type = type
        self.fs = fs
        self.name = name
        self.label = label
        self.contents = contents
        self.bootable = bootable
        # vfat only (put in with mtools, no mount): {path: size in bytes} of
        # files with reproducible pseudo-random contents, FAT32 instead of
        # mkfs.vfat's choice, and a filler file that leaves only
        # @leave_free bytes free (a nearly full ESP).
        self.files = files or {}
        self.fat32 = fat32
        self.leave_free = leave_free


class LayoutSpec:
    def __init__(self, table, size_mib, parts, contents, sector_size=512, description=""):
        self.table = table              # "gpt", "dos" or "" (no table)
        self.size_mib = size_mib
        self.parts = parts
        self.contents = contents        # expected whole-disk words
        self.sector_size = sector_size  # default for this layout
        self.description = description


# What Windows puts into its ESP (dummies of realistic size).
WINDOWS_ESP_FILES = {
    "EFI/Microsoft/Boot/bootmgfw.efi": 1589176,
    "EFI/Microsoft/Boot/bootmgr.efi": 1573784,
    "EFI/Microsoft/Boot/BCD": 32768,
    "EFI/Microsoft/Boot/en-US/bootmgfw.efi.mui": 79344,
    "EFI/Microsoft/Recovery/BCD": 24576,
    "EFI/Boot/bootx64.efi": 1589176,
}

LAYOUTS = {
    "empty": LayoutSpec("", 64, [], "Empty disk",
                        description="zeros, no partition table"),
    "gpt-empty": LayoutSpec("gpt", 64, [], "Empty disk",
                            description="a GPT without partitions"),
    "gpt-windows": LayoutSpec("gpt", 256, [
        PartSpec(64, ESP, "vfat", "EFI system partition", "SYSTEM", "EFI system partition"),
        PartSpec(16, MSR, None, "Microsoft reserved partition", "", "Microsoft reserved"),
        PartSpec(96, BASIC_DATA, "ntfs", "Basic data partition", "Windows", "Windows"),
    ], "Windows", description="ESP + MSR + NTFS, free space at the end"),
    "gpt-bitlocker": LayoutSpec("gpt", 256, [
        PartSpec(64, ESP, "vfat", "EFI system partition", "SYSTEM", "EFI system partition"),
        PartSpec(16, MSR, None, "Microsoft reserved partition", "", "Microsoft reserved"),
        PartSpec(96, BASIC_DATA, "bitlocker", "Basic data partition", "", "Windows (BitLocker)"),
        PartSpec(32, WINDOWS_RECOVERY, "ntfs", "", "Recovery", "Windows recovery"),
    ], "Windows (BitLocker)", description="ESP + MSR + BitLocker + recovery"),
    "gpt-linux": LayoutSpec("gpt", 224, [
        PartSpec(64, ESP, "vfat", "ESP", "ESP", "EFI system partition"),
        PartSpec(96, ROOT_X86_64, "ext4", "root-x86-64", "root", "Linux"),
        PartSpec(None, SWAP, "swap", "swap", "swap", "Swap"),
    ], "Linux", description="ESP + root ext4 + swap, no free space"),
    "gpt-dual": LayoutSpec("gpt", 320, [
        PartSpec(64, ESP, "vfat", "EFI system partition", "SYSTEM", "EFI system partition"),
        PartSpec(16, MSR, None, "Microsoft reserved partition", "", "Microsoft reserved"),
        PartSpec(96, BASIC_DATA, "ntfs", "Basic data partition", "Windows", "Windows"),
        PartSpec(96, LINUX_FS, "ext4", "linux", "linux", "Linux"),
    ], "Windows and Linux", description="Windows and Linux side by side"),
    "gpt-luks": LayoutSpec("gpt", 192, [
        PartSpec(64, ESP, "vfat", "ESP", "ESP", "EFI system partition"),
        PartSpec(64, LINUX_LUKS, "luks", "root", "", "Encrypted (LUKS)"),
    ], "Encrypted (LUKS)", description="ESP + LUKS2"),
    "gpt-unformatted": LayoutSpec("gpt", 128, [
        PartSpec(32, LINUX_FS, None, "one", "", "Unformatted"),
        PartSpec(32, BASIC_DATA, None, "two", "", "Unformatted"),
    ], "Unformatted partitions", description="partitions without filesystems"),
    "mbr-windows": LayoutSpec("dos", 192, [
        PartSpec(50, "0x07", "ntfs", "", "System Reserved", "Windows", bootable=True),
        PartSpec(100, "0x07", "ntfs", "", "Windows", "Windows"),
    ], "Windows", description="MBR: System Reserved + Windows NTFS, free space at the end"),
    "mbr-linux": LayoutSpec("dos", 128, [
        PartSpec(64, "0x83", "ext4", "", "root", "Linux", bootable=True),
        PartSpec(32, "0x82", "swap", "", "swap", "Swap"),
    ], "Linux", description="MBR: ext4 + swap"),
    # Targets for installing beside Windows (--use-free-space): a 100 MiB
    # FAT32 ESP with Windows' boot files, then MSR and NTFS, 1.5 GiB free.
    "gpt-windows-free": LayoutSpec("gpt", 2048, [
        PartSpec(100, ESP, "vfat", "EFI system partition", "SYSTEM", "EFI system partition",
                 files=WINDOWS_ESP_FILES, fat32=True),
        PartSpec(16, MSR, None, "Microsoft reserved partition", "", "Microsoft reserved"),
        PartSpec(400, BASIC_DATA, "ntfs", "Basic data partition", "Windows", "Windows"),
    ], "Windows", description="Windows with boot files in a 100 MiB ESP, 1.5 GiB free"),
    # The same with an ESP that is nearly full (OEM tools): no room for
    # the kernel images.
    "gpt-windows-full-esp": LayoutSpec("gpt", 2048, [
        PartSpec(100, ESP, "vfat", "EFI system partition", "SYSTEM", "EFI system partition",
                 files=WINDOWS_ESP_FILES, fat32=True, leave_free=700 * 1024),
        PartSpec(16, MSR, None, "Microsoft reserved partition", "", "Microsoft reserved"),
        PartSpec(400, BASIC_DATA, "ntfs", "Basic data partition", "Windows", "Windows"),
    ], "Windows", description="Windows with a nearly full 100 MiB ESP, 1.5 GiB free"),
    # Windows as a laptop comes with it: NTFS fills the disk, no free
    # space (tests/engine/test-shrink.sh makes room by shrinking it).
    "gpt-windows-whole": LayoutSpec("gpt", 2048, [
        PartSpec(100, ESP, "vfat", "EFI system partition", "SYSTEM", "EFI system partition",
                 files=WINDOWS_ESP_FILES, fat32=True),
        PartSpec(16, MSR, None, "Microsoft reserved partition", "", "Microsoft reserved"),
        PartSpec(None, BASIC_DATA, "ntfs", "Basic data partition", "Windows", "Windows"),
    ], "Windows", description="Windows filling the disk: ESP, MSR, NTFS to the end"),
    "gpt-4k": LayoutSpec("gpt", 256, [
        PartSpec(64, ESP, "vfat", "ESP", "ESP", "EFI system partition"),
        PartSpec(96, ROOT_X86_64, "ext4", "root-x86-64", "root", "Linux"),
    ], "Linux", sector_size=4096,
        description="4096-byte logical sectors: ESP + ext4, free space at the end"),
}

_FS_TOOLS = {
    "vfat": ["mkfs.vfat"],
    "ntfs": ["mkntfs"],
    "ext4": ["mkfs.ext4"],
    "swap": ["mkswap"],
    "luks": ["cryptsetup"],
    "bitlocker": [],
    None: [],
}


def missing_tools(name, loop=False, sector_size=None):
    """Tools (or privileges) a layout needs that this machine lacks."""
    spec = LAYOUTS[name]
    ss = sector_size or spec.sector_size
    need = set()
    if spec.table:
        need.add("sfdisk")
    if loop or ss != 512:
        need.update(["losetup", "partx"])
    for p in spec.parts:
        need.update(_FS_TOOLS[p.fs])
        if p.files or p.leave_free is not None:
            need.update(["mmd", "mcopy", "mdir"])
    missing = sorted(t for t in need if shutil.which(t) is None and
                     not os.path.exists("/usr/sbin/" + t) and not os.path.exists("/sbin/" + t))
    if (loop or ss != 512) and os.geteuid() != 0:
        missing.append("root (for loop devices)")
    return missing


def _tool(name):
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/sbin"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return name


def _run(argv, input=None, check=True):
    argv = [_tool(argv[0])] + list(argv[1:])
    # MTOOLS_SKIP_CHECK: mtools would refuse a FAT in an image file made
    # with a geometry it does not expect.
    proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(os.environ, LC_ALL="C", MTOOLS_SKIP_CHECK="1"))
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), proc.returncode,
                                                   proc.stderr.decode(errors="replace").strip()))
    return proc.stdout.decode(errors="replace")


class Part:
    """A partition as created (sizes in bytes, read back from sfdisk)."""

    def __init__(self, number, start, size, type, name, fs, label, uuid, contents):
        self.number = number
        self.start = start
        self.size = size
        self.type = type            # lower-case GUID or "0x07"
        self.name = name
        self.fs = fs                # blkid's name: vfat, ntfs, ext4, swap, crypto_LUKS, BitLocker, or None
        self.label = label
        self.uuid = uuid            # PARTUUID (lower case)
        self.contents = contents    # expected words
        self.fs_uuid = None
        self.files = {}             # vfat: {path: sha256 hex} of the files put in

    def __repr__(self):
        return "Part(%d, %s, %s)" % (self.number, self.type, self.fs)


_BLKID_NAMES = {"vfat": "vfat", "ntfs": "ntfs", "ext4": "ext4", "swap": "swap",
                "luks": "crypto_LUKS", "bitlocker": "BitLocker", None: None}


def _loop_attach(path, sector_size, partscan):
    argv = ["losetup", "--find", "--show", "--sector-size", str(sector_size)]
    if partscan:
        argv.append("--partscan")
    argv.append(path)
    # Other tests may grab the same free loop device at the same moment.
    last = None
    for _ in range(10):
        try:
            return _run(argv).strip()
        except RuntimeError as e:
            last = e
            time.sleep(0.2)
    raise last


def _loop_detach(node):
    # Partitions added with partx stay unless removed.
    subprocess.run([_tool("partx"), "--delete", node], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    for _ in range(50):
        proc = subprocess.run([_tool("losetup"), "--detach", node], stderr=subprocess.PIPE)
        if proc.returncode == 0:
            return
        time.sleep(0.1)


def _copy_into(image, offset, src):
    """Copies file @src into @image at @offset, skipping zero blocks."""
    block = MiB
    zero = bytes(block)
    with open(src, "rb") as fi, open(image, "r+b") as fo:
        pos = offset
        while True:
            data = fi.read(block)
            if not data:
                break
            if data != zero[:len(data)]:
                fo.seek(pos)
                fo.write(data)
            pos += len(data)


def _file_bytes(path, size):
    """Reproducible pseudo-random contents for a test file."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(("%s:%d" % (path, counter)).encode()).digest()
        counter += 1
    return bytes(out[:size])


def _fat_populate(fsimg, spec, part, workdir):
    """Puts spec.files into the FAT in @fsimg with mtools and records their
    hashes in part.files; then the filler for spec.leave_free."""
    image = "%s@@0" % fsimg
    made = set()
    for path, size in sorted(spec.files.items()):
        parts = path.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made:
                _run(["mmd", "-i", image, "::/" + d], check=False)
                made.add(d)
        data = _file_bytes(path, size)
        local = os.path.join(workdir, "fat-file")
        with open(local, "wb") as f:
            f.write(data)
        _run(["mcopy", "-o", "-i", image, local, "::/" + path])
        os.unlink(local)
        part.files[path] = hashlib.sha256(data).hexdigest()
    if spec.leave_free is not None:
        listing = _run(["mdir", "-i", image, "::/"])
        free = [line for line in listing.splitlines() if "bytes free" in line]
        if not free:
            raise RuntimeError("cannot read the free space of the FAT: %s" % listing)
        nfree = int(free[0].split("bytes free")[0].replace(" ", ""))
        if nfree > spec.leave_free:
            # Zeros: the image stays sparse (_copy_into skips zero blocks).
            filler = os.path.join(workdir, "fat-filler")
            with open(filler, "wb") as f:
                f.truncate(nfree - spec.leave_free)
            _run(["mmd", "-i", image, "::/OEM"], check=False)
            _run(["mcopy", "-o", "-i", image, filler, "::/OEM/tools.bin"])
            os.unlink(filler)


def _fake_bitlocker(path, size):
    """A volume header blkid recognises as BitLocker (Windows 7+ layout):
    the boot jump and "-FVE-FS-" signature, the offset of the first FVE
    metadata block at byte 176, and that block's own signature. No real
    encryption metadata follows: enough to be identified, nothing more."""
    with open(path, "r+b") as f:
        f.truncate(size)
        header = bytearray(512)
        header[0:11] = b"\xeb\x58\x90-FVE-FS-"
        struct.pack_into("<H", header, 11, 512)         # bytes per sector
        struct.pack_into("<Q", header, 176, 0x10000)    # FVE metadata offset
        header[510:512] = b"\x55\xaa"
        f.seek(0)
        f.write(header)
        f.seek(0x10000)
        f.write(b"-FVE-FS-" + struct.pack("<HH", 64, 2))


# Layouts not cleaned up yet: detached and deleted at exit, also when the
# test runner is killed with SIGTERM (meson's timeout) or SIGINT.
_live_layouts = weakref.WeakSet()


def _cleanup_all():
    for layout in list(_live_layouts):
        layout.cleanup()


def _on_signal(signum, frame):
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_cleanup_all)
if threading.current_thread() is threading.main_thread():
    for _sig in (signal.SIGTERM, signal.SIGHUP):
        # Only where nobody else handles the signal already.
        if signal.getsignal(_sig) == signal.SIG_DFL:
            signal.signal(_sig, _on_signal)


class Layout:
    """Builds a layout in a temporary directory; attaches it to a loop
    device with loop=True. Use as a context manager (or call cleanup())."""

    def __init__(self, name, sector_size=None, loop=False, directory=None, partscan=True):
        if name not in LAYOUTS:
            raise KeyError("unknown layout %r (known: %s)" % (name, ", ".join(sorted(LAYOUTS))))
        self.name = name
        self.spec = LAYOUTS[name]
        self.sector_size = sector_size or self.spec.sector_size
        self.loop = loop
        self.partscan = partscan
        self._dir = tempfile.mkdtemp(prefix="imprint-layout-%s-" % name, dir=directory)
        self.path = os.path.join(self._dir, name + ".img")
        self.node = None
        self.size = self.spec.size_mib * MiB
        self.table = self.spec.table
        self.table_uuid = ""
        self.contents = self.spec.contents
        self.partitions = []
        self.free = []
        self._mounts = []
        self._build_loop = None
        self._made_nodes = []
        _live_layouts.add(self)
        try:
            self._build()
            if loop:
                self.node = _loop_attach(self.path, self.sector_size, partscan)
                if partscan:
                    self._wait_for_partitions()
        except BaseException:
            self.cleanup()
            raise

    # -- public -----------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def partition(self, number):
        for p in self.partitions:
            if p.number == number:
                return p
        raise KeyError(number)

    def partition_node(self, number):
        if self.node is None:
            raise RuntimeError("layout %s is not attached to a loop device" % self.name)
        return "%sp%d" % (self.node, number)

    @contextlib.contextmanager
    def mount(self, number, options=None):
        """Mounts partition @number (loop only) on a temporary directory."""
        target = tempfile.mkdtemp(prefix="mnt-", dir=self._dir)
        argv = ["mount"]
        if options:
            argv += ["-o", options]
        _run(argv + [self.partition_node(number), target])
        self._mounts.append(target)
        try:
            yield target
        finally:
            self._umount(target)

    def cleanup(self):
        for target in list(self._mounts):
            self._umount(target)
        if self.node is not None:
            _loop_detach(self.node)
            self.node = None
        for node in self._made_nodes:
            with contextlib.suppress(OSError):
                os.unlink(node)
        self._made_nodes = []
        if self._build_loop is not None:
            _loop_detach(self._build_loop)
            self._build_loop = None
        shutil.rmtree(self._dir, ignore_errors=True)
        _live_layouts.discard(self)

    def describe(self):
        """A plain dict of what was built (for debugging and reports)."""
        return {
            "name": self.name, "path": self.path, "node": self.node,
            "sector-size": self.sector_size, "size": self.size, "table": self.table,
            "table-uuid": self.table_uuid, "contents": self.contents, "free": self.free,
            "partitions": [dict(vars(p)) for p in self.partitions],
        }

    def expected(self):
        """The subset of a ListDisks dictionary (data/dev.imprint.Imprint1.xml)
        this layout determines, with the same keys and JSON types."""
        fs_labelled = ("vfat", "ntfs", "ext4", "swap")
        disk = {
            "device": self.node if self.node else self.path,
            "size": self.size,
            "logical-sector-size": self.sector_size,
            "transport": "loop" if self.node else "file",
            "table": self.table,
            "table-uuid": self.table_uuid,
            "contents": self.contents,
            "free": [[s, n] for s, n in self.free],
            "partitions": [{
                "number": p.number,
                "node": self.partition_node(p.number) if self.node and self.partscan else "",
                "start": p.start,
                "size": p.size,
                "type": p.type,
                "name": p.name,
                "uuid": p.uuid,
                "filesystem": p.fs or "",
                "filesystem-label": p.label if p.fs in fs_labelled else "",
                "contents": p.contents,
            } for p in self.partitions],
        }
        if not self.node:
            disk["id"] = os.path.realpath(self.path)
        return disk

    def mismatches(self, disk):
        """Differences between a ListDisks dictionary (parsed JSON) and
        expected(), as readable strings; [] when it matches."""
        out = []
        want = self.expected()
        for key, value in want.items():
            if key == "partitions":
                continue
            if disk.get(key) != value:
                out.append("%s: %s: got %r, expected %r" % (self.name, key, disk.get(key), value))
        got_parts = disk.get("partitions", [])
        if len(got_parts) != len(want["partitions"]):
            out.append("%s: %d partitions, expected %d" % (self.name, len(got_parts), len(want["partitions"])))
        for got, exp in zip(got_parts, want["partitions"]):
            for key, value in exp.items():
                if got.get(key) != value:
                    out.append("%s: partition %d: %s: got %r, expected %r"
                               % (self.name, exp["number"], key, got.get(key), value))
        return out

    # -- building ---------------------------------------------------------
    def _umount(self, target):
        if target in self._mounts:
            if subprocess.run([_tool("umount"), target], stderr=subprocess.DEVNULL).returncode != 0:
                subprocess.run([_tool("umount"), "--lazy", target], stderr=subprocess.DEVNULL)
            self._mounts.remove(target)
            with contextlib.suppress(OSError):
                os.rmdir(target)

    def _wait_for_partitions(self):
        # No udevd needed: devtmpfs creates the nodes, a little after
        # losetup returns. Some kernels (minimal VM builds) lack the
        # partition parsers: then tell the kernel about them with partx
        # (BLKPG), which parses the table in userspace. If the kernel knows
        # a partition but /dev lacks its node (a /dev that is not
        # devtmpfs), make the node ourselves.
        wanted = {p.number: self.partition_node(p.number) for p in self.partitions}
        kname = os.path.basename(self.node)
        deadline = time.monotonic() + 15
        next_partx = time.monotonic() + 1
        errors = ""
        while time.monotonic() < deadline:
            if all(os.path.exists(n) for n in wanted.values()):
                return
            if time.monotonic() >= next_partx:
                proc = subprocess.run([_tool("partx"), "--update", self.node],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                errors = proc.stderr.decode(errors="replace").strip()
                next_partx = time.monotonic() + 2
                for number, node in wanted.items():
                    devfile = "/sys/block/%s/%sp%d/dev" % (kname, kname, number)
                    if not os.path.exists(node) and os.path.exists(devfile):
                        with open(devfile) as f:
                            major, minor = (int(x) for x in f.read().split(":"))
                        with contextlib.suppress(FileExistsError):
                            os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(major, minor))
                            self._made_nodes.append(node)
            time.sleep(0.05)
        raise RuntimeError("partition nodes of %s did not appear: %s (%s)" % (self.node, list(wanted.values()), errors))

    def _sfdisk_script(self):
        lines = ["label: %s" % self.table]
        for p in self.spec.parts:
            fields = []
            if p.size_mib is not None:
                fields.append("size=%dMiB" % p.size_mib)
            fields.append("type=%s" % (p.type.upper() if self.table == "gpt" else p.type[2:]))
            if p.name and self.table == "gpt":
                fields.append('name="%s"' % p.name)
            if p.bootable:
                fields.append("bootable")
            lines.append(", ".join(fields))
        return "\n".join(lines) + "\n"

    def _build(self):
        with open(self.path, "wb") as f:
            f.truncate(self.size)
        if not self.table:
            return

        # sfdisk takes the sector size from the device: give it one.
        target = self.path
        if self.sector_size != 512:
            self._build_loop = _loop_attach(self.path, self.sector_size, partscan=False)
            target = self._build_loop
        _run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always", target],
             input=self._sfdisk_script().encode())
        table = json.loads(_run(["sfdisk", "--json", target]))["partitiontable"]
        if self._build_loop is not None:
            _loop_detach(self._build_loop)
            self._build_loop = None

        ss = table.get("sectorsize", 512)
        assert ss == self.sector_size, (ss, self.sector_size)
        self.table_uuid = table.get("id", "").lower()
        if self.table == "dos" and self.table_uuid.startswith("0x"):
            self.table_uuid = self.table_uuid[2:]
        for i, (spec, p) in enumerate(zip(self.spec.parts, table.get("partitions", []))):
            number = i + 1
            ptype = p["type"].lower() if self.table == "gpt" else "0x%02x" % int(p["type"], 16)
            uuid = p.get("uuid", "").lower() if self.table == "gpt" else "%s-%02x" % (self.table_uuid, number)
            part = Part(number, p["start"] * ss, p["size"] * ss, ptype, p.get("name", ""),
                        _BLKID_NAMES[spec.fs], spec.label, uuid, spec.contents)
            self.partitions.append(part)
            self._make_fs(spec, part)

        self._compute_free(table, ss)

    def _make_fs(self, spec, part):
        if spec.fs is None:
            return
        fsimg = os.path.join(self._dir, "part%d.img" % part.number)
        with open(fsimg, "wb") as f:
            f.truncate(part.size)
        ss = self.sector_size
        if spec.fs == "vfat":
            argv = ["mkfs.vfat", "-S", str(ss), "-n", spec.label or "NO NAME"]
            if spec.fat32:
                argv += ["-F", "32"]
            _run(argv + [fsimg])
            _fat_populate(fsimg, spec, part, self._dir)
        elif spec.fs == "ntfs":
            # -p/-H/-S describe the position on the disk (boot code uses it);
            # -Q skips zeroing, -F accepts a regular file.
            _run(["mkntfs", "-F", "-Q", "-q", "-s", str(ss), "-p", str(part.start // ss),
                  "-H", "255", "-S", "63", "-L", spec.label, fsimg])
        elif spec.fs == "ext4":
            _run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-L", spec.label, fsimg])
        elif spec.fs == "swap":
            _run(["mkswap", "-L", spec.label, fsimg])
        elif spec.fs == "luks":
            keyfile = os.path.join(self._dir, "luks.key")
            with open(keyfile, "wb") as f:
                f.write(LUKS_PASSPHRASE)
            _run(["cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2",
                  "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
                  "--key-file", keyfile, fsimg])
        elif spec.fs == "bitlocker":
            _fake_bitlocker(fsimg, part.size)
        else:
            raise ValueError(spec.fs)
        _copy_into(self.path, part.start, fsimg)
        os.unlink(fsimg)

    def _compute_free(self, table, ss):
        # Unpartitioned space between the first and last usable sectors,
        # shrunk to 1 MiB boundaries, kept when at least 1 MiB: computed
        # here independently of the library under test.
        first = table.get("firstlba", 1) * ss
        last = table["lastlba"] * ss + ss if "lastlba" in table else self.size
        used = sorted((p.start, p.start + p.size) for p in self.partitions)
        regions, pos = [], first
        for s, e in used + [(last, last)]:
            if s > pos:
                regions.append((pos, s))
            pos = max(pos, e)
        self.free = []
        for s, e in regions:
            s = -(-s // MiB) * MiB
            e = e // MiB * MiB
            if e - s >= MiB:
                self.free.append((s, e - s))


def _main(argv):
    import argparse
    parser = argparse.ArgumentParser(description="Build test disk layouts as image files.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the layouts")
    b = sub.add_parser("build", help="build layouts into a directory and keep them")
    b.add_argument("names", nargs="+", metavar="NAME")
    b.add_argument("--dir", required=True, help="where NAME.img files go")
    b.add_argument("--sector-size", type=int, default=None)
    b.add_argument("--json", action="store_true", help="print what was built as JSON")
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for name in sorted(LAYOUTS):
            spec = LAYOUTS[name]
            print("%-16s %-4s %4d MiB  %-24s %s" % (name, spec.table or "-", spec.size_mib,
                                                    spec.contents, spec.description))
        return 0

    os.makedirs(args.dir, exist_ok=True)
    built = []
    for name in args.names:
        with Layout(name, sector_size=args.sector_size, directory=args.dir) as layout:
            dest = os.path.join(args.dir, name + ".img")
            os.replace(layout.path, dest)
            info = layout.describe()
            info["path"] = dest
            built.append(info)
            if not args.json:
                print(dest)
    if args.json:
        print(json.dumps(built, indent=2))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))

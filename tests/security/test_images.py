#!/usr/bin/python3
'''Hostile source images, given by uid 65534 to InspectSource and
PlanInstall (both allowed to an active user without a password): each is
refused with an error, quickly, with imprintd alive and its memory bounded.
The images are the test source image with bytes patched: a signature
partition of megabytes of '[', malformed signature JSON, a verity
superblock claiming a huge tree on a sparse file, GPT entries that wrap
64 bits, overlap or lie past the end.'''

import os
import re
import shutil
import struct
import subprocess
import sys
import time
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import imprinttest  # noqa: E402
from imprinttest import NOBODY  # noqa: E402
from test_install import source_image  # noqa: E402

SECTOR = 512
LINUX_GENERIC = uuid.UUID('0fc63daf-8483-4772-8e79-3d69d8477de4')
USR_VERITY_SIG = uuid.UUID('e7bb33fb-06cf-4e81-8273-e543b413e2e2')
USR = uuid.UUID('8484680c-9521-48c6-9c11-b0720656f69e')
USR_VERITY = uuid.UUID('77ff5f63-e7b6-4633-acf4-1565b864c0e6')
ESP = uuid.UUID('c12a7328-f81f-11d2-ba4b-00a0c93ec93b')
GiB = 1024 ** 3
MiB = 1024 ** 2
# Peak resident memory imprintd may reach inspecting one hostile image: the
# daemon itself needs a few MiB; the old code read whole claimed trees.
MAX_HWM_KIB = 150 * 1024


class Gpt:
    '''The primary and backup GPT of an image file, entries editable, CRCs
    recomputed on write.'''

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            f.seek(SECTOR)
            self.hdr = bytearray(f.read(SECTOR))
            assert self.hdr[:8] == b'EFI PART'
            self.alt_lba, = struct.unpack_from('<Q', self.hdr, 32)
            lba, self.n, self.esize = struct.unpack_from('<QII', self.hdr, 72)
            f.seek(lba * SECTOR)
            self.entries = bytearray(f.read(self.n * self.esize))

    def index(self, type_uuid):
        for i in range(self.n):
            if self.entries[i * self.esize:i * self.esize + 16] == type_uuid.bytes_le:
                return i
        raise KeyError(type_uuid)

    def range(self, i):
        return struct.unpack_from('<QQ', self.entries, i * self.esize + 32)

    def set_range(self, i, first, last):
        struct.pack_into('<QQ', self.entries, i * self.esize + 32, first % 2**64, last % 2**64)

    def add(self, type_uuid, first, last):
        for i in range(self.n):
            if not any(self.entries[i * self.esize:i * self.esize + 16]):
                e = i * self.esize
                self.entries[e:e + 16] = type_uuid.bytes_le
                self.entries[e + 16:e + 32] = uuid.uuid4().bytes_le
                self.set_range(i, first, last)
                return i
        raise RuntimeError('no free GPT entry')

    def write(self):
        crc = zlib.crc32(self.entries)
        with open(self.path, 'r+b') as f:
            for hdr_lba in (1, self.alt_lba):
                f.seek(hdr_lba * SECTOR)
                hdr = bytearray(f.read(SECTOR))
                if hdr[:8] != b'EFI PART':
                    continue
                size, = struct.unpack_from('<I', hdr, 12)
                lba, = struct.unpack_from('<Q', hdr, 72)
                f.seek(lba * SECTOR)
                f.write(self.entries)
                struct.pack_into('<I', hdr, 88, crc)
                struct.pack_into('<I', hdr, 16, 0)
                struct.pack_into('<I', hdr, 16, zlib.crc32(hdr[:size]))
                f.seek(hdr_lba * SECTOR)
                f.write(hdr)


class HostileImageTest(imprinttest.HostileTestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ('sfdisk', 'systemd-repart', 'veritysetup'):
            if not shutil.which(tool):
                raise imprinttest.unittest.SkipTest(f'{tool} is not installed')
        cls.source = source_image()

    def evil_copy(self, name='evil.img'):
        path = os.path.join(self.evil, name)
        subprocess.run(['cp', '--sparse=always', self.source, path], check=True, timeout=60)
        os.chown(path, NOBODY, NOBODY)
        return path

    def peak_kib(self):
        with open(f'/proc/{self.bus.daemon.pid}/status') as f:
            m = re.search(r'^VmHWM:\s+(\d+) kB', f.read(), re.M)
        return int(m.group(1))

    def assertRefused(self, image, pattern, timeout=60):
        '''InspectSource and PlanInstall both fail (with @pattern in the
        InspectSource error), in bounded time, with bounded memory.'''
        target = os.path.join(self.evil, 'target.img')
        if not os.path.exists(target):
            with open(target, 'wb') as f:
                f.truncate(GiB)
            os.chown(target, NOBODY, NOBODY)
        start = time.monotonic()
        r = self.call('InspectSource', f"'{image}'", '{}', timeout=timeout)
        self.assertNotEqual(r.returncode, 0, f'InspectSource accepted {image}: {r.stdout}')
        self.assertRegex(r.stderr, pattern)
        self.assertDaemonAlive()
        r = self.call('PlanInstall', f"'{image}'", f"'{target}'", '{}', timeout=timeout)
        self.assertNotEqual(r.returncode, 0, f'PlanInstall accepted {image}: {r.stdout}')
        self.assertDaemonAlive()
        self.assertLess(time.monotonic() - start, timeout)
        self.assertLess(self.peak_kib(), MAX_HWM_KIB, 'imprintd used too much memory')

    def test_untouched_image_is_accepted(self):
        # The patching itself (CRCs recomputed) keeps a valid image valid.
        path = self.evil_copy()
        gpt = Gpt(path)
        gpt.write()
        r = self.call('InspectSource', f"'{path}'", '{}')
        self.assertEqual(r.returncode, 0, r.stderr)

    # --- finding 3: signature JSON ---------------------------------------

    def test_signature_megabytes_of_brackets(self):
        # json-glib recursed once per '[' and overflowed imprintd's stack.
        path = self.evil_copy()
        gpt = Gpt(path)
        size = os.path.getsize(path)
        first = size // SECTOR
        with open(path, 'r+b') as f:
            f.seek(first * SECTOR)
            f.write(b'[' * (4 * MiB))
        gpt.set_range(gpt.index(USR_VERITY_SIG), first, first + 4 * MiB // SECTOR - 1)
        gpt.write()
        self.assertRefused(path, 'signature')

    def write_signature(self, path, payload):
        gpt = Gpt(path)
        first, last = gpt.range(gpt.index(USR_VERITY_SIG))
        size = (last - first + 1) * SECTOR
        with open(path, 'r+b') as f:
            f.seek(first * SECTOR)
            f.write(payload[:size].ljust(size, b'\0'))

    def test_signature_malformed_json(self):
        path = self.evil_copy()
        rh = open(self.source + '.roothash').read().strip()
        for payload in (b'[' * 16000,                           # deep, inside 16 KiB
                        b'{"a":' * 5000,                         # deep objects, unbalanced
                        b'{"rootHash":' + b'[' * 100 + b']' * 100 + b',"signature":"x"}',
                        b'{"rootHash":1,"signature":[]}',        # wrong member types
                        b'{"rootHash":{"x":1},"signature":{"y":2}}',
                        b'{"rootHash":"' + rh.encode() + b'","signature":17}',
                        b'"just a string"', b'[]', b'null', b'',
                        b'{"rootHash":"\xff\xfe"}',              # not UTF-8
                        b'{"rootHash":"a\\', b'{"x":"' + b'"' * 3 + b'}',
                        b' ' * 16384):                           # no NUL: fills the partition
            with self.subTest(payload=payload[:40]):
                self.write_signature(path, payload)
                self.assertRefused(path, 'signature|JSON')

    # --- finding 4: verity tree size --------------------------------------

    @staticmethod
    def tree_end(sb, data_blocks):
        '''Hash partition bytes the superblock implies (SHA-256), as the
        kernel lays the tree out.'''
        hash_block, = struct.unpack_from('<I', sb, 68)
        bits = (hash_block // 32).bit_length() - 1
        blocks, n = 0, data_blocks
        while True:
            n = -(-n // (1 << bits))
            blocks += n
            if n == 1:
                break
        return -(-SECTOR // hash_block) * hash_block + blocks * hash_block

    def sparse_verity_image(self, tree_bytes):
        '''usr moved to a hole, its verity superblock (copied) claiming to
        cover data whose tree takes about @tree_bytes, the hash partition a
        hole just big enough for that tree: nothing of it is on disk.'''
        path = self.evil_copy()
        gpt = Gpt(path)
        vfirst, _ = gpt.range(gpt.index(USR_VERITY))
        with open(path, 'rb') as f:
            f.seek(vfirst * SECTOR)
            sb = bytearray(f.read(SECTOR))
        data_block, = struct.unpack_from('<I', sb, 64)
        data_blocks = 1
        while self.tree_end(sb, data_blocks * 2) <= tree_bytes:
            data_blocks *= 2
        struct.pack_into('<Q', sb, 72, data_blocks)
        end = self.tree_end(sb, data_blocks)
        usr_first = -(-os.path.getsize(path) // MiB) * MiB // SECTOR
        usr_last = usr_first + data_blocks * data_block // SECTOR - 1
        ver_first = usr_last + 1
        ver_last = ver_first + -(-end // MiB) * MiB // SECTOR - 1
        with open(path, 'r+b') as f:
            f.seek(ver_first * SECTOR)
            f.write(sb)
            f.truncate((ver_last + 1 + 34) * SECTOR)
        gpt.set_range(gpt.index(USR), usr_first, usr_last)
        gpt.set_range(gpt.index(USR_VERITY), ver_first, ver_last)
        gpt.write()
        return path

    def test_verity_tree_in_a_hole(self):
        # A tree of 128 to 256 MiB, under the cap, none of it on disk: the
        # old code read it (twice) into memory before checking it.
        path = self.sparse_verity_image(256 * MiB - MiB)
        self.assertRefused(path, 'verity hash tree')

    def test_verity_tree_too_large(self):
        # Over the cap: refused before any of it is read.
        path = self.sparse_verity_image(1024 * MiB)
        self.assertRefused(path, 'verity hash tree')

    # --- finding 7: GPT offsets -------------------------------------------

    def test_gpt_entry_wraps_64_bits(self):
        # LBA 2^55 + X: times 512 it wrapped to X * 512 and passed the check.
        path = self.evil_copy()
        gpt = Gpt(path)
        i = gpt.index(ESP)
        first, last = gpt.range(i)
        gpt.set_range(i, 2**55 + first, 2**55 + last)
        gpt.write()
        self.assertRefused(path, 'invalid start or size|outside')

    def test_gpt_size_wraps_64_bits(self):
        # A partition whose sector count times 512 wraps to 4 KiB.
        path = self.evil_copy()
        gpt = Gpt(path)
        gpt.add(LINUX_GENERIC, 2048, 2048 + 2**55 + 8 - 1)
        gpt.write()
        self.assertRefused(path, 'invalid start or size|outside')

    def test_gpt_end_before_start(self):
        path = self.evil_copy()
        gpt = Gpt(path)
        gpt.add(LINUX_GENERIC, 200000, 1000)
        gpt.write()
        self.assertRefused(path, 'invalid start or size|outside|partition table')

    def test_gpt_overlapping_partitions(self):
        path = self.evil_copy()
        gpt = Gpt(path)
        first, last = gpt.range(gpt.index(USR))
        gpt.add(LINUX_GENERIC, first + 8, last + 8)
        gpt.write()
        self.assertRefused(path, 'overlap')

    def test_gpt_partition_past_the_end(self):
        path = self.evil_copy()
        gpt = Gpt(path)
        end = os.path.getsize(path) // SECTOR
        gpt.add(LINUX_GENERIC, end + 2048, end + 4096)
        gpt.write()
        self.assertRefused(path, 'outside|truncated')


if __name__ == '__main__':
    imprinttest.main()

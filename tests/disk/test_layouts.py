#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Integration test of the disk discovery library over real layouts: image
files and loop devices (512 and 4096-byte sectors) built by
tests/lib/layouts.py, read back through imprint-disk-probe (which prints
imprint_disk_enumerate / imprint_disk_describe as JSON).

Needs root (loop devices, mount) and sfdisk, mkfs.vfat, mkntfs, mkfs.ext4,
mkswap, cryptsetup; exits 77 with the reason when something is missing."""

import json
import os
import select
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from layouts import LAYOUTS, Layout, MiB, missing_tools  # noqa: E402

PROBE = os.environ.get("IMPRINT_DISK_PROBE", "")

# The keys ListDisks documents in data/dev.imprint.Imprint1.xml: exactly these.
DISK_KEYS = {
    "device", "id", "vendor", "model", "serial", "size", "logical-sector-size",
    "physical-sector-size", "removable", "rotational", "read-only", "transport",
    "table", "table-uuid", "contents", "partitions", "free", "usable", "reasons",
    "reason-codes",
}
PART_KEYS = {
    "number", "node", "start", "size", "type", "type-name", "name", "uuid",
    "filesystem", "filesystem-label", "filesystem-uuid", "contents", "mountpoint",
}
REASON_CODES = {"live-medium", "mounted", "in-use", "read-only", "too-small", "zram",
                "loop", "no-media"}


def probe(*args):
    proc = subprocess.run([PROBE, "--compact", "--live-device="] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(os.environ, LC_ALL="C", LANGUAGE="C"))
    if proc.returncode != 0:
        raise AssertionError("imprint-disk-probe %s failed: %s" % (" ".join(args), proc.stderr.decode()))
    return json.loads(proc.stdout)


def describe(path, *args):
    return probe("--describe", path, *args)


class LayoutTestCase(unittest.TestCase):
    maxDiff = None

    def check_disk(self, disk, layout, loop):
        """Everything a layout promises, as the library reports it."""
        self.assertEqual(layout.mismatches(disk), [])
        self.assertEqual(set(disk), DISK_KEYS)
        self.assertEqual(disk["table"], layout.table)
        self.assertEqual(disk["table-uuid"], layout.table_uuid)
        self.assertEqual(disk["size"], layout.size)
        self.assertEqual(disk["logical-sector-size"], layout.sector_size)
        self.assertEqual(disk["contents"], layout.contents)
        self.assertEqual([tuple(r) for r in disk["free"]], layout.free)
        self.assertEqual(len(disk["reasons"]), len(disk["reason-codes"]))
        self.assertTrue(set(disk["reason-codes"]) <= REASON_CODES, disk["reason-codes"])
        if loop:
            self.assertEqual(disk["device"], layout.node)
            self.assertEqual(disk["transport"], "loop")
        else:
            self.assertEqual(disk["device"], layout.path)
            self.assertEqual(disk["id"], os.path.realpath(layout.path))
            self.assertEqual(disk["transport"], "file")
            self.assertTrue(disk["usable"])
            self.assertEqual(disk["reason-codes"], [])

        self.assertEqual(len(disk["partitions"]), len(layout.partitions))
        for got, want in zip(disk["partitions"], layout.partitions):
            with self.subTest(partition=want.number):
                self.assertEqual(set(got), PART_KEYS)
                self.assertEqual(got["number"], want.number)
                self.assertEqual(got["start"], want.start)
                self.assertEqual(got["size"], want.size)
                self.assertEqual(got["type"], want.type)
                self.assertNotEqual(got["type-name"], "")
                self.assertEqual(got["name"], want.name)
                self.assertEqual(got["uuid"], want.uuid)
                self.assertEqual(got["filesystem"], want.fs or "")
                self.assertEqual(got["filesystem-label"], want.label if want.fs in ("vfat", "ntfs", "ext4", "swap") else "")
                if want.fs not in (None, "BitLocker"):
                    self.assertNotEqual(got["filesystem-uuid"], "")
                self.assertEqual(got["contents"], want.contents)
                self.assertEqual(got["mountpoint"], "")
                if loop:
                    self.assertEqual(got["node"], layout.partition_node(want.number))
                else:
                    self.assertEqual(got["node"], "")


class TestImageFiles(LayoutTestCase):
    """Image files described directly, no loop device involved."""

    def test_all_layouts(self):
        for name in sorted(LAYOUTS):
            sizes = [LAYOUTS[name].sector_size]
            if name in ("gpt-windows", "gpt-linux", "gpt-empty"):
                sizes.append(4096)
            for ss in sizes:
                if missing_tools(name, sector_size=ss):
                    continue
                with self.subTest(layout=name, sector_size=ss), Layout(name, sector_size=ss) as layout:
                    self.check_disk(describe(layout.path), layout, loop=False)

    def test_type_names(self):
        with Layout("gpt-bitlocker") as layout:
            parts = describe(layout.path)["partitions"]
            self.assertEqual([p["type-name"] for p in parts],
                             ["EFI System", "Microsoft reserved", "Microsoft basic data", "Windows recovery"])
            self.assertEqual(parts[2]["filesystem"], "BitLocker")
        with Layout("mbr-windows") as layout:
            parts = describe(layout.path)["partitions"]
            self.assertEqual([p["type"] for p in parts], ["0x07", "0x07"])
            self.assertEqual(parts[0]["type-name"], "HPFS/NTFS/exFAT")

    def test_no_table_with_data(self):
        with tempfile.TemporaryDirectory() as d:
            junk = os.path.join(d, "junk.img")
            with open(junk, "wb") as f:
                f.write(os.urandom(MiB))
                f.truncate(16 * MiB)
            disk = describe(junk)
            self.assertEqual(disk["table"], "")
            self.assertEqual(disk["partitions"], [])
            self.assertEqual(disk["contents"], "No partition table, unknown data")

            whole = os.path.join(d, "whole.img")
            with open(whole, "wb") as f:
                f.truncate(32 * MiB)
            subprocess.run(["mkfs.ext4", "-q", "-F", whole], check=True)
            self.assertEqual(describe(whole)["contents"], "Linux (no partition table)")

    def test_too_small(self):
        with Layout("gpt-empty") as layout:
            disk = describe(layout.path, "--min-size=%d" % (layout.size + 1))
            self.assertFalse(disk["usable"])
            self.assertEqual(disk["reason-codes"], ["too-small"])
            disk = describe(layout.path, "--min-size=%d" % layout.size)
            self.assertTrue(disk["usable"])

    def test_missing_file(self):
        proc = subprocess.run([PROBE, "--describe", "/nonexistent/disk.img"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(proc.returncode, 0)


class TestLoopDevices(LayoutTestCase):
    """The same layouts attached to loop devices, 512 and 4096-byte sectors."""

    def test_layouts_on_loop(self):
        cases = [("empty", 512), ("empty", 4096), ("gpt-empty", 512), ("gpt-empty", 4096), ("gpt-windows", 512), ("gpt-windows", 4096),
                 ("gpt-linux", 512), ("gpt-linux", 4096), ("mbr-windows", 512), ("gpt-4k", 4096),
                 ("gpt-bitlocker", 512), ("gpt-luks", 512), ("gpt-dual", 512)]
        for name, ss in cases:
            if missing_tools(name, loop=True, sector_size=ss):
                continue
            with self.subTest(layout=name, sector_size=ss), Layout(name, sector_size=ss, loop=True) as layout:
                disk = describe(layout.node)
                self.check_disk(disk, layout, loop=True)
                self.assertFalse(disk["usable"])
                self.assertEqual(disk["reason-codes"], ["loop"])
                disk = describe(layout.node, "--include-loop")
                self.assertTrue(disk["usable"], disk["reasons"])
                self.assertEqual(disk["reason-codes"], [])
                self.assertEqual(disk["reasons"], [])

    def test_without_partition_scan(self):
        # Partitions are in the table but have no device nodes.
        with Layout("gpt-linux", loop=True, partscan=False) as layout:
            disk = describe(layout.node, "--include-loop")
            self.assertEqual(layout.mismatches(disk), [])
            self.assertEqual([p["node"] for p in disk["partitions"]], ["", "", ""])
            self.assertEqual(disk["contents"], "Linux")

    def test_enumerate(self):
        with Layout("gpt-windows", loop=True) as a, Layout("gpt-4k", loop=True) as b, \
                Layout("mbr-windows") as f:
            disks = probe("--include-loop", "--file", f.path)
            by_device = {d["device"]: d for d in disks}
            self.assertIn(a.node, by_device)
            self.assertIn(b.node, by_device)
            self.assertEqual(disks[-1]["device"], f.path)
            self.check_disk(by_device[a.node], a, loop=True)
            self.check_disk(by_device[b.node], b, loop=True)
            self.check_disk(by_device[f.path], f, loop=False)
            self.assertTrue(by_device[a.node]["usable"])
            for d in disks:
                self.assertEqual(set(d), DISK_KEYS)
                # Never a partition listed as a disk.
                for layout in (a, b):
                    for p in layout.partitions:
                        self.assertNotEqual(d["device"], layout.partition_node(p.number))

            without = {d["device"]: d for d in probe()}
            self.assertEqual(without[a.node]["reason-codes"], ["loop"])

    def test_mounted(self):
        with Layout("gpt-linux", loop=True) as layout:
            with layout.mount(2) as target:
                disk = describe(layout.node, "--include-loop")
                self.assertFalse(disk["usable"])
                self.assertEqual(disk["reason-codes"], ["mounted"])
                self.assertIn(target, disk["reasons"][0])
                self.assertEqual(disk["partitions"][1]["mountpoint"], target)
                self.assertEqual(disk["partitions"][0]["mountpoint"], "")
                # The image file behind the mounted loop device is busy too.
                fdisk = describe(layout.path)
                self.assertEqual(fdisk["reason-codes"], ["mounted"])
            disk = describe(layout.node, "--include-loop")
            self.assertTrue(disk["usable"], disk["reasons"])

    def test_swap_in_use(self):
        with Layout("gpt-linux", loop=True) as layout:
            node = layout.partition_node(3)
            if subprocess.run(["swapon", node], stderr=subprocess.DEVNULL).returncode != 0:
                self.skipTest("swapon not permitted here")
            try:
                disk = describe(layout.node, "--include-loop")
                self.assertEqual(disk["reason-codes"], ["in-use"])
            finally:
                subprocess.run(["swapoff", node])

    def test_live_device(self):
        with Layout("gpt-empty", loop=True) as layout:
            disk = describe(layout.node, "--include-loop", "--live-device=" + layout.node)
            self.assertEqual(disk["reason-codes"], ["live-medium"])

    def test_read_only_loop(self):
        with Layout("gpt-empty") as layout:
            node = subprocess.run(["losetup", "--find", "--show", "--read-only", layout.path],
                                  stdout=subprocess.PIPE, check=True).stdout.decode().strip()
            try:
                disk = describe(node, "--include-loop")
                self.assertEqual(disk["reason-codes"], ["read-only"])
                self.assertTrue(disk["read-only"])
            finally:
                subprocess.run(["losetup", "--detach", node])

    def test_partition_is_not_a_disk(self):
        with Layout("gpt-linux", loop=True) as layout:
            proc = subprocess.run([PROBE, "--describe", layout.partition_node(1)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertNotEqual(proc.returncode, 0)


class TestMonitor(unittest.TestCase):
    def test_loop_added_and_removed(self):
        mon = subprocess.Popen([PROBE, "--monitor", "--timeout=60", "--include-loop", "--live-device="],
                               stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
        events = []

        def read_until(pred, timeout=15):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                r, _, _ = select.select([mon.stdout], [], [], 0.2)
                if r:
                    line = mon.stdout.readline()
                    if not line:
                        break
                    ev = json.loads(line)
                    events.append(ev)
                    if pred(ev):
                        return ev
            self.fail("no matching event; got %s" % [(e["event"], e.get("device") or e.get("disk", {}).get("device")) for e in events])

        try:
            read_until(lambda e: e["event"] == "ready")
            with Layout("gpt-linux", loop=True) as layout:
                node = layout.node
                # The last word about the disk, once its partitions are there.
                ev = read_until(lambda e: e["event"] in ("added", "changed") and
                                e["disk"]["device"] == node and len(e["disk"]["partitions"]) == 3)
                self.assertEqual(events[[e.get("disk", {}).get("device") for e in events].index(node)]["event"], "added")
                self.assertEqual(ev["disk"]["contents"], "Linux")
                self.assertTrue(ev["disk"]["usable"])
                # Mounting raises no uevent; the mount table is watched.
                with layout.mount(2):
                    read_until(lambda e: e["event"] == "changed" and e["disk"]["device"] == node and
                               e["disk"]["reason-codes"] == ["mounted"])
                read_until(lambda e: e["event"] == "changed" and e["disk"]["device"] == node and
                           e["disk"]["reason-codes"] == [])
            read_until(lambda e: e["event"] == "removed" and e["device"] == node)
        finally:
            mon.terminate()
            mon.wait()
            mon.stdout.close()


def main():
    if not PROBE or not os.path.exists(PROBE):
        print("IMPRINT_DISK_PROBE does not name the imprint-disk-probe binary: skipping")
        return 77
    if os.geteuid() != 0:
        print("needs root for loop devices and mounts: skipping")
        return 77
    missing = missing_tools("gpt-bitlocker", loop=True) + missing_tools("gpt-luks") + missing_tools("gpt-linux")
    if missing:
        print("missing tools: %s: skipping" % ", ".join(sorted(set(missing))))
        return 77
    result = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:], exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

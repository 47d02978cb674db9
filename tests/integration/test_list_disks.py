#!/usr/bin/python3
'''imprintctl list-disks --json, through imprintd on a test bus, reports
real layouts (loop devices and image files) exactly; hotplug is signalled.'''

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import imprinttest  # noqa: E402
import layouts  # noqa: E402

# One of each kind the issue names: GPT and MBR, 512 and 4096-byte sectors,
# Windows-like, Linux, empty.
LOOP_LAYOUTS = [('gpt-windows', 512), ('gpt-linux', 512), ('gpt-empty', 512), ('empty', 512),
                ('mbr-windows', 512), ('gpt-4k', 4096), ('gpt-windows', 4096), ('gpt-bitlocker', 512),
                ('gpt-luks', 512)]


class ListDisksTest(imprinttest.ImprintTestCase):

    def need(self, name, loop=True, sector_size=None):
        missing = layouts.missing_tools(name, loop=loop, sector_size=sector_size)
        if missing:
            self.skipTest(f'{name} needs {", ".join(missing)}')

    def find(self, disks, device):
        for d in disks:
            if d['device'] == device:
                return d
        self.fail(f'{device} not listed: {[d["device"] for d in disks]}')

    def test_loop_layouts(self):
        for name, ss in LOOP_LAYOUTS:
            with self.subTest(layout=name, sector_size=ss):
                self.need(name, loop=True, sector_size=ss)
                with layouts.Layout(name, sector_size=ss, loop=True) as disk:
                    disks = self.bus.ctl_json('list-disks', '--include-loop')
                    d = self.find(disks, disk.node)
                    self.assertEqual(disk.mismatches(d), [])
                    self.assertTrue(d['usable'], d.get('reasons'))
                    self.assertEqual(d['physical-sector-size'] >= ss, True)

    def test_loop_is_unusable_unless_asked(self):
        self.need('gpt-linux')
        with layouts.Layout('gpt-linux', loop=True) as disk:
            d = self.find(self.bus.ctl_json('list-disks'), disk.node)
            self.assertFalse(d['usable'])
            self.assertIn('loop', d['reason-codes'])
            self.assertTrue(d['reasons'])

    def test_mounted_partition_makes_disk_unusable(self):
        self.need('gpt-linux')
        with layouts.Layout('gpt-linux', loop=True) as disk:
            ext4 = next(p.number for p in disk.partitions if p.fs == 'ext4')
            with disk.mount(ext4):
                d = self.find(self.bus.ctl_json('list-disks', '--include-loop'), disk.node)
                self.assertFalse(d['usable'])
                self.assertIn('mounted', d['reason-codes'])

    def test_image_files(self):
        for name in ('gpt-windows', 'mbr-linux', 'gpt-empty'):
            with self.subTest(layout=name):
                self.need(name, loop=False)
                with layouts.Layout(name, loop=False) as disk:
                    disks = self.bus.ctl_json('list-disks', '--file', disk.path)
                    d = self.find(disks, disk.path)
                    self.assertEqual(disk.mismatches(d), [])

    def test_human_table(self):
        self.need('gpt-windows')
        with layouts.Layout('gpt-windows', loop=True) as disk:
            r = self.bus.ctl('list-disks', '--include-loop', check=0)
            line = next((l for l in r.stdout.splitlines() if l.startswith(disk.node + ' ')), None)
            self.assertIsNotNone(line, r.stdout)
            self.assertIn(disk.contents, line)
            self.assertIn('DEVICE', r.stdout.splitlines()[0])

    def test_missing_file_is_a_clear_error(self):
        r = self.bus.ctl('list-disks', '--file', '/nonexistent/disk.img', check=5)
        self.assertIn('/nonexistent/disk.img', r.stderr)
        self.assertNotIn('GDBus', r.stderr)

    def test_unprivileged_user_cannot_read_root_files(self):
        self.need('gpt-linux', loop=False)
        with layouts.Layout('gpt-linux', loop=False) as disk:
            os.chmod(disk.path, 0o600)
            r = self.bus.ctl('list-disks', '--file', disk.path, user=65534, check=4)
            # imprintd opens it as the caller: the kernel's answer.
            self.assertIn('Permission denied', r.stderr)

    def test_hotplug_is_signalled(self):
        self.need('gpt-linux')
        monitor = subprocess.Popen(['gdbus', 'monitor', '--system', '--dest', 'dev.imprint.Imprint1'],
                                   env=self.bus.env, stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(1)
            with layouts.Layout('gpt-linux', loop=True) as disk:
                node = disk.node
                deadline = time.monotonic() + 20
                seen = ''
                os.set_blocking(monitor.stdout.fileno(), False)
                while time.monotonic() < deadline and f"'{node}'" not in seen:
                    chunk = monitor.stdout.read()
                    if chunk:
                        seen += chunk
                    time.sleep(0.2)
                self.assertRegex(seen, r'Disk(Added|Changed)', seen)
                self.assertIn(f"'{node}'", seen)
        finally:
            monitor.terminate()
            monitor.wait()


if __name__ == '__main__':
    imprinttest.main()

#!/usr/bin/python3
'''The demo behind tools/demo: imprintd on a private bus, image files on
loop devices as disks, driven by the real imprintctl.'''

import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'lib'))
import imprinttest  # noqa: E402
import layouts  # noqa: E402


def say(text):
    print(f'\n\033[1m== {text}\033[0m', flush=True)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build-demo')
    os.environ['IMPRINTD'] = os.path.join(build, 'backend', 'daemon', 'imprintd')
    os.environ['IMPRINTCTL'] = os.path.join(build, 'backend', 'ctl', 'imprintctl')

    # As root, imprintd needs no polkit: nothing else is asked.
    bus = imprinttest.TestBus(start_polkit=False)
    try:
        with layouts.Layout('gpt-windows', loop=True) as windows, \
             layouts.Layout('gpt-empty', loop=True) as empty:
            say(f'Two disks: {windows.node} (Windows-like, free space) and {empty.node} (empty)')
            say('imprintctl list-disks --include-loop')
            subprocess.run([os.environ['IMPRINTCTL'], 'list-disks', '--include-loop'], env=bus.env)
    finally:
        bus.stop()


if __name__ == '__main__':
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guest side of the keyboard-driven GUI tests: reads the running Imprint
app through the accessibility tree (AT-SPI), as a screen reader would, and
prints what a person would see and hear as console markers:

  IMPRINT-TEST: FOCUS=<role>|<name>     the widget that has the keyboard focus
  IMPRINT-TEST: LABEL=<text>            a text that came into view
  IMPRINT-TEST: A11Y=ready              the app was found on the bus
  IMPRINT-TEST: APPS=<a>,<b>            the applications on the bus (Orca too)

It never acts on the app: the host types on the keyboard (QMP send-key).
Runs as the app's user with AT_SPI_BUS_ADDRESS set (tests/vm/guest/a11y-run).
"""

import sys
import time

import gi
gi.require_version('Atspi', '2.0')
from gi.repository import Atspi, GLib  # noqa: E402

MARKER = 'IMPRINT-TEST: '
seen_labels = set()
last_focus = None


def say(text):
    print(MARKER + text.replace('\n', ' '), flush=True)


def find_app():
    desktop = Atspi.get_desktop(0)
    desktop.set_cache_mask(Atspi.Cache.NONE)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is not None and (app.get_name() or '').lower().startswith('imprint'):
            app.set_cache_mask(Atspi.Cache.NONE)
            return app
    return None


def text_of(obj):
    name = obj.get_name() or ''
    if name:
        return name
    try:
        if obj.get_text_iface() is not None:
            return Atspi.Text.get_text(obj, 0, Atspi.Text.get_character_count(obj)) or ''
    except (GLib.Error, TypeError, AttributeError):
        pass
    return ''


def walk(obj, depth, labels, focus):
    if depth > 60:
        return
    try:
        states = obj.get_state_set()
        if not states.contains(Atspi.StateType.SHOWING):
            return
        role = obj.get_role()
        if states.contains(Atspi.StateType.FOCUSED):
            focus.append(f'{obj.get_role_name()}|{text_of(obj)}')
        if role in (Atspi.Role.LABEL, Atspi.Role.HEADING):
            text = text_of(obj).strip()
            if text:
                labels.append(text)
        n = obj.get_child_count()
        # A long list (time zones: hundreds of rows) costs minutes per walk
        # under emulation; its rows are not what the test reads.
        if role in (Atspi.Role.LIST_BOX, Atspi.Role.LIST) and n > 60:
            return
        for i in range(n):
            child = obj.get_child_at_index(i)
            if child is not None:
                walk(child, depth + 1, labels, focus)
    except GLib.Error:
        pass


def report_focus(f):
    global last_focus
    if f is not None and f != last_focus:
        say(f'FOCUS={f}')
        last_focus = f


def main():
    app = None
    deadline = time.monotonic() + 600
    while app is None:
        app = find_app()
        if app is None:
            if time.monotonic() > deadline:
                say('A11Y=no-app')
                return 1
            time.sleep(2)
    state = {'showing': set(), 'first': True, 'apps': None}

    def look():
        labels, focus = [], []
        try:
            desktop = Atspi.get_desktop(0)
            apps = sorted({(desktop.get_child_at_index(i).get_name() or '?')
                           for i in range(desktop.get_child_count())
                           if desktop.get_child_at_index(i) is not None})
        except GLib.Error:
            apps = state['apps']
        if apps != state['apps']:
            say('APPS=' + ','.join(apps or []))
            state['apps'] = apps
        try:
            for i in range(app.get_child_count()):
                window = app.get_child_at_index(i)
                if window is not None:
                    walk(window, 0, labels, focus)
        except GLib.Error:
            return
        for text in labels:
            if text not in state['showing']:
                say(f'LABEL={text}')
        state['showing'] = set(labels)
        report_focus(focus[-1] if focus else None)
        if state['first']:
            state['first'] = False
            say('A11Y=ready')

    # Polled, not through events: listening to focus events made GTK send
    # every state change over the bus, which under emulation slowed the
    # app and the walk down more than polling does.
    while True:
        try:
            look()
        except Exception as e:     # keep watching: a widget went away mid-walk
            say(f'A11Y_ERROR={type(e).__name__}: {e}')
            time.sleep(2)
        time.sleep(0.3)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

# A GTK3 window with one text entry, for the injector test: prints "ready <xid>" when
# mapped, then the entry's text when Return is pressed, then exits.
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("GdkX11", "3.0")
from gi.repository import GdkX11, GLib, Gtk  # noqa: E402,F401

win = Gtk.Window(title="shadowless-input-test")
win.set_default_size(300, 100)
win.move(0, 0)
entry = Gtk.Entry()
win.add(entry)


def on_activate(e):
    print("text " + e.get_text(), flush=True)
    Gtk.main_quit()


def on_map(w, event):
    print("ready %d" % w.get_window().get_xid(), flush=True)
    return False


entry.connect("activate", on_activate)
win.connect("map-event", on_map)
win.connect("destroy", Gtk.main_quit)
win.show_all()
GLib.timeout_add_seconds(30, Gtk.main_quit)
Gtk.main()
sys.exit(0)

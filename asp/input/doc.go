// Package input is the keyboard and mouse event model of ASP and its injection into an X
// display through XTEST.
//
// Event carries X11 keysyms (Unicode keysyms 0x01000000+rune for text outside Latin-1),
// absolute pointer coordinates, X11 button numbers and wheel steps; an Injector delivers
// them. X11Injector (OpenX11) sends them with XTEST on the "Virtual core XTEST keyboard"
// and "Virtual core XTEST pointer" devices, found through XInput2's XIQueryDevice (sent by
// hand, as xgb has no XInput binding). GTK3 applications, which read keys through XInput2,
// receive the keys; the package's tests type ASCII and non-ASCII text into a GTK3 entry.
//
// Keysyms are looked up in the server's keyboard map (GetKeyboardMapping, reloaded on
// MappingNotify). A keysym on a key's shifted level is sent with Shift pressed around it
// unless Shift is already held; a keysym on no key (é, 中, €, ...) is bound to a spare
// keycode with ChangeKeyboardMapping and then pressed. Spare keycodes are recycled least
// recently used first (never one that is held down, nor one pressed in the last 150 ms, so
// slow clients still read the old binding) and emptied again on Close, so a
// session leaves the keyboard map as it found it. Pointer coordinates are clamped to the
// screen (which follows RANDR resizes); wheel steps become clicks of buttons 4/5 (vertical)
// and 6/7 (horizontal).
package input

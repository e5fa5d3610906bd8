// Package xtestapp is a tiny X11 application for end-to-end tests of streaming: a window
// covering the screen that draws a coloured block for every key typed (block i at a known
// place, colour from the key's keysym) and a marker wherever a mouse button is pressed
// (wheel steps are only recorded), so a
// test can check in decoded video pixels that typing and clicking reached the desktop. It
// talks X11 through jezek/xgb, with no Xlib.
package xtestapp

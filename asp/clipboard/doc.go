// Package clipboard shares the desktop's clipboard with the client: the Clipboard interface
// and its X11 implementation, which owns and watches the CLIPBOARD selection.
package clipboard

// Package clipboard shares the desktop's clipboard with the client: the Clipboard interface
// and its X11 implementation, which owns and watches the CLIPBOARD selection.
//
// X11 (OpenX11) keeps a hidden InputOnly window on the display. Set makes it the CLIPBOARD
// owner and it answers other applications' SelectionRequests for TARGETS, UTF8_STRING,
// TEXT and STRING (Latin-1, '?' outside it); text larger than one X request (about 256 KiB)
// is sent incrementally (ICCCM INCR), and text over MaxSend is refused with ErrTooLarge.
// XFIXES selection events tell it when another application takes the CLIPBOARD; it then
// converts the selection to UTF8_STRING (or STRING for old clients), following incremental
// (INCR) transfers up to MaxReceive bytes, and sends the text on Changes. Its own Set is not
// reported back. PRIMARY (the middle-click selection) is not handled.
//
// Policy (which direction may flow, size limits, audit) is the caller's: it decides what to
// pass to Set and what to do with what arrives on Changes.
package clipboard

// Package capture reads the screen: an X11 source (MIT-SHM grabs, DAMAGE for changed regions,
// XFIXES for the cursor, RANDR for resizes) and a synthetic source for tests, both producing
// I420 frames through the Source interface.
//
// X11Source (OpenX11) talks to the X server with github.com/jezek/xgb only. It creates a
// DAMAGE object on the root window (report level NonEmpty) and, when damage is pending,
// moves it into an XFIXES region and fetches its rectangles; these are aligned to even
// coordinates (the 2x2 chroma blocks), merged, and each is grabbed (MIT-SHM GetImage into a
// System V segment, or plain GetImage when SHM is unusable) and converted to I420 into one
// persistent picture with asp/yuv. Frames keep to MaxFPS per second on average (Pacer: one
// may come up to half an interval early, so a workload drawing at that rate is not halved
// by clock jitter); damage arriving faster is coalesced. An idle screen produces nothing but a full refresh frame every
// RefreshInterval, so a receiver that lost data recovers. A RANDR resize re-creates the
// picture and segment and yields a full frame at the new size. Cursor shapes (XFIXES
// CursorNotify + GetCursorImage, converted to straight alpha) and pointer positions (polled)
// arrive on Cursors. When the X server goes away, Next fails with ErrDisplayClosed.
//
// Synthetic (NewSynthetic) produces deterministic "typing" frames with exact damage, for
// tests and benchmarks that need no X server.
package capture

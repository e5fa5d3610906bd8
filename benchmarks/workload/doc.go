// Package workload plays deterministic X11 programs that replay the scenarios of the
// product's performance table, for the QA harness (benchmarks/harness) and for demos
// (`shadowless bench --workload-only SCENARIO --display :N`):
//
//   - fileops: a file manager whose list view redraws when a folder opens, a file opened by
//     a click in a document window, that window dragged across the screen;
//   - web: a browser scrolling a long page of text and pictures in flicks, and reloading it;
//   - video[-window][-24|-30|-60]: natural-looking motion (a pan over a generated landscape
//     with moving objects) at 24, 30 or 60 fps, full screen or in a player window;
//   - 3d: fast full-screen flight over a chequered plain between pillars at 60 fps;
//   - typing: text typed into a word processor in bursts, with a blinking caret.
//
// Each frame carries a Stamp in the top-left corner: 32 black or white 16x16 cells on the
// macroblock grid (sync, a 20-bit frame number, an 8-bit response counter, parity) that
// ReadStamp reads back from decoded, lossy pictures, so sent and received frames can be
// paired. Every key or button press is answered at once, in the same frame, with a visible
// change and a higher response counter, so click-to-photon latency can be timed.
//
// The programs speak X11 through jezek/xgb (no Xlib) and draw on the server side: pages and
// textures are uploaded once into pixmaps and panned with CopyArea, objects are filled
// rectangles, arcs and polygons, text is ImageText8 in the core "fixed" font. The stamp is
// written in one PutImage and the scenes draw through a GC clipped around it, so a capture
// never sees half a stamp. Each frame ends with a round trip, so drawing cannot queue up.
// Content comes from Options.Seed; animation advances per frame period (tick), so the
// same seed gives the same pictures.
package workload

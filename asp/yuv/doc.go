// Package yuv converts pictures between the pixel layouts of the streaming pipeline: the
// 32-bit BGRX pixels of an X11 ZPixmap screen grab into the planar 4:2:0 Y'CbCr (I420) that
// the video encoders take, and decoded I420 back to RGBA for clients and tests.
//
// Colours follow ITU-R BT.601 in limited ("studio", 16–235) range, which is what browsers
// assume for VP8 and H.264 streams that carry no colour description. The arithmetic is in
// integers, written so the compiler can drop bounds checks from the inner loops; on amd64
// the BGRA→I420 rows run in SSE2 assembly (the amd64 baseline) with exactly the same
// arithmetic, about 0.9 ms for a 1920×1080 screen on one core against 4.8 ms for the Go
// loop, which other architectures use. BGRAToI420 converts only the damaged rectangle when
// the caller knows one.
package yuv

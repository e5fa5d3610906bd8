// Package asp is the Adaptive Streaming Protocol: it carries a remote desktop or a single
// application from the data centre to a browser or thin client. Display frames travel down as
// video, the cursor as images and positions, and keyboard, mouse and clipboard travel up, each
// on a virtual channel with its own priority. Sub-packages split the work by concern: capture
// (X11), codec (VP8/VP9/H.264), input (the event model and XTEST injection), clipboard, web
// (the browser client) and client (the native Go client SDK). See PROTOCOL.md for the wire
// format.
//
// A Server streams a desktop over WebRTC (pion). It serves, on one http.Handler, the browser
// page on "/", signalling on "POST /api/offer" (the client's complete offer as JSON in, the
// complete answer out) and Prometheus metrics on "/metrics" (shadowless_asp_*, registered
// with the registry given by WithRegistry). Every accepted offer becomes a session: the
// server calls its DesktopOpener (X11Desktop for an X display) for a capture source, an input
// injector and a clipboard of the session's own, encodes frames only when the screen changed
// (or a refresh is due), sends them on one video track with capture-time RTP timestamps, and
// runs the input, cursor, clipboard and control data channels. Capture and encoding run as a
// two-stage pipeline: a capture goroutine grabs and converts frame N+1 while frame N
// encodes, timed to finish as the encoder does, and hands it over through a one-frame slot
// in which a newer frame replaces one not yet taken (never a queue). One capture per session keeps
// sessions independent (a keyframe or resize for one viewer costs the others nothing) and is
// cheap with MIT-SHM and damage-driven capture; sharing one capture between viewers is a later
// optimisation for shared desktops.
//
// Adaptation (package adapt holds the pure logic): every session estimates its bandwidth
// with GCC over transport-wide congestion control feedback (pion's send-side BWE, no pacer,
// bounded by WithBandwidth), caps the estimate at twice what it really sends, leaves the
// data channels their share and lets a rate controller pick bitrate, then frame rate, then
// picture size (a box-filtered downscale) for the encoder, with a single-frame VBV on
// libvpx. The capacity of the bottleneck is measured from the transport-wide feedback:
// every packet's send time is kept by its transport-wide sequence number, and packets that
// queued at a link (one-way delay above the path's least, arrival gap wider than the send
// gap) arrive spaced at its rate, while packets that did not only show the sender's own
// rate (adapt.DeliveryMeter). On a measured bottleneck slow for the picture (under ~2 bits
// per pixel per second), or for 10 s after the estimate fell or a NACK came, the VBV is
// enforced per frame where libvpx's rate control misses it (vbv.go): a frame whose damage,
// at the bits per changed pixel recent frames cost, would exceed 2 frame intervals of the
// link is encoded with codec.CappedEncoder (a trial that leaves the stream as it was, then
// the real frame at a quantiser that fits); a change that not even the coarsest quantiser
// fits goes out at it and the pacer spreads its cost over the frames after it. Each
// frame's damage feeds a scene classifier (office, video, game) that sets the frame-rate
// cap and quantiser range; a still office screen gets one refinement frame and then costs
// nothing. While the capacity is known, or for 10 s after the estimate fell or a NACK
// came, a frame pacer holds the next frame until the link has carried what is in flight
// (on a measured bottleneck the capture grabs the next picture only then, with all the
// damage since: an encoder over its budget sends fewer frames instead of filling the
// router's queue), big frames'
// packets are spread at 1.5× that rate, a picture-size governor steps the size down when
// frames stay 3× over the link's budget, and the quantiser floor rises on a link under ~2
// bits per pixel per second. PLI, FIR and keyframe requests pass a rate limit of 300 ms or twice the last
// keyframe's time on the link; NACKs are answered by our own responder, one copy per
// 100 ms for packets up to 1 s old within a budget, so repeated NACKs never become a
// retransmission storm. UDP sockets get 4 MB buffers (LargeSocketBuffers). Outgoing channel messages go through a scheduler: control and cursor first,
// clipboard by weight within its budget and only while the SCTP buffer is short. The codec
// comes from an encoder registry matched against the client's decoders (SDP, or the native
// client's capability block); GET /api/sessions lists every session with its choice, the
// reasons, estimate, target and mode. WithICETCP adds ICE over TCP for clients without
// UDP, and ServeDirect runs the same sessions over the direct transport (asp/direct) for
// native clients (client.DialDirect).
//
// Clipboard text crosses only through the caller's ClipboardPolicy. Malformed channel
// messages are dropped and counted; the X server going away ends the session with a Bye that
// says why; a client leaving frees the encoder, the X connections and every goroutine.
//
// The message functions (AppendInput/DecodeInput, AppendCursor/DecodeCursor,
// AppendClipboard/DecodeClipboard, ControlMessage/DecodeControl) are pure and do no I/O.
package asp

// Package adapt is the adaptive brain of ASP, as pure logic with no I/O: the sender-side
// scheduler that orders the virtual channels by priority class and weighted share within the
// bandwidth budget; the split of the bandwidth estimate between video and channels (with the
// application-limited cap pion's GCC lacks); the rate controller that lowers bitrate, then
// frame rate, then resolution; the send ceiling that trims the encoder's target so what a
// video really sends stays under a limit (a closed loop around the encoder's own rate
// control); the scene-cut detector that lets a cut be coded coarser than its mode's floor
// so it does not starve the frames after it; the frame pacer that holds an overshooting encoder to a
// congested link frame by frame instead of in a packet queue; the retransmission policy
// that answers repeated NACKs once per interval within a budget (no retransmission storm);
// the keyframe limiter that keeps loss from becoming a keyframe storm; the scene classifier (office, video, game) with hysteresis and the refinement frame
// for still text; and the capability negotiation that picks the best encoder and decoder
// pair from an encoder registry with session limits.
package adapt

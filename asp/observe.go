package asp

import "time"

// FrameEvent describes one video frame a session encoded, for benchmarks and monitoring
// (see WithFrameObserver). All times are from the server's clock.
type FrameEvent struct {
	// CaptureSeq is the capture.Frame.Seq of the picture; 0 for a refinement, which
	// encodes the last picture again.
	CaptureSeq uint64
	// Captured is when the picture was read from the display (for a refinement: when it
	// was encoded again).
	Captured time.Time
	// EncodeStart and EncodeEnd bracket the encoder call.
	EncodeStart, EncodeEnd time.Time
	// Sent is when the last RTP packet of the frame was handed to the transport (zero if
	// the frame was dropped).
	Sent time.Time
	// RTPTimestamp is the frame's RTP timestamp, as the client sees it.
	RTPTimestamp uint32
	// Bytes is the encoded size (0 when the encoder dropped the frame).
	Bytes int
	// Keyframe reports an intra frame; Refine a refinement of a still picture.
	Keyframe, Refine bool
	// Dropped reports a frame that did not go out (encoder drop or write failure).
	Dropped bool
}

// WithFrameObserver has every session call f for each frame it encodes, from its encode
// loop, after the frame was sent: f must return quickly. It is how `shadowless bench`
// splits latency into encode and send and counts keyframes.
func WithFrameObserver(f func(FrameEvent)) Option { return func(c *config) { c.frameObserver = f } }

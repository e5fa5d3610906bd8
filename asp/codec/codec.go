package codec

import (
	"errors"
	"image"
	"math"
	"time"
)

// Codec names a video compression format.
type Codec string

// The codecs Shadowless encodes and decodes.
const (
	VP8  Codec = "VP8"
	VP9  Codec = "VP9"
	H264 Codec = "H264"
)

// MimeType returns the RTP/WebRTC MIME type of the codec, such as "video/VP8".
func (c Codec) MimeType() string { return "video/" + string(c) }

// ErrUnsupported is returned when a codec is not compiled into this binary or not known.
var ErrUnsupported = errors.New("codec: unsupported codec")

// EncoderConfig is what an encoder is opened with. Bitrate and frame rate may be changed
// later without reopening the encoder.
type EncoderConfig struct {
	Codec  Codec
	Width  int // pixels, even
	Height int // pixels, even
	// FrameRate is the nominal frame rate, used for rate control.
	FrameRate float64
	// BitrateKbps is the target bitrate in kilobits per second.
	BitrateKbps int
	// KeyframeInterval is the maximum distance between keyframes in frames; 0 means
	// keyframes only at the start and on request.
	KeyframeInterval int
	// Threads is the number of encoder threads; 0 lets the encoder choose.
	Threads int
	// ScreenContent tunes the encoder for desktop content (text, flat areas).
	ScreenContent bool
	// MinQuantizer and MaxQuantizer bound the quantiser the rate control may pick, in the
	// codec's own scale: 0–63 for VP8 and VP9 (libvpx's rc_min_quantizer/rc_max_quantizer),
	// 0–51 for H.264 (QP). 0 means the codec default. Lower is better quality.
	MinQuantizer int
	MaxQuantizer int
	// MaxFrameRatio, when above zero, asks for a single-frame VBV: no encoded frame should
	// be larger than about MaxFrameRatio × BitrateKbps / FrameRate, keyframes included, so
	// that a big change never clogs the link. The encoder may drop a frame (an empty Packet)
	// to keep to it; the caller must then encode the picture again later. 0 keeps the
	// default, WebRTC's: a one-second buffer, libvpx keyframes up to about 0.3 s of bitrate.
	// libvpx caps each frame (rc_buf_sz, max intra/inter bitrate percentages); OpenH264 has
	// no per-frame cap and instead skips the frames after one that overshot.
	MaxFrameRatio float64
	// Speed trades compression for encode time, 1 (slowest, best) to 16 (fastest); 0 is
	// the encoder's default for desktop content. libvpx takes it as cpu-used (VP8: fixed
	// speed -Speed; VP9 realtime: Speed capped to 9); OpenH264 ignores it.
	Speed int
}

// Packet is one encoded frame.
type Packet struct {
	Data     []byte
	Keyframe bool
	// PTS is the presentation time the frame was submitted with.
	PTS time.Duration
}

// Encoder compresses I420 pictures. It is not safe for concurrent use.
type Encoder interface {
	// Encode compresses one picture of the configured size. A Packet with empty Data means
	// the encoder chose to drop the frame (rate control); that is not an error.
	Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) (Packet, error)
	// SetBitrate changes the target bitrate without restarting the stream.
	SetBitrate(kbps int) error
	// SetFrameRate changes the nominal frame rate used for rate control.
	SetFrameRate(fps float64) error
	// Config returns the configuration in force.
	Config() EncoderConfig
	// Close releases the encoder.
	Close() error
}

// QuantizerSetter is implemented by encoders that can change their quantiser range while
// the stream runs (all encoders of this package do). The arguments follow
// EncoderConfig.MinQuantizer and MaxQuantizer; 0 restores the codec default. libvpx takes
// the new range at the next frame; OpenH264 must be re-initialised for it, so with H.264
// the next frame is an IDR.
type QuantizerSetter interface {
	SetQuantizerRange(minQ, maxQ int) error
}

// SpeedSetter is implemented by encoders that can change EncoderConfig.Speed while the
// stream runs (libvpx takes it at the next frame).
type SpeedSetter interface {
	SetSpeed(speed int) error
}

// FrameRatioSetter is implemented by encoders that can change EncoderConfig.MaxFrameRatio
// while the stream runs (libvpx resizes its rate-control buffer at the next frame). Only
// a stream opened with a ratio above zero can change it, to another ratio above zero.
// Verified for VP8; VP9 accepts the new buffer size, but its frame sizes did not follow.
type FrameRatioSetter interface {
	SetMaxFrameRatio(ratio float64) error
}

// ContentSetter is implemented by encoders that can change EncoderConfig.ScreenContent
// while the stream runs. For VP8 it also decides libvpx's overshoot handling: a screen
// stream with a single-frame VBV (screen content mode 2) drops a frame that overshoots
// its budget and codes the next one at the coarsest quantiser, which is what a scene cut
// of a video does; a camera-content stream codes the cut within its VBV instead.
type ContentSetter interface {
	SetScreenContent(screen bool) error
}

// Decoder decompresses packets produced by an Encoder of the same codec. It is not safe for
// concurrent use.
type Decoder interface {
	// Decode decompresses one packet. It returns a nil image and no error when the packet
	// produced no picture. The returned image is valid until the next call.
	Decode(data []byte) (*image.YCbCr, error)
	// Close releases the decoder.
	Close() error
}

// CappedEncoder is implemented by encoders that can hold one delta frame to a size
// (libvpx: VP8 and VP9). EncodeCapped encodes img as Encode does without a forced
// keyframe, but when the frame would come out larger than maxBytes it is encoded at a
// coarser quantiser instead, so no more than about maxBytes leave for it unless even the
// coarsest quantiser of the range cannot reach it. maxBytes <= 0 means no cap. It costs a
// second encode, so callers use it for the frames at risk (a large change on a slow link).
type CappedEncoder interface {
	EncodeCapped(img *image.YCbCr, pts time.Duration, maxBytes int) (Packet, error)
}

// capQHalving is how many steps of libvpx's 0–63 quantiser halve a frame's size, about,
// for desktop content (measured on text and photo scene cuts with VP8 and VP9).
const capQHalving = 8

// capMargin is the share of the cap CapQuantizer aims at, since the size model is rough.
const capMargin = 0.8

// CapQuantizer returns the quantiser (libvpx 0–63) at which a frame that came out at size
// bytes with quantiser q should fit maxBytes: q itself when it fits, otherwise q raised by
// capQHalving steps per halving needed (aiming at capMargin × maxBytes), at least one step,
// within minQ..maxQ.
func CapQuantizer(q, size, maxBytes, minQ, maxQ int) int {
	q = min(max(q, minQ), maxQ)
	if maxBytes <= 0 || size <= maxBytes {
		return q
	}
	steps := math.Ceil(capQHalving * math.Log2(float64(size)/(capMargin*float64(maxBytes))))
	return min(max(q+int(steps), q+1, minQ), maxQ)
}

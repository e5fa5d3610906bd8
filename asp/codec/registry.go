package codec

import (
	"errors"
	"fmt"
	"image"
	"runtime"
)

// Errors callers may branch on. They are wrapped with detail, so test with errors.Is.
var (
	// ErrInvalidConfig is returned for an encoder configuration that cannot work, such as
	// an odd or zero size or a non-positive bitrate.
	ErrInvalidConfig = errors.New("codec: invalid configuration")
	// ErrSizeMismatch is returned by Encode for a picture whose size or layout differs from
	// the configured one.
	ErrSizeMismatch = errors.New("codec: picture does not match the encoder configuration")
	// ErrCorrupt is returned by Decode for data the decoder cannot decode.
	ErrCorrupt = errors.New("codec: corrupt or undecodable data")
	// ErrClosed is returned when an encoder or decoder is used after Close.
	ErrClosed = errors.New("codec: closed")
)

// Limits of the configuration accepted by NewEncoder.
const (
	MaxDimension   = 8192    // largest width or height
	MinBitrateKbps = 10      // smallest target bitrate
	MaxBitrateKbps = 1000000 // largest target bitrate (1 Gbit/s)
	MaxFrameRate   = 240.0   // largest nominal frame rate
)

// Available lists the codecs compiled into this binary, in order of preference for desktop
// streaming. Without cgo the list is empty.
func Available() []Codec {
	var out []Codec
	if haveVPX {
		out = append(out, VP8, VP9)
	}
	if haveOpenH264 {
		out = append(out, H264)
	}
	return out
}

// NewEncoder opens an encoder for cfg.Codec. Unknown or not compiled-in codecs give an
// error wrapping ErrUnsupported; an unusable configuration one wrapping ErrInvalidConfig.
func NewEncoder(cfg EncoderConfig) (Encoder, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	switch cfg.Codec {
	case VP8, VP9:
		if haveVPX {
			return newVPXEncoder(cfg)
		}
	case H264:
		if haveOpenH264 {
			return newH264Encoder(cfg)
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, cfg.Codec)
}

// NewDecoder opens a decoder for c. Unknown or not compiled-in codecs give an error wrapping
// ErrUnsupported.
func NewDecoder(c Codec) (Decoder, error) {
	switch c {
	case VP8, VP9:
		if haveVPX {
			return newVPXDecoder(c)
		}
	case H264:
		if haveOpenH264 {
			return newH264Decoder()
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, c)
}

// validate checks the parts of the configuration every codec shares.
func (cfg EncoderConfig) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case cfg.Width <= 0 || cfg.Height <= 0:
		return bad("size %dx%d must be positive", cfg.Width, cfg.Height)
	case cfg.Width%2 != 0 || cfg.Height%2 != 0:
		return bad("size %dx%d must be even", cfg.Width, cfg.Height)
	case cfg.Width > MaxDimension || cfg.Height > MaxDimension:
		return bad("size %dx%d exceeds %d", cfg.Width, cfg.Height, MaxDimension)
	}
	if err := checkBitrate(cfg.BitrateKbps); err != nil {
		return err
	}
	if err := checkFrameRate(cfg.FrameRate); err != nil {
		return err
	}
	switch {
	case cfg.KeyframeInterval < 0:
		return bad("keyframe interval %d is negative", cfg.KeyframeInterval)
	case cfg.Threads < 0 || cfg.Threads > 64:
		return bad("threads %d out of range 0..64", cfg.Threads)
	case cfg.MaxFrameRatio < 0:
		return bad("max frame ratio %g is negative", cfg.MaxFrameRatio)
	case cfg.Speed < 0 || cfg.Speed > 16:
		return bad("speed %d outside 0..16", cfg.Speed)
	}
	return checkQuantizers(cfg.Codec, cfg.MinQuantizer, cfg.MaxQuantizer)
}

func checkBitrate(kbps int) error {
	if kbps < MinBitrateKbps || kbps > MaxBitrateKbps {
		return fmt.Errorf("%w: bitrate %d kbit/s out of range %d..%d", ErrInvalidConfig, kbps, MinBitrateKbps, MaxBitrateKbps)
	}
	return nil
}

func checkFrameRate(fps float64) error {
	if !(fps >= 1 && fps <= MaxFrameRate) { // also rejects NaN
		return fmt.Errorf("%w: frame rate %g out of range 1..%g", ErrInvalidConfig, fps, MaxFrameRate)
	}
	return nil
}

// quantizerLimit is the largest quantiser of the codec's own scale.
func quantizerLimit(c Codec) int {
	if c == H264 {
		return 51
	}
	return 63
}

func checkQuantizers(c Codec, minQ, maxQ int) error {
	limit := quantizerLimit(c)
	switch {
	case minQ < 0 || minQ > limit || maxQ < 0 || maxQ > limit:
		return fmt.Errorf("%w: quantizer range %d..%d outside 0..%d", ErrInvalidConfig, minQ, maxQ, limit)
	case minQ != 0 && maxQ != 0 && minQ > maxQ:
		return fmt.Errorf("%w: min quantizer %d above max quantizer %d", ErrInvalidConfig, minQ, maxQ)
	}
	return nil
}

// defaultThreads picks an encoder thread count when the configuration leaves it to us:
// one thread for small pictures, up to four for large ones, never more than the CPUs.
// VP8 always gets one: libvpx's VP8 row threads spin while they wait for each other, which
// on a busy server (many sessions, shared cores) burns several times the CPU of one thread
// (measured: about 9 ms of CPU per 1080p desktop frame with one thread, 30–150 ms with two
// on a loaded two-core machine).
func defaultThreads(cfg EncoderConfig) int {
	if cfg.Threads > 0 {
		return cfg.Threads
	}
	if cfg.Codec == VP8 {
		return 1
	}
	n := 1
	switch px := cfg.Width * cfg.Height; {
	case px >= 1920*1080:
		n = 4
	case px >= 1280*720:
		n = 2
	}
	return max(1, min(n, runtime.NumCPU()))
}

// planes checks that img is a 4:2:0 picture of w×h whose planes are long enough, and returns
// the offsets of its first samples.
func planes(img *image.YCbCr, w, h int) (yOff, cOff int, err error) {
	if img == nil {
		return 0, 0, fmt.Errorf("%w: nil picture", ErrSizeMismatch)
	}
	r := img.Rect
	if r.Dx() != w || r.Dy() != h {
		return 0, 0, fmt.Errorf("%w: picture is %dx%d, encoder %dx%d", ErrSizeMismatch, r.Dx(), r.Dy(), w, h)
	}
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return 0, 0, fmt.Errorf("%w: subsampling %v, want 4:2:0", ErrSizeMismatch, img.SubsampleRatio)
	}
	if r.Min.X%2 != 0 || r.Min.Y%2 != 0 {
		return 0, 0, fmt.Errorf("%w: picture origin %v not even", ErrSizeMismatch, r.Min)
	}
	cw, ch := (w+1)/2, (h+1)/2
	yOff, cOff = img.YOffset(r.Min.X, r.Min.Y), img.COffset(r.Min.X, r.Min.Y)
	if img.YStride < w || img.CStride < cw || yOff < 0 || cOff < 0 ||
		len(img.Y) < yOff+(h-1)*img.YStride+w ||
		len(img.Cb) < cOff+(ch-1)*img.CStride+cw ||
		len(img.Cr) < cOff+(ch-1)*img.CStride+cw {
		return 0, 0, fmt.Errorf("%w: planes too short for %dx%d", ErrSizeMismatch, w, h)
	}
	return yOff, cOff, nil
}

// frameImage returns dst if it already is a w×h 4:2:0 picture, or a new one.
func frameImage(dst *image.YCbCr, w, h int) *image.YCbCr {
	if dst != nil && dst.Rect.Dx() == w && dst.Rect.Dy() == h {
		return dst
	}
	return image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
}

package asp

import (
	"image"
	"time"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

// The single-frame VBV at the encoder: the frames at risk of overshooting their budget
// (a large change on a slow link) are encoded with codec.CappedEncoder, which encodes a
// trial that leaves the stream untouched and, when it came out over the budget, encodes
// the picture again at a coarser quantiser. Other frames cost one encode as before.
const (
	// capFloorBytes is the least frame budget (adaptation.frameBudget): below it (a few
	// packets) a cap would only blur small changes that never clog a link.
	capFloorBytes = 6000
	// capFirstBitsPerPixel is what a changed pixel is assumed to cost before a frame was
	// measured: a busy 1080p page codes at 0.1-0.6 bit per pixel at coarse quantisers.
	capFirstBitsPerPixel = 0.3
	// capMinBitsPerPixel keeps the estimate from sinking so low after many cheap frames
	// (a blinking cursor over full-screen damage) that a page load is not seen coming.
	capMinBitsPerPixel = 0.02
	// capLearnMinPixels is the least change the estimate learns from (a 140×140 area):
	// the bits of a typed character (a frame's own overhead over a few hundred pixels)
	// say nothing about a page, and learning from them made every line of typing pay for
	// a trial encode.
	capLearnMinPixels = 20_000
)

// capGate decides which delta frames are worth a trial encode: those whose damaged pixels,
// at the bits per damaged pixel the recent frames cost (rising at once, falling slowly),
// would take more than their byte budget (adaptation.frameBudget). A video whose frames
// the rate control keeps within the budget never pays for a trial. Pure logic; not safe
// for concurrent use.
type capGate struct {
	bpp float64 // bits per damaged pixel, 0 before the first frame
}

// cap returns the byte cap for a delta frame with damage (share of the picture) of a
// picture of pixels and a budget of bytes (0: none), or 0 when the frame is not at risk.
func (g *capGate) cap(budget int, damage float64, pixels int) int {
	if budget <= 0 || pixels <= 0 || damage <= 0 {
		return 0
	}
	bpp := g.bpp
	if bpp == 0 {
		bpp = capFirstBitsPerPixel
	}
	if damage*float64(pixels)*max(bpp, capMinBitsPerPixel)/8 <= float64(budget) {
		return 0
	}
	return budget
}

// frame records a delta frame of n bytes that had damage of a picture of pixels.
func (g *capGate) frame(n int, damage float64, pixels int) {
	if n <= 0 || damage <= 0 || pixels <= 0 || damage*float64(pixels) < capLearnMinPixels {
		return
	}
	b := float64(n) * 8 / (damage * float64(pixels))
	if g.bpp == 0 || b > g.bpp {
		g.bpp = b
		return
	}
	g.bpp = 0.8*g.bpp + 0.2*b
}

// encodeFrame encodes img, within capBytes when the encoder can cap a frame and capBytes
// is above zero (never a forced keyframe: libvpx caps those with its intra limit).
func encodeFrame(enc codec.Encoder, img *image.YCbCr, pts time.Duration, key bool, capBytes int) (codec.Packet, error) {
	if ce, ok := enc.(codec.CappedEncoder); ok && capBytes > 0 && !key {
		return ce.EncodeCapped(img, pts, capBytes)
	}
	return enc.Encode(img, pts, key)
}

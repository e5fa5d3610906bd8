package asp

import (
	"errors"
	"image"
	"time"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

// The single-frame VBV at the encoder: the frames at risk of overshooting their budget
// (a large change on a slow link) are encoded with codec.CappedEncoder, which encodes a
// trial that leaves the stream untouched and, when it came out over the budget, encodes
// the picture again at a coarser quantiser. Other frames cost one encode as before.
const (
	// capFloorBytes is the least frame budget: below it (a few packets) a cap would only
	// blur small changes that never clog a link.
	capFloorBytes = 6000
	// capFirstBitsPerPixel is what a changed pixel is assumed to cost before a frame was
	// measured: a busy 1080p page codes at 0.1-0.6 bit per pixel at coarse quantisers.
	capFirstBitsPerPixel = 0.3
	// capMinBitsPerPixel keeps the estimate from sinking so low after many cheap frames
	// (a blinking cursor over full-screen damage) that a page load is not seen coming.
	capMinBitsPerPixel = 0.02
)

// capGate decides which delta frames are worth a trial encode: those whose damaged pixels,
// at the bits per damaged pixel the recent frames cost (rising at once, falling slowly),
// would take more than their budget, kbps/fps × frameBudget (at least capFloorBytes). A
// video whose frames the rate control keeps within the budget never pays for a trial.
// Pure logic; not safe for concurrent use.
type capGate struct {
	bpp       float64 // bits per damaged pixel, 0 before the first frame
	predicted int     // the size of the frame encode refused last, 0 for none
}

// cap returns the byte cap for a delta frame with damage (share of the picture) of a
// picture of pixels at kbps and fps, or 0 when the frame is not at risk.
func (g *capGate) cap(kbps, fps int, damage float64, pixels int) int {
	if kbps <= 0 || fps <= 0 || pixels <= 0 || damage <= 0 {
		return 0
	}
	budget := g.budget(kbps, fps)
	if damage*float64(pixels)*g.estimate()/8 <= float64(budget) {
		return 0
	}
	return budget
}

// estimate returns the bits per changed pixel expected of a large change.
func (g *capGate) estimate() float64 {
	if g.bpp == 0 {
		return capFirstBitsPerPixel
	}
	return max(g.bpp, capMinBitsPerPixel)
}

// frame records a delta frame of n bytes that had damage of a picture of pixels.
func (g *capGate) frame(n int, damage float64, pixels int) {
	if n <= 0 || damage <= 0 || pixels <= 0 {
		return
	}
	b := float64(n) * 8 / (damage * float64(pixels))
	if g.bpp == 0 || b > g.bpp {
		g.bpp = b
		return
	}
	g.bpp = 0.8*g.bpp + 0.2*b
}

// encode encodes img, within capBytes when the encoder can cap a frame and capBytes is
// above zero (never a forced keyframe: libvpx caps those with its intra limit). With refuse,
// a frame that would be over capSpreadOver × capBytes even at the coarsest quantiser is not
// encoded: encode returns an empty packet and records the predicted size for refused.
func (g *capGate) encode(enc codec.Encoder, img *image.YCbCr, pts time.Duration, key bool, capBytes int, refuse bool) (codec.Packet, error) {
	ce, ok := enc.(codec.CappedEncoder)
	if !ok || capBytes <= 0 || key {
		return enc.Encode(img, pts, key)
	}
	over := 0.0
	if refuse {
		over = capSpreadOver
	}
	p, err := ce.EncodeCapped(img, pts, capBytes, over)
	var ob *codec.OverBudgetError
	if errors.As(err, &ob) {
		g.predicted = ob.Predicted
		return codec.Packet{PTS: pts}, nil
	}
	return p, err
}

// refused returns the predicted size of the frame encode last refused (0: none) and
// forgets it.
func (g *capGate) refused() int {
	p := g.predicted
	g.predicted = 0
	return p
}

// learn sets the estimate from a frame predicted at n bytes for a change of damage (share
// of pixels).
func (g *capGate) learn(n int, damage float64, pixels int) {
	if n > 0 && damage > 0 && pixels > 0 {
		g.bpp = float64(n) * 8 / (damage * float64(pixels))
	}
}

// capSpreadOver is how far over its budget a change is predicted to come out at the
// coarsest quantiser before it is sent in parts (partSender) rather than whole. Parts cost
// a trial encode each and more bits in all than the whole frame; measured on the fileops
// bench at 2 Mbit/s, sending changes 1.5× over in parts gave a worse p95 than capping them
// whole (the pacer absorbs that much), so only the page loads of 4× and more are split.
const capSpreadOver = 4

// budget returns the single-frame budget in bytes at kbps and fps (0 when unknown).
func (g *capGate) budget(kbps, fps int) int {
	if kbps <= 0 || fps <= 0 {
		return 0
	}
	return max(int(float64(kbps)*1000/8/float64(fps)*frameBudget), capFloorBytes)
}

// partSender sends a change that not even the coarsest quantiser fits into the frame budget
// (a page of 1080p text at 2 Mbit/s) in parts, one a frame, from the top: each part is the
// picture the decoder shows with the next band of changed rows of the new picture pasted
// in, sized by the gate's bits per changed pixel so that it takes about one budget. A click
// answered meanwhile goes out with the next part instead of queueing behind one frame that
// holds the link for hundreds of milliseconds. Not safe for concurrent use.
type partSender struct {
	bufs  [2]*image.YCbCr
	cur   int          // the buffer the next part is built in
	shown *image.YCbCr // the part the decoder shows, nil when it shows the whole picture
}

// changedRows returns the first and one past the last luma row in which a and b differ
// (equal sizes), or 0, 0 when they are the same.
func changedRows(a, b *image.YCbCr) (int, int) {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	row := func(img *image.YCbCr, y int) []byte {
		o := img.YOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		return img.Y[o : o+w]
	}
	y0 := 0
	for y0 < h && string(row(a, y0)) == string(row(b, y0)) {
		y0++
	}
	if y0 == h {
		return 0, 0
	}
	y1 := h
	for y1 > y0 && string(row(a, y1-1)) == string(row(b, y1-1)) {
		y1--
	}
	return y0, y1
}

// picture returns what to encode for full, the new picture, when the decoder shows prev
// (nil: unknown, full goes out whole), with budget bytes for the frame and bpp bits per
// changed pixel expected: full itself, or a part (partial true) when the changed rows
// would take more than capSpreadOver × budget. changed is the share of the picture in the
// changed rows sent (0 when not compared).
func (sp *partSender) picture(prev, full *image.YCbCr, budget int, bpp float64) (pic *image.YCbCr, partial bool, changed float64) {
	if prev == nil || prev == full || budget <= 0 || bpp <= 0 || prev.Rect.Size() != full.Rect.Size() {
		return full, false, 0
	}
	w, h := full.Rect.Dx(), full.Rect.Dy()
	y0, y1 := changedRows(prev, full)
	predicted := float64((y1-y0)*w) * bpp / 8
	if predicted <= capSpreadOver*float64(budget) {
		return full, false, float64(y1-y0) / float64(h)
	}
	n := int(float64(y1-y0)*float64(budget)/predicted) &^ 15
	cut := min(y0&^15+max(n, 16), h)
	if cut >= y1 {
		return full, false, float64(y1-y0) / float64(h)
	}
	b := sp.bufs[sp.cur]
	if b == nil || b.Rect.Size() != full.Rect.Size() {
		b = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		sp.bufs[sp.cur] = b
	}
	copyRows(b, full, 0, cut)
	copyRows(b, prev, cut, h)
	return b, true, float64(cut-y0) / float64(h)
}

// sent records that pic went out (as a part when partial).
func (sp *partSender) sent(pic *image.YCbCr, partial bool) {
	if !partial {
		sp.shown = nil
		return
	}
	sp.shown = pic
	sp.cur = 1 - sp.cur // the next part must not overwrite the one the decoder shows
}

// copyRows copies luma rows y0..y1 (even) and the chroma rows under them from src to dst,
// both of dst's size, 4:2:0.
func copyRows(dst, src *image.YCbCr, y0, y1 int) {
	w := dst.Rect.Dx()
	for y := y0; y < y1; y++ {
		copy(dst.Y[y*dst.YStride:][:w], src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y):][:w])
	}
	cw := (w + 1) / 2
	for y := y0 / 2; y < (y1+1)/2; y++ {
		o := src.COffset(src.Rect.Min.X, src.Rect.Min.Y+2*y)
		copy(dst.Cb[y*dst.CStride:][:cw], src.Cb[o:][:cw])
		copy(dst.Cr[y*dst.CStride:][:cw], src.Cr[o:][:cw])
	}
}

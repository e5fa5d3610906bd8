package asp

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCapGate(t *testing.T) {
	const px = 1920 * 1080
	var g capGate
	// 1200 kbit/s at 15 fps: 10 kB a frame, frameBudget 2 → 20 kB.
	budget := 1200 * 1000 / 8 / 15 * frameBudget
	// Before any frame: a full-screen change at the first guess (78 kB) is at risk, a
	// cursor's worth of damage is not.
	assert.Equal(t, budget, g.cap(1200, 15, 1, px))
	assert.Zero(t, g.cap(1200, 15, 0.001, px))
	assert.Zero(t, g.cap(0, 15, 1, px), "no bitrate, no cap")
	assert.Zero(t, g.cap(1200, 15, 0, px), "no damage")
	// A fast link: the budget is above what the change costs.
	assert.Zero(t, g.cap(20000, 15, 1, px))
	// Cheap full-screen frames (a video at its rate): no trial encodes.
	for range 20 {
		g.frame(8000, 1, px)
	}
	assert.Zero(t, g.cap(1200, 15, 1, px))
	// One expensive frame (a page of text, 40 kB for a tenth of the screen) raises the
	// estimate at once: a change of a third of the screen is at risk now.
	g.frame(40000, 0.1, px)
	assert.Equal(t, budget, g.cap(1200, 15, 0.3, px))
	// The floor: a tiny budget is raised to capFloorBytes.
	assert.Equal(t, capFloorBytes, g.cap(100, 30, 1, px))
	// Zero-sized (dropped) frames and frames without damage do not move the estimate.
	before := g.bpp
	g.frame(0, 1, px)
	g.frame(1000, 0, px)
	assert.Equal(t, before, g.bpp)
}

func fillY(img *image.YCbCr, y0, y1 int, v byte) {
	for y := y0; y < y1; y++ {
		for x := range img.Rect.Dx() {
			img.Y[y*img.YStride+x] = v
		}
	}
}

func TestPartSender(t *testing.T) {
	const w, h = 320, 240
	prev := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	full := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	fillY(full, 40, 200, 200) // 160 changed rows
	y0, y1 := changedRows(prev, full)
	assert.Equal(t, [2]int{40, 200}, [2]int{y0, y1})
	assert.Equal(t, [2]int{0, 0}, func() [2]int { a, b := changedRows(prev, prev); return [2]int{a, b} }())

	var sp partSender
	// 160 rows × 320 px at 3 bits = 19200 B: within capSpreadOver × 5000, whole.
	pic, partial, changed := sp.picture(prev, full, 5000, 3)
	assert.Same(t, full, pic)
	assert.False(t, partial)
	assert.InDelta(t, 160.0/h, changed, 1e-9)
	// At 8 bits a pixel (51 kB) over a 5000 B budget: a band of about a tenth of the
	// changed rows, whole macroblock rows, from the top of the change.
	pic, partial, changed = sp.picture(prev, full, 5000, 8)
	require.True(t, partial)
	require.NotSame(t, full, pic)
	a, b := changedRows(prev, pic)
	assert.Equal(t, 40, a)
	assert.Zero(t, b%16, "the band ends on a macroblock row")
	assert.Less(t, b, 200)
	assert.Greater(t, b, 40)
	assert.InDelta(t, float64(b-40)/h, changed, 1e-9)
	c, d := changedRows(pic, full)
	assert.Equal(t, [2]int{b, 200}, [2]int{c, d}, "the rest is still the old picture")
	sp.sent(pic, true)
	assert.Same(t, pic, sp.shown)
	// The next part continues from what the decoder shows, in the other buffer.
	pic2, partial2, _ := sp.picture(sp.shown, full, 5000, 8)
	require.True(t, partial2)
	assert.NotSame(t, pic, pic2)
	e, _ := changedRows(pic, pic2)
	assert.Equal(t, b, e)
	sp.sent(pic2, true)
	// Once the rest fits, the whole picture goes and nothing is pending.
	pic3, partial3, _ := sp.picture(sp.shown, full, 50000, 8)
	assert.Same(t, full, pic3)
	assert.False(t, partial3)
	sp.sent(pic3, false)
	assert.Nil(t, sp.shown)
	// Unknown or other-sized pictures go whole.
	pic, partial, _ = sp.picture(nil, full, 5000, 8)
	assert.Same(t, full, pic)
	assert.False(t, partial)
	small := image.NewYCbCr(image.Rect(0, 0, 160, 120), image.YCbCrSubsampleRatio420)
	_, partial, _ = sp.picture(small, full, 5000, 8)
	assert.False(t, partial)
}

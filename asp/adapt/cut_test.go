package adapt

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// texture is a natural-looking luma plane (soft hills with grain) larger than the frames
// cut from it.
func texture(w, h int, seed float64) []byte {
	t := make([]byte, w*h)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)+seed*1000, float64(y)
			s := math.Sin(fx/97)*math.Cos(fy/71) + 0.5*math.Sin((fx+2*fy)/37) + 0.25*math.Sin((3*fx-fy)/13)
			grain := float64(uint32(x*7919+y*104729)*2654435761>>28)/4 - 2
			t[y*w+x] = uint8(max(16, min(235, 120+s*60+grain)))
		}
	}
	return t
}

// frameAt is the w×h window of a tw-wide texture at (x0, y0), as a plane of stride w.
func frameAt(tex []byte, tw, x0, y0, w, h int) []byte {
	f := make([]byte, w*h)
	for y := range h {
		copy(f[y*w:][:w], tex[(y0+y)*tw+x0:])
	}
	return f
}

func TestThumbnailAveragesCells(t *testing.T) {
	const w, h = 96, 64
	y := make([]byte, w*h)
	for py := range h {
		for px := range w {
			y[py*w+px] = uint8(10 * (px/ThumbCell + 3*(py/ThumbCell)))
		}
	}
	th := Thumbnail(nil, y, w, w, h)
	assert.Equal(t, []uint8{0, 10, 20, 30, 40, 50}, th)
	y[0] = 255 // one pixel of a cell that is sampled every fourth pixel
	assert.Equal(t, uint8(3), Thumbnail(th, y, w, w, h)[0])
	assert.Len(t, Thumbnail(th, y, w, 70, 40), 2, "partial cells are left out")
}

func TestCutDetectorTellsACutFromAPan(t *testing.T) {
	const tw, th, w, h = 1300, 600, 640, 360
	tex, other := texture(tw, th, 0), texture(tw, th, 7)
	var d CutDetector
	var thumb []uint8
	var cuts []int
	x, y := 0, 0
	for i := range 60 {
		src := tex
		switch {
		case i == 30: // a seek: the pan goes on 200 px further
			x, y = x+200, y+90
		case i >= 45: // a cut to another film
			src = other
		}
		thumb = Thumbnail(thumb, frameAt(src, tw, x, y, w, h), w, w, h)
		if d.Observe(thumb) {
			cuts = append(cuts, i)
		}
		x, y = x+6, y+2 // 6 px right, 2 down a frame, as the video workload pans
	}
	assert.Equal(t, []int{30, 45}, cuts)
}

func TestCutDetectorIgnoresSmallChangesOfAStillScreen(t *testing.T) {
	const w, h = 640, 360
	f := texture(w, h, 0)
	var d CutDetector
	var thumb []uint8
	for i := range 10 {
		g := append([]byte(nil), f...)
		if i%2 == 1 { // a cursor-sized change
			for y := 100; y < 140; y++ {
				for x := 100; x < 140; x++ {
					g[y*w+x] = 255
				}
			}
		}
		thumb = Thumbnail(thumb, g, w, w, h)
		require.False(t, d.Observe(thumb), "frame %d", i)
	}
	// The whole screen changes: a cut, once the detector has seen a few frames.
	g := make([]byte, w*h)
	assert.True(t, d.Observe(Thumbnail(thumb, g, w, w, h)))
}

func TestCutDetectorNeedsWarmupAndForgetsOnResize(t *testing.T) {
	const w, h = 320, 192
	a, b := texture(w, h, 0), texture(w, h, 5)
	var d CutDetector
	assert.False(t, d.Observe(Thumbnail(nil, a, w, w, h)), "the first frame has nothing to differ from")
	assert.False(t, d.Observe(Thumbnail(nil, b, w, w, h)), "not yet warmed up")
	d.Reset()
	for range cutWarmup + 1 {
		assert.False(t, d.Observe(Thumbnail(nil, a, w, w, h)))
	}
	assert.True(t, d.Observe(Thumbnail(nil, b, w, w, h)))
	assert.False(t, d.Observe(Thumbnail(nil, b[:w*h/2], w, w, h/2)), "a new size starts over")
}

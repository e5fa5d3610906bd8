package yuv_test

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/yuv"
)

// bgra returns a w×h BGRX buffer (stride w*4+pad) filled by f.
func bgra(w, h, pad int, f func(x, y int) color.RGBA) ([]byte, int) {
	stride := w*4 + pad
	buf := make([]byte, stride*h)
	for y := range h {
		for x := range w {
			c := f(x, y)
			p := buf[y*stride+x*4:]
			p[0], p[1], p[2], p[3] = c.B, c.G, c.R, 0xee
		}
	}
	return buf, stride
}

func uniform(c color.RGBA) func(x, y int) color.RGBA {
	return func(int, int) color.RGBA { return c }
}

func newI420(w, h int, fill uint8) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for _, p := range [][]byte{img.Y, img.Cb, img.Cr} {
		for i := range p {
			p[i] = fill
		}
	}
	return img
}

func TestKnownColours(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        color.RGBA
		y, cb, cr uint8
	}{
		{"white", color.RGBA{255, 255, 255, 255}, 235, 128, 128},
		{"black", color.RGBA{0, 0, 0, 255}, 16, 128, 128},
		{"red", color.RGBA{255, 0, 0, 255}, 82, 90, 240},
		{"green", color.RGBA{0, 255, 0, 255}, 144, 54, 34}, // 144.5 exactly; the 8-bit coefficients round down
		{"blue", color.RGBA{0, 0, 255, 255}, 41, 240, 110},
		{"grey", color.RGBA{128, 128, 128, 255}, 126, 128, 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, stride := bgra(4, 4, 0, uniform(tc.in))
			dst := newI420(4, 4, 0)
			yuv.BGRAToI420(dst, src, stride, dst.Rect)
			for _, v := range dst.Y {
				assert.Equal(t, tc.y, v)
			}
			for i := range dst.Cb {
				assert.Equal(t, tc.cb, dst.Cb[i])
				assert.Equal(t, tc.cr, dst.Cr[i])
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const w, h = 64, 48
	// Colours constant over 2×2 blocks, so chroma subsampling loses nothing.
	colours := make([]color.RGBA, (w/2)*(h/2))
	for i := range colours {
		colours[i] = color.RGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), 255}
	}
	block := func(x, y int) color.RGBA { return colours[(y/2)*(w/2)+x/2] }
	src, stride := bgra(w, h, 12, block)
	mid := newI420(w, h, 0)
	yuv.BGRAToI420(mid, src, stride, mid.Rect)
	out := image.NewRGBA(mid.Rect)
	yuv.I420ToRGBA(out, mid)
	worst := 0
	for y := range h {
		for x := range w {
			want := block(x, y)
			got := out.RGBAAt(x, y)
			for _, d := range []int{int(want.R) - int(got.R), int(want.G) - int(got.G), int(want.B) - int(got.B)} {
				worst = max(worst, d, -d)
			}
			require.Equal(t, uint8(255), got.A)
		}
	}
	t.Logf("largest channel error after the round trip: %d", worst)
	assert.LessOrEqual(t, worst, 3)
}

func TestOnlyRectangle(t *testing.T) {
	const w, h = 32, 24
	src, stride := bgra(w, h, 0, uniform(color.RGBA{255, 255, 255, 255}))
	dst := newI420(w, h, 7)
	yuv.BGRAToI420(dst, src, stride, image.Rect(3, 5, 10, 9))
	want := image.Rect(2, 4, 10, 10) // widened to even coordinates
	for y := range h {
		for x := range w {
			v := dst.Y[dst.YOffset(x, y)]
			if image.Pt(x, y).In(want) {
				assert.Equal(t, uint8(235), v, "(%d,%d) inside", x, y)
			} else {
				assert.Equal(t, uint8(7), v, "(%d,%d) outside", x, y)
			}
			c := dst.COffset(x, y)
			inside := image.Pt(x, y).In(want)
			assert.Equal(t, inside, dst.Cb[c] == 128, "chroma (%d,%d)", x, y)
		}
	}
}

func TestOddSizesAndClamping(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	t.Run("odd picture", func(t *testing.T) {
		src, stride := bgra(15, 9, 0, uniform(red))
		dst := image.NewYCbCr(image.Rect(0, 0, 15, 9), image.YCbCrSubsampleRatio420)
		yuv.BGRAToI420(dst, src, stride, image.Rect(-10, -10, 100, 100))
		for i, v := range dst.Y {
			assert.Equal(t, uint8(82), v, "Y[%d]", i)
		}
		for i := range dst.Cb {
			assert.Equal(t, uint8(90), dst.Cb[i], "Cb[%d]", i)
			assert.Equal(t, uint8(240), dst.Cr[i], "Cr[%d]", i)
		}
	})
	t.Run("short source", func(t *testing.T) {
		src, stride := bgra(16, 16, 0, uniform(red))
		dst := newI420(16, 16, 7)
		// Five whole rows and a partial sixth.
		yuv.BGRAToI420(dst, src[:stride*5+20], stride, dst.Rect)
		assert.Equal(t, uint8(82), dst.Y[dst.YOffset(15, 4)])
		assert.Equal(t, uint8(82), dst.Y[dst.YOffset(0, 0)])
		assert.Equal(t, uint8(7), dst.Y[dst.YOffset(0, 5)], "row 5 is not whole in src")
		assert.Equal(t, uint8(7), dst.Y[dst.YOffset(0, 10)])
	})
	t.Run("narrow stride", func(t *testing.T) {
		src, _ := bgra(16, 16, 0, uniform(red))
		dst := newI420(16, 16, 7)
		yuv.BGRAToI420(dst, src, 5*4, dst.Rect) // src rows hold only 5 pixels
		assert.Equal(t, uint8(82), dst.Y[dst.YOffset(4, 3)])
		assert.Equal(t, uint8(7), dst.Y[dst.YOffset(5, 3)])
	})
	t.Run("nothing to do", func(t *testing.T) {
		src, stride := bgra(8, 8, 0, uniform(red))
		dst := newI420(8, 8, 7)
		yuv.BGRAToI420(dst, src, stride, image.Rect(20, 20, 30, 30))
		yuv.BGRAToI420(dst, nil, stride, dst.Rect)
		yuv.BGRAToI420(dst, src, 0, dst.Rect)
		yuv.BGRAToI420(nil, src, stride, dst.Rect)
		yuv.BGRAToI420(image.NewYCbCr(dst.Rect, image.YCbCrSubsampleRatio444), src, stride, dst.Rect)
		for _, v := range dst.Y {
			require.Equal(t, uint8(7), v)
		}
	})
	t.Run("sub-image", func(t *testing.T) {
		big := newI420(64, 64, 7)
		dst := big.SubImage(image.Rect(10, 20, 26, 36)).(*image.YCbCr)
		src, stride := bgra(16, 16, 0, uniform(red))
		yuv.BGRAToI420(dst, src, stride, dst.Rect)
		assert.Equal(t, uint8(82), big.Y[big.YOffset(10, 20)])
		assert.Equal(t, uint8(82), big.Y[big.YOffset(25, 35)])
		assert.Equal(t, uint8(7), big.Y[big.YOffset(26, 35)])
		assert.Equal(t, uint8(7), big.Y[big.YOffset(9, 20)])
	})
}

func TestI420ToRGBASubsampling(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422} {
		src := image.NewYCbCr(image.Rect(0, 0, 6, 4), ratio)
		for i := range src.Y {
			src.Y[i] = 82
		}
		for i := range src.Cb {
			src.Cb[i], src.Cr[i] = 90, 240
		}
		dst := image.NewRGBA(image.Rect(0, 0, 8, 8))
		yuv.I420ToRGBA(dst, src)
		got := dst.RGBAAt(5, 3)
		assert.InDelta(t, 255, int(got.R), 3, "%v", ratio)
		assert.InDelta(t, 0, int(got.G), 3, "%v", ratio)
		assert.InDelta(t, 0, int(got.B), 3, "%v", ratio)
		assert.Equal(t, color.RGBA{}, dst.RGBAAt(7, 7), "outside src untouched")
	}
}

// reference converts the whole of an even-sized picture the slow, obvious way.
func reference(w, h int, src []byte, stride int) *image.YCbCr {
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	px := func(x, y int) (r, g, b int) {
		p := src[y*stride+x*4:]
		return int(p[2]), int(p[1]), int(p[0])
	}
	for y := range h {
		for x := range w {
			r, g, b := px(x, y)
			dst.Y[y*dst.YStride+x] = uint8((66*r+129*g+25*b+128)>>8 + 16)
		}
	}
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x += 2 {
			var rs, gs, bs int
			for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				r, g, b := px(x+d[0], y+d[1])
				rs, gs, bs = rs+r, gs+g, bs+b
			}
			c := dst.COffset(x, y)
			dst.Cb[c] = uint8((-38*rs-74*gs+112*bs+512)>>10 + 128)
			dst.Cr[c] = uint8((112*rs-94*gs-18*bs+512)>>10 + 128)
		}
	}
	return dst
}

func TestMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h = 70, 38
	src, stride := bgra(w, h, 8, func(int, int) color.RGBA {
		return color.RGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), 255}
	})
	want := reference(w, h, src, stride)
	got := newI420(w, h, 0)
	yuv.BGRAToI420(got, src, stride, got.Rect)
	assert.Equal(t, want.Y, got.Y)
	assert.Equal(t, want.Cb, got.Cb)
	assert.Equal(t, want.Cr, got.Cr)
	// Rectangles with odd corners: inside the widened rectangle every sample matches.
	for range 40 {
		x0, y0 := rng.IntN(w), rng.IntN(h)
		r := image.Rect(x0, y0, x0+1+rng.IntN(w), y0+1+rng.IntN(h))
		part := newI420(w, h, 0)
		yuv.BGRAToI420(part, src, stride, r)
		wide := image.Rect(r.Min.X&^1, r.Min.Y&^1, (r.Max.X+1)&^1, (r.Max.Y+1)&^1).Intersect(part.Rect)
		for y := range h {
			for x := range w {
				in := image.Pt(x, y).In(wide)
				yo, co := part.YOffset(x, y), part.COffset(x, y)
				if in {
					require.Equal(t, want.Y[yo], part.Y[yo], "Y (%d,%d) in %v", x, y, r)
					require.Equal(t, want.Cb[co], part.Cb[co], "Cb (%d,%d) in %v", x, y, r)
					require.Equal(t, want.Cr[co], part.Cr[co], "Cr (%d,%d) in %v", x, y, r)
				} else {
					require.Zero(t, part.Y[yo], "Y (%d,%d) outside %v", x, y, r)
				}
			}
		}
	}
}

func TestDownscaleAveragesBoxes(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 8, 4), image.YCbCrSubsampleRatio420)
	for y := 0; y < 4; y++ {
		for x := 0; x < 8; x++ {
			src.Y[y*src.YStride+x] = uint8(5 * (x + 8*y))
		}
	}
	for i := range src.Cb {
		src.Cb[i], src.Cr[i] = 100, 200
	}
	dst := image.NewYCbCr(image.Rect(0, 0, 4, 2), image.YCbCrSubsampleRatio420)
	yuv.Downscale(dst, src)
	// Top-left 2×2 box: 0, 5, 40, 45 → 22.5, rounded to 23.
	assert.Equal(t, uint8(23), dst.Y[0])
	// Bottom-right box: 110, 115, 150, 155 → 132.5 → 133.
	assert.Equal(t, uint8(133), dst.Y[dst.YStride+3])
	assert.Equal(t, uint8(100), dst.Cb[0])
	assert.Equal(t, uint8(200), dst.Cr[1])

	// 3/4 of a flat picture stays flat.
	flat := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	for i := range flat.Y {
		flat.Y[i] = 77
	}
	small := image.NewYCbCr(image.Rect(0, 0, 48, 36), image.YCbCrSubsampleRatio420)
	yuv.Downscale(small, flat)
	for _, v := range small.Y {
		require.Equal(t, uint8(77), v)
	}
}

func TestCopy(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		full := image.NewYCbCr(image.Rect(0, 0, 37, 23), ratio)
		for i := range full.Y {
			full.Y[i] = byte(i * 7)
		}
		for i := range full.Cb {
			full.Cb[i], full.Cr[i] = byte(i*3), byte(i*5)
		}
		// A sub-image, as a crop would be, at offsets aligned to every subsampling (an
		// unaligned crop cannot keep each pixel's chroma) and with odd sizes.
		src := full.SubImage(image.Rect(8, 4, 33, 21)).(*image.YCbCr)
		dst := yuv.Copy(nil, src)
		require.Equal(t, image.Rect(0, 0, 25, 17), dst.Rect, "%v", ratio)
		for y := 0; y < 17; y++ {
			for x := 0; x < 25; x++ {
				require.Equal(t, src.YCbCrAt(x+8, y+4), dst.YCbCrAt(x, y), "%v at %d,%d", ratio, x, y)
			}
		}
		again := yuv.Copy(dst, src)
		require.Same(t, dst, again, "a destination of the right shape is reused")
	}
}

package workload

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// valueNoise is smooth 2-D noise from random values on a square lattice.
type valueNoise struct {
	n    int // lattice size (power of two), wraps around
	vals []float64
}

func newValueNoise(rng *rand.Rand, n int) *valueNoise {
	v := &valueNoise{n: n, vals: make([]float64, n*n)}
	for i := range v.vals {
		v.vals[i] = rng.Float64()
	}
	return v
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

func (v *valueNoise) at(x, y float64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := smooth(x-x0), smooth(y-y0)
	m := v.n - 1
	ix, iy := int(x0)&m, int(y0)&m
	ix1, iy1 := (ix+1)&m, (iy+1)&m
	a, b := v.vals[iy*v.n+ix], v.vals[iy*v.n+ix1]
	c, d := v.vals[iy1*v.n+ix], v.vals[iy1*v.n+ix1]
	top := a + (b-a)*fx
	bot := c + (d-c)*fx
	return top + (bot-top)*fy
}

// fractal sums octaves of noise; the result is about in [0, 1].
func (v *valueNoise) fractal(x, y float64, octaves int) float64 {
	sum, amp, norm := 0.0, 1.0, 0.0
	for o := 0; o < octaves; o++ {
		sum += amp * v.at(x, y)
		norm += amp
		amp *= 0.5
		x, y = x*2+17.3, y*2+9.1
	}
	return sum / norm
}

func lerpColor(a, b color.RGBA, t float64) color.RGBA {
	t = min(max(t, 0), 1)
	l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

// landscape makes a natural-looking picture: a sky gradient with soft clouds above a
// horizon, hills and fields below, with fine grain like camera noise. It is the "film" the
// video scenarios pan across and the photos of the web page.
func landscape(rng *rand.Rand, w, h int, scale float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	terrain := newValueNoise(rng, 256)
	cloud := newValueNoise(rng, 256)
	ridge := newValueNoise(rng, 256)
	sky0, sky1 := color.RGBA{70, 120, 200, 255}, color.RGBA{185, 215, 240, 255}
	grass0, grass1 := color.RGBA{40, 95, 35, 255}, color.RGBA{150, 170, 70, 255}
	rock, soil := color.RGBA{110, 100, 90, 255}, color.RGBA{120, 85, 50, 255}
	seed := rng.Uint32()
	hz := make([]float64, w)
	for x := range hz {
		hz[x] = 0.42*float64(h) + (ridge.fractal(float64(x)/scale/3, 0.5, 4)-0.5)*0.35*float64(h)
	}
	for y := 0; y < h; y++ {
		fy := float64(y) / scale
		for x := 0; x < w; x++ {
			fx := float64(x) / scale
			horizon := hz[x]
			var c color.RGBA
			if float64(y) < horizon {
				t := float64(y) / max(horizon, 1)
				c = lerpColor(sky0, sky1, t)
				cl := cloud.fractal(fx/1.5, fy/0.8, 5)
				if cl > 0.55 {
					c = lerpColor(c, color.RGBA{250, 250, 252, 255}, (cl-0.55)*3)
				}
			} else {
				n := terrain.fractal(fx, fy*1.6, 6)
				depth := (float64(y) - horizon) / max(float64(h)-horizon, 1)
				c = lerpColor(grass0, grass1, n*1.4-0.2)
				if n > 0.62 {
					c = lerpColor(c, rock, (n-0.62)*4)
				} else if n < 0.3 {
					c = lerpColor(c, soil, (0.3-n)*3)
				}
				c = lerpColor(lerpColor(c, sky1, 0.35*(1-depth)), c, depth)
			}
			// Grain: a cheap hash, so every pixel carries a little noise as film does.
			hsh := (uint32(x)*73856093 ^ uint32(y)*19349663 ^ seed) * 2654435761
			g := int(hsh>>27) - 16
			px := img.Pix[img.PixOffset(x, y):]
			px[0], px[1], px[2], px[3] = clamp8(int(c.R)+g/2), clamp8(int(c.G)+g/2), clamp8(int(c.B)+g/2), 255
		}
	}
	return img
}

func clamp8(v int) uint8 { return uint8(min(max(v, 0), 255)) }

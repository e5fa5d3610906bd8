package codec_test

import (
	"image"
	"math"
)

// Kinds of motion for desktop.
type motion int

const (
	still  motion = iota // only a small region changes
	scroll               // the text scrolls by a line each frame
	video                // a video plays in part of the window
)

// desktop paints a deterministic desktop-like picture for frame n: a flat background, a
// title bar, a white window with rows of dark glyph-like strokes, and a small region (a
// "clock" and a sliding box) that changes from frame to frame. With m == scroll the text
// rows move up one line every frame, as in a scrolling terminal; with m == video a moving,
// textured picture plays in the lower half of the window.
func desktop(w, h, n int, m motion) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	fill := func(r image.Rectangle, y, cb, cr uint8) {
		r = r.Intersect(img.Rect)
		for py := r.Min.Y; py < r.Max.Y; py++ {
			row := img.Y[py*img.YStride:]
			for px := r.Min.X; px < r.Max.X; px++ {
				row[px] = y
			}
		}
		for py := r.Min.Y / 2; py < (r.Max.Y+1)/2; py++ {
			for px := r.Min.X / 2; px < (r.Max.X+1)/2; px++ {
				img.Cb[py*img.CStride+px] = cb
				img.Cr[py*img.CStride+px] = cr
			}
		}
	}
	fill(img.Rect, 100, 150, 110)                                                   // teal background
	win := image.Rect(w/16, h/12, w-w/16, h-h/12)                                   // window
	fill(image.Rect(win.Min.X, win.Min.Y-h/30, win.Max.X, win.Min.Y), 60, 170, 120) // title bar
	fill(win, 235, 128, 128)
	// Glyph rows: cells 8 px wide, 14 px high, with strokes from a cheap hash of
	// (row, column), so the "text" looks irregular but is reproducible.
	const cellW, cellH = 8, 14
	shift := 0
	if m == scroll {
		shift = n
	}
	for py := win.Min.Y + 4; py+cellH <= win.Max.Y-4; py += cellH {
		line := (py-win.Min.Y)/cellH + shift
		for px := win.Min.X + 6; px+cellW <= win.Max.X-6; px += cellW {
			col := (px - win.Min.X) / cellW
			hsh := uint32(line*7919+col*104729) * 2654435761
			if hsh>>28 < 3 || (line*31+col)%53 > 40 { // spaces and line ends
				continue
			}
			for gy := 2; gy < cellH-3; gy++ {
				bits := hsh >> (uint(gy) % 24)
				for gx := 1; gx < cellW-1; gx++ {
					if bits>>(uint(gx)%8)&1 == 1 {
						img.Y[(py+gy)*img.YStride+px+gx] = 30
					}
				}
			}
		}
	}
	// The changing region: a clock whose shade moves and a box sliding along the title bar.
	cx := win.Max.X - 64
	fill(image.Rect(cx, win.Min.Y-h/30, cx+48, win.Min.Y), uint8(80+(n*37)%150), 128, 128)
	bx := win.Min.X + (n*6)%(max(win.Dx()-40, 1))
	fill(image.Rect(bx, win.Min.Y+h/3, bx+32, win.Min.Y+h/3+24), 200, uint8(90+n%60), 200)
	if m == video {
		v := image.Rect(win.Min.X+win.Dx()/8, win.Min.Y+win.Dy()/2, win.Max.X-win.Dx()/8, win.Max.Y-8)
		for py := v.Min.Y; py < v.Max.Y; py++ {
			for px := v.Min.X; px < v.Max.X; px++ {
				fx, fy, ft := float64(px), float64(py), float64(n)
				s := math.Sin(fx/17+ft/5) + math.Sin(fy/11-ft/7) + math.Sin((fx+fy)/23+ft/3)
				grain := float64(uint32(px*7919+py*104729+n*31)*2654435761>>27) - 16
				img.Y[py*img.YStride+px] = uint8(max(16, min(235, 128+s*30+grain)))
			}
		}
		for py := v.Min.Y / 2; py < v.Max.Y/2; py++ {
			for px := v.Min.X / 2; px < v.Max.X/2; px++ {
				fx, fy, ft := float64(px), float64(py), float64(n)
				img.Cb[py*img.CStride+px] = uint8(128 + 40*math.Sin(fx/13+ft/6))
				img.Cr[py*img.CStride+px] = uint8(128 + 40*math.Cos(fy/9-ft/4))
			}
		}
	}
	return img
}

// psnr is the luma peak signal-to-noise ratio of b against a, in dB.
func psnr(a, b *image.YCbCr) float64 {
	var sum float64
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := range h {
		for x := range w {
			d := float64(a.Y[y*a.YStride+x]) - float64(b.Y[y*b.YStride+x])
			sum += d * d
		}
	}
	mse := sum / float64(w*h)
	if mse == 0 {
		return 100
	}
	return 10 * math.Log10(255*255/mse)
}

// panTexture is a natural-looking picture larger than 1080p (soft hills of luma and
// chroma with fine grain), which pan cuts moving windows from.
type panTexture struct {
	w, h      int
	y, cb, cr []byte // cb and cr at half resolution
}

func newPanTexture(w, h int) *panTexture {
	t := &panTexture{w: w, h: h, y: make([]byte, w*h), cb: make([]byte, w*h/4), cr: make([]byte, w*h/4)}
	for py := range h {
		for px := range w {
			fx, fy := float64(px), float64(py)
			s := math.Sin(fx/97)*math.Cos(fy/71) + 0.5*math.Sin((fx+2*fy)/37) + 0.25*math.Sin((3*fx-fy)/13)
			grain := float64(uint32(px*7919+py*104729)*2654435761>>28)/4 - 2
			t.y[py*w+px] = uint8(max(16, min(235, 120+s*50+grain)))
		}
	}
	for py := range h / 2 {
		for px := range w / 2 {
			fx, fy := float64(px), float64(py)
			t.cb[py*w/2+px] = uint8(128 + 30*math.Sin(fx/41+fy/57))
			t.cr[py*w/2+px] = uint8(128 + 30*math.Cos(fy/33-fx/61))
		}
	}
	return t
}

// pan returns frame n of a w×h camera pan across t: 6 pixels right and 2 down per frame,
// like the video workload of the benchmarks (full-screen natural motion).
func (t *panTexture) pan(w, h, n int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	x0, y0 := (n*6)%(t.w-w)&^1, (n*2)%(t.h-h)&^1
	for py := range h {
		copy(img.Y[py*img.YStride:][:w], t.y[(y0+py)*t.w+x0:])
	}
	for py := range h / 2 {
		o := (y0/2+py)*t.w/2 + x0/2
		copy(img.Cb[py*img.CStride:][:w/2], t.cb[o:])
		copy(img.Cr[py*img.CStride:][:w/2], t.cr[o:])
	}
	return img
}

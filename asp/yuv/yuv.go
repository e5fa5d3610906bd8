package yuv

import (
	"encoding/binary"
	"image"
)

// BT.601 limited range, 8-bit fixed point (coefficients scaled by 256).
//
//	Y  =  16 + ( 66 R + 129 G +  25 B) / 256
//	Cb = 128 + (-38 R -  74 G + 112 B) / 256
//	Cr = 128 + (112 R -  94 G -  18 B) / 256
const (
	yR, yG, yB    = 66, 129, 25
	cbR, cbG, cbB = -38, -74, 112
	crR, crG, crB = 112, -94, -18
)

// BGRAToI420 converts rectangle r of a BGRA picture into dst.
//
// src holds 32-bit pixels in X11 ZPixmap little-endian order (bytes B, G, R, X; the fourth
// byte is ignored), srcStride bytes per row; its first pixel is the pixel at dst.Rect.Min.
// dst must be a 4:2:0 picture (image.YCbCrSubsampleRatio420) whose Rect.Min is even, as
// image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420) gives.
//
// Only r is converted: it is first widened to even coordinates (so that each chroma sample
// covers a whole 2×2 block of source pixels), then clamped to dst.Rect and to the rows and
// columns src really holds. The rest of dst is left as it was, so a caller that knows the
// damaged region of a screen converts only that. An empty result converts nothing.
func BGRAToI420(dst *image.YCbCr, src []byte, srcStride int, r image.Rectangle) {
	if dst == nil || dst.SubsampleRatio != image.YCbCrSubsampleRatio420 || srcStride <= 0 {
		return
	}
	r = evenRect(r).Intersect(dst.Rect)
	// Clamp to what src holds: full rows of srcStride bytes, plus a last partial row.
	maxCols := srcStride / 4
	if x := dst.Rect.Min.X + maxCols; r.Max.X > x {
		r.Max.X = x
	}
	if len(src) < 4 {
		return
	}
	maxRows := (len(src)-4)/srcStride + 1 // rows whose first pixel exists
	if y := dst.Rect.Min.Y + maxRows; r.Max.Y > y {
		r.Max.Y = y
	}
	// The last row may be short: drop it if it does not hold r's columns.
	for r.Max.Y > r.Min.Y {
		last := (r.Max.Y-1-dst.Rect.Min.Y)*srcStride + (r.Max.X-dst.Rect.Min.X)*4
		if last <= len(src) {
			break
		}
		r.Max.Y--
	}
	if r.Empty() {
		return
	}
	ox, oy := dst.Rect.Min.X, dst.Rect.Min.Y
	w := r.Dx()
	pairW := w &^ 1 // columns converted by the 2×2 loop
	y := r.Min.Y
	for ; y+1 < r.Max.Y; y += 2 {
		s0 := (y-oy)*srcStride + (r.Min.X-ox)*4
		s1 := s0 + srcStride
		d0 := dst.YOffset(r.Min.X, y)
		d1 := d0 + dst.YStride
		c := dst.COffset(r.Min.X, y)
		convertRowsFast(dst.Y[d0:d0+w], dst.Y[d1:d1+w], dst.Cb[c:c+(w+1)/2], dst.Cr[c:c+(w+1)/2],
			src[s0:s0+w*4], src[s1:s1+w*4], pairW)
		if w != pairW { // odd right edge (only when clamped by dst or src)
			x := r.Max.X - 1
			i0, i1 := s0+(w-1)*4, s1+(w-1)*4
			block(dst, r, x, y, src[i0:i0+4], src[i0:i0+4], src[i1:i1+4], src[i1:i1+4])
		}
	}
	if y < r.Max.Y { // odd bottom edge
		s0 := (y-oy)*srcStride + (r.Min.X-ox)*4
		for x := r.Min.X; x < r.Max.X; x += 2 {
			i := s0 + (x-r.Min.X)*4
			j := i
			if x+1 < r.Max.X {
				j = i + 4
			}
			block(dst, r, x, y, src[i:i+4], src[j:j+4], src[i:i+4], src[j:j+4])
		}
	}
}

// evenRect widens r to even coordinates.
func evenRect(r image.Rectangle) image.Rectangle {
	r = r.Canon()
	r.Min.X &^= 1
	r.Min.Y &^= 1
	r.Max.X += r.Max.X & 1
	r.Max.Y += r.Max.Y & 1
	return r
}

// convertRows converts two rows of n (even) BGRA pixels: four luma samples and one chroma
// pair per 2×2 block. The slices are cut to their exact lengths first, so the loop body
// needs only cheap, never-failing bounds checks.
func convertRows(y0, y1, cb, cr, s0, s1 []byte, n int) {
	y0, y1 = y0[:n], y1[:n]
	s0, s1 = s0[:4*n], s1[:4*n]
	cb, cr = cb[:n/2], cr[:n/2]
	// Two pixels are handled at once in 32-bit lanes of a uint64 (SWAR): each colour
	// channel of the pair is masked into the low byte of its lane, so one multiplication
	// weighs both pixels and no lane overflows into the other (66+129+25 = 220, 220×255 <
	// 2^16).
	const lanes = 0x000000ff_000000ff
	const yRound = (128 + 16<<8) | (128+16<<8)<<32
	for k := range cb {
		p := binary.LittleEndian.Uint64(s0[8*k:])
		q := binary.LittleEndian.Uint64(s1[8*k:])
		bp, gp, rp := p&lanes, p>>8&lanes, p>>16&lanes
		bq, gq, rq := q&lanes, q>>8&lanes, q>>16&lanes
		yp := yR*rp + yG*gp + yB*bp + yRound
		yq := yR*rq + yG*gq + yB*bq + yRound
		binary.LittleEndian.PutUint16(y0[2*k:], uint16(yp>>8&0xff|yp>>32&0xff00))
		binary.LittleEndian.PutUint16(y1[2*k:], uint16(yq>>8&0xff|yq>>32&0xff00))
		r2, g2, b2 := rp+rq, gp+gq, bp+bq
		rs := int32(r2&0xffff) + int32(r2>>32)
		gs := int32(g2&0xffff) + int32(g2>>32)
		bs := int32(b2&0xffff) + int32(b2>>32)
		cb[k] = uint8((cbR*rs + cbG*gs + cbB*bs + (512 + 128<<10)) >> 10)
		cr[k] = uint8((crR*rs + crG*gs + crB*bs + (512 + 128<<10)) >> 10)
	}
}

// block converts one 2×2 block at (x, y) whose pixels are p00, p01 (top row) and p10, p11
// (bottom row), at the odd edges of r. Duplicated pixels stand in for the missing ones;
// only the luma samples inside r are written.
func block(dst *image.YCbCr, r image.Rectangle, x, y int, p00, p01, p10, p11 []byte) {
	luma := func(p []byte) uint8 {
		return uint8((yR*int32(p[2])+yG*int32(p[1])+yB*int32(p[0])+128)>>8 + 16)
	}
	in := func(px, py int) bool { return image.Pt(px, py).In(r) }
	dst.Y[dst.YOffset(x, y)] = luma(p00)
	if in(x+1, y) {
		dst.Y[dst.YOffset(x+1, y)] = luma(p01)
	}
	if in(x, y+1) {
		dst.Y[dst.YOffset(x, y+1)] = luma(p10)
		if in(x+1, y+1) {
			dst.Y[dst.YOffset(x+1, y+1)] = luma(p11)
		}
	}
	var rs, gs, bs int32
	for _, p := range [4][]byte{p00, p01, p10, p11} {
		bs += int32(p[0])
		gs += int32(p[1])
		rs += int32(p[2])
	}
	c := dst.COffset(x, y)
	dst.Cb[c] = uint8((cbR*rs+cbG*gs+cbB*bs+512)>>10 + 128)
	dst.Cr[c] = uint8((crR*rs+crG*gs+crB*bs+512)>>10 + 128)
}

// I420ToRGBA converts src into dst over the part of src.Rect that dst.Rect also covers,
// with BT.601 limited-range arithmetic (the inverse of BGRAToI420). Alpha is set to 255.
// src may have any subsampling ratio of image.YCbCr.
func I420ToRGBA(dst *image.RGBA, src *image.YCbCr) {
	if dst == nil || src == nil {
		return
	}
	r := src.Rect.Intersect(dst.Rect)
	if r.Empty() {
		return
	}
	w := r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		d := dst.PixOffset(r.Min.X, y)
		out := dst.Pix[d : d+4*w : d+4*w]
		yo := src.YOffset(r.Min.X, y)
		ys := src.Y[yo : yo+w]
		if src.SubsampleRatio == image.YCbCrSubsampleRatio420 || src.SubsampleRatio == image.YCbCrSubsampleRatio422 {
			// Chroma changes every second column: weigh it once per pair of pixels.
			c := src.COffset(r.Min.X, y)
			odd := r.Min.X & 1
			cw := (w + odd + 1) / 2
			cbs, crs := src.Cb[c:c+cw], src.Cr[c:c+cw]
			for i := 0; i < w; {
				k := (i + odd) / 2
				rd, gd, bd := chromaTerms(cbs[k], crs[k])
				putRGB(out[4*i:4*i+4:4*i+4], ys[i], rd, gd, bd)
				i++
				if (i+odd)&1 == 1 && i < w {
					putRGB(out[4*i:4*i+4:4*i+4], ys[i], rd, gd, bd)
					i++
				}
			}
			continue
		}
		for i := range w {
			c := src.COffset(r.Min.X+i, y)
			rd, gd, bd := chromaTerms(src.Cb[c], src.Cr[c])
			putRGB(out[4*i:4*i+4:4*i+4], ys[i], rd, gd, bd)
		}
	}
}

// chromaTerms returns what a chroma pair adds to R, G and B (scaled by 256, rounding
// included).
func chromaTerms(cb, cr uint8) (r, g, b int32) {
	d := int32(cb) - 128
	e := int32(cr) - 128
	return 409*e + 128, -100*d - 208*e + 128, 516*d + 128
}

// putRGB writes one limited-range luma sample with its chroma terms as RGBA.
func putRGB(p []byte, y uint8, rd, gd, bd int32) {
	c := 298 * (int32(y) - 16)
	p[0] = clamp((c + rd) >> 8)
	p[1] = clamp((c + gd) >> 8)
	p[2] = clamp((c + bd) >> 8)
	p[3] = 255
}

func clamp(v int32) uint8 { return uint8(max(0, min(255, v))) }

// Downscale writes src, shrunk to dst's size, into dst with a box filter: each destination
// sample is the mean of the source samples its area covers (integer spans, computed per
// output row and column). It is meant for the rate controller's resolution steps (3/4, 1/2)
// and costs about one read of the source. dst must not be larger than src in either
// direction and both must be 4:2:0; dst keeps its own rectangle.
func Downscale(dst, src *image.YCbCr) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	scalePlane(dst.Y[dst.YOffset(dst.Rect.Min.X, dst.Rect.Min.Y):], dst.YStride, dw, dh,
		src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y):], src.YStride, sw, sh)
	scw, sch, dcw, dch := (sw+1)/2, (sh+1)/2, (dw+1)/2, (dh+1)/2
	so := src.COffset(src.Rect.Min.X, src.Rect.Min.Y)
	do := dst.COffset(dst.Rect.Min.X, dst.Rect.Min.Y)
	scalePlane(dst.Cb[do:], dst.CStride, dcw, dch, src.Cb[so:], src.CStride, scw, sch)
	scalePlane(dst.Cr[do:], dst.CStride, dcw, dch, src.Cr[so:], src.CStride, scw, sch)
}

// scalePlane box-filters one plane of sw×sh into dw×dh (dw ≤ sw, dh ≤ sh).
func scalePlane(dst []byte, dstride, dw, dh int, src []byte, sstride, sw, sh int) {
	if dw <= 0 || dh <= 0 || sw <= 0 || sh <= 0 {
		return
	}
	// Column spans are the same for every row: compute them once.
	x0 := make([]int, dw+1)
	for x := 0; x <= dw; x++ {
		x0[x] = x * sw / dw
	}
	sums := make([]uint32, dw)
	for y := 0; y < dh; y++ {
		ya, yb := y*sh/dh, (y+1)*sh/dh
		if yb <= ya {
			yb = ya + 1
		}
		clear(sums)
		for sy := ya; sy < yb; sy++ {
			row := src[sy*sstride:]
			for x := 0; x < dw; x++ {
				a, b := x0[x], max(x0[x+1], x0[x]+1)
				var s uint32
				for _, v := range row[a:b] {
					s += uint32(v)
				}
				sums[x] += s
			}
		}
		out := dst[y*dstride:]
		rows := uint32(yb - ya)
		for x := 0; x < dw; x++ {
			n := rows * uint32(max(x0[x+1], x0[x]+1)-x0[x])
			out[x] = uint8((sums[x] + n/2) / n)
		}
	}
}

// Copy copies src's pixels into dst and returns dst, reallocating it (with its origin at
// 0,0) when dst is nil or differs from src in size or subsampling. Pass nil to clone a
// picture that a decoder or capture source is about to reuse.
func Copy(dst, src *image.YCbCr) *image.YCbCr {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h || dst.SubsampleRatio != src.SubsampleRatio {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), src.SubsampleRatio)
	}
	for y := range h {
		copy(dst.Y[dst.YOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:w], src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y):][:w])
	}
	// Chroma rows: the first of each run of rows that share one (every row, or every other).
	step := 1
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio410:
		step = 2
	}
	cw := chromaWidth(src, w)
	for y := 0; y < h; y += step {
		so := src.COffset(src.Rect.Min.X, src.Rect.Min.Y+y)
		do := dst.COffset(dst.Rect.Min.X, dst.Rect.Min.Y+y)
		copy(dst.Cb[do:][:cw], src.Cb[so:][:cw])
		copy(dst.Cr[do:][:cw], src.Cr[so:][:cw])
	}
	return dst
}

// chromaWidth is how many chroma samples a row of w pixels starting at src's left edge
// spans.
func chromaWidth(src *image.YCbCr, w int) int {
	x0 := src.Rect.Min.X
	return src.COffset(x0+w-1, src.Rect.Min.Y) - src.COffset(x0, src.Rect.Min.Y) + 1
}

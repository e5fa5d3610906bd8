package quality

// The VIF statistic in a layout made for SIMD kernels (vif_amd64.s), for 8-bit scale 0 and
// for scales 1 and 2. It computes exactly what accumulate's Go loops compute; only the
// storage between the two passes differs.
//
// The vertical pass writes, per output row, eight planes of uint16: the two means and the
// low and high 16 bits of the three second moments (each below 2^32 after the vertical
// pass's rounding). Every value is stored XOR 0x8000, i.e. biased into int16 range, so that the
// horizontal pass can multiply pairs of neighbours by pairs of taps in one signed 16-bit
// multiply-add; because the taps of every scale sum to 2^16, the bias adds exactly -2^31 to every
// filtered sum, which is undone modulo 2^32. The split halves recombine exactly:
// (Σf·(hi·2^16+lo) + 2^15) >> 16 = Σf·hi + (Σf·lo + 2^15) >> 16.
//
// The generic kernels below are the reference for the assembly ones (their tests require
// identical results) and handle the columns the assembly leaves (it works in blocks of 16).

const (
	vifPlaneMu1 = iota
	vifPlaneMu2
	vifPlaneXXLo
	vifPlaneXXHi
	vifPlaneYYLo
	vifPlaneYYHi
	vifPlaneXYLo
	vifPlaneXYHi
	vifPlaneCount

	// vifPlanePad is the number of columns before and after each plane row: 8 hold the
	// mirrored border, the rest is slack for the 16-wide loads of the horizontal kernel.
	vifPlanePad = 16
	// vifPlaneBias is XORed into every stored value (see above).
	vifPlaneBias = 0x8000
)

// vifPlaneStride is the distance between two planes of a row of width w.
func vifPlaneStride(w int) int { return w + 2*vifPlanePad }

// vifRows names the input rows of one output row of the vertical pass, tap pair by tap
// pair: for a filter of 2·half+1 taps, rows[p] = {ref row p, ref row 2·half-p, dis row p,
// dis row 2·half-p} of the mirrored window for p < half, and rows[half] is the centre row
// paired with itself, weighted by half the centre tap (exact: the centre taps are even).
type vifRows [9][4][]uint16

// vifPairTaps returns the taps of a scale by pair, as vifRows orders them.
func vifPairTaps(scale int) []uint32 {
	filt := vifFilters[scale]
	half := len(filt) / 2
	t := append([]uint32(nil), filt[:half+1]...)
	t[half] /= 2
	return t
}

var vifPairTapsByScale = [4][]uint32{vifPairTaps(0), vifPairTaps(1), vifPairTaps(2), vifPairTaps(3)}

// set points rows at the window of output row i of a w x h plane pair, for a filter of
// 2·half+1 taps.
func (rows *vifRows) set(ref, dis []uint16, i, w, h, half int) {
	for p := 0; p <= half; p++ {
		a, b := mirror(i-half+p, h)*w, mirror(i+half-p, h)*w
		rows[p] = [4][]uint16{ref[a : a+w], ref[b : b+w], dis[a : a+w], dis[b : b+w]}
	}
}

// putMoments stores a vertical pass result in the planes, column j.
func putMoments(planes []uint16, stride, j int, m1, m2, xx, yy, xy uint32) {
	put := func(q int, v uint32) { planes[q*stride+vifPlanePad+j] = uint16(v) ^ vifPlaneBias }
	put(vifPlaneMu1, m1)
	put(vifPlaneMu2, m2)
	put(vifPlaneXXLo, xx)
	put(vifPlaneXXHi, xx>>16)
	put(vifPlaneYYLo, yy)
	put(vifPlaneYYHi, yy>>16)
	put(vifPlaneXYLo, xy)
	put(vifPlaneXYHi, xy>>16)
}

// vifVert8Go computes columns [from, to) of the vertical pass of 8-bit scale 0 into planes
// (17 taps; the means are rounded by 8 bits, the moments, below 2^32, not at all).
func vifVert8Go(rows *vifRows, planes []uint16, stride, from, to int) {
	for j := from; j < to; j++ {
		var m1, m2, xx, yy, xy uint32
		for p, f := range vifPairTapsByScale[0] {
			r := &rows[p]
			xa, xb, ya, yb := uint32(r[0][j]), uint32(r[1][j]), uint32(r[2][j]), uint32(r[3][j])
			m1 += f * (xa + xb)
			m2 += f * (ya + yb)
			xx += f * (xa*xa + xb*xb)
			yy += f * (ya*ya + yb*yb)
			xy += f * (xa*ya + xb*yb)
		}
		putMoments(planes, stride, j, (m1+128)>>8, (m2+128)>>8, xx, yy, xy)
	}
}

// vifVert16Go computes columns [from, to) of the vertical pass of scales 1-3 (samples below
// 2^16, the taps of scale): means and moments both rounded by 16 bits, the moments summed
// in 64 bits.
func vifVert16Go(rows *vifRows, scale int, planes []uint16, stride, from, to int) {
	for j := from; j < to; j++ {
		var m1, m2 uint32
		var xx, yy, xy uint64
		for p, f := range vifPairTapsByScale[scale] {
			r := &rows[p]
			xa, xb, ya, yb := uint64(r[0][j]), uint64(r[1][j]), uint64(r[2][j]), uint64(r[3][j])
			m1 += f * uint32(xa+xb)
			m2 += f * uint32(ya+yb)
			xx += uint64(f) * (xa*xa + xb*xb)
			yy += uint64(f) * (ya*ya + yb*yb)
			xy += uint64(f) * (xa*ya + xb*yb)
		}
		r16 := func(v uint64) uint32 { return uint32((v + 32768) >> 16) }
		putMoments(planes, stride, j, (m1+32768)>>16, (m2+32768)>>16, r16(xx), r16(yy), r16(xy))
	}
}

// vifMirrorPlanes fills the half border columns on each side of every plane row by
// mirroring.
func vifMirrorPlanes(planes []uint16, stride, w, half int) {
	for q := 0; q < vifPlaneCount; q++ {
		row := planes[q*stride : (q+1)*stride]
		for f := 1; f <= half; f++ {
			row[vifPlanePad-f] = row[vifPlanePad+f]
			row[vifPlanePad+w-1+f] = row[vifPlanePad+w-1-f]
		}
	}
}

// vifHStatGo runs the horizontal pass (the taps of scale) and the statistic over output
// columns [from, to) of one row of planes (mirrored already), adding to acc.
func vifHStatGo(acc *vifAccum, scale int, planes []uint16, stride, from, to int) {
	filt := vifFilters[scale]
	half := len(filt) / 2
	get := func(q, j int) uint64 { return uint64(planes[q*stride+vifPlanePad+j] ^ vifPlaneBias) }
	moment := func(lo, hi uint64) uint32 { return uint32((hi<<16 + lo + 32768) >> 16) }
	for j := from; j < to; j++ {
		var s [vifPlaneCount]uint64
		for k, f := range filt {
			for q := range s {
				s[q] += uint64(f) * get(q, j-half+k)
			}
		}
		acc.add(uint32(s[vifPlaneMu1]), uint32(s[vifPlaneMu2]), moment(s[vifPlaneXXLo], s[vifPlaneXXHi]),
			moment(s[vifPlaneYYLo], s[vifPlaneYYHi]), moment(s[vifPlaneXYLo], s[vifPlaneXYHi]))
	}
}

// vifKernels are the two passes of the plane pipeline for one row of width w.
type vifKernels struct {
	vert  func(rows *vifRows, scale int, planes []uint16, stride, w int)
	hstat func(acc *vifAccum, scale int, planes []uint16, stride, w int)
}

// vifGoKernels are the Go reference kernels.
var vifGoKernels = vifKernels{
	vert: func(rows *vifRows, scale int, planes []uint16, stride, w int) {
		if scale == 0 {
			vifVert8Go(rows, planes, stride, 0, w)
		} else {
			vifVert16Go(rows, scale, planes, stride, 0, w)
		}
	},
	hstat: func(acc *vifAccum, scale int, planes []uint16, stride, w int) {
		vifHStatGo(acc, scale, planes, stride, 0, w)
	},
}

// vifPlanesApply reports whether the plane pipeline (and with it the assembly kernels)
// serves a scale: 8-bit samples at scale 0, the 16-bit scale inputs of scales 1 and 2 (the
// centre tap of scale 3 does not fit the signed 16-bit multiply of the horizontal kernel).
func vifPlanesApply(scale, bpc int) bool {
	return (scale == 0 && bpc == 8) || scale == 1 || scale == 2
}

// accumulatePlanes is accumulate through the plane kernels (assembly where the CPU has it)
// for a scale where vifPlanesApply.
func (s *vifState) accumulatePlanes(ref, dis []uint16, w, h, scale int) vifAccum {
	return s.accumulatePlanesWith(ref, dis, w, h, scale, vifFastKernels)
}

// accumulatePlanesWith runs the plane pipeline with the given kernels.
func (s *vifState) accumulatePlanesWith(ref, dis []uint16, w, h, scale int, k vifKernels) vifAccum {
	stride := vifPlaneStride(w)
	if n := vifPlaneCount * stride; cap(s.planes) < n {
		s.planes = make([]uint16, n)
	}
	planes := s.planes[:vifPlaneCount*stride]
	half := len(vifFilters[scale]) / 2
	var acc vifAccum
	rows := &s.rows
	for i := 0; i < h; i++ {
		rows.set(ref, dis, i, w, h, half)
		k.vert(rows, scale, planes, stride, w)
		vifMirrorPlanes(planes, stride, w, half)
		k.hstat(&acc, scale, planes, stride, w)
	}
	*rows = vifRows{} // hold no reference to the frame
	return acc
}

package quality

// The scale-0 statistic of 8-bit VIF in a layout made for SIMD kernels (vif_amd64.s). It
// computes exactly what vertical8 and horizontal17 compute; only the storage between the
// two passes differs.
//
// The vertical pass writes, per output row, eight planes of uint16: the two means and the
// low and high 16 bits of the three second moments (x², y², x·y sums below 2^32 for 8-bit
// samples). Every value is stored XOR 0x8000, i.e. biased into int16 range, so that the
// horizontal pass can multiply pairs of neighbours by pairs of taps in one signed 16-bit
// multiply-add; because the 17 taps sum to 2^16, the bias adds exactly -2^31 to every
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

// vifRows names the input rows of one scale-0 output row, tap pair by tap pair:
// rows[p] = {ref row p, ref row 16-p, dis row p, dis row 16-p} of the mirrored window;
// pair 8 is the centre row paired with itself, with half the centre tap.
type vifRows [9][4][]uint16

// vifPairTaps are the scale-0 taps by pair (see vifRows); 7784/2 is exact.
var vifPairTaps = [9]uint32{489, 935, 1640, 2640, 3896, 5274, 6547, 7455, 7784 / 2}

// setRows points rows at the window of output row i of a w x h plane pair.
func (rows *vifRows) set(ref, dis []uint16, i, w, h int) {
	for p := range rows {
		a, b := mirror(i-8+p, h)*w, mirror(i+8-p, h)*w
		rows[p] = [4][]uint16{ref[a : a+w], ref[b : b+w], dis[a : a+w], dis[b : b+w]}
	}
}

// vifVert8Go computes columns [from, to) of the vertical pass of 8-bit scale 0 into planes.
func vifVert8Go(rows *vifRows, planes []uint16, stride, from, to int) {
	put := func(q, j int, v uint32) { planes[q*stride+vifPlanePad+j] = uint16(v) ^ vifPlaneBias }
	for j := from; j < to; j++ {
		var m1, m2, xx, yy, xy uint32
		for p, f := range vifPairTaps {
			r := &rows[p]
			xa, xb, ya, yb := uint32(r[0][j]), uint32(r[1][j]), uint32(r[2][j]), uint32(r[3][j])
			m1 += f * (xa + xb)
			m2 += f * (ya + yb)
			xx += f * (xa*xa + xb*xb)
			yy += f * (ya*ya + yb*yb)
			xy += f * (xa*ya + xb*yb)
		}
		put(vifPlaneMu1, j, (m1+128)>>8)
		put(vifPlaneMu2, j, (m2+128)>>8)
		put(vifPlaneXXLo, j, xx)
		put(vifPlaneXXHi, j, xx>>16)
		put(vifPlaneYYLo, j, yy)
		put(vifPlaneYYHi, j, yy>>16)
		put(vifPlaneXYLo, j, xy)
		put(vifPlaneXYHi, j, xy>>16)
	}
}

// vifMirrorPlanes fills the 8 border columns on each side of every plane row by mirroring.
func vifMirrorPlanes(planes []uint16, stride, w int) {
	for q := 0; q < vifPlaneCount; q++ {
		row := planes[q*stride : (q+1)*stride]
		for f := 1; f <= 8; f++ {
			row[vifPlanePad-f] = row[vifPlanePad+f]
			row[vifPlanePad+w-1+f] = row[vifPlanePad+w-1-f]
		}
	}
}

// vifHStat8Go runs the horizontal pass and the statistic of 8-bit scale 0 over output
// columns [from, to) of one row of planes (mirrored already), adding to acc.
func vifHStat8Go(acc *vifAccum, planes []uint16, stride, from, to int) {
	get := func(q, j int) uint64 { return uint64(planes[q*stride+vifPlanePad+j] ^ vifPlaneBias) }
	moment := func(lo, hi uint64) uint32 { return uint32((hi<<16 + lo + 32768) >> 16) }
	for j := from; j < to; j++ {
		var s [vifPlaneCount]uint64
		for k, f := range vifFilters[0] {
			for q := range s {
				s[q] += uint64(f) * get(q, j-8+k)
			}
		}
		acc.add(uint32(s[vifPlaneMu1]), uint32(s[vifPlaneMu2]), moment(s[vifPlaneXXLo], s[vifPlaneXXHi]),
			moment(s[vifPlaneYYLo], s[vifPlaneYYHi]), moment(s[vifPlaneXYLo], s[vifPlaneXYHi]))
	}
}

// accumulate0Planes is accumulate for 8-bit scale 0 through the plane kernels (vifVert8 and
// vifHStat8, assembly where the CPU has it).
func (s *vifState) accumulate0Planes(ref, dis []uint16, w, h int) vifAccum {
	return s.accumulate0PlanesWith(ref, dis, w, h, vifVert8, vifHStat8)
}

// accumulate0PlanesWith runs the plane pipeline with the given kernels.
func (s *vifState) accumulate0PlanesWith(ref, dis []uint16, w, h int,
	vert func(*vifRows, []uint16, int, int), hstat func(*vifAccum, []uint16, int, int)) vifAccum {
	stride := vifPlaneStride(w)
	if n := vifPlaneCount * stride; cap(s.planes) < n {
		s.planes = make([]uint16, n)
	}
	planes := s.planes[:vifPlaneCount*stride]
	var acc vifAccum
	rows := &s.rows
	for i := 0; i < h; i++ {
		rows.set(ref, dis, i, w, h)
		vert(rows, planes, stride, w)
		vifMirrorPlanes(planes, stride, w)
		hstat(&acc, planes, stride, w)
	}
	*rows = vifRows{} // hold no reference to the frame
	return acc
}

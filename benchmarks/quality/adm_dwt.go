package quality

// The scale-0 DWT of ADM through int16 rows, a layout made for SIMD kernels
// (adm_amd64.s). It computes exactly what dwt computes at scale 0: the vertical pass's
// results are truncated to int16 there anyway, so they are stored as int16, padded by
// admRowPad with the horizontal mirror (index -1 reads 1, index n reads n-1, n+1 reads n-2,
// ...), and the horizontal pass then needs no index tables. The Go kernels are the
// reference for the assembly ones and take the columns after the last full block.

// admRowPad is the number of int16 columns before and after each row.
const admRowPad = 16

// admDwtVertGo computes columns [from, to) of the vertical pass of scale 0 from the four
// input rows into lo and hi (int16, unpadded indexing).
func admDwtVertGo(rows *[4][]uint16, lo, hi []int16, bpc, from, to int) {
	round := int32(1) << (bpc - 1)
	sh := uint(bpc)
	for j := from; j < to; j++ {
		x0, x1, x2, x3 := int32(rows[0][j]), int32(rows[1][j]), int32(rows[2][j]), int32(rows[3][j])
		a := dwtLo[0]*x0 + dwtLo[1]*x1 + dwtLo[2]*x2 + dwtLo[3]*x3 - dwtLoSum*round
		lo[j] = int16((a + round) >> sh)
		b := dwtHi[0]*x0 + dwtHi[1]*x1 + dwtHi[2]*x2 + dwtHi[3]*x3
		hi[j] = int16((b + round) >> sh)
	}
}

// admMirrorRow fills the padding of a row of n values (stored from index admRowPad) the
// way the DWT's column indices reflect.
func admMirrorRow[T int16 | int32](row []T, n int) {
	row[admRowPad-1] = row[admRowPad+min(1, n-1)]
	for k := 0; k < 3; k++ {
		row[admRowPad+n+k] = row[admRowPad+max(n-1-k, 0)]
	}
}

// admDwtHorzGo computes outputs [from, to) of the horizontal pass of scale 0 from the
// padded rows lo and hi into the bands' row slices.
func admDwtHorzGo(lo, hi []int16, a, v, h, d []int32, from, to int) {
	for j := from; j < to; j++ {
		c := admRowPad + 2*j - 1
		l0, l1, l2, l3 := int32(lo[c]), int32(lo[c+1]), int32(lo[c+2]), int32(lo[c+3])
		h0, h1, h2, h3 := int32(hi[c]), int32(hi[c+1]), int32(hi[c+2]), int32(hi[c+3])
		a[j] = int32(int16((dwtLo[0]*l0 + dwtLo[1]*l1 + dwtLo[2]*l2 + dwtLo[3]*l3 + 32768) >> 16))
		v[j] = int32(int16((dwtHi[0]*l0 + dwtHi[1]*l1 + dwtHi[2]*l2 + dwtHi[3]*l3 + 32768) >> 16))
		h[j] = int32(int16((dwtLo[0]*h0 + dwtLo[1]*h1 + dwtLo[2]*h2 + dwtLo[3]*h3 + 32768) >> 16))
		d[j] = int32(int16((dwtHi[0]*h0 + dwtHi[1]*h1 + dwtHi[2]*h2 + dwtHi[3]*h3 + 32768) >> 16))
	}
}

// admDwtKernels are the two passes of the scale-0 DWT for one row.
type admDwtKernels struct {
	vert func(rows *[4][]uint16, lo, hi []int16, bpc, n int)
	horz func(lo, hi []int16, a, v, h, d []int32, n int)
}

// admDwtGoKernels are the Go reference kernels.
var admDwtGoKernels = admDwtKernels{
	vert: func(rows *[4][]uint16, lo, hi []int16, bpc, n int) { admDwtVertGo(rows, lo, hi, bpc, 0, n) },
	horz: func(lo, hi []int16, a, v, h, d []int32, n int) { admDwtHorzGo(lo, hi, a, v, h, d, 0, n) },
}

// dwt0 is dwt at scale 0 through the int16 row kernels.
func (s *admState) dwt0(src []uint16, dst *admBands, w, h, bpc int, k admDwtKernels) {
	vert := func(rows *[4][]uint16, lo, hi []int16, n int) { k.vert(rows, lo, hi, bpc, n) }
	dwtRows(s, src, &s.tmp16, dst, w, h, vert, k.horz)
}

// dwtRows runs a DWT row by row through padded rows of T held in *tmp: for each output row
// the vertical pass over the four input rows that the column indices select, the mirror
// padding, then the horizontal pass into dst. Scale 0 (uint16 input, int16 rows) and scales
// 1-3 (int32 throughout) share it.
func dwtRows[S uint16 | int32, T int16 | int32](s *admState, src []S, tmp *[]T, dst *admBands, w, h int,
	vert func(rows *[4][]S, lo, hi []T, n int), horz func(lo, hi []T, a, v, h, d []int32, n int)) {
	hw, hh := (w+1)/2, (h+1)/2
	n := w + 2*admRowPad
	if cap(*tmp) < 2*n {
		*tmp = make([]T, 2*n)
	}
	lo, hi := (*tmp)[:n], (*tmp)[n:2*n]
	var rows [4][]S
	for i := 0; i < hh; i++ {
		for r := range rows {
			o := s.indY[r][i] * w
			rows[r] = src[o : o+w]
		}
		vert(&rows, lo[admRowPad:admRowPad+w], hi[admRowPad:admRowPad+w], w)
		admMirrorRow(lo, w)
		admMirrorRow(hi, w)
		o := i * hw
		horz(lo, hi, dst.a[o:o+hw], dst.v[o:o+hw], dst.h[o:o+hw], dst.d[o:o+hw], hw)
	}
}

// The DWT of scales 1-3 (the 32-bit pipeline, with int64 products) through padded int32
// rows, the same way: vertical pass into lo and hi, horizontal mirror in the padding, then
// the horizontal pass without index tables.

// admDwtNVertGo computes columns [from, to) of the vertical pass of scale (1-3) from four
// int32 input rows into lo and hi (unpadded indexing).
func admDwtNVertGo(rows *[4][]int32, lo, hi []int32, scale, from, to int) {
	var round int64
	var sh uint
	if scale > 1 {
		round, sh = 32768, 16
	}
	for j := from; j < to; j++ {
		x0, x1, x2, x3 := int64(rows[0][j]), int64(rows[1][j]), int64(rows[2][j]), int64(rows[3][j])
		a := int64(dwtLo[0])*x0 + int64(dwtLo[1])*x1 + int64(dwtLo[2])*x2 + int64(dwtLo[3])*x3
		lo[j] = int32((a + round) >> sh)
		b := int64(dwtHi[0])*x0 + int64(dwtHi[1])*x1 + int64(dwtHi[2])*x2 + int64(dwtHi[3])*x3
		hi[j] = int32((b + round) >> sh)
	}
}

// admDwtNHorzGo computes outputs [from, to) of the horizontal pass of scale (1-3) from the
// padded rows lo and hi into the bands' row slices.
func admDwtNHorzGo(lo, hi []int32, a, v, h, d []int32, scale, from, to int) {
	var round int64 = 16384
	var sh uint = 15
	if scale == 2 {
		round, sh = 32768, 16
	}
	c := func(f [4]int32, x []int32) int32 {
		return int32((int64(f[0])*int64(x[0]) + int64(f[1])*int64(x[1]) + int64(f[2])*int64(x[2]) +
			int64(f[3])*int64(x[3]) + round) >> sh)
	}
	for j := from; j < to; j++ {
		k := admRowPad + 2*j - 1
		l, g := lo[k:k+4], hi[k:k+4]
		a[j], v[j], h[j], d[j] = c(dwtLo, l), c(dwtHi, l), c(dwtLo, g), c(dwtHi, g)
	}
}

// admDwtNKernels are the two passes of the DWT of scales 1-3 for one row.
type admDwtNKernels struct {
	vert func(rows *[4][]int32, lo, hi []int32, scale, n int)
	horz func(lo, hi []int32, a, v, h, d []int32, scale, n int)
}

// admDwtNGoKernels are the Go reference kernels.
var admDwtNGoKernels = admDwtNKernels{
	vert: func(rows *[4][]int32, lo, hi []int32, scale, n int) { admDwtNVertGo(rows, lo, hi, scale, 0, n) },
	horz: func(lo, hi []int32, a, v, h, d []int32, scale, n int) {
		admDwtNHorzGo(lo, hi, a, v, h, d, scale, 0, n)
	},
}

// dwtN is dwt at scales 1-3 through the int32 row kernels.
func (s *admState) dwtN(src []int32, dst *admBands, w, h, scale int, k admDwtNKernels) {
	vert := func(rows *[4][]int32, lo, hi []int32, n int) { k.vert(rows, lo, hi, scale, n) }
	horz := func(lo, hi []int32, a, v, hb, d []int32, n int) { k.horz(lo, hi, a, v, hb, d, scale, n) }
	dwtRows(s, src, &s.tmp, dst, w, h, vert, horz)
}

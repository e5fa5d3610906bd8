//go:build amd64 && !purego

package quality

import "golang.org/x/sys/cpu"

// admHaveAsm reports whether the AVX2 kernels of adm_amd64.s can run on this CPU.
var admHaveAsm = cpu.X86.HasAVX2

// admDwtVertAVX2 is admDwtVertGo over columns [0, n), n a positive multiple of 16.
//
//go:noescape
func admDwtVertAVX2(rows *[4]*uint16, lo, hi *int16, n, bpc int)

// admDwtHorzAVX2 is admDwtHorzGo over outputs [0, n), n a positive multiple of 8; lo and
// hi point at column 0 of the padded rows.
//
//go:noescape
func admDwtHorzAVX2(lo, hi *int16, a, v, h, d *int32, n int)

// admDwtFastKernels use the assembly for the full blocks where the CPU has AVX2, Go for
// the rest.
var admDwtFastKernels = admDwtKernels{vert: admDwtVert, horz: admDwtHorz}

func admDwtVert(rows *[4][]uint16, lo, hi []int16, bpc, n int) {
	m := n &^ 15
	if admHaveAsm && m > 0 {
		var ptr [4]*uint16
		for r := range rows {
			ptr[r] = &rows[r][:n][0]
		}
		admDwtVertAVX2(&ptr, &lo[:n][0], &hi[:n][0], m, bpc)
	} else {
		m = 0
	}
	admDwtVertGo(rows, lo, hi, bpc, m, n)
}

func admDwtHorz(lo, hi []int16, a, v, h, d []int32, n int) {
	m := n &^ 7
	// the last block reads up to column 2m+14 of the padded rows
	if admHaveAsm && m > 0 && len(lo) >= admRowPad+2*m+15 && len(hi) == len(lo) {
		admDwtHorzAVX2(&lo[admRowPad], &hi[admRowPad], &a[:n][0], &v[:n][0], &h[:n][0], &d[:n][0], m)
	} else {
		m = 0
	}
	admDwtHorzGo(lo, hi, a, v, h, d, m, n)
}

// admCsf0AVX2 is admCsf0Go over n samples, n a positive multiple of 8.
//
//go:noescape
func admCsf0AVX2(src, dst, flt *int32, n int, irf, add, sh int)

// admCsf0 is admCsf0Go with the assembly for the full blocks of 8 where the CPU has AVX2.
func admCsf0(src, dst, flt []int32, irf, add int32, sh uint) {
	n := len(src)
	m := n &^ 7
	if admHaveAsm && m > 0 {
		admCsf0AVX2(&src[0], &dst[:n][0], &flt[:n][0], m, int(irf), int(add), int(sh))
	} else {
		m = 0
	}
	admCsf0Go(src[m:], dst[m:n], flt[m:n], irf, add, sh)
}

// admDecouple0AVX2 is admDecouple0Go over n samples, n a positive multiple of 8; bands
// holds the first sample of o h,v,d, t h,v,d, r h,v,d and ad h,v,d; lookup is
// admDivLookup and cos is cos1degSq.
//
//go:noescape
func admDecouple0AVX2(bands *[12]*int32, n int, lookup *int32, cos float64)

// admDecouple0 is admDecouple0Go over a whole row, with the assembly for the full blocks
// of 8 where the CPU has AVX2.
func admDecouple0(row *admDecoupleRow) {
	n := len(row.o[0])
	m := n &^ 7
	if admHaveAsm && m > 0 {
		var p [12]*int32
		for b := 0; b < 3; b++ {
			p[b], p[3+b] = &row.o[b][:n][0], &row.t[b][:n][0]
			p[6+b], p[9+b] = &row.r[b][:n][0], &row.ad[b][:n][0]
		}
		admDecouple0AVX2(&p, m, &admDivLookup[0], float64(cos1degSq))
	} else {
		m = 0
	}
	admDecouple0Go(row, m, n)
}

// admCm0AVX2 is admCm0RowGo over n samples, n a positive multiple of 8, writing the band
// sums to out; rows holds nb, the masker rows h, v, d and the source rows h, v, d. It
// returns false when a sample is outside the range it is exact for (see the assembly);
// out is then to be ignored.
//
//go:noescape
func admCm0AVX2(rows *[7]*int32, n int, params *admCm0Params, out *[3]int64) bool

// admCm0Row is admCm0RowGo over a whole row, with the assembly for the full blocks of 8
// where the CPU has AVX2 and the inputs are in its range.
func admCm0Row(nb []int32, masker, src *[3][]int32, p *admCm0Params) [3]int64 {
	n := len(nb)
	m := n &^ 7
	if admHaveAsm && m > 0 {
		rows := [7]*int32{&nb[0], &masker[0][:n][0], &masker[1][:n][0], &masker[2][:n][0],
			&src[0][:n][0], &src[1][:n][0], &src[2][:n][0]}
		var out [3]int64
		if admCm0AVX2(&rows, m, p, &out) {
			rest := admCm0RowGo(nb, masker, src, p, m, n)
			for t := range out {
				out[t] += rest[t]
			}
			return out
		}
	}
	return admCm0RowGo(nb, masker, src, p, 0, n)
}

// admDwtNVertAVX2 is admDwtNVertGo over columns [0, n), n a positive multiple of 8, with
// the rounding term and shift of the scale.
//
//go:noescape
func admDwtNVertAVX2(rows *[4]*int32, lo, hi *int32, n int, round int64, shift int)

// admDwtNHorzAVX2 is admDwtNHorzGo over outputs [0, n), n a positive multiple of 4; lo
// and hi point at column 0 of the padded rows.
//
//go:noescape
func admDwtNHorzAVX2(lo, hi *int32, a, v, h, d *int32, n int, round int64, shift int)

// admDwtNFastKernels use the assembly for the full blocks where the CPU has AVX2, Go for
// the rest.
var admDwtNFastKernels = admDwtNKernels{vert: admDwtNVert, horz: admDwtNHorz}

func admDwtNVert(rows *[4][]int32, lo, hi []int32, scale, n int) {
	m := n &^ 7
	if admHaveAsm && m > 0 {
		var ptr [4]*int32
		for r := range rows {
			ptr[r] = &rows[r][:n][0]
		}
		var round int64
		var sh int
		if scale > 1 {
			round, sh = 32768, 16
		}
		admDwtNVertAVX2(&ptr, &lo[:n][0], &hi[:n][0], m, round, sh)
	} else {
		m = 0
	}
	admDwtNVertGo(rows, lo, hi, scale, m, n)
}

func admDwtNHorz(lo, hi []int32, a, v, h, d []int32, scale, n int) {
	m := n &^ 3
	// the last block reads up to column 2m+6 of the padded rows
	if admHaveAsm && m > 0 && len(lo) >= admRowPad+2*m+7 && len(hi) == len(lo) {
		var round int64 = 16384
		sh := 15
		if scale == 2 {
			round, sh = 32768, 16
		}
		admDwtNHorzAVX2(&lo[admRowPad], &hi[admRowPad], &a[:n][0], &v[:n][0], &h[:n][0], &d[:n][0], m, round, sh)
	} else {
		m = 0
	}
	admDwtNHorzGo(lo, hi, a, v, h, d, scale, m, n)
}

// admCube0AVX2 is admCube0RowGo over n samples, n a positive multiple of 8.
//
//go:noescape
func admCube0AVX2(row *int32, n int) uint64

// admCube0Row is admCube0RowGo with the assembly for the full blocks of 8 where the CPU
// has AVX2.
func admCube0Row(row []int32) uint64 {
	m := len(row) &^ 7
	if !admHaveAsm || m == 0 {
		return admCube0RowGo(row)
	}
	return admCube0AVX2(&row[0], m) + admCube0RowGo(row[m:])
}

// admSum9AVX2 is admSum9Go over n columns from the given starts, n a positive multiple
// of 8.
//
//go:noescape
func admSum9AVX2(rows *[9]*int32, col *int32, n int)

// admNb3AVX2 is admNb3Go over n columns from the given starts, n a positive multiple of 8;
// it reads col one element before and after.
//
//go:noescape
func admNb3AVX2(col *int32, c *[3]*int32, nb *int32, n int)

// admSum9 is admSum9Go with the assembly for the full blocks of 8.
func admSum9(rows *[9][]int32, col []int32, from, to int) {
	m := (to - from) &^ 7
	if admHaveAsm && m > 0 {
		var p [9]*int32
		for r := range rows {
			p[r] = &rows[r][from:to][0]
		}
		admSum9AVX2(&p, &col[from:to][0], m)
	} else {
		m = 0
	}
	admSum9Go(rows, col, from+m, to)
}

// admNb3 is admNb3Go with the assembly for the full blocks of 8.
func admNb3(col []int32, c *[3][]int32, nb []int32, from, to int) {
	m := (to - from) &^ 7
	if admHaveAsm && m > 0 && from >= 1 && to < len(col) {
		p := [3]*int32{&c[0][from:to][0], &c[1][from:to][0], &c[2][from:to][0]}
		admNb3AVX2(&col[from : to+1][0], &p, &nb[from:to][0], m)
	} else {
		m = 0
	}
	admNb3Go(col, c, nb, from+m, to)
}

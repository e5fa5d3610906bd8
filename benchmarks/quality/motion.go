package quality

import "math"

// Motion in the form of libvmaf's integer_motion feature: the mean absolute value of the
// Gaussian-blurred difference between consecutive reference lumas (the "SAD" score of a
// frame, 0 for the first), motion2 = min(SAD of this frame, SAD of the next) (the last
// frame keeps its own), motion3 = motion2 passed through libvmaf's blend (identity with the
// default options), the first frame taking the value of the second.

var motionFilter = [5]int64{3571, 16004, 26386, 16004, 3571}

const motionMaxVal = 10000.0

// mirrorMotion reflects like libvmaf's motion extractor: -1 -> 1, n -> n-2.
func mirrorMotion(i, n int) int {
	if i < 0 {
		return -i
	}
	if i >= n {
		return 2*n - i - 2
	}
	return i
}

// motionSAD returns the SAD score between the previous and current reference luma.
// row is scratch of at least w int32s.
func motionSAD(prev, cur []uint16, w, h, bpc int, row []int32) float64 {
	return motionSADWith(prev, cur, w, h, bpc, row, motionFastKernels)
}

// motionKernels are the two passes of motionSAD for one row.
type motionKernels struct {
	// vert filters the difference of the five rows (prev, cur) vertically into row and
	// returns the OR of the results (zero when the whole row is).
	vert func(prev, cur *[5][]uint16, row []int32, bpc int) int32
	// horz filters row horizontally and returns the sum of the absolute values.
	horz func(row []int32) uint64
}

// motionGoKernels are the Go reference kernels.
var motionGoKernels = motionKernels{
	vert: func(prev, cur *[5][]uint16, row []int32, bpc int) int32 {
		return motionVertGo(prev, cur, row, bpc, 0, len(row))
	},
	horz: func(row []int32) uint64 { return motionHorzGo(row, 0, len(row)) },
}

// motionSADWith is motionSAD with the given kernels.
func motionSADWith(prev, cur []uint16, w, h, bpc int, row []int32, k motionKernels) float64 {
	row = row[:w]
	var sad uint64
	var p, c [5][]uint16
	for i := 0; i < h; i++ {
		for t := range p {
			o := mirrorMotion(i-2+t, h) * w
			p[t], c[t] = prev[o:o+w], cur[o:o+w]
		}
		if k.vert(&p, &c, row, bpc) == 0 {
			continue
		}
		sad += k.horz(row)
	}
	return math.Min(float64(sad)/256.0/float64(w*h), motionMaxVal)
}

// motionVertGo is the vertical pass over columns [from, to): int32 is exact, as
// |difference| < 2^10 and the taps sum to 2^16, so every sum stays below 2^26. The filter
// is symmetric (f0=f4, f1=f3).
func motionVertGo(prev, cur *[5][]uint16, row []int32, bpc, from, to int) int32 {
	round := int32(1) << (bpc - 1)
	shift := uint(bpc)
	f0, f1, f2 := int32(motionFilter[0]), int32(motionFilter[1]), int32(motionFilter[2])
	var any int32
	for j := from; j < to; j++ {
		d0 := int32(prev[0][j]) - int32(cur[0][j]) + int32(prev[4][j]) - int32(cur[4][j])
		d1 := int32(prev[1][j]) - int32(cur[1][j]) + int32(prev[3][j]) - int32(cur[3][j])
		d2 := int32(prev[2][j]) - int32(cur[2][j])
		v := (f0*d0 + f1*d1 + f2*d2 + round) >> shift
		row[j] = v
		any |= v
	}
	return any
}

// motionHorzGo is the horizontal pass over outputs [from, to) of row (mirrored at both
// ends), returning the sum of absolute values. The products need int64: |row| < 2^16,
// times taps up to 2^15.
func motionHorzGo(row []int32, from, to int) uint64 {
	w := len(row)
	var rowSAD uint64
	for j := from; j < to; j++ {
		var acc int64
		if j >= 2 && j < w-2 {
			n := row[j-2 : j+3 : j+3]
			acc = motionFilter[0]*(int64(n[0])+int64(n[4])) + motionFilter[1]*(int64(n[1])+int64(n[3])) +
				motionFilter[2]*int64(n[2])
		} else {
			for k := 0; k < 5; k++ {
				acc += motionFilter[k] * int64(row[mirrorMotion(j-2+k, w)])
			}
		}
		v := int32((acc + 32768) >> 16)
		if v < 0 {
			v = -v
		}
		rowSAD += uint64(v)
	}
	return rowSAD
}

// motionBlend is libvmaf's motion_blend with its default factor 1 and offset 40.
func motionBlend(score float64) float64 {
	const factor, offset = 1.0, 40.0
	if score <= offset {
		return score
	}
	return offset + factor*(score-offset)
}

// motion2and3 derives the motion2 and motion3 series from the per-frame SAD scores.
func motion2and3(sad []float64) (m2, m3 []float64) {
	n := len(sad)
	m2 = make([]float64, n)
	m3 = make([]float64, n)
	var stamp float64
	if n > 1 {
		stamp = math.Min(motionBlend(sad[1]), motionMaxVal)
	}
	for i := 0; i < n; i++ {
		if i < 1 {
			m2[i] = 0
			m3[i] = stamp
			continue
		}
		if i+1 < n {
			m2[i] = math.Min(sad[i], sad[i+1])
		} else {
			m2[i] = sad[i]
		}
		m3[i] = math.Min(motionBlend(m2[i]), motionMaxVal)
	}
	return m2, m3
}

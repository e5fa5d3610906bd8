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
	round := int32(1) << (bpc - 1)
	shift := uint(bpc)
	f0, f1, f2 := int32(motionFilter[0]), int32(motionFilter[1]), int32(motionFilter[2])
	row = row[:w]
	var sad uint64
	for i := 0; i < h; i++ {
		var r [5]int
		for k := range r {
			r[k] = mirrorMotion(i-2+k, h) * w
		}
		// Vertical pass on the difference. int32 is exact: |difference| < 2^10 and the taps
		// sum to 2^16, so every sum stays below 2^26. The filter is symmetric (f0=f4, f1=f3).
		p0, p1, p2 := prev[r[0]:][:len(row)], prev[r[1]:][:len(row)], prev[r[2]:][:len(row)]
		p3, p4 := prev[r[3]:][:len(row)], prev[r[4]:][:len(row)]
		c0, c1, c2 := cur[r[0]:][:len(row)], cur[r[1]:][:len(row)], cur[r[2]:][:len(row)]
		c3, c4 := cur[r[3]:][:len(row)], cur[r[4]:][:len(row)]
		var any int32
		for j := range row {
			d0 := int32(p0[j]) - int32(c0[j]) + int32(p4[j]) - int32(c4[j])
			d1 := int32(p1[j]) - int32(c1[j]) + int32(p3[j]) - int32(c3[j])
			d2 := int32(p2[j]) - int32(c2[j])
			v := (f0*d0 + f1*d1 + f2*d2 + round) >> shift
			row[j] = v
			any |= v
		}
		if any == 0 {
			continue
		}
		// Horizontal pass: the products need int64 (|row| < 2^16, times taps up to 2^15).
		var rowSAD uint32
		for j := 0; j < w; j++ {
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
			rowSAD += uint32(v)
		}
		sad += uint64(rowSAD)
	}
	return math.Min(float64(sad)/256.0/float64(w*h), motionMaxVal)
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

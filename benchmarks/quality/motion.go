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
	round := int64(1) << (bpc - 1)
	shift := uint(bpc)
	var sad uint64
	for i := 0; i < h; i++ {
		r := [5]int{}
		for k := 0; k < 5; k++ {
			r[k] = mirrorMotion(i-2+k, h) * w
		}
		var any int32
		for j := 0; j < w; j++ {
			var acc int64
			for k := 0; k < 5; k++ {
				acc += motionFilter[k] * (int64(prev[r[k]+j]) - int64(cur[r[k]+j]))
			}
			v := int32((acc + round) >> shift)
			row[j] = v
			any |= v
		}
		if any == 0 {
			continue
		}
		var rowSAD uint32
		for j := 0; j < w; j++ {
			var acc int64
			if j >= 2 && j < w-2 {
				acc = motionFilter[0]*int64(row[j-2]) + motionFilter[1]*int64(row[j-1]) +
					motionFilter[2]*int64(row[j]) + motionFilter[3]*int64(row[j+1]) + motionFilter[4]*int64(row[j+2])
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

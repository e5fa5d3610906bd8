package quality

// admCm0Params are the per-band constants of cm's scale-0 pooling: irf, sub shift, sqAdd,
// sqShift, cubAdd, cubShift (two unused slots keep each band 64 bytes for the assembly).
type admCm0Params [3][8]int64

// admCm0RowGo is cm's scale-0 loop over samples [from, to) of one row: the masking
// threshold of each sample (its neighbour sum nb plus the masker bands' |m|/15), then, per
// band of src, the sum of the thresholded, cubed and shifted CSF-weighted samples. It
// returns the three band sums (cm adds them to its accumulators with its row shift). nb
// is not modified.
func admCm0RowGo(nb []int32, masker, src *[3][]int32, p *admCm0Params, from, to int) [3]int64 {
	var inner [3]int64
	for j := from; j < to; j++ {
		thr := nb[j] + int32(int16((oneBy15*abs32(masker[0][j])+2048)>>12)) +
			int32(int16((oneBy15*abs32(masker[1][j])+2048)>>12)) +
			int32(int16((oneBy15*abs32(masker[2][j])+2048)>>12))
		for t := range inner {
			irf, sub, sqAdd, sqShift, cubAdd, cubShift := p[t][0], uint(p[t][1]), p[t][2], uint(p[t][3]), p[t][4], uint(p[t][5])
			x := int64(abs32(int32(int64(src[t][j]) * irf)))
			x -= int64(thr) << sub
			if x < 0 {
				x = 0
			}
			xsq := int64(int32((x*x + sqAdd) >> sqShift))
			inner[t] += (xsq*x + cubAdd) >> cubShift
		}
	}
	return inner
}

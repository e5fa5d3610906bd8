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

// admSum9Go sets col[j] to the sum of the nine rows at j, for j in [from, to), in wrapping
// int32 arithmetic.
func admSum9Go(rows *[9][]int32, col []int32, from, to int) {
	for j := from; j < to; j++ {
		col[j] = rows[0][j] + rows[1][j] + rows[2][j] + rows[3][j] + rows[4][j] + rows[5][j] +
			rows[6][j] + rows[7][j] + rows[8][j]
	}
}

// admNb3Go sets nb[j] = col[j-1] + col[j] + col[j+1] - c[0][j] - c[1][j] - c[2][j] for j in
// [from, to) (1 <= from, to < len(col)), in wrapping int32 arithmetic.
func admNb3Go(col []int32, c *[3][]int32, nb []int32, from, to int) {
	for j := from; j < to; j++ {
		nb[j] = col[j-1] + col[j] + col[j+1] - c[0][j] - c[1][j] - c[2][j]
	}
}

// cmNeighbourRowFast is cmNeighbourRow (w >= 2) with the column sums and the interior
// neighbour sums through admSum9 and admNb3; the edge columns keep the Go code.
func (s *admState) cmNeighbourRowFast(flt *admBands, w, iu, ic, id, left, right int) []int32 {
	if cap(s.nb) < 2*w {
		s.nb = make([]int32, 2*w)
	}
	nb, col := s.nb[:w], s.nb[w:2*w]
	rows := [9][]int32{flt.h[iu:][:w], flt.h[ic:][:w], flt.h[id:][:w], flt.v[iu:][:w], flt.v[ic:][:w],
		flt.v[id:][:w], flt.d[iu:][:w], flt.d[ic:][:w], flt.d[id:][:w]}
	admSum9(&rows, col, max(left-1, 0), min(right+1, w))
	centre := [3][]int32{rows[1], rows[4], rows[7]}
	from, to := max(left, 1), min(right, w-1)
	if from < to {
		admNb3(col, &centre, nb, from, to)
	}
	for _, j := range [2]int{0, w - 1} {
		if j < left || j >= right || (j >= from && j < to) {
			continue
		}
		jl, jr := j-1, j+1
		if j == 0 {
			jl = 1
		}
		if j == w-1 {
			jr = w - 1
		}
		nb[j] = col[jl] + col[j] + col[jr] - centre[0][j] - centre[1][j] - centre[2][j]
	}
	return nb
}

package quality

// admCsf0Go is the scale-0 contrast sensitivity weighting of one run of samples of a
// band (csf's loop, in int32 arithmetic that wraps like libvmaf's): dst gets the weighted
// band, flt |dst|/30 for the masking filter.
func admCsf0Go(src, dst, flt []int32, irf, add int32, sh uint) {
	dst, flt = dst[:len(src)], flt[:len(src)]
	for j, s := range src {
		d := int32(int16((irf*s + add) >> sh))
		dst[j] = d
		flt[j] = int32(int16((fixOneBy30*abs32(d) + 2048) >> 12))
	}
}

// csf0Rows is csf at scale 0 through a row kernel (admCsf0Go's signature).
func (s *admState) csf0Rows(src, dst, flt *admBands, w, h int, kernel func(src, dst, flt []int32, irf, add int32, sh uint)) {
	left, top, right, bottom := admRegion(w, h, true)
	for t := 0; t < 3; t++ {
		sb, db, fb := src.band(t), dst.band(t), flt.band(t)
		irf := [3]int32{36453, 36453, 49417}[t]
		sh := [3]uint{15, 15, 17}[t]
		add := [3]int32{16384, 16384, 65535}[t]
		for i := top; i < bottom; i++ {
			a, b := i*w+left, i*w+right
			kernel(sb[a:b], db[a:b], fb[a:b], irf, add, sh)
		}
	}
}

// admCube0RowGo is denScale's scale-0 row sum: the cubes of the 16-bit magnitudes of a
// run of reference band samples, in wrapping uint64 arithmetic.
func admCube0RowGo(row []int32) uint64 {
	var inner uint64
	for _, x := range row {
		v := uint64(uint16(abs32(x)))
		inner += v * v * v
	}
	return inner
}

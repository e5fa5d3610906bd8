package quality

// admDecoupleRow holds one run of samples of the six input bands (reference o, distorted
// t) and the six output bands (restored r, additive ad) of decouple, in h, v, d order.
type admDecoupleRow struct {
	o, t, r, ad [3][]int32
}

// admDecouple0Go is decouple's scale-0 loop over samples [from, to) of a row. The band
// values are the scale-0 DWT's, within int16.
func admDecouple0Go(row *admDecoupleRow, from, to int) {
	for j := from; j < to; j++ {
		flag := angleFlag(int64(row.o[0][j]), int64(row.o[1][j]), int64(row.t[0][j]), int64(row.t[1][j]))
		for b := 0; b < 3; b++ {
			o, t := row.o[b][j], row.t[b][j]
			rst := decouple16(o, t, flag)
			row.r[b][j] = rst
			row.ad[b][j] = int32(int16(t - rst))
		}
	}
}

// decouple0Rows is decouple at scale 0 through a row kernel (admDecouple0Go's shape, over
// a whole row).
func (s *admState) decouple0Rows(w, h int, kernel func(row *admDecoupleRow)) {
	left, top, right, bottom := admRegion(w, h, true)
	var row admDecoupleRow
	for i := top; i < bottom; i++ {
		a, b := i*w+left, i*w+right
		for k := 0; k < 3; k++ {
			row.o[k], row.t[k] = s.ref.band(k)[a:b], s.dis.band(k)[a:b]
			row.r[k], row.ad[k] = s.r.band(k)[a:b], s.ad.band(k)[a:b]
		}
		kernel(&row)
	}
}

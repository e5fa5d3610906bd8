package quality

import (
	"math"
	"math/bits"
)

// ADM (additive distortion / detail loss) in the fixed-point form of libvmaf's integer_adm
// feature: a four-level Daubechies-2 wavelet decomposition of both lumas; at each level the
// distorted detail bands are split into the part explained by the reference (restored) and
// the rest (additive impairment); both are weighted by a contrast sensitivity function, the
// restored part is masked by the impairment, and cube-root pooled over the picture minus a
// 10% border. ADM2 is the ratio of those sums to the same pooling of the reference; AIM
// swaps the roles of restored and additive parts. Scale 0 runs a 16-bit pipeline, scales
// 1-3 a 32-bit one, each with libvmaf's rounding shifts.

const (
	admBorderFactor = 0.1
	admNoiseWeight  = 0.03125
	admGainLimit    = 100.0
	admDlmWeight    = 0.5
	oneBy15         = 8738
	i4OneBy15       = 286331153
	fixOneBy30      = 4369
	i4FixOneBy30    = 143165577
	i4AddFlt        = -2147483648 // libvmaf's (int32)(1u << 31) rounding term of scales 1-3
)

var (
	dwtLo = [4]int32{15826, 27411, 7345, -4240}
	dwtHi = [4]int32{-4240, -7345, 27411, -15826}
)

const dwtLoSum = 46342

// admDivLookup[32768+i] = 2^30 / i for i in [-32768, 32768].
var admDivLookup = func() []int32 {
	t := make([]int32, 65537)
	for i := 1; i <= 32768; i++ {
		r := int32(1073741824 / i)
		t[32768+i] = r
		t[32768-i] = -r
	}
	return t
}()

// Watson's DWT visibility model (Y channel) and the 7-9 basis amplitudes, as in libvmaf.
var (
	watsonA  = float32(0.495)
	watsonK  = float32(0.466)
	watsonF0 = float32(0.401)
	watsonG  = [4]float32{1.501, 1.0, 0.534, 1.0}
	basisAmp = [4][4]float32{
		{0.62171, 0.67234, 0.72709, 0.67234},
		{0.34537, 0.41317, 0.49428, 0.41317},
		{0.18004, 0.22727, 0.28688, 0.22727},
		{0.091401, 0.11792, 0.15214, 0.11792},
	}
)

func dwtQuantStep(lambda, theta int) float32 {
	r := float32(3.0 * 1080 * math.Pi / 180.0)
	temp := float32(math.Log10(math.Pow(2.0, float64(lambda+1)) * float64(watsonF0) * float64(watsonG[theta]) / float64(r)))
	q := float32(2.0 * float64(watsonA) * math.Pow(10.0, float64(watsonK)*float64(temp)*float64(temp)) / float64(basisAmp[lambda][theta]))
	return q
}

// admRFactor returns the CSF weights {h, v, d} of a scale.
func admRFactor(scale int) [3]float32 {
	f1 := 1.0 / dwtQuantStep(scale, 1)
	f2 := 1.0 / dwtQuantStep(scale, 2)
	return [3]float32{f1, f1, f2}
}

var admRFactors = [4][3]float32{admRFactor(0), admRFactor(1), admRFactor(2), admRFactor(3)}

func powf(x, y float32) float32 { return float32(math.Pow(float64(x), float64(y))) }

var oneThird = float32(1.0) / float32(3.0)

// admBands is one set of detail bands (h, v, d) plus the approximation a, stored as int32
// whatever the pipeline width (values of scale 0 fit in int16 and are truncated like it).
type admBands struct {
	a, h, v, d []int32
}

func (b *admBands) ensure(n int) {
	if cap(b.a) < n {
		b.a = make([]int32, n)
		b.h = make([]int32, n)
		b.v = make([]int32, n)
		b.d = make([]int32, n)
	}
	b.a, b.h, b.v, b.d = b.a[:n], b.h[:n], b.v[:n], b.d[:n]
}

func (b *admBands) band(t int) []int32 {
	switch t {
	case 0:
		return b.h
	case 1:
		return b.v
	}
	return b.d
}

type admState struct {
	ref, dis         admBands
	prevRef, prevDis []int32 // approximation band feeding the next scale
	r, ad            admBands
	csfA, csfF       admBands
	tmp              []int32
	tmp16            []int16 // the int16 rows of dwt0
	nb               []int32 // cm's neighbour sums of one row, then column sums
	indY, indX       [4][]int
	// pureGo keeps to the portable Go code even where assembly kernels exist
	pureGo bool
}

// admScores are the outputs of one frame.
type admScores struct {
	adm2, aim, adm3 float64
	scale           [4]float64
}

func (s *admState) indices(w, h int) {
	hh, wh := (h+1)/2, (w+1)/2
	fill := func(ind *[4][]int, n, half int) {
		for k := range ind {
			if cap(ind[k]) < half {
				ind[k] = make([]int, half)
			}
			ind[k] = ind[k][:half]
		}
		for i := 0; i < half; i++ {
			for k := 0; k < 4; k++ {
				v := 2*i - 1 + k
				if v < 0 {
					v = -v
				}
				if v >= n {
					v = 2*n - v - 1
				}
				ind[k][i] = v
			}
		}
	}
	fill(&s.indY, h, hh)
	fill(&s.indX, w, wh)
}

// dwt runs one level of the Daubechies-2 transform of src (w x h) into dst ((w+1)/2 x (h+1)/2).
// Scale 0 (16-bit pipeline) reads samples; scales 1-3 read the previous approximation band.
func (s *admState) dwt(src16 []uint16, src32 []int32, dst *admBands, w, h, scale, bpc int) {
	hw := (w + 1) / 2
	hh := (h + 1) / 2
	if cap(s.tmp) < 2*w {
		s.tmp = make([]int32, 2*w)
	}
	lo, hi := s.tmp[:w], s.tmp[w:2*w]
	for i := 0; i < hh; i++ {
		r0, r1, r2, r3 := s.indY[0][i]*w, s.indY[1][i]*w, s.indY[2][i]*w, s.indY[3][i]*w
		// vertical pass over whole rows (exact-length slices: no bounds checks inside)
		if scale == 0 {
			round := int32(1) << (bpc - 1)
			sh := uint(bpc)
			u0, u1, u2, u3 := src16[r0:][:len(lo)], src16[r1:][:len(lo)], src16[r2:][:len(lo)], src16[r3:][:len(lo)]
			hi := hi[:len(lo)]
			for j := range lo {
				x0, x1, x2, x3 := int32(u0[j]), int32(u1[j]), int32(u2[j]), int32(u3[j])
				a := dwtLo[0]*x0 + dwtLo[1]*x1 + dwtLo[2]*x2 + dwtLo[3]*x3 - dwtLoSum*round
				lo[j] = int32(int16((a + round) >> sh))
				b := dwtHi[0]*x0 + dwtHi[1]*x1 + dwtHi[2]*x2 + dwtHi[3]*x3
				hi[j] = int32(int16((b + round) >> sh))
			}
		} else {
			var round int64
			var sh uint
			if scale > 1 {
				round, sh = 32768, 16
			}
			u0, u1, u2, u3 := src32[r0:][:len(lo)], src32[r1:][:len(lo)], src32[r2:][:len(lo)], src32[r3:][:len(lo)]
			hi := hi[:len(lo)]
			for j := range lo {
				x0, x1, x2, x3 := int64(u0[j]), int64(u1[j]), int64(u2[j]), int64(u3[j])
				a := int64(dwtLo[0])*x0 + int64(dwtLo[1])*x1 + int64(dwtLo[2])*x2 + int64(dwtLo[3])*x3
				lo[j] = int32((a + round) >> sh)
				b := int64(dwtHi[0])*x0 + int64(dwtHi[1])*x1 + int64(dwtHi[2])*x2 + int64(dwtHi[3])*x3
				hi[j] = int32((b + round) >> sh)
			}
		}
		row := i * hw
		da := dst.a[row:][:hw]
		dv, dh, dd := dst.v[row:][:len(da)], dst.h[row:][:len(da)], dst.d[row:][:len(da)]
		for j := range da {
			j0, j1, j2, j3 := s.indX[0][j], s.indX[1][j], s.indX[2][j], s.indX[3][j]
			if scale == 0 {
				l0, l1, l2, l3 := lo[j0], lo[j1], lo[j2], lo[j3]
				h0, h1, h2, h3 := hi[j0], hi[j1], hi[j2], hi[j3]
				da[j] = int32(int16((dwtLo[0]*l0 + dwtLo[1]*l1 + dwtLo[2]*l2 + dwtLo[3]*l3 + 32768) >> 16))
				dv[j] = int32(int16((dwtHi[0]*l0 + dwtHi[1]*l1 + dwtHi[2]*l2 + dwtHi[3]*l3 + 32768) >> 16))
				dh[j] = int32(int16((dwtLo[0]*h0 + dwtLo[1]*h1 + dwtLo[2]*h2 + dwtLo[3]*h3 + 32768) >> 16))
				dd[j] = int32(int16((dwtHi[0]*h0 + dwtHi[1]*h1 + dwtHi[2]*h2 + dwtHi[3]*h3 + 32768) >> 16))
			} else {
				var round int64 = 16384
				var sh uint = 15
				if scale == 2 {
					round, sh = 32768, 16
				}
				l0, l1, l2, l3 := int64(lo[j0]), int64(lo[j1]), int64(lo[j2]), int64(lo[j3])
				h0, h1, h2, h3 := int64(hi[j0]), int64(hi[j1]), int64(hi[j2]), int64(hi[j3])
				c := func(f [4]int32, x0, x1, x2, x3 int64) int32 {
					return int32((int64(f[0])*x0 + int64(f[1])*x1 + int64(f[2])*x2 + int64(f[3])*x3 + round) >> sh)
				}
				da[j] = c(dwtLo, l0, l1, l2, l3)
				dv[j] = c(dwtHi, l0, l1, l2, l3)
				dh[j] = c(dwtLo, h0, h1, h2, h3)
				dd[j] = c(dwtHi, h0, h1, h2, h3)
			}
		}
	}
}

// region returns libvmaf's processing window: the picture minus a border of about 10%,
// widened by `extra` samples for the filters that feed the masking stage.
func admRegion(w, h int, extra bool) (left, top, right, bottom int) {
	if extra {
		left = int(float64(w)*admBorderFactor - 0.5 - 1)
		top = int(float64(h)*admBorderFactor - 0.5 - 1)
		right = w - left + 2
		bottom = h - top + 2
		left, top = max(left, 0), max(top, 0)
		right, bottom = min(right, w), min(bottom, h)
		return
	}
	left = int(float64(w)*admBorderFactor - 0.5)
	top = int(float64(h)*admBorderFactor - 0.5)
	return left, top, w - left, h - top
}

var cos1degSq = float32(math.Cos(1.0*math.Pi/180.0) * math.Cos(1.0*math.Pi/180.0))

func angleFlag(oh, ov, th, tv int64) bool {
	otdp := oh*th + ov*tv
	omag := oh*oh + ov*ov
	tmag := th*th + tv*tv
	a := float64(float32(otdp)) / 4096.0
	return a >= 0 && a*a >= float64(cos1degSq)*(float64(float32(omag))/4096.0)*(float64(float32(tmag))/4096.0)
}

// decouple splits the distorted bands into restored (s.r) and additive (s.ad) parts.
func (s *admState) decouple(w, h, scale int) {
	left, top, right, bottom := admRegion(w, h, true)
	for i := top; i < bottom; i++ {
		for j := left; j < right; j++ {
			p := i*w + j
			oh, ov, od := s.ref.h[p], s.ref.v[p], s.ref.d[p]
			th, tv, td := s.dis.h[p], s.dis.v[p], s.dis.d[p]
			flag := angleFlag(int64(oh), int64(ov), int64(th), int64(tv))
			if scale == 0 {
				rh := decouple16(oh, th, flag)
				rv := decouple16(ov, tv, flag)
				rd := decouple16(od, td, flag)
				s.r.h[p], s.r.v[p], s.r.d[p] = rh, rv, rd
				s.ad.h[p] = int32(int16(th - rh))
				s.ad.v[p] = int32(int16(tv - rv))
				s.ad.d[p] = int32(int16(td - rd))
			} else {
				rh := decouple32(oh, th, flag)
				rv := decouple32(ov, tv, flag)
				rd := decouple32(od, td, flag)
				s.r.h[p], s.r.v[p], s.r.d[p] = rh, rv, rd
				s.ad.h[p] = th - rh
				s.ad.v[p] = tv - rv
				s.ad.d[p] = td - rd
			}
		}
	}
}

func clampK(k int64) int64 {
	if k < 0 {
		return 0
	}
	if k > 32768 {
		return 32768
	}
	return k
}

func gainLimit(rst, t int32, o, k int64) int32 {
	rf := (float32(k) / 32768) * (float32(o) / 64)
	if rf > 0 {
		return int32(math.Min(float64(rst)*admGainLimit, float64(t)))
	}
	if rf < 0 {
		return int32(math.Max(float64(rst)*admGainLimit, float64(t)))
	}
	return rst
}

func decouple16(o, t int32, flag bool) int32 {
	var k int64 = 32768
	if o != 0 {
		k = (int64(admDivLookup[o+32768])*int64(t) + 16384) >> 15
	}
	k = clampK(k)
	rst := int32(int16((int32(k)*o + 16384) >> 15))
	if flag {
		rst = int32(int16(gainLimit(rst, t, int64(o), k)))
	}
	return rst
}

func decouple32(o, t int32, flag bool) int32 {
	var k int64 = 32768
	if o != 0 {
		abs := uint32(o)
		sign := int64(1)
		if o < 0 {
			abs = uint32(-o)
			sign = -1
		}
		var shift uint
		msb := abs
		if abs >= 32768 {
			kk := 17 - bits.LeadingZeros32(abs)
			msb = (abs + 1<<(kk-1)) >> uint(kk)
			shift = uint(kk)
		}
		k = (int64(admDivLookup[msb+32768])*int64(t)*sign + int64(1)<<(14+shift)) >> (15 + shift)
	}
	k = clampK(k)
	rst := int32((k*int64(o) + 16384) >> 15)
	if flag {
		rst = gainLimit(rst, t, int64(o), k)
	}
	return rst
}

// csfDispatch runs csf, through the assembly row kernel at scale 0 where there is one.
func (s *admState) csfDispatch(src, dst, flt *admBands, w, h, scale int) {
	if scale == 0 && admHaveAsm && !s.pureGo {
		s.csf0Rows(src, dst, flt, w, h, admCsf0)
		return
	}
	s.csf(src, dst, flt, w, h, scale)
}

// csf weights src bands into dst and writes |dst|/30 into flt (the masking filter input).
func (s *admState) csf(src, dst, flt *admBands, w, h, scale int) {
	left, top, right, bottom := admRegion(w, h, true)
	rf := admRFactors[scale]
	for t := 0; t < 3; t++ {
		sb, db, fb := src.band(t), dst.band(t), flt.band(t)
		if scale == 0 {
			irf := [3]int32{36453, 36453, 49417}[t]
			sh := [3]uint{15, 15, 17}[t]
			add := [3]int32{16384, 16384, 65535}[t]
			for i := top; i < bottom; i++ {
				for j := left; j < right; j++ {
					p := i*w + j
					d := int32(int16((irf*sb[p] + add) >> sh))
					db[p] = d
					fb[p] = int32(int16((fixOneBy30*abs32(d) + 2048) >> 12))
				}
			}
			continue
		}
		irf := int64(uint32(float64(rf[t]) * 4294967296.0))
		for i := top; i < bottom; i++ {
			for j := left; j < right; j++ {
				p := i*w + j
				d := int32((irf*int64(sb[p]) + 1<<27) >> 28)
				db[p] = d
				fb[p] = int32((i4FixOneBy30*int64(abs32(d)) + i4AddFlt) >> 32)
			}
		}
	}
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// denScale pools the reference detail bands: the ADM denominator of one scale.
func (s *admState) denScale(w, h, scale int) float32 {
	left, top, right, bottom := admRegion(w, h, false)
	rf := admRFactors[scale]
	var acc [3]uint64
	var shiftCsf float64
	if scale == 0 {
		shiftAccum := int(math.Ceil(math.Log2(float64((bottom-top)*(right-left))) - 20))
		shiftAccum = max(shiftAccum, 0)
		var add uint64
		if shiftAccum > 0 {
			add = 1 << (shiftAccum - 1)
		}
		for t := 0; t < 3; t++ {
			b := s.ref.band(t)
			for i := top; i < bottom; i++ {
				var inner uint64
				if admHaveAsm && !s.pureGo {
					inner = admCube0Row(b[i*w+left : i*w+right])
				} else {
					inner = admCube0RowGo(b[i*w+left : i*w+right])
				}
				acc[t] += (inner + add) >> uint(shiftAccum)
			}
		}
		shiftCsf = math.Pow(2, float64(18-shiftAccum))
	} else {
		shiftSq := [3]uint{31, 30, 31}[scale-1]
		conv := [3]int{32, 27, 23}[scale-1]
		addSq := uint64(1) << shiftSq
		shiftCub := uint(math.Ceil(math.Log2(float64(right - left))))
		addCub := uint64(math.Pow(2, float64(int(shiftCub)-1)))
		shiftAccum := uint(math.Ceil(math.Log2(float64(bottom - top))))
		addAccum := uint64(math.Pow(2, float64(int(shiftAccum)-1)))
		for t := 0; t < 3; t++ {
			b := s.ref.band(t)
			for i := top; i < bottom; i++ {
				var inner uint64
				for j := left; j < right; j++ {
					v := uint64(uint32(abs32(b[i*w+j])))
					inner += ((((v*v)+addSq)>>shiftSq)*v + addCub) >> shiftCub
				}
				acc[t] += (inner + addAccum) >> shiftAccum
			}
		}
		shiftCsf = math.Pow(2, float64(conv-int(shiftAccum)-int(shiftCub)))
	}
	powAdd := powf(float32(float64((bottom-top)*(right-left))*admNoiseWeight), oneThird)
	var sum float32
	for t := 0; t < 3; t++ {
		csf := (float64(acc[t]) / shiftCsf) * math.Pow(float64(rf[t]), 3)
		sum += powf(float32(csf), oneThird) + powAdd
	}
	return sum
}

// cm pools the contrast-masked bands: the ADM numerator of one scale. With aim set, the
// additive part is pooled, masked by the restored part, and no noise floor is added.
func (s *admState) cm(w, h, scale int, aim bool) float32 {
	src, masker, flt := &s.r, &s.csfA, &s.csfF
	noise := admNoiseWeight
	if aim {
		src, masker, flt = &s.ad, &s.csfF, &s.csfA
		noise = 0
	}
	left, top, right, bottom := admRegion(w, h, false)
	rf := admRFactors[scale]
	// neighbour row/column indices: reflect at the top/left, repeat at the bottom/right.
	up := func(i int) int {
		if i == 0 {
			return 1
		}
		return i - 1
	}
	down := func(i, n int) int {
		if i == n-1 {
			return n - 1
		}
		return i + 1
	}
	// the bands by name, hoisted out of the per-sample loops
	mh, mv, md := masker.h, masker.v, masker.d
	srcB := [3][]int32{src.h, src.v, src.d}
	var acc [3]int64
	if scale == 0 {
		irf := [3]int64{36453, 36453, 49417}
		subShift := [3]uint{10, 10, 12}
		sqShift := [3]uint{29, 29, 30}
		sqAdd := [3]int64{268435456, 268435456, 536870912}
		cubShift := [3]uint{uint(math.Ceil(math.Log2(float64(w)) - 4)), uint(math.Ceil(math.Log2(float64(w)) - 4)), uint(math.Ceil(math.Log2(float64(w)) - 3))}
		var cubAdd [3]int64
		for t := range cubShift {
			if cubShift[t] > 0 {
				cubAdd[t] = 1 << (cubShift[t] - 1)
			}
		}
		innerShift := uint(math.Ceil(math.Log2(float64(h))))
		var innerAdd int64
		if innerShift > 0 {
			innerAdd = 1 << (innerShift - 1)
		}
		fast := admHaveAsm && !s.pureGo
		var params admCm0Params
		for t := range params {
			params[t] = [8]int64{irf[t], int64(subShift[t]), sqAdd[t], int64(sqShift[t]), cubAdd[t], int64(cubShift[t])}
		}
		for i := top; i < bottom; i++ {
			iu, id := up(i)*w, down(i, h)*w
			ic := i * w
			// the masking threshold of each sample; int32 sums wrap like libvmaf's, so
			// grouping them differently is exact
			thr := s.cmNeighbours(flt, w, iu, ic, id, left, right)[left:right]
			ch, cv, cd := mh[ic+left:ic+right], mv[ic+left:ic+right], md[ic+left:ic+right]
			ch, cv, cd = ch[:len(thr)], cv[:len(thr)], cd[:len(thr)]
			if fast {
				masker := [3][]int32{ch, cv, cd}
				rows := [3][]int32{srcB[0][ic+left : ic+right], srcB[1][ic+left : ic+right], srcB[2][ic+left : ic+right]}
				inner := admCm0Row(thr, &masker, &rows, &params)
				for t := range acc {
					acc[t] += (inner[t] + innerAdd) >> innerShift
				}
				continue
			}
			for j := range thr {
				thr[j] += int32(int16((oneBy15*abs32(ch[j])+2048)>>12)) +
					int32(int16((oneBy15*abs32(cv[j])+2048)>>12)) +
					int32(int16((oneBy15*abs32(cd[j])+2048)>>12))
			}
			// then band by band, so each band's shifts stay in registers
			for t, b := range srcB {
				row := b[ic+left : ic+right][:len(thr)]
				irf, sub, sqAdd, sqShift, cubAdd, cubShift := irf[t], subShift[t], sqAdd[t], sqShift[t], cubAdd[t], cubShift[t]
				var inner int64
				for j, v := range row {
					x := int64(abs32(int32(int64(v) * irf)))
					x -= int64(thr[j]) << sub
					if x < 0 {
						x = 0
					}
					xsq := int64(int32((x*x + sqAdd) >> sqShift))
					inner += (xsq*x + cubAdd) >> cubShift
				}
				acc[t] += (inner + innerAdd) >> innerShift
			}
		}
		powAdd := powf(float32(float64((bottom-top)*(right-left))*noise), oneThird)
		var sum float32
		for t := 0; t < 3; t++ {
			exp := 52
			if t == 2 {
				exp = 57
			}
			fa := float32(float64(acc[t]) / math.Pow(2, float64(exp-int(cubShift[t])-int(innerShift))))
			sum += powf(fa, oneThird) + powAdd
		}
		return sum
	}
	irf := [3]int64{int64(uint32(float64(rf[0]) * 4294967296.0)), int64(uint32(float64(rf[1]) * 4294967296.0)), int64(uint32(float64(rf[2]) * 4294967296.0))}
	cubShift := uint(math.Ceil(math.Log2(float64(w))))
	var cubAdd int64
	if cubShift > 0 {
		cubAdd = 1 << (cubShift - 1)
	}
	innerShift := uint(math.Ceil(math.Log2(float64(h))))
	var innerAdd int64
	if innerShift > 0 {
		innerAdd = 1 << (innerShift - 1)
	}
	for i := top; i < bottom; i++ {
		iu, id := up(i)*w, down(i, h)*w
		ic := i * w
		thr := s.cmNeighbours(flt, w, iu, ic, id, left, right)[left:right]
		ch, cv, cd := mh[ic+left:ic+right], mv[ic+left:ic+right], md[ic+left:ic+right]
		ch, cv, cd = ch[:len(thr)], cv[:len(thr)], cd[:len(thr)]
		for j := range thr {
			thr[j] += int32((i4OneBy15*int64(abs32(ch[j]))+i4AddFlt)>>32) +
				int32((i4OneBy15*int64(abs32(cv[j]))+i4AddFlt)>>32) +
				int32((i4OneBy15*int64(abs32(cd[j]))+i4AddFlt)>>32)
		}
		for t, b := range srcB {
			row := b[ic+left : ic+right][:len(thr)]
			irf := irf[t]
			var inner int64
			for j, v := range row {
				x := int64(abs32(int32((int64(v)*irf + 1<<27) >> 28)))
				x -= int64(thr[j])
				if x < 0 {
					x = 0
				}
				xsq := int64(int32((x*x + 536870912) >> 30))
				inner += (xsq*x + cubAdd) >> cubShift
			}
			acc[t] += (inner + innerAdd) >> innerShift
		}
	}
	finalExp := [3]int{45, 39, 36}[scale-1]
	finalShift := float32(math.Pow(2, float64(finalExp-int(cubShift)-int(innerShift))))
	powAdd := powf(float32(float64((bottom-top)*(right-left))*noise), oneThird)
	var sum float32
	for t := 0; t < 3; t++ {
		fa := float32(acc[t]) / finalShift
		sum += powf(fa, oneThird) + powAdd
	}
	return sum
}

// cmNeighbours is cmNeighbourRow, through the assembly kernels where there are some.
func (s *admState) cmNeighbours(flt *admBands, w, iu, ic, id, left, right int) []int32 {
	if admHaveAsm && !s.pureGo && w >= 2 {
		return s.cmNeighbourRowFast(flt, w, iu, ic, id, left, right)
	}
	return s.cmNeighbourRow(flt, w, iu, ic, id, left, right)
}

// cmNeighbourRow returns, for j in [left,right), the sum over the three bands of flt of the
// eight neighbours of sample j of the row at offset ic (iu and id: the rows above and below;
// columns reflect at the left edge and repeat at the right). Each column's three-row sum is
// computed once and shared by the three outputs that read it; int32 sums wrap like libvmaf's,
// so regrouping them is exact.
func (s *admState) cmNeighbourRow(flt *admBands, w, iu, ic, id, left, right int) []int32 {
	if cap(s.nb) < 2*w {
		s.nb = make([]int32, 2*w)
	}
	nb, col := s.nb[:w], s.nb[w:2*w]
	if w < 2 {
		// one column: its reflection lies outside the row, so keep the direct indexing
		for j := left; j < right; j++ {
			jl, jr := j+1, j
			nb[j] = cmNeighbours(flt.h, iu, ic, id, jl, j, jr) + cmNeighbours(flt.v, iu, ic, id, jl, j, jr) +
				cmNeighbours(flt.d, iu, ic, id, jl, j, jr)
		}
		return nb
	}
	uh, ch, dh := flt.h[iu:][:w], flt.h[ic:][:w], flt.h[id:][:w]
	uv, cv, dv := flt.v[iu:][:w], flt.v[ic:][:w], flt.v[id:][:w]
	ud, cd, dd := flt.d[iu:][:w], flt.d[ic:][:w], flt.d[id:][:w]
	for j := max(left-1, 0); j < min(right+1, w); j++ {
		col[j] = uh[j] + ch[j] + dh[j] + uv[j] + cv[j] + dv[j] + ud[j] + cd[j] + dd[j]
	}
	for j := left; j < right; j++ {
		jl, jr := j-1, j+1
		if j == 0 {
			jl = 1
		}
		if j == w-1 {
			jr = w - 1
		}
		nb[j] = col[jl] + col[j] + col[jr] - ch[j] - cv[j] - cd[j]
	}
	return nb
}

// cmNeighbours sums the eight neighbours of (ic+j) in f; iu, ic, id are the offsets of the
// rows above, at and below, jl and jr the columns left and right (reflected at the edges).
func cmNeighbours(f []int32, iu, ic, id, jl, j, jr int) int32 {
	return f[iu+jl] + f[iu+j] + f[iu+jr] + f[ic+jl] + f[ic+jr] + f[id+jl] + f[id+j] + f[id+jr]
}

// admScores computes ADM2, AIM, ADM3 and the per-scale ratios of one luma pair.
func (s *admState) scores(ref, dis []uint16, w, h, bpc int) admScores {
	numdenLimit := 1e-10 * float64(w*h) / (1920.0 * 1080.0)
	var num, den, aimNum float64
	var nums, dens [4]float32
	for scale := 0; scale < 4; scale++ {
		s.indices(w, h)
		hw, hh := (w+1)/2, (h+1)/2
		n := hw * hh
		s.ref.ensure(n)
		s.dis.ensure(n)
		if scale == 0 && admHaveAsm && !s.pureGo {
			s.dwt0(ref, &s.ref, w, h, bpc, admDwtFastKernels)
			s.dwt0(dis, &s.dis, w, h, bpc, admDwtFastKernels)
		} else if scale == 0 {
			s.dwt(ref, nil, &s.ref, w, h, 0, bpc)
			s.dwt(dis, nil, &s.dis, w, h, 0, bpc)
		} else if admHaveAsm && !s.pureGo {
			s.dwtN(s.prevRef, &s.ref, w, h, scale, admDwtNFastKernels)
			s.dwtN(s.prevDis, &s.dis, w, h, scale, admDwtNFastKernels)
		} else {
			s.dwt(nil, s.prevRef, &s.ref, w, h, scale, bpc)
			s.dwt(nil, s.prevDis, &s.dis, w, h, scale, bpc)
		}
		w, h = hw, hh
		s.r.ensure(n)
		s.ad.ensure(n)
		s.csfA.ensure(n)
		s.csfF.ensure(n)
		if scale == 0 && admHaveAsm && !s.pureGo {
			s.decouple0Rows(w, h, admDecouple0)
		} else {
			s.decouple(w, h, scale)
		}
		denS := s.denScale(w, h, scale)
		s.csfDispatch(&s.ad, &s.csfA, &s.csfF, w, h, scale)
		numS := s.cm(w, h, scale, false)
		s.csfDispatch(&s.r, &s.csfF, &s.csfA, w, h, scale)
		aimS := s.cm(w, h, scale, true)
		num += float64(numS)
		den += float64(denS)
		aimNum += float64(aimS)
		nums[scale], dens[scale] = numS, denS
		// the approximation band feeds the next scale
		if cap(s.prevRef) < n {
			s.prevRef = make([]int32, n)
			s.prevDis = make([]int32, n)
		}
		s.prevRef = append(s.prevRef[:0], s.ref.a...)
		s.prevDis = append(s.prevDis[:0], s.dis.a...)
	}
	if num < numdenLimit {
		num = 0
	}
	if den < numdenLimit {
		den = 0
	}
	var out admScores
	if den == 0 {
		out.adm2 = 1
	} else {
		out.adm2 = num / den
		out.aim = aimNum / den
	}
	out.adm3 = max(out.adm2*admDlmWeight+(1-out.aim)*(1-admDlmWeight), 0)
	for k := 0; k < 4; k++ {
		out.scale[k] = float64(nums[k]) / float64(dens[k])
	}
	return out
}

package quality

import (
	"math"
	"math/bits"
)

// VIF (visual information fidelity) in the fixed-point form of libvmaf's integer_vif feature:
// four scales, each a Gaussian-weighted local statistic over the reference and distorted
// luma, the next scale being the previous one low-pass filtered and decimated by two.
// Borders are mirrored without repeating the edge sample. The arithmetic (widths, rounding
// shifts, the log2 look-up table) follows libvmaf so the scores agree to its printed precision.

var vifFilters = [4][]uint32{
	{489, 935, 1640, 2640, 3896, 5274, 6547, 7455, 7784, 7455, 6547, 5274, 3896, 2640, 1640, 935, 489},
	{1244, 3663, 7925, 12590, 14692, 12590, 7925, 3663, 1244},
	{3571, 16004, 26386, 16004, 3571},
	{10904, 43728, 10904},
}

const vifEnhnGainLimit = 100.0

// vifEps keeps the gain's divisor away from zero, as libvmaf's eps (in Q16).
const vifEps = 65536 * 1.0e-10

// log2Table[i] = round(log2(i) * 2048) for i in [32767, 65535], as a float computation.
// An array, so that indexing with a uint16 needs no bounds check.
var log2Table = func() *[65536]uint16 {
	var t [65536]uint16
	for i := 32767; i < 65536; i++ {
		v := float32(math.Log2(float64(i))) * 2048
		t[i] = uint16(math.Round(float64(v)))
	}
	return &t
}()

// log2u32 and log2u64 take the 16 leading bits of v (v >> k is below 2^16).
func log2u32(v uint32) int64 {
	k := 16 - bits.LeadingZeros32(v)
	return int64(log2Table[uint16(v>>uint(k))]) + 2048*int64(k)
}

func log2u64(v uint64) int64 {
	k := 48 - bits.LeadingZeros64(v)
	return int64(log2Table[uint16(v>>uint(k))]) + 2048*int64(k)
}

// mirror reflects an index into [0, n) without repeating the edge sample (-1 -> 1, n -> n-2).
func mirror(i, n int) int {
	if i < 0 {
		i = -i
	}
	if i >= n {
		i = 2*(n-1) - i
	}
	return i
}

// vifState holds the scratch buffers of one worker; reused from frame to frame.
type vifState struct {
	ref, dis   [2][]uint16 // scale inputs (ping-pong); scale 0 reads the frame directly
	mu         []uint64    // vertical pass means, reference | distorted<<32, padded by 16
	xx, yy, xy []uint32
	c          []uint64 // subsample vertical pass, reference | distorted<<32, padded
	// vertical accumulators of the statistic
	am            []uint64 // both mean sums, packed
	arr, add, ard []uint64
	ring8         vif8Ring
	// planes and rows serve statistic0Planes, the path of the SIMD kernels
	planes  []uint16
	rows    vifRows
	subRows []uint16 // the two padded rows of subsampleRows
	// pureGo keeps to the portable Go code even where assembly kernels exist (the
	// reference the tests and benchmarks compare them with)
	pureGo bool
}

func (s *vifState) ensureAcc(w int) {
	if cap(s.am) < w {
		s.am = make([]uint64, w)
		s.arr, s.add, s.ard = make([]uint64, w), make([]uint64, w), make([]uint64, w)
	}
}

func (s *vifState) ensure(w, h int) {
	n := w * h
	if cap(s.ref[0]) < n {
		for i := range s.ref {
			s.ref[i] = make([]uint16, n)
			s.dis[i] = make([]uint16, n)
		}
	}
	pw := w + 32
	if cap(s.mu) < pw {
		s.mu = make([]uint64, pw)
		s.xx = make([]uint32, pw)
		s.yy = make([]uint32, pw)
		s.xy = make([]uint32, pw)
		s.c = make([]uint64, pw)
	}
}

// vifScores computes the four integer_vif_scaleN scores of one luma pair.
func (s *vifState) vifScores(ref, dis []uint16, w, h, bpc int) [4]float64 {
	s.ensure(w, h)
	var out [4]float64
	cr, cd := ref, dis
	for scale := 0; scale < 4; scale++ {
		if scale > 0 {
			nr, nd := s.ref[scale&1], s.dis[scale&1]
			if vifHaveAsm && !s.pureGo && scale < 3 {
				s.subsampleRows(cr, cd, nr, nd, w, h, scale, bpc, vifSubFastKernels)
			} else {
				s.subsample(cr, cd, nr, nd, w, h, scale, bpc)
			}
			w /= 2
			h /= 2
			cr, cd = nr[:w*h], nd[:w*h]
		}
		num, den := s.statistic(cr, cd, w, h, scale, bpc)
		out[scale] = float64(num / den)
	}
	return out
}

// subsample low-pass filters (filter of `scale`) and decimates ref/dis (w x h) into nr/nd.
// Reference and distorted sums travel packed in one uint64 (reference in the low half):
// inputs are below 2^16 and the taps sum to 2^16, so every sum stays below 2^32 in both
// passes and the lanes never carry into each other; each lane is exactly libvmaf's uint32.
func (s *vifState) subsample(ref, dis, nr, nd []uint16, w, h, scale, bpc int) {
	filt := vifFilters[scale]
	fw := len(filt)
	half := fw / 2
	var vshift uint
	var vround uint32
	if scale == 1 {
		vshift, vround = uint(bpc), 1<<(bpc-1)
	} else {
		vshift, vround = 16, 1<<15
	}
	const pad = 16
	c := s.c[:w+2*pad]
	ow := w / 2
	var rows [17]int
	for i := 0; i < h; i += 2 {
		for k := 0; k < fw; k++ {
			rows[k] = mirror(i-half+k, h) * w
		}
		o := c[pad : pad+w]
		fc := uint64(filt[half])
		rc, dc := ref[rows[half]:][:len(o)], dis[rows[half]:][:len(o)]
		for j := range o {
			o[j] = fc * (uint64(rc[j]) | uint64(dc[j])<<32)
		}
		for k := 0; k < half; k++ {
			f := uint64(filt[k])
			ra, rb := ref[rows[k]:][:len(o)], ref[rows[fw-1-k]:][:len(o)]
			da, db := dis[rows[k]:][:len(o)], dis[rows[fw-1-k]:][:len(o)]
			for j := range o {
				o[j] += f * ((uint64(ra[j]) + uint64(rb[j])) | (uint64(da[j])+uint64(db[j]))<<32)
			}
		}
		for j := range o {
			r := (uint32(o[j]) + vround) >> vshift
			d := (uint32(o[j]>>32) + vround) >> vshift
			o[j] = uint64(r) | uint64(d)<<32
		}
		for f := 1; f <= half; f++ {
			c[pad-f] = c[pad+f]
			c[pad+w-1+f] = c[pad+w-1-f]
		}
		// horizontal pass at the even columns only, pairing the symmetric taps
		orow := (i / 2) * ow
		or, od := nr[orow:][:ow], nd[orow:][:ow]
		for j := range or {
			m := c[pad+2*j-half : pad+2*j+half+1]
			a := fc * m[half]
			for k := 0; k < half; k++ {
				a += uint64(filt[k]) * (m[k] + m[fw-1-k])
			}
			or[j] = uint16((uint32(a) + 32768) >> 16)
			od[j] = uint16((uint32(a>>32) + 32768) >> 16)
		}
		if i/2+1 >= h/2 {
			break
		}
	}
}

// statistic returns the (num, den) sums of one scale, as float32 like libvmaf.
func (s *vifState) statistic(ref, dis []uint16, w, h, scale, bpc int) (float32, float32) {
	acc := s.accumulate(ref, dis, w, h, scale, bpc)
	return acc.result()
}

// accumulate sums the statistic of one scale over the picture.
func (s *vifState) accumulate(ref, dis []uint16, w, h, scale, bpc int) vifAccum {
	filt := vifFilters[scale]
	fw := len(filt)
	half := fw / 2
	var mshift, sqshift uint
	var mround uint32
	var sqround uint64
	if scale == 0 {
		mshift, mround = uint(bpc), 1<<(bpc-1)
		sqshift = uint(2 * (bpc - 8))
		if sqshift > 0 {
			sqround = 1 << (sqshift - 1)
		}
	} else {
		mshift, mround = 16, 1<<15
		sqshift, sqround = 16, 1<<15
	}
	if vifHaveAsm && !s.pureGo && vifPlanesApply(scale, bpc) {
		return s.accumulatePlanes(ref, dis, w, h, scale)
	}
	const pad = 16
	mu := s.mu[:w+2*pad]
	xx, yy, xy := s.xx[:w+2*pad], s.yy[:w+2*pad], s.xy[:w+2*pad]
	s.ensureAcc(w)
	am := s.am[:w]
	arr, add, ard := s.arr[:len(am)], s.add[:len(am)], s.ard[:len(am)]
	var acc vifAccum
	var rows [17]int
	for i := 0; i < h; i++ {
		for k := 0; k < fw; k++ {
			rows[k] = mirror(i-half+k, h) * w
		}
		fc := filt[half]
		if scale == 0 && bpc == 8 {
			s.vertical8(ref, dis, i, h, w, mu[pad:pad+w], xx[pad:pad+w], yy[pad:pad+w], xy[pad:pad+w])
		} else {
			// vertical pass: centre tap, then the symmetric pairs of taps. The two mean
			// sums travel packed in am (reference in the low half): samples are below 2^16
			// and the taps sum to 2^16, so each lane is exactly libvmaf's uint32 sum.
			rc, dc := ref[rows[half]:][:len(am)], dis[rows[half]:][:len(am)]
			fc64 := uint64(fc)
			for j := range am {
				x, y := uint32(rc[j]), uint32(dc[j])
				am[j] = fc64 * (uint64(x) | uint64(y)<<32)
				arr[j] = fc64 * uint64(x*x)
				add[j] = fc64 * uint64(y*y)
				ard[j] = fc64 * uint64(x*y)
			}
			for k := 0; k < half; k++ {
				f64 := uint64(filt[k])
				ra, rb := ref[rows[k]:][:len(am)], ref[rows[fw-1-k]:][:len(am)]
				da, db := dis[rows[k]:][:len(am)], dis[rows[fw-1-k]:][:len(am)]
				for j := range am {
					xa, xb := uint64(ra[j]), uint64(rb[j])
					ya, yb := uint64(da[j]), uint64(db[j])
					am[j] += f64 * ((xa + xb) | (ya+yb)<<32)
					arr[j] += f64 * (xa*xa + xb*xb)
					add[j] += f64 * (ya*ya + yb*yb)
					ard[j] += f64 * (xa*ya + xb*yb)
				}
			}

			muo := mu[pad : pad+w]
			xxo, yyo, xyo := xx[pad:pad+w], yy[pad:pad+w], xy[pad:pad+w]
			for j := range muo {
				m1 := (uint32(am[j]) + mround) >> mshift
				m2 := (uint32(am[j]>>32) + mround) >> mshift
				muo[j] = uint64(m1) | uint64(m2)<<32
				xxo[j] = uint32((arr[j] + sqround) >> sqshift)
				yyo[j] = uint32((add[j] + sqround) >> sqshift)
				xyo[j] = uint32((ard[j] + sqround) >> sqshift)
			}
		}
		for f := 1; f <= half; f++ {
			l, r := pad-f, pad+f
			mu[l], xx[l], yy[l], xy[l] = mu[r], xx[r], yy[r], xy[r]
			l, r = pad+w-1-f, pad+w-1+f
			mu[r], xx[r], yy[r], xy[r] = mu[l], xx[l], yy[l], xy[l]
		}
		if scale == 0 {
			horizontal17(&acc, mu, xx, yy, xy, w)
			continue
		}
		// horizontal pass, pairing symmetric taps; the means stay packed (they are below
		// 2^16 after the vertical rounding shift, so the lanes stay exact again)
		pm := mu
		fc64 := uint64(fc)
		for j := range am {
			c := pad + j
			am[j] = fc64 * pm[c]
			arr[j] = fc64 * uint64(xx[c])
			add[j] = fc64 * uint64(yy[c])
			ard[j] = fc64 * uint64(xy[c])
		}
		for k := 1; k <= half; k++ {
			f64 := uint64(filt[half-k])
			pa, pb := pm[pad-k:][:len(am)], pm[pad+k:][:len(am)]
			xxa, xxb := xx[pad-k:][:len(am)], xx[pad+k:][:len(am)]
			yya, yyb := yy[pad-k:][:len(am)], yy[pad+k:][:len(am)]
			xya, xyb := xy[pad-k:][:len(am)], xy[pad+k:][:len(am)]
			for j := range am {
				am[j] += f64 * (pa[j] + pb[j])
				arr[j] += f64 * (uint64(xxa[j]) + uint64(xxb[j]))
				add[j] += f64 * (uint64(yya[j]) + uint64(yyb[j]))
				ard[j] += f64 * (uint64(xya[j]) + uint64(xyb[j]))
			}
		}
		for j := range am {
			acc.add(uint32(am[j]), uint32(am[j]>>32), uint32((arr[j]+32768)>>16), uint32((add[j]+32768)>>16), uint32((ard[j]+32768)>>16))
		}
	}
	return acc
}

type vifAccum struct {
	numLog, denLog, numNonLog, denNonLog int64
}

func (a *vifAccum) add(mu1, mu2, xx, yy, xy uint32) {
	const sigmaNsq = 65536 << 1
	mu1sq := uint32((uint64(mu1)*uint64(mu1) + 2147483648) >> 32)
	mu2sq := uint32((uint64(mu2)*uint64(mu2) + 2147483648) >> 32)
	mu12 := uint32((uint64(mu1)*uint64(mu2) + 2147483648) >> 32)
	sigma1sq := int32(xx - mu1sq)
	sigma2sq := int32(yy - mu2sq)
	sigma12 := int32(xy - mu12)
	if sigma2sq < 0 {
		sigma2sq = 0
	}
	if sigma1sq >= sigmaNsq {
		a.denLog += log2u32(uint32(sigmaNsq+sigma1sq)) - 2048*17
		if sigma12 > 0 && sigma2sq > 0 {
			g := float64(sigma12) / (float64(sigma1sq) + vifEps)
			// the explicit conversion rounds the product, so no build fuses it into
			// a multiply-add (the assembly kernels and libvmaf round it too)
			svsq := int32(float64(sigma2sq) - float64(g*float64(sigma12)))
			if svsq < 0 {
				svsq = 0
			}
			if g > vifEnhnGainLimit {
				g = vifEnhnGainLimit
			}
			numer1 := uint32(svsq + sigmaNsq)
			numer1tmp := int64(float64(g*g)*float64(sigma1sq)) + int64(numer1)
			a.numLog += log2u64(uint64(numer1tmp)) - log2u64(uint64(numer1))
		}
	} else {
		a.numNonLog += int64(sigma2sq)
		a.denNonLog++
	}
}

func (a *vifAccum) result() (float32, float32) {
	num := float64(a.numLog)/2048.0 + (float64(a.denNonLog) - (float64(a.numNonLog)/16384.0)/65025.0)
	den := float64(a.denLog)/2048.0 + float64(a.denNonLog)
	return float32(num), float32(den)
}

// vif8Ring holds the input rows of the scale-0 window for 8-bit samples, each packed once
// for the vertical pass (reference x, distorted y): p = x | y<<32, sq = x*x | y*y<<32 and
// xy = x*y. Every filtered sum of these stays below 2^32 (samples < 2^8, squares < 2^16,
// taps summing to 2^16), so the lanes never carry into each other and the results are exact.
// Packing a row once instead of once per output row it feeds (17 times) saves most of the
// multiplications. Row r lives in slot r%17: the window of output row i only spans real
// rows i-8..i+8 (mirroring stays inside it), so no two rows it needs share a slot.
type vif8Ring struct {
	p, sq  [17][]uint64
	xy     [17][]uint32
	packed int // rows 0..packed-1 have been packed (the last 17 of them are present)
	// tap accumulators of one output row
	accP, accS []uint64
	accX       []uint32
}

func (r *vif8Ring) reset(w int) {
	if cap(r.accP) < w {
		for k := range r.p {
			r.p[k], r.sq[k], r.xy[k] = make([]uint64, w), make([]uint64, w), make([]uint32, w)
		}
		r.accP, r.accS, r.accX = make([]uint64, w), make([]uint64, w), make([]uint32, w)
	}
	r.packed = 0
}

// fill packs input rows up to and including row last.
func (r *vif8Ring) fill(ref, dis []uint16, w, last int) {
	for ; r.packed <= last; r.packed++ {
		k := r.packed % 17
		p, sq, xy := r.p[k][:w], r.sq[k][:w], r.xy[k][:w]
		rr := ref[r.packed*w:][:w]
		dr := dis[r.packed*w:][:w]
		for j := range p {
			x, y := uint64(rr[j]), uint64(dr[j])
			p[j] = x | y<<32
			sq[j] = x*x | (y*y)<<32
			xy[j] = uint32(x * y)
		}
	}
}

// vertical8 is the vertical pass of scale 0 for 8-bit input (17 taps) over the packed rows
// of output row i; it walks the taps in the outer loop so every inner loop is a plain
// streaming multiply-add over whole rows.
func (s *vifState) vertical8(ref, dis []uint16, i, h, w int, mu []uint64, xx, yy, xy []uint32) {
	r := &s.ring8
	if i == 0 {
		r.reset(w)
	}
	r.fill(ref, dis, w, min(i+8, h-1))
	filt := vifFilters[0]
	slot := func(k int) int { return mirror(i-8+k, h) % 17 }
	ap, as, ax := r.accP[:w], r.accS[:w], r.accX[:w]
	c := slot(8)
	pm, sm, xm := r.p[c][:len(ap)], r.sq[c][:len(ap)], r.xy[c][:len(ap)]
	fc := uint64(filt[8])
	for j := range ap {
		ap[j] = fc * pm[j]
		as[j] = fc * sm[j]
		ax[j] = uint32(fc) * xm[j]
	}
	for k := 0; k < 8; k++ {
		a, b := slot(k), slot(16-k)
		pa, pb := r.p[a][:len(ap)], r.p[b][:len(ap)]
		sa, sb := r.sq[a][:len(ap)], r.sq[b][:len(ap)]
		xa, xb := r.xy[a][:len(ap)], r.xy[b][:len(ap)]
		f := uint64(filt[k])
		for j := range ap {
			ap[j] += f * (pa[j] + pb[j])
			as[j] += f * (sa[j] + sb[j])
			ax[j] += uint32(f) * (xa[j] + xb[j])
		}
	}
	mu, xx, yy, xy = mu[:len(ap)], xx[:len(ap)], yy[:len(ap)], xy[:len(ap)]
	for j := range ap {
		mu[j] = uint64((uint32(ap[j])+128)>>8) | uint64((uint32(ap[j]>>32)+128)>>8)<<32
		xx[j] = uint32(as[j])
		yy[j] = uint32(as[j] >> 32)
		xy[j] = ax[j]
	}
}

// horizontal17 is the horizontal pass and accumulation of scale 0 (17 taps), unrolled, with
// the two mean sums packed in one uint64 (each stays below 2^32). The rows are padded by 16.
func horizontal17(acc *vifAccum, pm []uint64, xx, yy, xy []uint32, w int) {
	const pad = 16
	const (
		f0 = 489
		f1 = 935
		f2 = 1640
		f3 = 2640
		f4 = 3896
		f5 = 5274
		f6 = 6547
		f7 = 7455
		f8 = 7784
	)
	for j := 0; j < w; j++ {
		b := pad - 8 + j
		m := pm[b : b+17 : b+17]
		mu := f8*m[8] + f0*(m[0]+m[16]) + f1*(m[1]+m[15]) + f2*(m[2]+m[14]) + f3*(m[3]+m[13]) +
			f4*(m[4]+m[12]) + f5*(m[5]+m[11]) + f6*(m[6]+m[10]) + f7*(m[7]+m[9])
		x := xx[b : b+17 : b+17]
		sx := f8*uint64(x[8]) + f0*(uint64(x[0])+uint64(x[16])) + f1*(uint64(x[1])+uint64(x[15])) +
			f2*(uint64(x[2])+uint64(x[14])) + f3*(uint64(x[3])+uint64(x[13])) + f4*(uint64(x[4])+uint64(x[12])) +
			f5*(uint64(x[5])+uint64(x[11])) + f6*(uint64(x[6])+uint64(x[10])) + f7*(uint64(x[7])+uint64(x[9]))
		y := yy[b : b+17 : b+17]
		sy := f8*uint64(y[8]) + f0*(uint64(y[0])+uint64(y[16])) + f1*(uint64(y[1])+uint64(y[15])) +
			f2*(uint64(y[2])+uint64(y[14])) + f3*(uint64(y[3])+uint64(y[13])) + f4*(uint64(y[4])+uint64(y[12])) +
			f5*(uint64(y[5])+uint64(y[11])) + f6*(uint64(y[6])+uint64(y[10])) + f7*(uint64(y[7])+uint64(y[9]))
		z := xy[b : b+17 : b+17]
		sz := f8*uint64(z[8]) + f0*(uint64(z[0])+uint64(z[16])) + f1*(uint64(z[1])+uint64(z[15])) +
			f2*(uint64(z[2])+uint64(z[14])) + f3*(uint64(z[3])+uint64(z[13])) + f4*(uint64(z[4])+uint64(z[12])) +
			f5*(uint64(z[5])+uint64(z[11])) + f6*(uint64(z[6])+uint64(z[10])) + f7*(uint64(z[7])+uint64(z[9]))
		acc.add(uint32(mu), uint32(mu>>32), uint32((sx+32768)>>16), uint32((sy+32768)>>16), uint32((sz+32768)>>16))
	}
}

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

// log2Table[i] = round(log2(i) * 2048) for i in [32767, 65535], as a float computation.
var log2Table = func() []uint16 {
	t := make([]uint16, 65536)
	for i := 32767; i < 65536; i++ {
		v := float32(math.Log2(float64(i))) * 2048
		t[i] = uint16(math.Round(float64(v)))
	}
	return t
}()

func log2u32(v uint32) int64 {
	k := 16 - bits.LeadingZeros32(v)
	return int64(log2Table[v>>uint(k)]) + 2048*int64(k)
}

func log2u64(v uint64) int64 {
	k := 48 - bits.LeadingZeros64(v)
	return int64(log2Table[v>>uint(k)]) + 2048*int64(k)
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
	mu1, mu2   []uint32    // vertical pass results, padded by 8 on each side
	xx, yy, xy []uint32
	c1, c2     []uint32 // subsample vertical pass, padded
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
	if cap(s.mu1) < pw {
		s.mu1 = make([]uint32, pw)
		s.mu2 = make([]uint32, pw)
		s.xx = make([]uint32, pw)
		s.yy = make([]uint32, pw)
		s.xy = make([]uint32, pw)
		s.c1 = make([]uint32, pw)
		s.c2 = make([]uint32, pw)
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
			s.subsample(cr, cd, nr, nd, w, h, scale, bpc)
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
	c1 := s.c1[:w+2*16]
	c2 := s.c2[:w+2*16]
	const pad = 16
	ow := w / 2
	for i := 0; i < h; i += 2 {
		for j := 0; j < w; j++ {
			var ar, ad uint32
			for k := 0; k < fw; k++ {
				r := mirror(i-half+k, h) * w
				f := filt[k]
				ar += f * uint32(ref[r+j])
				ad += f * uint32(dis[r+j])
			}
			c1[pad+j] = (ar + vround) >> vshift
			c2[pad+j] = (ad + vround) >> vshift
		}
		for f := 1; f <= half; f++ {
			c1[pad-f], c2[pad-f] = c1[pad+f], c2[pad+f]
			c1[pad+w-1+f], c2[pad+w-1+f] = c1[pad+w-1-f], c2[pad+w-1-f]
		}
		orow := (i / 2) * ow
		for j := 0; j < 2*ow; j += 2 {
			var ar, ad uint32
			base := pad + j - half
			for k := 0; k < fw; k++ {
				f := filt[k]
				ar += f * c1[base+k]
				ad += f * c2[base+k]
			}
			nr[orow+j/2] = uint16((ar + 32768) >> 16)
			nd[orow+j/2] = uint16((ad + 32768) >> 16)
		}
		if i/2+1 >= h/2 {
			break
		}
	}
}

// statistic returns the (num, den) sums of one scale, as float32 like libvmaf.
func (s *vifState) statistic(ref, dis []uint16, w, h, scale, bpc int) (float32, float32) {
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
	const pad = 16
	mu1, mu2 := s.mu1[:w+2*pad], s.mu2[:w+2*pad]
	xx, yy, xy := s.xx[:w+2*pad], s.yy[:w+2*pad], s.xy[:w+2*pad]
	var acc vifAccum
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			var am1, am2 uint32
			var arr, add, ard uint64
			for k := 0; k < fw; k++ {
				r := mirror(i-half+k, h)*w + j
				f := filt[k]
				x, y := uint32(ref[r]), uint32(dis[r])
				fx, fy := f*x, f*y
				am1 += fx
				am2 += fy
				arr += uint64(fx) * uint64(x)
				add += uint64(fy) * uint64(y)
				ard += uint64(fx) * uint64(y)
			}
			mu1[pad+j] = (am1 + mround) >> mshift
			mu2[pad+j] = (am2 + mround) >> mshift
			xx[pad+j] = uint32((arr + sqround) >> sqshift)
			yy[pad+j] = uint32((add + sqround) >> sqshift)
			xy[pad+j] = uint32((ard + sqround) >> sqshift)
		}
		for f := 1; f <= half; f++ {
			l, r := pad-f, pad+f
			mu1[l], mu2[l], xx[l], yy[l], xy[l] = mu1[r], mu2[r], xx[r], yy[r], xy[r]
			l, r = pad+w-1-f, pad+w-1+f
			mu1[r], mu2[r], xx[r], yy[r], xy[r] = mu1[l], mu2[l], xx[l], yy[l], xy[l]
		}
		for j := 0; j < w; j++ {
			var m1, m2 uint32
			var sxx, syy, sxy uint64
			base := pad + j - half
			for k := 0; k < fw; k++ {
				f := filt[k]
				m1 += f * mu1[base+k]
				m2 += f * mu2[base+k]
				sxx += uint64(f) * uint64(xx[base+k])
				syy += uint64(f) * uint64(yy[base+k])
				sxy += uint64(f) * uint64(xy[base+k])
			}
			acc.add(m1, m2, uint32((sxx+32768)>>16), uint32((syy+32768)>>16), uint32((sxy+32768)>>16))
		}
	}
	return acc.result()
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
			const eps = 65536 * 1.0e-10
			g := float64(sigma12) / (float64(sigma1sq) + eps)
			svsq := int32(float64(sigma2sq) - g*float64(sigma12))
			if svsq < 0 {
				svsq = 0
			}
			if g > vifEnhnGainLimit {
				g = vifEnhnGainLimit
			}
			numer1 := uint32(svsq + sigmaNsq)
			numer1tmp := int64(g*g*float64(sigma1sq)) + int64(numer1)
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

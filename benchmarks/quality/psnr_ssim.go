package quality

import "math"

// psnrPlane is libvmaf's integer psnr of one plane: 10*log10(peak^2/MSE), capped at
// 6*bitdepth+12 dB (60 dB for 8-bit, 72 dB for 10-bit), which is also what identical
// planes score.
func psnrPlane(ref, dis []uint16, bpc int) float64 {
	var sse uint64
	for i := range ref {
		d := int64(ref[i]) - int64(dis[i])
		sse += uint64(d * d)
	}
	peak := float64(int(1)<<bpc - 1)
	maxDB := float64(6*bpc + 12)
	mse := float64(sse) / float64(len(ref))
	return math.Min(10*math.Log10(peak*peak/math.Max(mse, 1e-16)), maxDB)
}

// SSIM as libvmaf's float_ssim: samples as float (10-bit divided by 4), optional box
// decimation by round(min(w,h)/256), an 11x11 Gaussian window (sigma 1.5) applied where it
// fits entirely inside the picture, mean of the SSIM map.

var ssimGauss = [11]float32{0.001028, 0.007599, 0.036001, 0.109361, 0.213006, 0.266012, 0.213006, 0.109361, 0.036001, 0.007599, 0.001028}

type ssimState struct {
	ref, dis          []float32
	mr, md            []float32
	srr, sdd, srd     []float32
	cache             []float32
	decR, decD        []float32
	sqR, sqD, sqRD    []float32
	outR, outD, outRD []float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// convolve applies the separable Gaussian to img (w x h) where the window fits, writing the
// (w-10) x (h-10) result into dst, like IQA's 1-D convolution path.
func (s *ssimState) convolve(img []float32, w, h int, dst []float32) {
	const r = 5
	dw, dh := w-10, h-10
	s.cache = grow(s.cache, w*h)
	c := s.cache
	for y := 0; y < h; y++ {
		row := img[y*w:]
		for x := 0; x < dw; x++ {
			var sum float64
			for u := 0; u < 11; u++ {
				sum += float64(row[x+u] * ssimGauss[u])
			}
			c[y*w+x+r] = float32(sum)
		}
	}
	for x := 0; x < dw; x++ {
		for y := 0; y < dh; y++ {
			var sum float64
			for v := 0; v < 11; v++ {
				sum += float64(c[(y+v)*w+x+r] * ssimGauss[v])
			}
			dst[y*dw+x] = float32(sum)
		}
	}
}

func symmetric(x, n int) int {
	if x < 0 {
		return -1 - x
	}
	if x >= n {
		return n - (x - n) - 1
	}
	return x
}

// decimate box-filters by f (window -f/2..f/2-1 for even f) and keeps every f-th sample.
func decimate(img []float32, w, h, f int, dst []float32) (int, int) {
	sw := w/f + (w & 1)
	sh := h/f + (h & 1)
	uc := f / 2
	even := 0
	if f%2 == 0 {
		even = 1
	}
	k := float32(1.0) / float32(f*f)
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			cx, cy := x*f, y*f
			edge := cx < uc || cy < uc || cx >= w-uc || cy >= h-uc
			var sum float64
			for v := -uc; v <= uc-even; v++ {
				for u := -uc; u <= uc-even; u++ {
					var p float32
					if edge {
						p = img[symmetric(cy+v, h)*w+symmetric(cx+u, w)]
					} else {
						p = img[(cy+v)*w+cx+u]
					}
					sum += float64(p * k)
				}
			}
			dst[y*sw+x] = float32(sum)
		}
	}
	return sw, sh
}

func (s *ssimState) ssim(ref, dis []uint16, w, h, bpc int) float64 {
	n := w * h
	s.ref = grow(s.ref, n)
	s.dis = grow(s.dis, n)
	for i := 0; i < n; i++ {
		if bpc > 8 {
			s.ref[i] = float32(ref[i]) / 4.0
			s.dis[i] = float32(dis[i]) / 4.0
		} else {
			s.ref[i] = float32(ref[i])
			s.dis[i] = float32(dis[i])
		}
	}
	rf, df := s.ref, s.dis
	scale := max(1, int(math.Round(float64(float32(min(w, h))/256.0))))
	if scale > 1 {
		sw := w/scale + (w & 1)
		sh := h/scale + (h & 1)
		s.decR = grow(s.decR, sw*sh)
		s.decD = grow(s.decD, sw*sh)
		decimate(rf, w, h, scale, s.decR)
		w, h = decimate(df, w, h, scale, s.decD)
		rf, df = s.decR, s.decD
	}
	if w < 11 || h < 11 {
		return math.NaN()
	}
	n = w * h
	s.sqR, s.sqD, s.sqRD = grow(s.sqR, n), grow(s.sqD, n), grow(s.sqRD, n)
	for i := 0; i < n; i++ {
		s.sqR[i] = rf[i] * rf[i]
		s.sqD[i] = df[i] * df[i]
		s.sqRD[i] = rf[i] * df[i]
	}
	dn := (w - 10) * (h - 10)
	s.mr, s.md = grow(s.mr, dn), grow(s.md, dn)
	s.srr, s.sdd, s.srd = grow(s.srr, dn), grow(s.sdd, dn), grow(s.srd, dn)
	s.convolve(rf, w, h, s.mr)
	s.convolve(df, w, h, s.md)
	s.convolve(s.sqR, w, h, s.srr)
	s.convolve(s.sqD, w, h, s.sdd)
	s.convolve(s.sqRD, w, h, s.srd)
	k1, k2, lv := float32(0.01), float32(0.03), float32(255)
	c1 := float32(k1*lv) * float32(k1*lv)
	c2 := float32(k2*lv) * float32(k2*lv)
	var sum float64
	for i := 0; i < dn; i++ {
		mr, md := s.mr[i], s.md[i]
		srr := s.srr[i] - float32(mr*mr)
		sdd := s.sdd[i] - float32(md*md)
		if srr < 0 {
			srr = 0
		}
		if sdd < 0 {
			sdd = 0
		}
		srd := s.srd[i] - float32(mr*md)
		sigma := math.Sqrt(float64(srr * sdd))
		l := (2.0*float64(mr)*float64(md) + float64(c1)) / float64(float32(float32(mr*mr)+float32(md*md))+c1)
		c := (2.0*sigma + float64(c2)) / float64(float32(srr+sdd)+c2)
		st := (float64(srd) + float64(c2)/2.0) / (sigma + float64(c2)/2.0)
		sum += l * c * st
	}
	return float64(float32(sum / float64(dn)))
}

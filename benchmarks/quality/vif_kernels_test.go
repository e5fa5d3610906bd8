package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The VIF kernels: the dispatching ones (vifVert8, vifHStat8: assembly where the CPU has
// it, Go for the remaining columns) must give exactly what the Go reference kernels give,
// and the plane pipeline exactly what the original Go statistic gives.

// kernelWidths cover the block size of the assembly (16), partial blocks, a block plus
// one column, and a few realistic widths.
var kernelWidths = []int{16, 18, 30, 32, 33, 48, 64, 90, 160, 176, 250}

// samplePattern fills a w x h plane with values in [0, maxv] in one of several patterns,
// including the extremes that stress the widths of the sums.
func samplePattern(rng *rand.Rand, w, h, maxv, kind int) []uint16 {
	p := make([]uint16, w*h)
	for i := range p {
		x, y := i%w, i/w
		var v int
		switch kind {
		case 0: // uniform noise
			v = rng.IntN(maxv + 1)
		case 1: // all at the maximum
			v = maxv
		case 2: // checkerboard of 0 and max: the largest variances
			v = maxv * ((x + y) & 1)
		case 3: // smooth ramp with a little noise
			v = min(max((x*3+y*5)%(maxv+1)+rng.IntN(5)-2, 0), maxv)
		case 4: // flat with rare spikes
			v = maxv / 2
			if rng.IntN(50) == 0 {
				v = rng.IntN(maxv + 1)
			}
		default: // zero
		}
		p[i] = uint16(v)
	}
	return p
}

// distortPattern returns a distorted copy of ref: noise, a gain, or a constant.
func distortPattern(rng *rand.Rand, ref []uint16, maxv, kind int) []uint16 {
	d := make([]uint16, len(ref))
	for i, r := range ref {
		var v int
		switch kind {
		case 0:
			v = int(r) + rng.IntN(41) - 20
		case 1:
			v = int(r) * 3 / 4
		case 2:
			v = rng.IntN(maxv + 1)
		case 3:
			v = maxv - int(r)
		default:
			v = int(r)
		}
		d[i] = uint16(min(max(v, 0), maxv))
	}
	return d
}

// sampleMax is the largest input sample of a scale in the kernel tests: 8-bit samples at
// scale 0, the 16-bit scale inputs above.
func sampleMax(scale int) int {
	if scale == 0 {
		return 255
	}
	return 65535
}

// planesOf runs both vertical kernels over row i and returns their planes.
func planesOf(t testing.TB, ref, dis []uint16, i, w, h, scale int) (got, want []uint16) {
	t.Helper()
	stride := vifPlaneStride(w)
	got = make([]uint16, vifPlaneCount*stride)
	want = make([]uint16, vifPlaneCount*stride)
	var rows vifRows
	rows.set(ref, dis, i, w, h, len(vifFilters[scale])/2)
	vifFastKernels.vert(&rows, scale, got, stride, w)
	vifGoKernels.vert(&rows, scale, want, stride, w)
	return got, want
}

func TestVIFVertKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for scale := 0; scale < 4; scale++ {
		maxv := sampleMax(scale)
		for _, w := range kernelWidths {
			for kind := 0; kind < 6; kind++ {
				h := 20
				ref := samplePattern(rng, w, h, maxv, kind)
				dis := distortPattern(rng, ref, maxv, kind%5)
				for _, i := range []int{0, 1, 7, 8, 9, h - 1} {
					got, want := planesOf(t, ref, dis, i, w, h, scale)
					require.Equal(t, want, got, "scale=%d w=%d kind=%d row=%d", scale, w, kind, i)
				}
			}
		}
	}
}

// hstatBoth runs both horizontal kernels over a row of planes.
func hstatBoth(planes []uint16, w, scale int) (got, want vifAccum) {
	stride := vifPlaneStride(w)
	vifMirrorPlanes(planes, stride, w, len(vifFilters[scale])/2)
	vifFastKernels.hstat(&got, scale, planes, stride, w)
	vifGoKernels.hstat(&want, scale, planes, stride, w)
	return got, want
}

func TestVIFHStatKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for scale := 0; scale < 4; scale++ {
		maxv := sampleMax(scale)
		for _, w := range kernelWidths {
			// planes from real rows, in all patterns
			for kind := 0; kind < 6; kind++ {
				h := 24
				ref := samplePattern(rng, w, h, maxv, kind)
				dis := distortPattern(rng, ref, maxv, (kind+1)%5)
				for _, i := range []int{0, 5, 12, h - 1} {
					_, planes := planesOf(t, ref, dis, i, w, h, scale)
					got, want := hstatBoth(planes, w, scale)
					require.Equal(t, want, got, "scale=%d w=%d kind=%d row=%d", scale, w, kind, i)
				}
			}
			// arbitrary plane contents: the kernels agree on any input, not just on the
			// moments real samples produce
			for trial := 0; trial < 20; trial++ {
				planes := make([]uint16, vifPlaneCount*vifPlaneStride(w))
				for k := range planes {
					switch trial % 4 {
					case 0:
						planes[k] = uint16(rng.Uint32())
					case 1:
						planes[k] = 0xffff
					case 2:
						planes[k] = uint16(rng.IntN(3)) * 0x7fff
					default:
						planes[k] = vifPlaneBias ^ uint16(rng.IntN(4096))
					}
				}
				got, want := hstatBoth(planes, w, scale)
				require.Equal(t, want, got, "scale=%d w=%d trial=%d", scale, w, trial)
			}
		}
	}
}

// TestVIFPlanesMatchOriginal checks the plane pipeline, with the Go kernels alone and with
// the fast ones, against accumulate's original Go loops (the path of CPUs without the
// assembly and of the purego build), at every scale.
func TestVIFPlanesMatchOriginal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for scale := 0; scale < 4; scale++ {
		maxv := sampleMax(scale)
		for _, sz := range [][2]int{{16, 16}, {18, 34}, {33, 17}, {64, 36}, {176, 144}} {
			w, h := sz[0], sz[1]
			for kind := 0; kind < 6; kind++ {
				ref := samplePattern(rng, w, h, maxv, kind)
				dis := distortPattern(rng, ref, maxv, kind%5)
				orig := vifState{pureGo: true}
				orig.ensure(w, h)
				want := orig.accumulate(ref, dis, w, h, scale, 8)
				var s vifState
				s.ensure(w, h)
				require.Equal(t, want, s.accumulatePlanesWith(ref, dis, w, h, scale, vifGoKernels), "Go kernels scale %d %dx%d kind %d", scale, w, h, kind)
				require.Equal(t, want, s.accumulatePlanesWith(ref, dis, w, h, scale, vifFastKernels), "fast kernels scale %d %dx%d kind %d", scale, w, h, kind)
				require.Equal(t, want, s.accumulate(ref, dis, w, h, scale, 8), "accumulate scale %d %dx%d kind %d", scale, w, h, kind)
			}
		}
	}
}

// TestVIFScoresPureGoPath compares whole VIF scores of the default path (assembly where
// available) with the forced pure-Go path, 8- and 10-bit, and checks the pure path is a
// real computation (scores differ between distortions).
func TestVIFScoresPureGoPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, depth := range []int{8, 10} {
		maxv := 1<<depth - 1
		var prev [4]float64
		for kind := 0; kind < 4; kind++ {
			w, h := 96, 64
			ref := samplePattern(rng, w, h, maxv, 3)
			dis := distortPattern(rng, ref, maxv, kind)
			var fast vifState
			pure := vifState{pureGo: true}
			got := fast.vifScores(ref, dis, w, h, depth)
			want := pure.vifScores(ref, dis, w, h, depth)
			require.Equal(t, want, got, "depth %d kind %d", depth, kind)
			require.NotEqual(t, prev, want)
			prev = want
		}
	}
}

// FuzzVIFKernels feeds arbitrary samples to the fast and the Go kernels of both passes, at
// every scale, and requires identical planes and sums.
func FuzzVIFKernels(f *testing.F) {
	f.Add([]byte{0, 255, 0, 255, 17, 200}, uint8(0), uint8(0), uint8(0))
	f.Add([]byte{255}, uint8(1), uint8(3), uint8(1))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, uint8(17), uint8(9), uint8(2))
	f.Add([]byte{128, 0, 0, 0, 255, 255, 255, 7}, uint8(40), uint8(30), uint8(1))
	f.Add([]byte{255, 255, 0, 0, 255, 255}, uint8(16), uint8(5), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, wextra, row, scale8 uint8) {
		if len(data) == 0 {
			return
		}
		scale := int(scale8) % 4
		w, h := 16+int(wextra)%64, 17
		ref, dis := make([]uint16, w*h), make([]uint16, w*h)
		for i := range ref {
			r, d := uint16(data[(2*i)%len(data)]), uint16(data[(2*i+1)%len(data)])
			if scale > 0 { // 16-bit samples: the byte is the high half
				r, d = r<<8|r, d<<8|uint16(data[i%len(data)])
			}
			ref[i], dis[i] = r, d
		}
		got, want := planesOf(t, ref, dis, int(row)%h, w, h, scale)
		require.Equal(t, want, got)
		a, b := hstatBoth(want, w, scale)
		require.Equal(t, b, a)
	})
}

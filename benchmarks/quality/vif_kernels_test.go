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

// planesOf runs both vertical kernels over row i and returns their planes.
func planesOf(t testing.TB, ref, dis []uint16, i, w, h int) (got, want []uint16) {
	t.Helper()
	stride := vifPlaneStride(w)
	got = make([]uint16, vifPlaneCount*stride)
	want = make([]uint16, vifPlaneCount*stride)
	var rows vifRows
	rows.set(ref, dis, i, w, h)
	vifVert8(&rows, got, stride, w)
	vifVert8Go(&rows, want, stride, 0, w)
	return got, want
}

func TestVIFVert8KernelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range kernelWidths {
		for kind := 0; kind < 6; kind++ {
			h := 20
			ref := samplePattern(rng, w, h, 255, kind)
			dis := distortPattern(rng, ref, 255, kind%5)
			for _, i := range []int{0, 1, 7, 8, 9, h - 1} {
				got, want := planesOf(t, ref, dis, i, w, h)
				require.Equal(t, want, got, "w=%d kind=%d row=%d", w, kind, i)
			}
		}
	}
}

// hstatBoth runs both horizontal kernels over a row of planes.
func hstatBoth(planes []uint16, w int) (got, want vifAccum) {
	stride := vifPlaneStride(w)
	vifMirrorPlanes(planes, stride, w)
	vifHStat8(&got, planes, stride, w)
	vifHStat8Go(&want, planes, stride, 0, w)
	return got, want
}

func TestVIFHStat8KernelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, w := range kernelWidths {
		// planes from real rows, in all patterns
		for kind := 0; kind < 6; kind++ {
			h := 24
			ref := samplePattern(rng, w, h, 255, kind)
			dis := distortPattern(rng, ref, 255, (kind+1)%5)
			for _, i := range []int{0, 5, 12, h - 1} {
				_, planes := planesOf(t, ref, dis, i, w, h)
				got, want := hstatBoth(planes, w)
				require.Equal(t, want, got, "w=%d kind=%d row=%d", w, kind, i)
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
			got, want := hstatBoth(planes, w)
			require.Equal(t, want, got, "w=%d trial=%d", w, trial)
		}
	}
}

// TestVIFPlanesMatchOriginal checks the plane pipeline, with the Go kernels alone and with
// the dispatching ones, against the original scale-0 statistic (the path every CPU without
// the assembly, and the purego build, takes).
func TestVIFPlanesMatchOriginal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	goVert := func(r *vifRows, p []uint16, stride, w int) { vifVert8Go(r, p, stride, 0, w) }
	goHStat := func(a *vifAccum, p []uint16, stride, w int) { vifHStat8Go(a, p, stride, 0, w) }
	for _, sz := range [][2]int{{16, 16}, {18, 34}, {33, 17}, {64, 36}, {176, 144}} {
		w, h := sz[0], sz[1]
		for kind := 0; kind < 6; kind++ {
			ref := samplePattern(rng, w, h, 255, kind)
			dis := distortPattern(rng, ref, 255, kind%5)
			orig := vifState{pureGo: true}
			orig.ensure(w, h)
			want := orig.accumulate(ref, dis, w, h, 0, 8)
			var s vifState
			s.ensure(w, h)
			require.Equal(t, want, s.accumulate0PlanesWith(ref, dis, w, h, goVert, goHStat), "Go kernels %dx%d kind %d", w, h, kind)
			require.Equal(t, want, s.accumulate0Planes(ref, dis, w, h), "dispatching kernels %dx%d kind %d", w, h, kind)
			require.Equal(t, want, s.accumulate(ref, dis, w, h, 0, 8), "accumulate %dx%d kind %d", w, h, kind)
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

// FuzzVIFKernels feeds arbitrary samples to the dispatching and the Go kernels of both
// passes and requires identical planes and sums.
func FuzzVIFKernels(f *testing.F) {
	f.Add([]byte{0, 255, 0, 255, 17, 200}, uint8(0), uint8(0))
	f.Add([]byte{255}, uint8(1), uint8(3))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, uint8(17), uint8(9))
	f.Add([]byte{128, 0, 0, 0, 255, 255, 255, 7}, uint8(40), uint8(30))
	f.Fuzz(func(t *testing.T, data []byte, wextra, row uint8) {
		if len(data) == 0 {
			return
		}
		w, h := 16+int(wextra)%64, 17
		ref, dis := make([]uint16, w*h), make([]uint16, w*h)
		for i := range ref {
			ref[i] = uint16(data[(2*i)%len(data)])
			dis[i] = uint16(data[(2*i+1)%len(data)])
		}
		got, want := planesOf(t, ref, dis, int(row)%h, w, h)
		require.Equal(t, want, got)
		a, b := hstatBoth(want, w)
		require.Equal(t, b, a)
	})
}

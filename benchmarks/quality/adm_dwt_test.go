package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The scale-0 DWT kernels: the fast ones (assembly where the CPU has it, Go for the rest)
// must equal the Go reference kernels on any input, and the row pipeline must equal dwt.

// dwtRowsBoth runs both vertical kernels over four rows and returns their outputs.
func dwtRowsBoth(rows *[4][]uint16, w, bpc int) (gotLo, gotHi, wantLo, wantHi []int16) {
	gotLo, gotHi = make([]int16, w), make([]int16, w)
	wantLo, wantHi = make([]int16, w), make([]int16, w)
	admDwtFastKernels.vert(rows, gotLo, gotHi, bpc, w)
	admDwtGoKernels.vert(rows, wantLo, wantHi, bpc, w)
	return
}

// dwtHorzBoth runs both horizontal kernels over a pair of unpadded rows of width w.
func dwtHorzBoth(lo, hi []int16, w int) (got, want [4][]int32) {
	n := w + 2*admRowPad
	pl, ph := make([]int16, n), make([]int16, n)
	copy(pl[admRowPad:], lo)
	copy(ph[admRowPad:], hi)
	admMirrorRow(pl, w)
	admMirrorRow(ph, w)
	hw := (w + 1) / 2
	for k := range got {
		got[k], want[k] = make([]int32, hw), make([]int32, hw)
	}
	admDwtFastKernels.horz(pl, ph, got[0], got[1], got[2], got[3], hw)
	admDwtGoKernels.horz(pl, ph, want[0], want[1], want[2], want[3], hw)
	return got, want
}

func TestADMDwtKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, bpc := range []int{8, 10} {
		maxv := 1<<bpc - 1
		for _, w := range kernelWidths {
			for kind := 0; kind < 6; kind++ {
				plane := samplePattern(rng, w, 4, maxv, kind)
				rows := [4][]uint16{plane[:w], plane[w : 2*w], plane[2*w : 3*w], plane[3*w:]}
				gl, gh, wl, wh := dwtRowsBoth(&rows, w, bpc)
				require.Equal(t, wl, gl, "lo bpc=%d w=%d kind=%d", bpc, w, kind)
				require.Equal(t, wh, gh, "hi bpc=%d w=%d kind=%d", bpc, w, kind)
				got, want := dwtHorzBoth(wl, wh, w)
				require.Equal(t, want, got, "bands bpc=%d w=%d kind=%d", bpc, w, kind)
			}
			// arbitrary int16 rows, extremes included: the int32 sums wrap alike
			for trial := 0; trial < 10; trial++ {
				lo, hi := make([]int16, w), make([]int16, w)
				for j := range lo {
					switch trial % 3 {
					case 0:
						lo[j], hi[j] = int16(rng.Uint32()), int16(rng.Uint32())
					case 1:
						lo[j], hi[j] = -32768, 32767
					default:
						lo[j], hi[j] = int16(-32768+65535*(j&1)), int16(32767-65535*(j&1))
					}
				}
				got, want := dwtHorzBoth(lo, hi, w)
				require.Equal(t, want, got, "arbitrary w=%d trial=%d", w, trial)
			}
		}
	}
}

// TestADMDwt0MatchesDwt checks the row pipeline, with the Go kernels and with the fast
// ones, against dwt's original loops, and whole ADM scores against the pure-Go path.
func TestADMDwt0MatchesDwt(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, bpc := range []int{8, 10} {
		maxv := 1<<bpc - 1
		for _, sz := range [][2]int{{16, 16}, {18, 34}, {34, 18}, {64, 36}, {176, 144}} {
			w, h := sz[0], sz[1]
			for kind := 0; kind < 6; kind++ {
				ref := samplePattern(rng, w, h, maxv, kind)
				var s admState
				s.indices(w, h)
				n := ((w + 1) / 2) * ((h + 1) / 2)
				var want, viaGo, fast admBands
				want.ensure(n)
				viaGo.ensure(n)
				fast.ensure(n)
				s.dwt(ref, nil, &want, w, h, 0, bpc)
				s.dwt0(ref, &viaGo, w, h, bpc, admDwtGoKernels)
				s.dwt0(ref, &fast, w, h, bpc, admDwtFastKernels)
				require.Equal(t, want, viaGo, "Go kernels bpc=%d %dx%d kind=%d", bpc, w, h, kind)
				require.Equal(t, want, fast, "fast kernels bpc=%d %dx%d kind=%d", bpc, w, h, kind)

				if w < 18 || h < 18 {
					continue // ADM's scale 3 is 1 sample wide there, which cm does not handle yet
				}
				dis := distortPattern(rng, ref, maxv, kind%5)
				pure := admState{pureGo: true}
				var def admState
				require.Equal(t, pure.scores(ref, dis, w, h, bpc), def.scores(ref, dis, w, h, bpc))
			}
		}
	}
}

// FuzzADMDwtKernels feeds arbitrary samples and rows to both kernel sets.
func FuzzADMDwtKernels(f *testing.F) {
	f.Add([]byte{0, 255, 0, 255}, uint8(0), false)
	f.Add([]byte{255, 3}, uint8(17), true)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(33), true)
	f.Fuzz(func(t *testing.T, data []byte, wextra uint8, tenBit bool) {
		if len(data) == 0 {
			return
		}
		bpc, mask := 8, uint16(0xff)
		if tenBit {
			bpc, mask = 10, 0x3ff
		}
		w := 16 + int(wextra)%64
		var rows [4][]uint16
		for r := range rows {
			rows[r] = make([]uint16, w)
			for j := range rows[r] {
				k := r*w + j
				rows[r][j] = (uint16(data[k%len(data)]) | uint16(data[(k+1)%len(data)])<<8) & mask
			}
		}
		gl, gh, wl, wh := dwtRowsBoth(&rows, w, bpc)
		require.Equal(t, wl, gl)
		require.Equal(t, wh, gh)
		lo, hi := make([]int16, w), make([]int16, w)
		for j := range lo {
			lo[j] = int16(uint16(data[j%len(data)]) | uint16(data[(j+3)%len(data)])<<8)
			hi[j] = int16(uint16(data[(j+1)%len(data)]) | uint16(data[(j+5)%len(data)])<<8)
		}
		got, want := dwtHorzBoth(lo, hi, w)
		require.Equal(t, want, got)
	})
}

// csfBoth runs both scale-0 CSF kernels over src for each band's constants.
func csfBoth(t *testing.T, src []int32) {
	t.Helper()
	for band := 0; band < 3; band++ {
		irf := [3]int32{36453, 36453, 49417}[band]
		sh := [3]uint{15, 15, 17}[band]
		add := [3]int32{16384, 16384, 65535}[band]
		gd, gf := make([]int32, len(src)), make([]int32, len(src))
		wd, wf := make([]int32, len(src)), make([]int32, len(src))
		admCsf0(src, gd, gf, irf, add, sh)
		admCsf0Go(src, wd, wf, irf, add, sh)
		require.Equal(t, wd, gd, "weighted band %d n=%d", band, len(src))
		require.Equal(t, wf, gf, "filter input band %d n=%d", band, len(src))
	}
}

func TestADMCsf0KernelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 7, 8, 9, 31, 100, 333} {
		for trial := 0; trial < 6; trial++ {
			src := make([]int32, n)
			for j := range src {
				switch trial {
				case 0: // int16 band values, as ADM produces
					src[j] = int32(int16(rng.Uint32()))
				case 1:
					src[j] = -32768
				case 2:
					src[j] = 32767
				default: // any int32: the wrapping arithmetic must agree too
					src[j] = int32(rng.Uint32())
				}
			}
			csfBoth(t, src)
		}
	}
	// the row pipeline against csf at scale 0
	ref, dis := synthFrames(1, 64, 36, 8)
	var s admState
	s.scores(ref[0].Y, dis[0].Y, 64, 36, 8) // fills the bands of the last scale; rerun scale 0
	s.indices(64, 36)
	n := 32 * 18
	for _, b := range []*admBands{&s.ref, &s.dis, &s.r, &s.ad, &s.csfA, &s.csfF} {
		b.ensure(n)
	}
	s.dwt(ref[0].Y, nil, &s.ref, 64, 36, 0, 8)
	s.dwt(dis[0].Y, nil, &s.dis, 64, 36, 0, 8)
	s.decouple(32, 18, 0)
	var wantA, wantF, gotA, gotF admBands
	for _, b := range []*admBands{&wantA, &wantF, &gotA, &gotF} {
		b.ensure(n)
	}
	s.csf(&s.ad, &wantA, &wantF, 32, 18, 0)
	s.csf0Rows(&s.ad, &gotA, &gotF, 32, 18, admCsf0)
	require.Equal(t, wantA, gotA)
	require.Equal(t, wantF, gotF)
	require.NotEqual(t, make([]int32, n), wantA.h)
}

// FuzzADMCsf0Kernel compares both scale-0 CSF kernels on fuzzed samples.
func FuzzADMCsf0Kernel(f *testing.F) {
	f.Add([]byte{0, 0, 0, 128, 255, 255, 255, 127, 1, 2, 3, 4})
	f.Add([]byte{0xff, 0x7f, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := make([]int32, len(data)/4)
		for j := range src {
			src[j] = int32(uint32(data[4*j]) | uint32(data[4*j+1])<<8 | uint32(data[4*j+2])<<16 | uint32(data[4*j+3])<<24)
		}
		csfBoth(t, src)
	})
}

func TestADMCube0RowMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, n := range []int{1, 7, 8, 9, 31, 100, 960} {
		for trial := 0; trial < 4; trial++ {
			row := make([]int32, n)
			for j := range row {
				switch trial {
				case 0:
					row[j] = int32(int16(rng.Uint32()))
				case 1:
					row[j] = []int32{-32768, 32767, 65535, -65536}[rng.IntN(4)]
				default:
					row[j] = int32(rng.Uint32())
				}
			}
			require.Equal(t, admCube0RowGo(row), admCube0Row(row), "n=%d trial=%d", n, trial)
		}
	}
	require.Equal(t, uint64(3*32768*32768*32768), admCube0Row([]int32{-32768, 32768, 32768}))
}

// FuzzADMCube0Row compares both denominator row kernels on fuzzed samples.
func FuzzADMCube0Row(f *testing.F) {
	f.Add([]byte{0, 0x80, 0xff, 0xff, 0xff, 0x7f, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		row := make([]int32, len(data)/4)
		for j := range row {
			row[j] = int32(uint32(data[4*j]) | uint32(data[4*j+1])<<8 | uint32(data[4*j+2])<<16 | uint32(data[4*j+3])<<24)
		}
		require.Equal(t, admCube0RowGo(row), admCube0Row(row))
	})
}

package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The DWT kernels of scales 1-3: fast against Go on any int32 rows, and the row pipeline
// against dwt.

func dwtNBoth(t *testing.T, rows *[4][]int32, w, scale int) {
	t.Helper()
	gl, gh, wl, wh := make([]int32, w), make([]int32, w), make([]int32, w), make([]int32, w)
	admDwtNFastKernels.vert(rows, gl, gh, scale, w)
	admDwtNGoKernels.vert(rows, wl, wh, scale, w)
	require.Equal(t, wl, gl, "lo scale=%d w=%d", scale, w)
	require.Equal(t, wh, gh, "hi scale=%d w=%d", scale, w)
	n := w + 2*admRowPad
	pl, ph := make([]int32, n), make([]int32, n)
	copy(pl[admRowPad:], wl)
	copy(ph[admRowPad:], wh)
	admMirrorRow(pl, w)
	admMirrorRow(ph, w)
	hw := (w + 1) / 2
	var got, want [4][]int32
	for k := range got {
		got[k], want[k] = make([]int32, hw), make([]int32, hw)
	}
	admDwtNFastKernels.horz(pl, ph, got[0], got[1], got[2], got[3], scale, hw)
	admDwtNGoKernels.horz(pl, ph, want[0], want[1], want[2], want[3], scale, hw)
	require.Equal(t, want, got, "bands scale=%d w=%d", scale, w)
}

func TestADMDwtNKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for scale := 1; scale < 4; scale++ {
		for _, w := range []int{1, 3, 7, 8, 9, 16, 17, 30, 61, 120, 241} {
			for kind := 0; kind < 5; kind++ {
				var rows [4][]int32
				for r := range rows {
					rows[r] = make([]int32, w)
					for j := range rows[r] {
						switch kind {
						case 0: // the int16 approximation band scale 1 reads
							rows[r][j] = int32(int16(rng.Uint32()))
						case 1: // any int32
							rows[r][j] = int32(rng.Uint32())
						case 2:
							rows[r][j] = []int32{-1 << 31, 1<<31 - 1}[(r+j)&1]
						case 3:
							rows[r][j] = int32(rng.IntN(1<<20) - 1<<19)
						default:
							rows[r][j] = int32(rng.IntN(3) - 1)
						}
					}
				}
				dwtNBoth(t, &rows, w, scale)
			}
		}
	}
	// the row pipeline against dwt, on the approximation bands of a real decomposition
	ref, _ := synthFrames(1, 200, 120, 8)
	var s admState
	w, h := 200, 120
	s.indices(w, h)
	s.ref.ensure(100 * 60)
	s.dwt(ref[0].Y, nil, &s.ref, w, h, 0, 8)
	src := append([]int32(nil), s.ref.a...)
	w, h = 100, 60
	for scale := 1; scale < 4; scale++ {
		s.indices(w, h)
		n := ((w + 1) / 2) * ((h + 1) / 2)
		var want, viaGo, fast admBands
		want.ensure(n)
		viaGo.ensure(n)
		fast.ensure(n)
		s.dwt(nil, src, &want, w, h, scale, 8)
		s.dwtN(src, &viaGo, w, h, scale, admDwtNGoKernels)
		s.dwtN(src, &fast, w, h, scale, admDwtNFastKernels)
		require.Equal(t, want, viaGo, "Go kernels scale %d", scale)
		require.Equal(t, want, fast, "fast kernels scale %d", scale)
		src = append([]int32(nil), want.a...)
		w, h = (w+1)/2, (h+1)/2
	}
}

// FuzzADMDwtNKernels compares both kernel sets on fuzzed int32 rows.
func FuzzADMDwtNKernels(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4}, uint8(1))
	f.Add([]byte{9, 8, 7, 6, 5, 4, 3, 2, 1}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, scale8 uint8) {
		w := len(data) / 4
		if w == 0 {
			return
		}
		scale := 1 + int(scale8)%3
		var rows [4][]int32
		for r := range rows {
			rows[r] = make([]int32, w)
			for j := range rows[r] {
				k := (4*(j+r*7) + r) % (len(data) - 3)
				rows[r][j] = int32(uint32(data[k]) | uint32(data[k+1])<<8 | uint32(data[k+2])<<16 | uint32(data[k+3])<<24)
			}
		}
		dwtNBoth(t, &rows, w, scale)
	})
}

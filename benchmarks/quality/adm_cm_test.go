package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// cmParams returns cm's scale-0 constants for a band width w.
func cmParams(w int) *admCm0Params {
	cub := [3]int64{6, 6, 7}
	if w < 512 {
		cub = [3]int64{2, 2, 3}
	}
	var p admCm0Params
	for t := range p {
		sub, sq := [3]int64{10, 10, 12}[t], [3]int64{29, 29, 30}[t]
		p[t] = [8]int64{[3]int64{36453, 36453, 49417}[t], sub, 1 << (sq - 1), sq, 1 << (cub[t] - 1), cub[t]}
	}
	return &p
}

// cmRow makes one row of cm inputs: neighbour sums, masker and source bands, either in
// the range real pictures give (kind 0-1) or not (kind 2-4).
func cmRow(rng *rand.Rand, n, kind int) (nb []int32, masker, src [3][]int32) {
	nb = make([]int32, n)
	for b := 0; b < 3; b++ {
		masker[b], src[b] = make([]int32, n), make([]int32, n)
	}
	for j := 0; j < n; j++ {
		switch kind {
		case 0: // realistic: flt values |d|/30 >= 0, int16 bands
			nb[j] = int32(rng.IntN(9 * 3 * 1200))
			for b := 0; b < 3; b++ {
				masker[b][j] = int32(rng.IntN(4001) - 2000)
				src[b][j] = int32(rng.IntN(8001) - 4000)
			}
		case 1: // realistic extremes: large bands, small thresholds
			nb[j] = int32(rng.IntN(4))
			for b := 0; b < 3; b++ {
				masker[b][j] = int32(int16(rng.Uint32())) / 16
				src[b][j] = []int32{-32768, 32767, 0, -1}[rng.IntN(4)]
			}
		case 2: // thresholds just above the assembly's range, int16 bands
			nb[j] = int32(1<<19 + rng.IntN(1<<21))
			for b := 0; b < 3; b++ {
				masker[b][j] = int32(int16(rng.Uint32()))
				src[b][j] = int32(int16(rng.Uint32()))
			}
		case 3: // int16 everything, negative neighbour sums
			nb[j] = int32(rng.IntN(1<<20) - 1<<19)
			for b := 0; b < 3; b++ {
				masker[b][j] = int32(int16(rng.Uint32()))
				src[b][j] = int32(int16(rng.Uint32()))
			}
		default: // any int32
			nb[j] = int32(rng.Uint32())
			for b := 0; b < 3; b++ {
				masker[b][j] = int32(rng.Uint32())
				src[b][j] = int32(rng.Uint32())
			}
		}
	}
	return nb, masker, src
}

func TestADMCm0RowMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{1, 7, 8, 9, 31, 64, 333, 960} {
		for kind := 0; kind < 5; kind++ {
			for trial := 0; trial < 3; trial++ {
				nb, masker, src := cmRow(rng, n, kind)
				p := cmParams(n)
				nbCopy := append([]int32(nil), nb...)
				want := admCm0RowGo(nb, &masker, &src, p, 0, n)
				require.Equal(t, want, admCm0Row(nb, &masker, &src, p), "n=%d kind=%d", n, kind)
				require.Equal(t, nbCopy, nb, "nb must not change")
			}
		}
	}
	// whole ADM scores, fast against pure Go, include cm at every scale
	ref, dis := synthFrames(1, 200, 120, 8)
	pure := admState{pureGo: true}
	var fast admState
	require.Equal(t, pure.scores(ref[0].Y, dis[0].Y, 200, 120, 8), fast.scores(ref[0].Y, dis[0].Y, 200, 120, 8))
}

// FuzzADMCm0Row compares the row kernel with the Go loop on fuzzed rows, in and out of
// the assembly's range.
func FuzzADMCm0Row(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, uint16(20))
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0x80}, uint16(600))
	f.Fuzz(func(t *testing.T, data []byte, width uint16) {
		n := len(data) / 2
		if n == 0 {
			return
		}
		v := func(k int) int32 {
			return int32(int16(uint16(data[(2*k)%len(data)]) | uint16(data[(2*k+1)%len(data)])<<8))
		}
		nb := make([]int32, n)
		var masker, src [3][]int32
		for b := 0; b < 3; b++ {
			masker[b], src[b] = make([]int32, n), make([]int32, n)
		}
		for j := 0; j < n; j++ {
			nb[j] = v(j) * 4
			for b := 0; b < 3; b++ {
				masker[b][j], src[b][j] = v(j+b+1), v(3*j+b)
			}
		}
		p := cmParams(int(width))
		require.Equal(t, admCm0RowGo(nb, &masker, &src, p, 0, n), admCm0Row(nb, &masker, &src, p))
	})
}

func TestADMCmNeighbourRowFastMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, w := range []int{2, 3, 8, 9, 10, 17, 33, 64, 101} {
		h := 5
		var flt admBands
		flt.ensure(w * h)
		for _, b := range [][]int32{flt.h, flt.v, flt.d} {
			for k := range b {
				if rng.IntN(2) == 0 {
					b[k] = int32(int16(rng.Uint32()))
				} else {
					b[k] = int32(rng.Uint32()) // wrapping sums must agree too
				}
			}
		}
		for _, lr := range [][2]int{{0, w}, {1, w - 1}, {0, 1}, {w - 1, w}, {w / 3, w - w/4}} {
			left, right := lr[0], lr[1]
			if left >= right {
				continue
			}
			for i := 0; i < h; i++ {
				iu, id := max(i-1, 0)*w, min(i+1, h-1)*w
				var a, b admState
				want := append([]int32(nil), a.cmNeighbourRow(&flt, w, iu, i*w, id, left, right)[left:right]...)
				got := b.cmNeighbourRowFast(&flt, w, iu, i*w, id, left, right)[left:right]
				require.Equal(t, want, got, "w=%d left=%d right=%d row=%d", w, left, right, i)
			}
		}
	}
}

// FuzzADMCmNeighbourRow compares the fast neighbour sums with cmNeighbourRow.
func FuzzADMCmNeighbourRow(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint8(9), uint8(0), uint8(9))
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0x80}, uint8(20), uint8(3), uint8(17))
	f.Fuzz(func(t *testing.T, data []byte, w8, l8, r8 uint8) {
		if len(data) < 4 {
			return
		}
		w, h := 2+int(w8)%70, 3
		left, right := int(l8)%w, int(r8)%(w+1)
		if left >= right {
			return
		}
		var flt admBands
		flt.ensure(w * h)
		for bi, b := range [][]int32{flt.h, flt.v, flt.d} {
			for k := range b {
				o := (4*(k+bi*w*h) + bi) % (len(data) - 3)
				b[k] = int32(uint32(data[o]) | uint32(data[o+1])<<8 | uint32(data[o+2])<<16 | uint32(data[o+3])<<24)
			}
		}
		var a, b admState
		want := append([]int32(nil), a.cmNeighbourRow(&flt, w, 0, w, 2*w, left, right)[left:right]...)
		require.Equal(t, want, b.cmNeighbourRowFast(&flt, w, 0, w, 2*w, left, right)[left:right])
	})
}

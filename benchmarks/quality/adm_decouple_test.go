package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// newDecoupleRows returns two rows (fast, reference) sharing the inputs o and t.
func newDecoupleRows(o, t [3][]int32) (got, want *admDecoupleRow) {
	got, want = &admDecoupleRow{o: o, t: t}, &admDecoupleRow{o: o, t: t}
	n := len(o[0])
	for b := 0; b < 3; b++ {
		got.r[b], got.ad[b] = make([]int32, n), make([]int32, n)
		want.r[b], want.ad[b] = make([]int32, n), make([]int32, n)
	}
	return got, want
}

// decoupleInputs makes n samples of the three bands in one of several patterns: random,
// extremes, distorted bands parallel to the reference (angle test true, gain limit in
// play, both signs), zeros.
func decoupleInputs(rng *rand.Rand, n, kind int) (o, t [3][]int32) {
	i16 := func() int32 { return int32(int16(rng.Uint32())) }
	ext := []int32{-32768, 32767, 0, 1, -1, 300, -300}
	for b := 0; b < 3; b++ {
		o[b], t[b] = make([]int32, n), make([]int32, n)
		for j := 0; j < n; j++ {
			var ov, tv int32
			switch kind {
			case 0:
				ov, tv = i16(), i16()
			case 1:
				ov, tv = ext[rng.IntN(len(ext))], ext[rng.IntN(len(ext))]
			case 2: // parallel, scaled: gains above and below 1, up to the limit
				ov = int32(rng.IntN(2001) - 1000)
				tv = min(max(ov*int32(rng.IntN(300))/int32(1+rng.IntN(3)), -32768), 32767)
			case 3: // small values, many zeros
				ov, tv = int32(rng.IntN(5)-2), int32(rng.IntN(5)-2)
			default:
				ov, tv = i16()/64, i16()/64
			}
			o[b][j], t[b][j] = ov, tv
		}
	}
	if kind == 2 { // make h and v share a direction so the angle test passes
		for j := 0; j < n; j++ {
			o[1][j], t[1][j] = o[0][j]/2, t[0][j]/2
		}
	}
	return o, t
}

func TestADMDecouple0KernelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	flags := 0
	for _, n := range []int{1, 7, 8, 9, 31, 64, 333} {
		for kind := 0; kind < 5; kind++ {
			o, tv := decoupleInputs(rng, n, kind)
			got, want := newDecoupleRows(o, tv)
			admDecouple0(got)
			admDecouple0Go(want, 0, n)
			require.Equal(t, want.r, got.r, "restored n=%d kind=%d", n, kind)
			require.Equal(t, want.ad, got.ad, "additive n=%d kind=%d", n, kind)
			for j := 0; j < n; j++ {
				if angleFlag(int64(o[0][j]), int64(o[1][j]), int64(tv[0][j]), int64(tv[1][j])) {
					flags++
				}
			}
		}
	}
	require.Greater(t, flags, 100, "the inputs must exercise the angle test's true branch")

	// the row pipeline against decouple at scale 0
	ref, dis := synthFrames(1, 96, 64, 8)
	var s admState
	s.indices(96, 64)
	n := 48 * 32
	for _, b := range []*admBands{&s.ref, &s.dis, &s.r, &s.ad} {
		b.ensure(n)
	}
	s.dwt(ref[0].Y, nil, &s.ref, 96, 64, 0, 8)
	s.dwt(dis[0].Y, nil, &s.dis, 96, 64, 0, 8)
	s.decouple(48, 32, 0)
	wantR := append([]int32(nil), s.r.h...)
	wantAD := append([]int32(nil), s.ad.d...)
	clear(s.r.h)
	clear(s.ad.d)
	s.decouple0Rows(48, 32, admDecouple0)
	require.Equal(t, wantR, s.r.h)
	require.Equal(t, wantAD, s.ad.d)
}

// FuzzADMDecouple0Kernel compares both kernels on fuzzed int16 band samples.
func FuzzADMDecouple0Kernel(f *testing.F) {
	f.Add([]byte{0, 0x80, 0xff, 0x7f, 1, 0, 0xff, 0xff, 0x2c, 0x01, 0xd4, 0xfe})
	f.Add([]byte{10, 0, 20, 0, 30, 0, 40, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		n := len(data) / 2
		var o, tv [3][]int32
		for b := 0; b < 3; b++ {
			o[b], tv[b] = make([]int32, n), make([]int32, n)
			for j := 0; j < n; j++ {
				k := (j + 7*b) % n
				o[b][j] = int32(int16(uint16(data[2*k]) | uint16(data[2*k+1])<<8))
				m := (j*3 + b + 1) % n
				tv[b][j] = int32(int16(uint16(data[2*m+1]) | uint16(data[2*m])<<8))
			}
		}
		got, want := newDecoupleRows(o, tv)
		admDecouple0(got)
		admDecouple0Go(want, 0, n)
		require.Equal(t, want.r, got.r)
		require.Equal(t, want.ad, got.ad)
	})
}

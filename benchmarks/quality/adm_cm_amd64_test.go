//go:build amd64 && !purego

package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestADMCm0AVX2Range checks that the assembly takes its fast path on rows in the range of
// real pictures (so the comparisons above test it) and refuses rows outside it.
func TestADMCm0AVX2Range(t *testing.T) {
	if !admHaveAsm {
		t.Skip("no AVX2 on this CPU: the Go kernel is the only one")
	}
	rng := rand.New(rand.NewPCG(23, 24))
	for kind := 0; kind < 5; kind++ {
		nb, masker, src := cmRow(rng, 64, kind)
		rows := [7]*int32{&nb[0], &masker[0][0], &masker[1][0], &masker[2][0], &src[0][0], &src[1][0], &src[2][0]}
		var out [3]int64
		ok := admCm0AVX2(&rows, 64, cmParams(64), &out)
		if kind < 2 {
			require.True(t, ok, "kind %d is in range", kind)
			require.Equal(t, admCm0RowGo(nb, &masker, &src, cmParams(64), 0, 64), out)
		} else {
			require.False(t, ok, "kind %d is out of range", kind)
		}
	}
}

// TestADMDecouple0AVX2OutOfRange feeds band values outside int16 (which decouple16 would
// reject with an index panic) to the assembly: its table gather must stay inside
// admDivLookup, and it must still agree with decouple16 on the in-range samples.
func TestADMDecouple0AVX2OutOfRange(t *testing.T) {
	if !admHaveAsm {
		t.Skip("no AVX2 on this CPU: the Go kernel is the only one")
	}
	var bands [12][]int32
	for k := range bands {
		bands[k] = make([]int32, 8)
	}
	for j := 0; j < 8; j++ {
		for b := 0; b < 3; b++ {
			bands[b][j] = []int32{1 << 30, -1 << 31, 1<<31 - 1, 70000, -70000, 5, -7, 300}[j]
			bands[3+b][j] = int32(j*1000 - 3000)
		}
	}
	var p [12]*int32
	for k := range p {
		p[k] = &bands[k][0]
	}
	require.NotPanics(t, func() { admDecouple0AVX2(&p, 8, &admDivLookup[0], float64(cos1degSq)) })
	row := &admDecoupleRow{}
	for b := 0; b < 3; b++ {
		row.o[b], row.t[b] = bands[b][5:], bands[3+b][5:]
		row.r[b], row.ad[b] = make([]int32, 3), make([]int32, 3)
	}
	admDecouple0Go(row, 0, 3)
	for b := 0; b < 3; b++ {
		require.Equal(t, row.r[b], bands[6+b][5:], "restored band %d", b)
		require.Equal(t, row.ad[b], bands[9+b][5:], "additive band %d", b)
	}
}

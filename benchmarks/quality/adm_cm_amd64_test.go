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

package scheduler

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseSelector: any input either fails or parses into a selector whose String form
// parses back to the same selector.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"zone=a", "zone in (a,b),gpu,!spot", "tier!=low,pool notin (x, y)", "a in ()", "=", "(,)", "k=v=w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sel, err := ParseSelector(in)
		if err != nil {
			return
		}
		again, err := ParseSelector(sel.String())
		require.NoError(t, err, "re-parsing %q (from %q)", sel.String(), in)
		require.Equal(t, sel.String(), again.String())
		_ = sel.Matches(map[string]string{"zone": "a"})
	})
}

// FuzzParseQuantities: the quantity parsers never panic, never return negatives, and CPU
// values print back to the same millicores.
func FuzzParseQuantities(f *testing.F) {
	for _, s := range []string{"100m", "0.5", "2", "4Gi", "1.5Gi", "9Ei", "1e3", ".", "-1", "cpu=1,memory=2Gi"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if v, err := ParseCPU(in); err == nil {
			require.GreaterOrEqual(t, v, int64(0))
			back, err := ParseCPU(CPU.Format(v))
			require.NoError(t, err)
			require.Equal(t, v, back)
		}
		if v, err := ParseBytes(in); err == nil {
			require.GreaterOrEqual(t, v, int64(0))
		}
		if r, err := ParseResources(in); err == nil {
			for _, v := range r {
				require.GreaterOrEqual(t, v, int64(0))
			}
		}
	})
}

package quality

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Scoring a frame with VIF on its own goroutine must give exactly the sequential result.
func TestScoreSplitMatchesSequential(t *testing.T) {
	for _, depth := range []int{8, 10} {
		ref, dis := synthFrames(2, 96, 64, depth)
		o := Options{PSNR: true, SSIM: true}
		var seq, par worker
		a := seq.score(o, ref[0], ref[1], dis[1], false)
		b := par.score(o, ref[0], ref[1], dis[1], true)
		require.Equal(t, a, b, "depth %d", depth)
		require.NotZero(t, a.vif[0])
		require.NotZero(t, a.sad)
	}
}

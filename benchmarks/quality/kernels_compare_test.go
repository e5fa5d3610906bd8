package quality

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCompareKernelsMatchPureGo scores the shared libvmaf clips with the assembly kernels
// (where the CPU has them) and with the pure-Go code: every frame's every metric must be
// identical, not merely close.
func TestCompareKernelsMatchPureGo(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			score := func(pure bool) *Result {
				res, err := Compare(context.Background(), openYUV(t, fx.ref, fx.width, fx.height, fx.depth),
					openYUV(t, fx.dis, fx.width, fx.height, fx.depth), Options{PSNR: true, SSIM: true, pureGo: pure})
				require.NoError(t, err)
				return res
			}
			fast, pure := score(false), score(true)
			require.Equal(t, pure.Names, fast.Names)
			require.Equal(t, pure.Frames, fast.Frames)
			require.Equal(t, pure.Pooled, fast.Pooled)
		})
	}
	// and a synthetic clip whose width is no multiple of the kernels' blocks
	ref, dis := synthFrames(3, 178, 100, 8)
	var res [2]*Result
	for i, pure := range []bool{false, true} {
		r, err := Compare(context.Background(), &sliceReader{frames: ref}, &sliceReader{frames: dis}, Options{pureGo: pure})
		require.NoError(t, err)
		res[i] = r
	}
	require.Equal(t, res[1].Frames, res[0].Frames)
}

package harness

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/benchmarks/netem"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestParseLossBurst(t *testing.T) {
	for in, want := range map[string]LossBurst{
		"1s,10%":       {At: DefaultBurstAt, Length: time.Second, Loss: 0.1},
		"500ms,0.2,5s": {At: 5 * time.Second, Length: 500 * time.Millisecond, Loss: 0.2},
	} {
		got, err := ParseLossBurst(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		back, err := ParseLossBurst(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, back)
	}
	for _, bad := range []string{"", "1s", "1s,0%", "1s,150%", "soon,10%", "1s,10%,-1s", "1s,10%,3s,x", "0s,10%"} {
		_, err := ParseLossBurst(bad)
		require.ErrorIs(t, err, ErrLossBurst, bad)
	}
}

// gradient is a test picture whose luma changes across it, shifted by off.
func gradient(w, h, off int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Y[y*img.YStride+x] = uint8((x + 2*y + off) % 200)
		}
	}
	return img
}

func TestThumbErr(t *testing.T) {
	a := gradient(320, 240, 0)
	ta := makeThumb(a, 320, 240)
	require.Equal(t, 40, ta.w)
	require.Equal(t, 30, ta.h)
	assert.Zero(t, thumbErr(ta, makeThumb(a, 320, 240)))

	// Coding noise: every pixel off by ±2 barely moves the block means.
	noisy := gradient(320, 240, 0)
	for i := range noisy.Y {
		noisy.Y[i] += uint8(2 * (i % 2))
	}
	assert.Less(t, thumbErr(ta, makeThumb(noisy, 320, 240)), 3.0)

	// A damaged region (a block of the picture smeared flat) stands out although it is
	// a small part of the picture.
	broken := gradient(320, 240, 0)
	for y := 80; y < 112; y++ {
		for x := 100; x < 132; x++ {
			broken.Y[y*broken.YStride+x] = 250
		}
	}
	assert.Greater(t, thumbErr(ta, makeThumb(broken, 320, 240)), 24.0)

	// A picture encoded at half the size maps onto the capture's grid.
	half := image.NewYCbCr(image.Rect(0, 0, 160, 120), image.YCbCrSubsampleRatio420)
	for y := 0; y < 120; y++ {
		for x := 0; x < 160; x++ {
			half.Y[y*half.YStride+x] = a.Y[2*y*a.YStride+2*x]
		}
	}
	th := makeThumb(half, 320, 240)
	require.Equal(t, ta.w, th.w)
	assert.Less(t, thumbErr(ta, th), 24.0)
}

// judgeRecovery: frames whose picture is far from the capture's count as broken, and the
// picture is whole again with the first good frame after the last broken one.
func TestJudgeRecovery(t *testing.T) {
	t0 := time.Unix(100, 0)
	from, to := t0.Add(2*time.Second), t0.Add(3*time.Second)
	good := makeThumb(gradient(64, 64, 0), 64, 64)
	bad := makeThumb(gradient(64, 64, 90), 64, 64)
	other := makeThumb(gradient(64, 64, 40), 64, 64)
	refs := map[uint32][]thumb{}
	var frames []burstFrame
	add := func(at time.Duration, th thumb, stamped bool) {
		n := uint32(len(frames) + 1)
		refs[n] = []thumb{other, good} // the closest capture of a stamp counts
		frames = append(frames, burstFrame{decoded: t0.Add(at), stamped: stamped, frame: n, th: th})
	}
	for i := range 10 { // the baseline before the burst
		add(time.Second+time.Duration(i)*50*time.Millisecond, good, true)
	}
	add(2200*time.Millisecond, bad, true)   // broken inside the burst
	add(2900*time.Millisecond, good, true)  // whole before the end
	add(3100*time.Millisecond, good, false) // unreadable stamp after it: broken
	add(3300*time.Millisecond, bad, true)   // broken
	add(3450*time.Millisecond, good, true)  // whole again 450 ms after the burst
	add(3600*time.Millisecond, good, true)
	// A refinement of a picture captured before the span: not judged.
	frames = append(frames, burstFrame{decoded: t0.Add(3700 * time.Millisecond), stamped: true, frame: 0, th: bad})
	rc := judgeRecovery(frames, refs, from, to)
	assert.True(t, rc.Recovered)
	assert.InDelta(t, 450, rc.MS, 0.01)
	assert.Equal(t, 6, rc.Frames)
	assert.Equal(t, 3, rc.Broken)
	assert.Zero(t, rc.BaselineErr)

	// Whole by the burst's end: 0.
	rc = judgeRecovery(frames[:12], refs, from, to)
	assert.True(t, rc.Recovered)
	assert.Zero(t, rc.MS)

	// Never whole again inside the window: not recovered.
	rc = judgeRecovery(frames[:14], refs, from, to)
	assert.False(t, rc.Recovered)
	assert.Equal(t, ms(recoveryWindow), rc.MS)
}

// A loss burst on the emulated network is scheduled inside the measurement and judged:
// the relay drops packets in it, frames around it are compared with the captures, and
// the picture is whole again before the window ends.
func TestLossBurstMeasured(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	res, err := Run(context.Background(), Config{Scenario: "web", Width: 640, Height: 480, Duration: 4600 * time.Millisecond,
		Warmup: time.Second, SkipQuality: true, Seed: 2,
		Net:       netem.Spec{Delay: 20 * time.Millisecond},
		LossBurst: LossBurst{At: time.Second, Length: 500 * time.Millisecond, Loss: 0.3}})
	require.NoError(t, err)
	lb := res.LossBurst
	require.NotNil(t, lb)
	t.Logf("loss burst: %+v", *lb)
	assert.Equal(t, "500ms,30%,1s", lb.Burst)
	assert.Positive(t, lb.RelayLost, "the burst dropped packets")
	assert.Positive(t, lb.Frames, "frames decoded around the burst were judged")
	assert.True(t, lb.Recovered, "whole again within %v", recoveryWindow)
	assert.Less(t, lb.MS, ms(recoveryWindow))
	require.NotNil(t, res.Relay)
	assert.Positive(t, res.Relay.DownPackets)

	_, err = Run(context.Background(), Config{Scenario: "web", Duration: 2 * time.Second,
		LossBurst: LossBurst{At: time.Second, Length: time.Second, Loss: 0.1}})
	require.ErrorContains(t, err, "needs a measurement of at least")
}

// A half-size picture enlarged by nearest neighbour has the same thumbnail as the
// full-size one it was taken from (the blocks are averages of the same values).
func TestUpscaleNearest(t *testing.T) {
	full := gradient(64, 48, 0)
	for y := 0; y < 48; y++ { // constant 2x2 blocks so that halving loses nothing
		for x := 0; x < 64; x++ {
			full.Y[y*full.YStride+x] = full.Y[(y&^1)*full.YStride+(x&^1)]
		}
	}
	half := image.NewYCbCr(image.Rect(0, 0, 32, 24), image.YCbCrSubsampleRatio420)
	for y := 0; y < 24; y++ {
		for x := 0; x < 32; x++ {
			half.Y[y*half.YStride+x] = full.Y[2*y*full.YStride+2*x]
		}
	}
	up := upscaleNearest(half, 64, 48)
	require.Equal(t, full.Rect, up.Rect)
	assert.Equal(t, full.Y[:64*48], up.Y[:64*48])
}

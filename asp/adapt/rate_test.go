package adapt

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRateControllerDegradesBitrateThenFPSThenResolution(t *testing.T) {
	rc := NewRateController(RateConfig{Width: 1920, Height: 1080, MaxFPS: 60, MinKbps: 100, MaxKbps: 20_000})
	now := time.Unix(0, 0)
	tgt := rc.Update(now, 8_000_000)
	assert.Equal(t, Target{BitrateKbps: 8000, FPS: 60, Width: 1920, Height: 1080, MaxFrameBytes: MaxFrameBytes(8000, 60, 4)}, tgt)

	tgt = rc.Update(now, 2_000_000)
	assert.Equal(t, 2000, tgt.BitrateKbps)
	assert.Equal(t, 60, tgt.FPS, "first only the bitrate falls")

	tgt = rc.Update(now, 500_000)
	assert.Equal(t, 20, tgt.FPS, "then the frame rate")
	assert.Equal(t, 1920, tgt.Width)

	tgt = rc.Update(now, 160_000)
	assert.Equal(t, 1440, tgt.Width, "then the resolution")
	assert.Equal(t, 810, tgt.Height)

	tgt = rc.Update(now, 50_000)
	assert.Equal(t, 100, tgt.BitrateKbps, "never below the minimum")
	assert.Equal(t, 960, tgt.Width)
}

func TestRateControllerUpgradesSlowly(t *testing.T) {
	rc := NewRateController(RateConfig{Width: 1920, Height: 1080, MaxFPS: 60, MinKbps: 100, MaxKbps: 20_000})
	now := time.Unix(0, 0)
	assert.Equal(t, 10, rc.Update(now, 100_000).FPS)
	for i := range 20 {
		now = now.Add(100 * time.Millisecond)
		assert.Equal(t, 10, rc.Update(now, 5_000_000).FPS, "step %d: not yet", i)
	}
	now = now.Add(100 * time.Millisecond)
	assert.Equal(t, 15, rc.Update(now, 5_000_000).FPS, "one rung after 2 s")
	// A dip resets the wait.
	now = now.Add(time.Second)
	rc.Update(now, 5_000_000)
	rc.Update(now, 160_000)
	now = now.Add(1500 * time.Millisecond)
	assert.Equal(t, 1440, rc.Update(now, 5_000_000).Width)
}

func TestRateControllerSmallScreenNeedsLess(t *testing.T) {
	rc := NewRateController(RateConfig{Width: 1280, Height: 720, MaxFPS: 30, MinKbps: 100, MaxKbps: 20_000})
	tgt := rc.Update(time.Unix(0, 0), 700_000)
	assert.Equal(t, 30, tgt.FPS, "720p at 700 kbit/s keeps the top rung, capped at MaxFPS")
	assert.Equal(t, 1280, tgt.Width)
}

func TestMaxFrameBytes(t *testing.T) {
	assert.Equal(t, 4167, MaxFrameBytes(1000, 30, 1))
	assert.Equal(t, 125_000, MaxFrameBytes(1000, 0, 1))
}

func TestCapEstimate(t *testing.T) {
	assert.EqualValues(t, 1_500_000, CapEstimate(50_000_000, 1_000_000, 300_000, 1.5), "application-limited: held near what was sent")
	assert.EqualValues(t, 300_000, CapEstimate(50_000_000, 0, 300_000, 1.5), "idle: the floor")
	assert.EqualValues(t, 2_000_000, CapEstimate(2_000_000, 1_900_000, 300_000, 1.5), "link-limited: the estimate")
}

func TestKeyframeLimiter(t *testing.T) {
	k := KeyframeLimiter{MinInterval: 300 * time.Millisecond}
	t0 := time.Unix(0, 0)
	assert.False(t, k.Due(t0), "nothing requested")
	k.Request()
	assert.True(t, k.Due(t0))
	assert.False(t, k.Due(t0), "served once")
	// A burst of PLIs inside the interval yields a single keyframe at its end.
	sent := 0
	for i := range 31 { // 0 to 600 ms
		now := t0.Add(time.Duration(i*20) * time.Millisecond)
		k.Request()
		if k.Due(now) {
			sent++
		}
	}
	assert.Equal(t, 2, sent, "requests for 600 ms after a keyframe: one at 300 ms and one at 600 ms")
	k.Sent(t0.Add(2 * time.Second))
	assert.False(t, k.Due(t0.Add(2*time.Second)), "a keyframe sent for another reason satisfies requests")
}

// The pacer lets frames within the allowance go at once and holds the next frame after
// a big one until the link has carried it.
func TestFramePacer(t *testing.T) {
	t0 := time.Unix(100, 0)
	var p FramePacer
	assert.Equal(t, t0, p.NextAt(t0, 0), "nothing sent: go")
	p.Sent(t0, 10_000, 1_000_000) // 125 kB/s: 80 ms of link
	assert.Equal(t, t0.Add(80*time.Millisecond), p.NextAt(t0, 0))
	assert.Equal(t, t0.Add(40*time.Millisecond), p.NextAt(t0, 5000), "an allowance of 5 kB")
	assert.Equal(t, t0.Add(80*time.Millisecond), p.NextAt(t0.Add(50*time.Millisecond), 0), "draining as time passes")
	assert.Equal(t, t0.Add(200*time.Millisecond), p.NextAt(t0.Add(200*time.Millisecond), 0), "drained: go now")
	// Frames sent faster than the link pile up in the bucket.
	for i := range 3 {
		p.Sent(t0.Add(time.Second+time.Duration(i)*10*time.Millisecond), 5000, 1_000_000)
	}
	at := p.NextAt(t0.Add(time.Second+20*time.Millisecond), 0)
	assert.Equal(t, t0.Add(time.Second+120*time.Millisecond), at, "15 kB from 1 s on: 120 ms")
}

// Frames far over the link's budget step the size down after a second; frames that
// predict the next size up fits step it back up after five.
func TestSizeGovernor(t *testing.T) {
	t0 := time.Unix(100, 0)
	var g SizeGovernor
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	assert.Equal(t, 1.0, g.Scale())
	for ms := 0; ms < 900; ms += 100 {
		assert.False(t, g.Frame(at(ms), 50_000, 10_000), "5x over, not yet a second")
	}
	assert.True(t, g.Frame(at(1000), 50_000, 10_000))
	assert.Equal(t, 0.75, g.Scale())
	// At 0.75 the frames are still 3.5x over: down to 0.5.
	changed := false
	for ms := 1100; ms < 2500 && !changed; ms += 100 {
		changed = g.Frame(at(ms), 35_000, 10_000)
	}
	assert.True(t, changed)
	assert.Equal(t, 0.5, g.Scale())
	// 2x over at 0.5 predicts 4.5x at 0.75: stay.
	for ms := 3000; ms < 10_000; ms += 100 {
		assert.False(t, g.Frame(at(ms), 20_000, 10_000))
	}
	// Small frames (0.3x): 0.75 would be 0.68x, so step up after 5 s.
	changed = false
	var ms int
	for ms = 10_000; ms < 16_000 && !changed; ms += 100 {
		changed = g.Frame(at(ms), 3_000, 10_000)
	}
	assert.True(t, changed)
	assert.GreaterOrEqual(t, ms, 15_000)
	assert.Equal(t, 0.75, g.Scale())
	assert.False(t, g.Frame(at(20_000), 1, 0), "no budget, no decision")
}

func TestRampGrowsMultiplicativelyWhileClear(t *testing.T) {
	r := Ramp{Max: 20_000_000}
	now := time.Unix(0, 0)
	assert.EqualValues(t, 1_500_000, r.Update(now, 1_500_000, RampClear), "starts at the estimate")
	for range 10 {
		now = now.Add(100 * time.Millisecond)
		r.Update(now, 1_550_000, RampClear)
	}
	assert.InDelta(t, 3_000_000, r.Update(now, 1_550_000, RampClear), 50_000, "doubles in a second, GCC's 8% would be 1.6 Mbit/s")
	for range 50 {
		now = now.Add(100 * time.Millisecond)
		r.Update(now, 1_600_000, RampClear)
	}
	assert.EqualValues(t, 20_000_000, r.Update(now, 1_600_000, RampClear), "bounded by Max")
	assert.EqualValues(t, 25_000_000, r.Update(now, 25_000_000, RampClear), "never below the estimate")
}

func TestRampStartsFastUntilTheFirstCongestion(t *testing.T) {
	r := Ramp{StartGrowth: 8, Max: 9_000_000}
	now := time.Unix(0, 0)
	r.Update(now, 1_500_000, RampClear)
	now = now.Add(500 * time.Millisecond)
	assert.InDelta(t, 1_500_000*math.Sqrt(8), r.Update(now, 1_500_000, RampClear), 1000, "8× a second at the start")
	now = now.Add(500 * time.Millisecond)
	assert.EqualValues(t, 9_000_000, r.Update(now, 1_500_000, RampClear), "at Max within a second")

	now = now.Add(100 * time.Millisecond)
	assert.EqualValues(t, 6_300_000, r.Update(now, 1_400_000, RampFell), "the first fall backs off as usual")
	now = now.Add(900 * time.Millisecond)
	assert.EqualValues(t, 6_300_000, r.Update(now, 1_400_000, RampClear), "held")
	now = now.Add(300 * time.Millisecond)
	assert.InDelta(t, 6_300_000*math.Pow(2, 0.3), r.Update(now, 1_400_000, RampClear), 1000, "then Growth (2×) for good")

	slow := Ramp{StartGrowth: 8}
	slow.Update(now, 1_000_000, RampLoss)
	now = now.Add(2 * time.Second)
	assert.EqualValues(t, 4_000_000, slow.Update(now, 1_000_000, RampClear), "a loss ends the fast start too")
}

func TestRampBacksOffAndHolds(t *testing.T) {
	r := Ramp{}
	now := time.Unix(0, 0)
	r.Update(now, 1_000_000, RampClear)
	now = now.Add(2 * time.Second)
	assert.EqualValues(t, 4_000_000, r.Update(now, 1_000_000, RampClear))

	now = now.Add(100 * time.Millisecond)
	assert.EqualValues(t, 2_800_000, r.Update(now, 900_000, RampFell), "the estimate fell: back off by 0.7")
	now = now.Add(900 * time.Millisecond)
	assert.EqualValues(t, 2_800_000, r.Update(now, 900_000, RampClear), "held for a second")
	now = now.Add(500 * time.Millisecond)
	assert.Greater(t, r.Update(now, 900_000, RampClear), int64(2_800_000), "grows again after the hold")

	assert.EqualValues(t, 900_000, r.Update(now, 900_000, RampLoss), "loss: down to the estimate")
	now = now.Add(500 * time.Millisecond)
	assert.EqualValues(t, 900_000, r.Update(now, 900_000, RampClear), "and held")

	r.Reset(700_000)
	assert.EqualValues(t, 700_000, r.Update(now, 700_000, RampClear), "reset: back to the estimate")
}

func TestRateControllerMotionLadderKeeps60FPS(t *testing.T) {
	rc := NewRateController(RateConfig{Width: 1920, Height: 1080, MaxFPS: 60, MinKbps: 100, MaxKbps: 20_000})
	now := time.Unix(0, 0)
	assert.Equal(t, 30, rc.Update(now, 1_275_000).FPS, "office: 1275 kbit/s is below the 60 fps rung")

	rc.SetMotion(true)
	assert.Equal(t, 60, rc.Update(now, 1_275_000).FPS, "video: 60 fps at once, no UpgradeAfter wait")
	assert.Equal(t, 60, rc.Update(now, 1_000_000).FPS)
	assert.Equal(t, 30, rc.Update(now, 900_000).FPS, "a real fall still lowers the frame rate")

	rc.SetMotion(false)
	tgt := rc.Update(now, 900_000)
	assert.Equal(t, 30, tgt.FPS, "back on the office ladder")
	rc.Update(now, 1_275_000)
	rc.SetMotion(true)
	rc.SetMotion(false)
	assert.Equal(t, 30, rc.Update(now, 1_275_000).FPS, "switching back re-evaluates downwards at once")
}

func TestRampReportsCongestion(t *testing.T) {
	var r Ramp
	now := time.Unix(0, 0)
	r.Update(now, 1_000_000, RampClear)
	assert.False(t, r.Congested(), "a fresh ramp is in its fast start")
	r.Update(now.Add(time.Second), 900_000, RampFell)
	assert.True(t, r.Congested())
	r.Update(now.Add(3*time.Second), 900_000, RampClear)
	assert.True(t, r.Congested(), "once seen, for good")
}

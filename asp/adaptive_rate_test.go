package asp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/shadowless-dev/shadowless/asp/adapt"
)

type fixedEstimate int

func (f fixedEstimate) GetTargetBitrate() int { return int(f) }

// run updates a for d in adaptInterval steps, sending at the target as an encoder would.
func runAdapt(a *adaptation, now time.Time, d time.Duration) (time.Time, adapt.Target) {
	var t adapt.Target
	for end := now.Add(d); now.Before(end); now = now.Add(adaptInterval) {
		a.mu.Lock()
		sent := int64(a.target.BitrateKbps) * 1000
		a.mu.Unlock()
		t, _ = a.update(now, sent, 0, 1920, 1080, 60, 150, 8000)
	}
	return now, t
}

func newTestAdaptation(mode adapt.Mode) *adaptation {
	return &adaptation{est: fixedEstimate(1_500_000), budget: adapt.DefaultBudget, floorBps: 1_500_000,
		mode: mode, target: adapt.Target{BitrateKbps: 1500, FPS: 60}}
}

func TestVideoModeRampsPastGCCAndKeeps60FPS(t *testing.T) {
	a := newTestAdaptation(adapt.ModeVideo)
	now, tgt := runAdapt(a, time.Unix(0, 0), adaptInterval)
	assert.Equal(t, 60, tgt.FPS, "video keeps 60 fps at the 1.5 Mbit/s start")
	assert.InDelta(t, frameBudget, a.frameRatio(adapt.ModeVideo), 0, "a slow link keeps the 2-frame VBV")

	now, tgt = runAdapt(a, now, 3*time.Second)
	assert.Equal(t, motionMaxKbps, tgt.BitrateKbps, "GCC still says 1.5 Mbit/s; the ramp found the room")
	assert.Equal(t, 60, tgt.FPS)
	assert.InDelta(t, motionFrameBudget, a.frameRatio(adapt.ModeVideo), 0, "a fast link gives a scene cut room")
	assert.InDelta(t, frameBudget, a.frameRatio(adapt.ModeOffice), 0)

	a.lossSeen()
	_, tgt = runAdapt(a, now, adaptInterval)
	assert.LessOrEqual(t, tgt.BitrateKbps, 1500, "loss: back to GCC's estimate")
}

func TestOfficeModeKeepsGCCPace(t *testing.T) {
	a := newTestAdaptation(adapt.ModeOffice)
	_, tgt := runAdapt(a, time.Unix(0, 0), 3*time.Second)
	assert.LessOrEqual(t, tgt.BitrateKbps, 1500, "office does not use the ramp")
	assert.Equal(t, 30, tgt.FPS, "office ladder: 30 fps below 1.5 Mbit/s of video")
}

// A frame is capped on a measured bottleneck that is slow for the picture, to frameBudget
// frame intervals of the share of its capacity the pacer drains at (never below the
// encoder's target), and on a link that showed congestion within paceHold without a
// measurement, to the encoder's target; otherwise not at all.
func TestFrameBudgetFollowsTheMeasuredLink(t *testing.T) {
	a := newTestAdaptation(adapt.ModeOffice)
	a.rcSize = [2]int{1920, 1080}
	now := time.Unix(100, 0)
	kbps := 1300.0
	target := int(kbps * 1000 / 8 / 30 * frameBudget) // 1.3 Mbit/s over two frame intervals at 30 fps
	assert.Zero(t, a.frameBudget(now, 1300, 30), "nothing measured, no congestion seen: no cap")

	a.congestedAt = now
	assert.Equal(t, target, a.frameBudget(now, 1300, 30), "congested, nothing measured: the encoder's target")
	var g capGate
	assert.Positive(t, g.cap(a.frameBudget(now, 1300, 30), 0.5, 1920*1080), "half a 1080p screen is at risk at 1.3 Mbit/s")
	assert.Zero(t, a.frameBudget(now.Add(paceHold+time.Second), 1300, 30), "congestion forgotten after paceHold")

	// A 2 Mbit/s bottleneck caps without any congestion seen: 0.9 × 2 Mbit/s over two
	// frame intervals at 30 fps is 15 kB.
	a.congestedAt = time.Time{}
	a.linkBps, a.linkAt = 2_000_000, now
	assert.Equal(t, 15_000, a.frameBudget(now, 1300, 30))
	assert.Equal(t, 7_500, a.frameBudget(now, 1300, 60), "twice the frame rate, half the budget")
	assert.Equal(t, 15_000, a.frameBudget(now.Add(paceHold-time.Second), 1300, 30), "held for paceHold")
	a.linkBps = 1_000_000
	assert.Equal(t, target, a.frameBudget(now, 1300, 30), "a link slower than the target never lowers the budget below it")
	a.linkBps = 200_000
	assert.Equal(t, capFloorBytes, a.frameBudget(now, 150, 30), "never below the floor")
	assert.Zero(t, a.frameBudget(now.Add(paceHold+time.Second), 1300, 30), "the measurement forgotten after paceHold")

	// A link fast for the picture is not capped: 8 Mbit/s at 1080p.
	a.linkBps, a.linkAt = 8_000_000, now
	assert.Zero(t, a.frameBudget(now, 1300, 30))
	a.rcSize = [2]int{7680, 4320}
	assert.Positive(t, a.frameBudget(now, 1300, 30), "the same link is slow for 8K")
}

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
	now, t, _ := runAdaptOvershoot(a, now, d, 1)
	return now, t
}

// runAdaptOvershoot updates a for d in adaptInterval steps, sending ratio × the target as
// an encoder that overshoots (ratio > 1) or undershoots would, and returns the average
// rate sent over the last 2 s in bits per second.
func runAdaptOvershoot(a *adaptation, now time.Time, d time.Duration, ratio float64) (time.Time, adapt.Target, float64) {
	var t adapt.Target
	var sent []int64
	for end := now.Add(d); now.Before(end); now = now.Add(adaptInterval) {
		a.mu.Lock()
		s := int64(float64(a.target.BitrateKbps) * 1000 * ratio)
		a.mu.Unlock()
		sent = append(sent, s)
		t, _ = a.update(now, s, 0, 1920, 1080, 60, 150, 8000)
	}
	n := min(len(sent), int(2*time.Second/adaptInterval))
	var sum int64
	for _, s := range sent[len(sent)-n:] {
		sum += s
	}
	return now, t, float64(sum) / float64(n)
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
	assert.InDelta(t, 0.96*motionCeilingKbps, tgt.BitrateKbps, 50, "GCC still says 1.5 Mbit/s; the ramp found the room up to the send ceiling")
	assert.Equal(t, 60, tgt.FPS)
	assert.InDelta(t, motionBurstFrameBudget, a.frameRatio(adapt.ModeVideo), 0, "a fast link that never showed congestion gives a scene cut the most room")
	assert.InDelta(t, frameBudget, a.frameRatio(adapt.ModeOffice), 0)

	a.est = fixedEstimate(1_400_000) // GCC saw queueing delay grow
	now, _ = runAdapt(a, now, adaptInterval)
	assert.GreaterOrEqual(t, a.capped, int64(fastLinkBps), "the ramp backed off, still a fast link")
	assert.InDelta(t, motionFrameBudget, a.frameRatio(adapt.ModeVideo), 0, "a link that showed congestion: the smaller burst")

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

// Video mode holds what is really sent under motionCeilingKbps whatever the encoder's
// overshoot, and gives an encoder that undershoots the room it leaves.
func TestVideoModeHoldsTheSendCeiling(t *testing.T) {
	a := newTestAdaptation(adapt.ModeVideo)
	_, tgt, rate := runAdaptOvershoot(a, time.Unix(0, 0), 10*time.Second, 1.1)
	assert.LessOrEqual(t, rate, float64(motionCeilingKbps*1000), "a 10% overshoot stays under the ceiling")
	assert.Less(t, tgt.BitrateKbps, 7500, "by a trimmed target")
	assert.Equal(t, 60, tgt.FPS)

	b := newTestAdaptation(adapt.ModeVideo)
	_, tgt, rate = runAdaptOvershoot(b, time.Unix(0, 0), 10*time.Second, 0.95)
	assert.Greater(t, tgt.BitrateKbps, 7900, "an undershooting encoder gets a target above the aim")
	assert.LessOrEqual(t, rate, float64(motionCeilingKbps*1000))
}

// The ceiling starts afresh with each motion mode: a video whose encoder undershot opened
// it, and the next video, whose encoder may overshoot, would start there.
func TestSendCeilingRestartsWithMotion(t *testing.T) {
	a := &adaptation{est: fixedEstimate(20_000_000), budget: adapt.DefaultBudget, floorBps: 20_000_000,
		mode: adapt.ModeVideo, target: adapt.Target{BitrateKbps: 1500, FPS: 60}}
	now, tgt, _ := runAdaptOvershoot(a, time.Unix(0, 0), 6*time.Second, 0.9)
	assert.Equal(t, 8000, tgt.BitrateKbps, "an encoder that undershoots: the ceiling opens up to the session's maximum")
	assert.Greater(t, a.ceiling.Allowed(), int64(motionCeilingKbps*1000))

	a.setMode(adapt.ModeOffice)
	now, _ = runAdapt(a, now, time.Second)
	a.setMode(adapt.ModeVideo)
	_, tgt = runAdapt(a, now, adaptInterval)
	assert.InDelta(t, 0.96*motionCeilingKbps, tgt.BitrateKbps, 1, "a new video starts at the ceiling's aim")
}

// Video mode's quantiser floor follows the ramped estimate its target follows: GCC alone
// (1.5 Mbit/s) would keep the slow link's floor under a 7.8 Mbit/s target.
func TestMinQuantizerFollowsTheMotionRamp(t *testing.T) {
	a := newTestAdaptation(adapt.ModeOffice)
	now, _ := runAdapt(a, time.Unix(0, 0), time.Second)
	assert.Equal(t, slowLinkMinQ, a.minQuantizer(2), "office at 1.5 Mbit/s, 1080p: a slow link")

	a.setMode(adapt.ModeVideo)
	assert.Equal(t, slowLinkMinQ, a.minQuantizer(18), "the ramp has not yet found the room")
	runAdapt(a, now, 2*time.Second)
	assert.Equal(t, 18, a.minQuantizer(18), "the ramp found the room: the mode's own floor")
}

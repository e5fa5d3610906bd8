package adapt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encoderModel sends ratio × its target, as libvpx does on average (above 1 on fast
// motion, below on smooth video), plus extra bits per second of channel traffic.
type encoderModel struct {
	ratio float64
	extra float64
}

// runCeiling drives c for d in steps of 150 ms with an encoder that wants ask and returns
// the rate sent over the last 2 s and the last target.
func runCeiling(c *SendCeiling, now time.Time, d time.Duration, ask int64, m encoderModel) (time.Time, float64, int64) {
	const step = 150 * time.Millisecond
	target := min(ask, c.Allowed())
	var bits []float64
	for end := now.Add(d); now.Before(end); now = now.Add(step) {
		sent := (float64(target)*m.ratio + m.extra) * step.Seconds()
		bits = append(bits, sent)
		target = min(ask, c.Update(now.Add(step), step, int64(sent), target))
	}
	n := min(len(bits), int(2*time.Second/step))
	total := 0.0
	for _, b := range bits[len(bits)-n:] {
		total += b
	}
	return now, total / (float64(n) * step.Seconds()), target
}

func TestSendCeilingTrimsAnEncoderThatOvershoots(t *testing.T) {
	c := &SendCeiling{Limit: 8_000_000}
	_, rate, target := runCeiling(c, time.Unix(0, 0), 15*time.Second, 10_000_000, encoderModel{ratio: 1.08, extra: 100_000})
	assert.LessOrEqual(t, rate, 8_000_000.0, "what is sent stays under the ceiling")
	assert.InDelta(t, 0.96*8_000_000, rate, 100_000, "and close to its aim")
	assert.Less(t, target, int64(7_300_000), "the target is trimmed below the aim to make room for the overshoot")
}

func TestSendCeilingLetsAnEncoderThatUndershootsUseTheRoom(t *testing.T) {
	c := &SendCeiling{Limit: 8_000_000}
	_, rate, target := runCeiling(c, time.Unix(0, 0), 15*time.Second, 10_000_000, encoderModel{ratio: 0.93})
	assert.InDelta(t, 0.96*8_000_000, rate, 120_000, "the undershoot is made up")
	assert.Greater(t, target, int64(8_000_000), "by a target above the ceiling")
	assert.LessOrEqual(t, target, int64(10_000_000), "never above Max")
}

func TestSendCeilingIdleSenderDoesNotOpenIt(t *testing.T) {
	c := &SendCeiling{Limit: 8_000_000, Max: 9_000_000}
	now, rate, target := runCeiling(c, time.Unix(0, 0), 10*time.Second, 12_000_000, encoderModel{ratio: 0.3})
	assert.Less(t, rate, 3_000_000.0)
	assert.Equal(t, int64(0.96*8_000_000), target, "little to send says nothing of the overshoot: the aim holds")

	// The picture gets busy: the overshooting encoder stays under from the start.
	_, rate, _ = runCeiling(c, now, 6*time.Second, 12_000_000, encoderModel{ratio: 1.1})
	assert.LessOrEqual(t, rate, 8_000_000.0)
}

// A target that rises faster than the encoder follows (a ramp) does not open the ceiling.
func TestSendCeilingLaggingEncoderDoesNotOpenIt(t *testing.T) {
	c := &SendCeiling{Limit: 8_000_000}
	now := time.Unix(0, 0)
	const step = 150 * time.Millisecond
	sent := 1_000_000.0
	for range 20 { // the encoder closes half its gap to the target each step
		target := c.Allowed()
		sent += (float64(target) - sent) / 4
		c.Update(now, step, int64(sent*step.Seconds()), target)
		now = now.Add(step)
	}
	assert.LessOrEqual(t, c.Allowed(), int64(0.96*8_000_000*1.03), "at most a little above the aim")
	_, rate, _ := runCeiling(c, now, 3*time.Second, 10_000_000, encoderModel{ratio: 1})
	assert.LessOrEqual(t, c.Allowed(), int64(0.96*8_000_000*1.01), "and back once the window forgot the lag")
	assert.LessOrEqual(t, rate, 8_000_000.0)
}

func TestSendCeilingHoldsUntilHalfAWindowIsSeen(t *testing.T) {
	c := &SendCeiling{Limit: 8_000_000}
	assert.Equal(t, int64(7_680_000), c.Allowed(), "Aim × Limit before any measurement")
	got := c.Update(time.Unix(0, 0), 150*time.Millisecond, 2_000_000, 7_760_000)
	assert.Equal(t, int64(7_680_000), got, "one interval of a 13 Mbit/s burst is not yet a rate")
	assert.Equal(t, int64(13_333_333), c.Rate())
}

func TestSendCeilingChannelBurstDoesNotStarveVideo(t *testing.T) {
	c := &SendCeiling{Limit: 8_000_000}
	_, _, target := runCeiling(c, time.Unix(0, 0), 10*time.Second, 10_000_000, encoderModel{ratio: 1, extra: 20_000_000})
	require.Positive(t, target)
	assert.GreaterOrEqual(t, target, int64(0.5*0.96*8_000_000), "the floor keeps half the aim for video")
}

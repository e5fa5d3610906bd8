package adapt

import "time"

// SendCeiling keeps what a session really sends under a ceiling by trimming the encoder's
// target. A cap on the target alone does not hold the sent rate: libvpx overshoots its
// target on fast motion (bench 3d: 8.0 Mbit/s sent at a 7.5 Mbit/s target) and undershoots
// it on smooth video (video-60: 7.2 Mbit/s), and the channels add their own bytes. The
// ceiling measures the bits sent over Window against the targets it allowed over the same
// span, and sets the next target so that the sent rate lands at Aim × Limit: a closed loop
// around the encoder's own rate control. Pure logic; not safe for concurrent use.
type SendCeiling struct {
	// Limit is the ceiling in bits per second.
	Limit int64
	// Aim is the share of Limit the loop steers the measured rate to (default 0.96), the
	// margin for the error of one window's measurement and the loop's lag.
	Aim float64
	// Max bounds the target the loop allows in bits per second (default 1.25 × Limit), so
	// an encoder that undershoots a lot is not given a target it would overrun as soon as
	// the picture gets busy. The allowance rises only while the sent rate is near the aim.
	Max int64
	// Window is the span the rates are measured over (default 2 s); the loop holds the
	// target at Aim × Limit until half of it has been seen.
	Window time.Duration

	samples []ceilingSample
	allow   float64 // the target the loop allows, bits per second
}

// ceilingSample is one interval: how long it was, the bits sent in it and the target
// in force during it.
type ceilingSample struct {
	at     time.Time
	dur    time.Duration
	bits   float64
	target float64
}

// ceilingGain is the share of the way to the computed target the allowance moves at each
// update: with updates every 150 ms and a 2 s window, a full step would react to the same
// overshoot over and over while it is still in the window, and oscillate.
const ceilingGain = 0.25

// ceilingRiseGain replaces ceilingGain when the allowance rises: a window that still holds
// the seconds an encoder lagged its target (after a ramp) underestimates its overshoot, and
// a slow rise gives the window the time to forget them.
const ceilingRiseGain = 0.06

// ceilingSettled is the share of the aim the measured rate must reach before the loop
// raises the allowance above what it is.
const ceilingSettled = 0.85

// ceilingFloor is the least share of Aim × Limit the loop ever allows, so a burst of
// channel traffic (a file transfer) does not starve the video for the window's length.
const ceilingFloor = 0.5

func (c *SendCeiling) defaults() {
	if c.Aim <= 0 {
		c.Aim = 0.96
	}
	if c.Max <= 0 {
		c.Max = c.Limit * 5 / 4
	}
	if c.Window <= 0 {
		c.Window = 2 * time.Second
	}
}

// Update records the bits sent in the interval of length dur ending at now, while the
// encoder's target was target (bits per second), and returns the largest target the
// ceiling allows from now on.
func (c *SendCeiling) Update(now time.Time, dur time.Duration, bits, target int64) int64 {
	c.defaults()
	aim := c.Aim * float64(c.Limit)
	if c.allow == 0 {
		c.allow = aim
	}
	if dur > 0 {
		c.samples = append(c.samples, ceilingSample{at: now, dur: dur, bits: float64(bits), target: float64(target)})
	}
	i := 0
	for i < len(c.samples) && now.Sub(c.samples[i].at) >= c.Window {
		i++
	}
	c.samples = c.samples[i:]
	span, sent, planned := c.window()
	if span < c.Window/2 || planned <= 0 {
		return c.Allowed()
	}
	// ratio is how many bits go out per bit of target: the encoder's overshoot plus what
	// the channels add.
	ratio := sent / planned
	want := c.allow
	if ratio > 0 {
		want = aim / ratio
	}
	if rate := sent / span.Seconds(); want > c.allow && (rate > aim || rate < ceilingSettled*aim) {
		// Never raise the allowance while over the ceiling, nor while the encoder sends
		// well under it: then the ratio says how far it lags a target that just rose (a
		// ramp, a mode change) or how little the picture needs, not how far it
		// undershoots, and a raise would let the next busy seconds overrun the ceiling.
		want = c.allow
	}
	gain := ceilingGain
	if want > c.allow {
		gain = ceilingRiseGain
	}
	c.allow += gain * (want - c.allow)
	c.allow = min(max(c.allow, ceilingFloor*aim), float64(c.Max))
	return c.Allowed()
}

// Allowed returns the target the ceiling allows in bits per second (Aim × Limit before the
// first update).
func (c *SendCeiling) Allowed() int64 {
	c.defaults()
	if c.allow == 0 {
		return int64(c.Aim * float64(c.Limit))
	}
	return int64(c.allow)
}

// Rate returns the rate sent over the window in bits per second (0 before any interval).
func (c *SendCeiling) Rate() int64 {
	span, sent, _ := c.window()
	if span <= 0 {
		return 0
	}
	return int64(sent / span.Seconds())
}

// window sums the intervals kept: their length, the bits sent in them and the bits their
// targets planned.
func (c *SendCeiling) window() (span time.Duration, sent, planned float64) {
	for _, s := range c.samples {
		span += s.dur
		sent += s.bits
		planned += s.target * s.dur.Seconds()
	}
	return span, sent, planned
}

package adapt

import (
	"fmt"
	"time"
)

// Mode is what the screen is showing, as far as the encoder should care.
type Mode uint8

// Scene modes.
const (
	// ModeOffice is text and small updates: favour sharpness, spend nothing when still.
	ModeOffice Mode = iota + 1
	// ModeVideo is a large area changing continuously: favour a steady frame rate.
	ModeVideo
	// ModeGame is full-screen fast motion: favour frame rate and latency over detail.
	ModeGame
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case ModeOffice:
		return "office"
	case ModeVideo:
		return "video"
	case ModeGame:
		return "game"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Profile is how the encoder runs in a mode. Quantisers are on libvpx's 0–63 scale (lower
// is better); encoders with another scale map them proportionally.
type Profile struct {
	MaxFPS     int
	MinQ, MaxQ int
	// Refine says whether a still screen earns one high-quality refinement frame.
	Refine bool
}

// RefineQ is the quantiser range of a refinement frame: sharp text, yet bounded so that
// the single-frame VBV can still hold the frame to its budget (a range capped near 12
// made a 1080p refinement of a busy page several hundred kB, a second of a 1.5 Mbit/s
// link).
var RefineQ = [2]int{2, 40}

// ProfileFor returns the encoder profile of a mode. Every mode lets the rate control go up
// to the coarsest quantiser: a cap below it makes the encoder overshoot its bitrate on a
// busy screen (measured: VP8 at 1080p scrolling with a cap of 48 sent 5–10 Mbit/s for a
// 1.5 Mbit/s target, and the overshoot turned into loss and keyframes). The modes differ
// in frame rate, in how fine the quantiser may go (motion hides detail, so video and game
// spend their bits on frames instead) and in refinement.
//
// Video and game mode's floors (18 and 20) were measured with libvpx VP8 at 1080p60 and
// 7.5 Mbit/s on the bench's video (a pan over a grainy landscape that jumps 2 s ahead
// every 0.7–1 s): floors of 8–14 spent 7.0–7.3 Mbit/s for VMAF 92.7, floors of 18–20
// 5.1–6.1 Mbit/s for VMAF 93.0 and 1.5–3 points more in the frames after each jump. Below
// VMAF's saturation, finer quantisers on easy frames only empty the single-frame VBV the
// next scene change needs, and cost encoder time.
func ProfileFor(m Mode) Profile {
	switch m {
	case ModeVideo:
		return Profile{MaxFPS: 60, MinQ: 18, MaxQ: 63}
	case ModeGame:
		return Profile{MaxFPS: 60, MinQ: 20, MaxQ: 63}
	}
	return Profile{MaxFPS: 30, MinQ: 2, MaxQ: 63, Refine: true}
}

// SceneConfig tunes the classifier; zero fields take the defaults in parentheses.
type SceneConfig struct {
	// Window is the span the statistics cover (1 s).
	Window time.Duration
	// Enter is how long the statistics must point at video or game before the mode
	// changes to it (1 s); Leave how long they must point back at office (2 s).
	Enter, Leave time.Duration
	// A window is video when at least VideoFPS damaged frames a second change on average
	// at least VideoArea of the screen (10 fps, 8%), and game at GameFPS and GameArea
	// (40 fps, 70%).
	VideoFPS, GameFPS   float64
	VideoArea, GameArea float64
	// RefineAfter is how long the screen must be still before the refinement frame (300 ms).
	RefineAfter time.Duration
}

func (c *SceneConfig) defaults() {
	setDuration := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setFloat := func(f *float64, v float64) {
		if *f == 0 {
			*f = v
		}
	}
	setDuration(&c.Window, time.Second)
	setDuration(&c.Enter, time.Second)
	setDuration(&c.Leave, 2*time.Second)
	setDuration(&c.RefineAfter, 300*time.Millisecond)
	setFloat(&c.VideoFPS, 10)
	setFloat(&c.GameFPS, 40)
	setFloat(&c.VideoArea, 0.08)
	setFloat(&c.GameArea, 0.7)
}

type damageSample struct {
	at       time.Time
	fraction float64
}

// Classifier decides the scene mode from the damage of each captured frame: how much of the
// screen changed, how often, for how long. It has hysteresis so a scroll or a menu does not
// flip the encoder back and forth. Pure logic; not safe for concurrent use.
type Classifier struct {
	cfg       SceneConfig
	samples   []damageSample // inside the window, oldest first
	sum       float64        // of samples' fractions
	mode      Mode
	candidate Mode
	since     time.Time // when candidate first differed from mode
	lastFrame time.Time
	refined   bool // the still screen already had its refinement frame
}

// NewClassifier starts in office mode.
func NewClassifier(cfg SceneConfig) *Classifier {
	cfg.defaults()
	return &Classifier{cfg: cfg, mode: ModeOffice, candidate: ModeOffice, refined: true}
}

// Mode returns the current mode.
func (c *Classifier) Mode() Mode { return c.mode }

// Observe records a captured frame at time at whose damage covers fraction (0–1) of the
// screen, and returns the mode the frame should be encoded in.
func (c *Classifier) Observe(at time.Time, fraction float64) Mode {
	fraction = min(max(fraction, 0), 1)
	c.samples = append(c.samples, damageSample{at, fraction})
	c.sum += fraction
	c.lastFrame = at
	c.refined = false
	return c.Update(at)
}

// Update ages the statistics to time now and returns the mode; call it when no frame comes
// (an idle screen) so the classifier can return to office mode.
func (c *Classifier) Update(now time.Time) Mode {
	// changedAt is when the statistics last changed: now, or, when frames only aged out of
	// the window, the moment the last of them did, so that the outcome does not depend on
	// how often Update is called.
	changedAt := now
	cut := 0
	for cut < len(c.samples) && now.Sub(c.samples[cut].at) >= c.cfg.Window {
		c.sum -= c.samples[cut].fraction
		cut++
	}
	if cut > 0 {
		changedAt = c.samples[cut-1].at.Add(c.cfg.Window)
		c.samples = append(c.samples[:0], c.samples[cut:]...)
		if len(c.samples) == 0 {
			c.sum = 0 // no drift from float subtraction
		}
	}

	candidate := c.classify()
	if candidate != c.candidate {
		c.candidate, c.since = candidate, changedAt
	}
	hold := c.cfg.Enter
	if candidate == ModeOffice {
		hold = c.cfg.Leave
	}
	if candidate != c.mode && now.Sub(c.since) >= hold {
		c.mode = candidate
	}
	return c.mode
}

// classify names the mode the window's statistics point at, without hysteresis.
func (c *Classifier) classify() Mode {
	n := len(c.samples)
	if n == 0 {
		return ModeOffice
	}
	fps := float64(n) / c.cfg.Window.Seconds()
	area := c.sum / float64(n)
	switch {
	case fps >= c.cfg.GameFPS && area >= c.cfg.GameArea:
		return ModeGame
	case fps >= c.cfg.VideoFPS && area >= c.cfg.VideoArea:
		return ModeVideo
	}
	return ModeOffice
}

// RefinementDue reports, once per still period, that the screen has not changed for
// RefineAfter and the last picture should be sent again at refinement quality so text is
// sharp. It is never due outside office mode.
func (c *Classifier) RefinementDue(now time.Time) bool {
	if c.refined || c.lastFrame.IsZero() || now.Sub(c.lastFrame) < c.cfg.RefineAfter {
		return false
	}
	if c.Update(now) != ModeOffice {
		return false
	}
	c.refined = true
	return true
}

// RefineAt returns when RefinementDue may next report true, and false when the still
// screen already had its refinement (or no frame came yet): a sender sleeps until then.
func (c *Classifier) RefineAt() (time.Time, bool) {
	if c.refined || c.lastFrame.IsZero() {
		return time.Time{}, false
	}
	return c.lastFrame.Add(c.cfg.RefineAfter), true
}

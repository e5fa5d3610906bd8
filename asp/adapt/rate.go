package adapt

import (
	"math"
	"time"
)

// Budget divides the bandwidth estimate between video and the virtual channels: video gets
// what the channels do not use, never less than VideoFloor, and the shared channels may
// take at most DataShare of the estimate when they are backlogged.
type Budget struct {
	// VideoFloor is the least video bitrate in bits per second, whatever the channels use.
	VideoFloor int64
	// DataShare is the largest fraction of the estimate the shared channels may use.
	DataShare float64
}

// DefaultBudget keeps 150 kbit/s for video and lets files, clipboard and USB take up to
// 40% of the link.
var DefaultBudget = Budget{VideoFloor: 150_000, DataShare: 0.4}

// Split returns the video bitrate and the shared channels' rate cap, both in bits per
// second, for a bandwidth estimate and the channels' measured sending rate.
func (b Budget) Split(estimate, channelRate int64) (video, data int64) {
	data = int64(float64(estimate) * b.DataShare)
	video = max(b.VideoFloor, estimate-min(channelRate, data))
	return video, data
}

// CapEstimate closes a gap of GCC as pion implements it, which has no application-limited
// detector: while the sender sends less than the link allows, delay-based estimation sees no
// congestion and the estimate grows without bound, and the first real burst then overruns
// the link. The estimate is held to headroom × what was really sent, but never below floor.
func CapEstimate(estimate, sentRate, floor int64, headroom float64) int64 {
	limit := max(floor, int64(float64(sentRate)*headroom))
	return min(estimate, limit)
}

// Target is the encoder configuration the rate controller asks for.
type Target struct {
	BitrateKbps   int
	FPS           int
	Width, Height int
	// MaxFrameBytes is the single-frame VBV: no frame should be larger, so that one big
	// change never holds the link for more than a few frame intervals.
	MaxFrameBytes int
}

// RateConfig bounds the rate controller.
type RateConfig struct {
	Width, Height int // the full capture size
	MaxFPS        int
	MinKbps       int
	MaxKbps       int
	// FrameBudget is k in MaxFrameBytes = bitrate / fps × k; 0 means 4.
	FrameBudget float64
	// UpgradeAfter is how long the estimate must stay above a step's threshold before the
	// controller moves up to it (downgrades are immediate); 0 means 2 s.
	UpgradeAfter time.Duration
}

// step is one rung of the degradation ladder: at or above minKbpsAt1080p (scaled by
// pixel count) the stream may run at fps and scale.
type step struct {
	minKbpsAt1080p int
	fps            int
	scale          float64
}

// ladder lowers bitrate first, then frame rate, then resolution, as the estimate falls.
var ladder = []step{
	{1500, 60, 1},
	{700, 30, 1},
	{400, 20, 1},
	{250, 15, 1},
	{150, 15, 0.75},
	{0, 10, 0.5},
}

// RateController turns a video bandwidth share into an encoder Target: the bitrate follows
// the estimate, and as it falls the frame rate and then the resolution step down, so the
// picture stays sharp rather than smeared. It moves down at once and up only after the
// estimate has held for UpgradeAfter, so it does not flap. Pure logic; not safe for
// concurrent use.
type RateController struct {
	cfg      RateConfig
	step     int
	upSince  time.Time // when the estimate first allowed a higher step, zero when it does not
	scaleCap float64   // SetScaleCap; 0 means 1
}

// SetScaleCap caps the share of each side the picture may have (a SizeGovernor's Scale),
// whatever the bitrate allows; 1 lifts the cap.
func (r *RateController) SetScaleCap(s float64) { r.scaleCap = s }

// NewRateController starts at the top of the ladder the frame rate allows.
func NewRateController(cfg RateConfig) *RateController {
	if cfg.FrameBudget == 0 {
		cfg.FrameBudget = 4
	}
	if cfg.UpgradeAfter == 0 {
		cfg.UpgradeAfter = 2 * time.Second
	}
	return &RateController{cfg: cfg}
}

// Update takes the video share of the estimate (bits per second) at time now and returns
// the target.
func (r *RateController) Update(now time.Time, videoBps int64) Target {
	kbps := clampInt(int(videoBps/1000), r.cfg.MinKbps, r.cfg.MaxKbps)
	want := r.stepFor(kbps)
	switch {
	case want > r.step: // worse: move down at once
		r.step, r.upSince = want, time.Time{}
	case want < r.step:
		if r.upSince.IsZero() {
			r.upSince = now
		}
		if now.Sub(r.upSince) >= r.cfg.UpgradeAfter {
			r.step, r.upSince = r.step-1, time.Time{} // one rung at a time
		}
	default:
		r.upSince = time.Time{}
	}
	s := ladder[r.step]
	fps := min(s.fps, r.cfg.MaxFPS)
	scale := s.scale
	if r.scaleCap > 0 {
		scale = min(scale, r.scaleCap)
	}
	t := Target{
		BitrateKbps: kbps,
		FPS:         fps,
		Width:       even(float64(r.cfg.Width) * scale),
		Height:      even(float64(r.cfg.Height) * scale),
	}
	t.MaxFrameBytes = MaxFrameBytes(kbps, fps, r.cfg.FrameBudget)
	return t
}

// stepFor returns the highest ladder rung the bitrate affords at this capture size.
func (r *RateController) stepFor(kbps int) int {
	pixels := float64(r.cfg.Width*r.cfg.Height) / (1920 * 1080)
	for i, s := range ladder {
		if float64(kbps) >= float64(s.minKbpsAt1080p)*pixels {
			return i
		}
	}
	return len(ladder) - 1
}

// MaxFrameBytes is the single-frame VBV: bitrate / fps × k, in bytes.
func MaxFrameBytes(kbps, fps int, k float64) int {
	if fps <= 0 {
		fps = 1
	}
	return int(math.Ceil(float64(kbps) * 1000 / 8 / float64(fps) * k))
}

func clampInt(v, lo, hi int) int {
	if hi > 0 && v > hi {
		v = hi
	}
	return max(v, lo)
}

func even(v float64) int { return int(v) &^ 1 }

// KeyframeLimiter turns a stream of keyframe requests (PLI, FIR, a new viewer, loss) into
// at most one keyframe per MinInterval, so a burst of loss does not become a storm of
// keyframes that causes more loss. A request inside the interval is remembered and served
// when the interval ends. Not safe for concurrent use.
type KeyframeLimiter struct {
	MinInterval time.Duration
	last        time.Time
	pending     bool
}

// Request records that a keyframe is wanted.
func (k *KeyframeLimiter) Request() { k.pending = true }

// Due reports whether the next frame should be a keyframe, and if so counts it as sent.
func (k *KeyframeLimiter) Due(now time.Time) bool {
	if !k.pending || (!k.last.IsZero() && now.Sub(k.last) < k.MinInterval) {
		return false
	}
	k.pending = false
	k.last = now
	return true
}

// Sent tells the limiter a keyframe went out for another reason (the first frame, a
// resize), which also satisfies pending requests.
func (k *KeyframeLimiter) Sent(now time.Time) {
	k.pending = false
	k.last = now
}

// PendingAt returns when a pending request will be served, or the zero time when none is
// pending, so that a sender on a still screen knows when to wake up for it.
func (k *KeyframeLimiter) PendingAt() time.Time {
	if !k.pending {
		return time.Time{}
	}
	if k.last.IsZero() {
		return time.Unix(0, 1)
	}
	return k.last.Add(k.MinInterval)
}

// FramePacer holds the video to the link rate frame by frame, without a packet queue: a
// frame goes out whole at once, and the next one waits until the link has drained what
// is in flight beyond an allowance. An encoder that overshoots its target (libvpx cannot
// make a frame of scrolling 1080p text smaller than its largest quantiser allows) then
// sends fewer frames instead of filling the bottleneck queue, and what changed in the
// meantime goes into the next frame. Pure logic; not safe for concurrent use.
type FramePacer struct {
	level float64 // bytes in flight, draining at rate
	rate  float64 // bytes per second
	last  time.Time
}

// drain empties the bucket up to now.
func (p *FramePacer) drain(now time.Time) {
	if !p.last.IsZero() && now.After(p.last) {
		p.level = max(0, p.level-now.Sub(p.last).Seconds()*p.rate)
	}
	p.last = now
}

// Sent records a frame of n bytes sent at now over a link of rateBps.
func (p *FramePacer) Sent(now time.Time, n int, rateBps int64) {
	p.drain(now)
	p.rate = float64(max(rateBps, 1)) / 8
	p.level += float64(n)
}

// NextAt returns the earliest time the next frame may go: when no more than allowance
// bytes are still in flight (now or earlier when that is already so).
func (p *FramePacer) NextAt(now time.Time, allowance int) time.Time {
	p.drain(now)
	over := p.level - float64(allowance)
	if over <= 0 || p.rate <= 0 {
		return now
	}
	return now.Add(time.Duration(over / p.rate * float64(time.Second)))
}

// SizeGovernor lowers the picture size when the encoder cannot keep frames within the
// link's budget even at its coarsest quantiser (VP8 codes a scrolling 1080p page in
// 40–170 kB a frame; at 2 Mbit/s each holds the link for 160–680 ms), and raises it again
// once the frames it sees predict that the larger size would fit. Frame sizes are compared
// with a budget of one frame interval of the link (the caller's), smoothed over frames.
// Pure logic; not safe for concurrent use.
type SizeGovernor struct {
	// Over is the smoothed size/budget ratio above which the size steps down after
	// Hold (defaults 3 and 1 s); Under the ratio the next size up is predicted to have
	// below which it steps up after UpHold (defaults 1.5 and 5 s).
	Over, Under  float64
	Hold, UpHold time.Duration

	step  int // index into governorScales
	ema   float64
	since time.Time // when the current condition (over or under) began
	n     int
}

// governorScales are the sizes the governor chooses from, as a share of each side.
var governorScales = []float64{1, 0.75, 0.5}

func (g *SizeGovernor) defaults() {
	if g.Over <= 0 {
		g.Over = 3
	}
	if g.Under <= 0 {
		g.Under = 1.5
	}
	if g.Hold <= 0 {
		g.Hold = time.Second
	}
	if g.UpHold <= 0 {
		g.UpHold = 5 * time.Second
	}
}

// Scale returns the share of each side the picture may have.
func (g *SizeGovernor) Scale() float64 { return governorScales[g.step] }

// Frame records a delta frame of n bytes encoded at now against a budget of budget bytes,
// and reports whether the scale changed.
func (g *SizeGovernor) Frame(now time.Time, n, budget int) bool {
	g.defaults()
	if budget <= 0 {
		return false
	}
	r := float64(n) / float64(budget)
	if g.n == 0 {
		g.ema = r
	} else {
		g.ema = 0.7*g.ema + 0.3*r
	}
	g.n++
	switch {
	case g.ema > g.Over && g.step < len(governorScales)-1:
		if g.since.IsZero() {
			g.since = now
		}
		if now.Sub(g.since) >= g.Hold && g.n >= 3 {
			g.step++
			g.reset()
			return true
		}
	case g.step > 0 && g.ema*bigger(g.step) < g.Under:
		if g.since.IsZero() {
			g.since = now
		}
		if now.Sub(g.since) >= g.UpHold && g.n >= 3 {
			g.step--
			g.reset()
			return true
		}
	default:
		g.since = time.Time{}
	}
	return false
}

// bigger is how many times more pixels the next size up has than the size at step.
func bigger(step int) float64 {
	r := governorScales[step-1] / governorScales[step]
	return r * r
}

func (g *SizeGovernor) reset() { g.ema, g.n, g.since = 0, 0, time.Time{} }

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

// motionLadder is the ladder of video and game mode, where a steady frame rate matters
// more than detail: 60 fps down to about 1 Mbit/s at 1080p, so that a session that starts
// at 1.5 Mbit/s (1275 kbit/s of video after linkUtilisation) plays at 60 fps from its first
// second, and only a real fall of the estimate lowers the frame rate.
var motionLadder = []step{
	{1000, 60, 1},
	{500, 30, 1},
	{300, 20, 1},
	{200, 15, 1},
	{120, 15, 0.75},
	{0, 10, 0.5},
}

// RateController turns a video bandwidth share into an encoder Target: the bitrate follows
// the estimate, and as it falls the frame rate and then the resolution step down, so the
// picture stays sharp rather than smeared. It moves down at once and up only after the
// estimate has held for UpgradeAfter, so it does not flap. Pure logic; not safe for
// concurrent use.
type RateController struct {
	cfg      RateConfig
	ladder   []step
	kbps     int // the last Update's bitrate
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
	return &RateController{cfg: cfg, ladder: ladder}
}

// SetMotion switches between the office ladder and the motion ladder (video and game
// mode). The step is chosen again at once for the last bitrate, up or down: the scene
// classifier already has its own hysteresis, and waiting UpgradeAfter would run the
// first seconds of a video at the office ladder's frame rate.
func (r *RateController) SetMotion(motion bool) {
	l := ladder
	if motion {
		l = motionLadder
	}
	if &l[0] == &r.ladder[0] {
		return
	}
	r.ladder = l
	if r.kbps > 0 {
		r.step, r.upSince = r.stepFor(r.kbps), time.Time{}
	}
}

// Update takes the video share of the estimate (bits per second) at time now and returns
// the target.
func (r *RateController) Update(now time.Time, videoBps int64) Target {
	kbps := clampInt(int(videoBps/1000), r.cfg.MinKbps, r.cfg.MaxKbps)
	r.kbps = kbps
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
	s := r.ladder[r.step]
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
	for i, s := range r.ladder {
		if float64(kbps) >= float64(s.minKbpsAt1080p)*pixels {
			return i
		}
	}
	return len(r.ladder) - 1
}

// Ramp finds the room of a fast link faster than pion's GCC, which grows its estimate some
// 8% a second and has no probing: from a 1.5 Mbit/s start it needs 20 s to reach what a
// 1080p video needs on loopback or a LAN. While nothing points at congestion, the ramp's
// level grows by Growth a second from the estimate (multiplicative increase, as GCC's own
// probing doubles), and the larger of level and estimate is used. When the estimate falls
// (GCC saw queueing delay grow) the level backs off by Backoff and holds for Hold; when the
// receiver lost packets it falls to the estimate. The caller still caps the result to a
// multiple of what was really sent (CapEstimate), so an idle sender does not ramp up a
// link it never tried. Pure logic; not safe for concurrent use.
type Ramp struct {
	// Growth is the factor the level grows by per second (default 2); Backoff the factor
	// it falls by when the estimate falls (default 0.7); Hold how long it does not grow
	// after a fall or a loss (default 1 s).
	Growth, Backoff float64
	Hold            time.Duration
	// StartGrowth, when above Growth, is the growth a second until the link first shows
	// congestion (a fall or a loss), as TCP's slow start: a session on a fast link reaches
	// what it needs within its first second, and the first sign of a limit ends the fast
	// phase for good (0: Growth throughout).
	StartGrowth float64
	// Max bounds the level in bits per second (0: unbounded).
	Max int64

	level     float64
	last      time.Time
	heldUntil time.Time
	congested bool // a fall or a loss was seen: StartGrowth no longer applies
}

// RampEvent is what the caller saw of the link since the last Update.
type RampEvent uint8

// Ramp events.
const (
	// RampClear: nothing points at congestion.
	RampClear RampEvent = iota
	// RampFell: the estimator lowered its estimate (queueing delay grew).
	RampFell
	// RampLoss: the receiver reported lost packets.
	RampLoss
)

func (r *Ramp) defaults() {
	if r.Growth <= 0 {
		r.Growth = 2
	}
	if r.Backoff <= 0 {
		r.Backoff = 0.7
	}
	if r.Hold <= 0 {
		r.Hold = time.Second
	}
}

// Update takes the estimator's estimate (bits per second) at now and what the link showed,
// and returns the estimate to use: never below the estimator's.
func (r *Ramp) Update(now time.Time, estimate int64, ev RampEvent) int64 {
	r.defaults()
	est := float64(estimate)
	switch ev {
	case RampLoss:
		r.level, r.heldUntil, r.congested = est, now.Add(r.Hold), true
	case RampFell:
		r.level, r.heldUntil, r.congested = r.level*r.Backoff, now.Add(r.Hold), true
	default:
		if !r.last.IsZero() && now.After(r.last) && !now.Before(r.heldUntil) {
			g := r.Growth
			if !r.congested {
				g = max(g, r.StartGrowth)
			}
			r.level *= math.Pow(g, now.Sub(r.last).Seconds())
		}
	}
	r.last = now
	r.level = max(r.level, est)
	if r.Max > 0 {
		r.level = min(r.level, float64(max(r.Max, estimate)))
	}
	return int64(r.level)
}

// Congested reports whether the link has shown congestion (a fall or a loss) since the
// ramp began: until then it is in its fast start.
func (r *Ramp) Congested() bool { return r.congested }

// Reset drops the level to the estimate, as when the ramp is not in use.
func (r *Ramp) Reset(estimate int64) { r.level, r.last = float64(estimate), time.Time{} }

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

package asp

import (
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"

	"github.com/shadowless-dev/shadowless/asp/adapt"
	"github.com/shadowless-dev/shadowless/asp/codec"
)

// Estimator is where a session reads the bandwidth estimate from, in bits per second. The
// default is pion's send-side GCC over transport-wide congestion control feedback; tests
// and deployments with their own estimator pass one with WithEstimator.
type Estimator interface {
	GetTargetBitrate() int
}

// WithEstimator replaces GCC: every session asks newEstimator for its estimator. The
// session still caps the estimate when it is application-limited and splits it between
// video and the channels.
func WithEstimator(newEstimator func() Estimator) Option {
	return func(c *config) { c.estimator = newEstimator }
}

// WithBandwidth bounds the bandwidth estimate in kbit/s: GCC never goes below minKbps or
// above maxKbps, and starts at startKbps (pion's own default start, 10 kbit/s, would
// make every session begin as a smear). Defaults: 150, 1500, 20000.
func WithBandwidth(minKbps, startKbps, maxKbps int) Option {
	return func(c *config) { c.minKbps, c.startKbps, c.maxKbps = minKbps, startKbps, maxKbps }
}

// WithRefine sets how long the screen must stay still in office mode before the last picture
// is encoded once more at near-lossless quality, so text is sharp (default 300 ms); 0 turns
// refinement off. Lossy encoders blur the first picture of a change, and with damage-driven
// capture nothing else would sharpen it before the next refresh.
func WithRefine(after time.Duration) Option {
	return func(c *config) { c.refine = after; c.refineSet = true }
}

const (
	// motionCeilingKbps is the most video mode and game mode send at 1080p (scaled by
	// pixel count), video and channels together, over a sendCeilingWindow: a closed loop
	// (adapt.SendCeiling) trims the encoder's target to what libvpx really produces. A
	// fixed 7.5 Mbit/s target sent 8.0 Mbit/s on bench 3d (libvpx overshoots fast motion)
	// and 7.2 on video-60 (it undershoots smooth video).
	motionCeilingKbps = 8000
	// motionMaxKbps bounds the encoder's target in video and game mode at 1080p (scaled),
	// whatever room the ceiling's loop finds: an encoder that undershoots may be given
	// this much, but no more, before the picture gets busier.
	motionMaxKbps = 9000
	// sendCeilingWindow is the span the ceiling measures the sent rate over.
	sendCeilingWindow = 2 * time.Second
	// adaptInterval is how often the estimate is turned into an encoder target.
	adaptInterval = 150 * time.Millisecond
	// estimateHeadroom is how far above what was really sent the estimate may be used.
	estimateHeadroom = 2.0
	// keyframeInterval is the least time between two keyframes asked for by the receiver.
	keyframeInterval = 300 * time.Millisecond
	// frameBudget is k of the single-frame VBV: no frame larger than bitrate/fps × k.
	frameBudget = 2
	// linkUtilisation is the share of the estimate the encoder and the channels may plan
	// for: the estimate is of the link, while the target counts payload only (RTP, SRTP and
	// UDP headers add ~5%, NACK retransmissions more, and libvpx overshoots on a burst).
	// Measured over a 2 Mbit/s bottleneck: planning for the whole estimate kept its queue
	// full (p95 latency 465 ms, tail drops).
	linkUtilisation = 0.85
)

// motionFrameBudget is k of the single-frame VBV in video and game mode on a fast link
// (fastLinkBps). A video's scene cut (the bench's workload jumps 2 s ahead on every input
// probe) changes every pixel, and with frameBudget's 2 frames libvpx coded it at its
// coarsest quantiser: VMAF fell to 50–70 for several frames after each cut. Five frame
// intervals at 7.5 Mbit/s are 78 kB, 80 ms of a 8 Mbit/s link.
const motionFrameBudget = 5

// motionBurstFrameBudget replaces motionFrameBudget while the link has never shown
// congestion (loopback, a LAN: the ramp's fast start never ended). libvpx's buffer is k
// frame intervals long, and with 5 a scene cut spent it on one coarse frame, after which
// the next frames were starved (1–2 kB each) and the picture took 20 frames to recover.
// Measured offline on the video workload's landscape with a cut every 0.7 s (1080p60,
// 7.9 Mbit/s): VMAF 1, 3 and 6 frames after a cut 81.6, 82.0, 85.2 with 5 and 85.4, 86.0,
// 88.0 with 12; 20 gained nothing more. Twelve intervals at 8 Mbit/s are 200 kB, 80 ms of
// a 20 Mbit/s link; the first fall of the estimate or loss returns to motionFrameBudget.
const motionBurstFrameBudget = 12

// cutMinQ is the finest quantiser (libvpx scale) of a scene cut's frame in video and game
// mode (adapt.CutDetector). At the mode's own floor (18–20) libvpx coded a cut of the video
// workload at 100 kB, six frames' worth at 8 Mbit/s, and starved the frames after it (1–2
// kB at quantiser 40–46), which blurred the picture as motion compensation smeared it.
// Measured offline on the workload's landscape with a cut every 0.7 s (1080p60, 7.9
// Mbit/s, 12-interval buffer), VMAF of the cut frame and 1, 3, 6 frames after it: 85.6,
// 84.7, 85.8, 87.9 at the floor of 20; 82.8, 86.6, 87.4, 88.8 with 28 (a 49 kB cut that the
// next frames refine); 79.4, 87.3, 87.2, 88.9 with 34, whose cut frame itself scored 82–88
// on bench video-60 against 88–92 with 28.
const cutMinQ = 28

// rampStartGrowth is the ramp's growth a second until the link first shows congestion
// (adapt.Ramp.StartGrowth): from GCC's 1.5 Mbit/s start a video on loopback or a LAN
// reaches motionMaxKbps within its first second in video mode instead of two and a half,
// and the first VMAF sample of bench video-60 was 80–87 against 91–94 after. The
// application-limited cap still holds the estimate to twice what was really sent, and the
// first fall of GCC's estimate or the first loss ends the fast start.
const rampStartGrowth = 8

// motionStartHeadroom replaces estimateHeadroom in video and game mode until the link first
// shows congestion (the ramp's fast start): at twice what was really sent, a video that
// starts at office's 1.3 Mbit/s took a second and a half to reach the send ceiling (each
// doubling waits for the encoder to fill it and for the smoothed sent rate), and bench
// video-60's first second ran at 4 Mbit/s and VMAF 88. The first fall of the estimate or
// loss ends it, as it ends the ramp's fast start, and a measured bottleneck
// (deliveryMeter) denies it: on a 2 Mbit/s link a scroll in video mode was given a 2.9
// Mbit/s target, and the frames it made held the next click's answer.
const motionStartHeadroom = 4.0

// fastLinkBps is the capped estimate from which video and game mode take
// motionFrameBudget: below it (the 2 Mbit/s link), a 5-interval frame would hold the
// link long enough to show in the latency of the next click.
const fastLinkBps = 5_000_000

// frameRatio returns k of the single-frame VBV for a scene mode: in video and game mode on
// a fast link motionBurstFrameBudget until the link first shows congestion and
// motionFrameBudget after, else frameBudget.
func (a *adaptation) frameRatio(m adapt.Mode) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if (m == adapt.ModeVideo || m == adapt.ModeGame) && a.capped >= fastLinkBps {
		if !a.ramp.Congested() {
			return motionBurstFrameBudget
		}
		return motionFrameBudget
	}
	return frameBudget
}

// gccEstimator registers pion's GCC on ir for one peer connection and returns a func that
// yields its estimator once the peer connection exists. The pacer is pion's no-op pacer:
// the leaky-bucket one delays every packet behind a queue (hundreds of ms at low rates), and
// our encoder already keeps frames within the single-frame VBV.
func gccEstimator(ir *interceptor.Registry, minBps, startBps, maxBps int) (func() Estimator, error) {
	got := make(chan cc.BandwidthEstimator, 1)
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(startBps),
			gcc.SendSideBWEMinBitrate(minBps),
			gcc.SendSideBWEMaxBitrate(maxBps),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("gcc: %w", err)
	}
	f.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		select {
		case got <- e:
		default:
		}
	})
	ir.Add(f)
	return func() Estimator {
		select {
		case e := <-got:
			return minEstimator{e, int64(minBps)}
		default:
			return nil
		}
	}, nil
}

// minEstimator enforces the minimum that pion's GCC does not (its loss-based controller
// can fall below it).
type minEstimator struct {
	Estimator
	min int64
}

func (m minEstimator) GetTargetBitrate() int {
	return int(max(int64(m.Estimator.GetTargetBitrate()), m.min))
}

// adaptation is a session's adaptive state: the estimate, the rate controller's target, the
// scene mode and the keyframe limiter. The adapt loop writes the target, the capture loop
// reads it; both hold mu briefly.
type adaptation struct {
	mu       sync.Mutex
	est      Estimator
	rc       *adapt.RateController
	rcSize   [2]int
	budget   adapt.Budget
	floorBps int64

	sentEMA  float64 // bits per second really sent (video + channels)
	estimate int64   // raw estimate
	capped   int64   // after the application-limited cap
	target   adapt.Target
	mode     adapt.Mode

	keys  adapt.KeyframeLimiter
	hello *Hello
	// nacks is the NACK responder, whose retransmission budget follows the estimate.
	nacks *nackResponder
	// delivery measures the rate the bottleneck delivers at (nil: not measured), and
	// deliveredBps is its latest reading, taken in update.
	delivery     *deliveryMeter
	deliveredBps int64
	// floorSeenBps is the most the path was seen to carry lately (deliveryMeter's
	// floor, at least deliveredBps): how fast the link is at least, for the quantiser
	// floor, refinement and retransmission budgets.
	floorSeenBps int64
	// pacer holds frames to the link estimate (paced).
	pacer adapt.FramePacer
	// log receives debug lines about frames over their budget (nil: none).
	log *slog.Logger
	// gov lowers the picture size when frames overrun a measured bottleneck.
	gov adapt.SizeGovernor
	// lastRefine is the size of the last refinement frame in bytes.
	lastRefine int
	// congestedAt is when the estimate last fell: the estimator saw queueing delay grow or
	// loss, so the link, not the application, limits the session (zero: never).
	congestedAt time.Time
	// ramp raises the estimate faster than GCC in video and game mode; lost says the
	// receiver reported loss since the last update.
	ramp adapt.Ramp
	lost bool
	// linkBps is the last delivery rate measured and linkAt when: the meter forgets
	// within seconds when an office session sends frames too small to sample, but the
	// link has not changed.
	linkBps int64
	linkAt  time.Time
	// ceiling holds what video and game mode send under motionCeilingKbps; it starts
	// afresh each time a motion mode begins. lastUpdate is when update last ran.
	ceiling    adapt.SendCeiling
	wasMotion  bool
	lastUpdate time.Time
}

// refineQuantizers returns the quantiser range of the next refinement frame on the codec's
// scale: adapt.RefineQ while the last refinement (refineFirstGuess before the first)
// takes the link at most refineLinkTime at the estimate, else RefineQ's minimum to 63, so that the encoder's
// single-frame VBV bounds the frame and the picture sharpens within the budget.
func (a *adaptation) refineQuantizers(c codec.Codec) (int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	maxQ := adapt.RefineQ[1]
	rate := max(a.estimate, a.floorBps, a.deliveredBps, a.floorSeenBps)
	size := a.lastRefine
	if size == 0 {
		size = refineFirstGuess
	}
	if time.Duration(int64(size)*8*int64(time.Second)/rate) > refineLinkTime {
		maxQ = 63
	}
	return mapQuantizer(c, adapt.RefineQ[0]), mapQuantizer(c, maxQ)
}

// current returns the target in force and the capture size it was computed for (zero
// before the first update).
func (a *adaptation) current() (adapt.Target, image.Point) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.target, image.Pt(a.rcSize[0], a.rcSize[1])
}

// setMode records the scene mode the capture loop is in.
func (a *adaptation) setMode(m adapt.Mode) {
	a.mu.Lock()
	a.mode = m
	a.mu.Unlock()
}

// setHello records the client's Hello.
func (a *adaptation) setHello(h Hello) {
	a.mu.Lock()
	a.hello = &h
	a.mu.Unlock()
}

// adaptSnapshot is the adaptive state for Stats and /api/sessions.
type adaptSnapshot struct {
	EstimateBps, CappedBps, SentBps int64
	Target                          adapt.Target
	FPS                             int
	mode                            adapt.Mode
	hello                           *Hello
	linkBps                         int64 // the bottleneck's measured capacity (0: none)
}

func (a *adaptation) snapshot() adaptSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return adaptSnapshot{EstimateBps: a.estimate, CappedBps: a.capped, SentBps: int64(a.sentEMA),
		Target: a.target, FPS: min(a.target.FPS, adapt.ProfileFor(a.mode).MaxFPS), mode: a.mode, hello: a.hello,
		linkBps: a.deliveredBps}
}

// update turns the estimate into a target. sentBps is what the session sent over the last
// interval (video and channels), chanBps what the channels sent; w×h is the capture size.
func (a *adaptation) update(now time.Time, sentBps, chanBps int64, w, h int, maxFPS int, minKbps, maxKbps int) (adapt.Target, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rc == nil || a.rcSize != [2]int{w, h} {
		a.rc = adapt.NewRateController(adapt.RateConfig{Width: w, Height: h, MaxFPS: maxFPS,
			MinKbps: minKbps, MaxKbps: maxKbps, FrameBudget: frameBudget})
		a.rcSize = [2]int{w, h}
	}
	a.rc.SetScaleCap(a.gov.Scale())
	// A smoothed sent rate: a frame of a change goes out in one burst, an average over one
	// interval would swing between 0 and several times the rate.
	a.sentEMA = 0.6*a.sentEMA + 0.4*float64(sentBps)
	est := a.floorBps
	if a.est != nil {
		est = int64(a.est.GetTargetBitrate())
	}
	fell := a.estimate > 0 && est*100 < a.estimate*97
	if fell {
		a.congestedAt = now
	}
	a.estimate = est
	// Video and game mode ramp up faster than GCC and keep 60 fps on the motion ladder;
	// office keeps GCC's pace, its bursts are rare and its rate low. The ramp runs in
	// office too, so that a video that starts (the classifier needs a second to see it)
	// finds it already up.
	motion := a.mode == adapt.ModeVideo || a.mode == adapt.ModeGame
	ev := adapt.RampClear
	switch {
	case a.lost:
		ev = adapt.RampLoss
	case fell:
		ev = adapt.RampFell
	}
	a.lost = false
	a.ramp.Max = int64(float64(maxKbps) * 1000 / linkUtilisation)
	a.ramp.StartGrowth = rampStartGrowth
	use := a.ramp.Update(now, est, ev)
	if !motion {
		use = est
	}
	a.rc.SetMotion(motion)
	if a.delivery != nil {
		a.deliveredBps, a.floorSeenBps = a.delivery.rate()
		if a.deliveredBps > 0 {
			a.linkBps, a.linkAt = a.deliveredBps, now
		}
	}
	headroom := estimateHeadroom
	if motion && !a.ramp.Congested() && a.deliveredBps == 0 {
		headroom = motionStartHeadroom
	}
	a.capped = adapt.CapEstimate(use, int64(a.sentEMA), a.floorBps, headroom)
	if a.nacks != nil {
		a.nacks.setEstimate(max(est, a.deliveredBps, a.floorSeenBps))
	}
	video, data := a.budget.Split(int64(float64(a.capped)*linkUtilisation), chanBps)
	if motion {
		video = min(video, a.motionCeiling(now, sentBps, w, h))
	}
	a.wasMotion, a.lastUpdate = motion, now
	a.target = a.rc.Update(now, video)
	return a.target, data
}

// motionCeiling returns the largest video target the send ceiling allows in video and game
// mode, given that sentBps was sent (video and channels) since the last update under the
// target then in force. The ceiling starts afresh when a motion mode begins: what office
// sent under its own, application-limited target says nothing about a video's.
func (a *adaptation) motionCeiling(now time.Time, sentBps int64, w, h int) int64 {
	pixels := float64(w*h) / (1920 * 1080)
	if limit := int64(motionCeilingKbps * 1000 * pixels); !a.wasMotion || a.ceiling.Limit != limit {
		a.ceiling = adapt.SendCeiling{Limit: limit, Max: int64(motionMaxKbps * 1000 * pixels), Window: sendCeilingWindow}
		return a.ceiling.Allowed()
	}
	dur := now.Sub(a.lastUpdate)
	if a.lastUpdate.IsZero() || dur <= 0 {
		return a.ceiling.Allowed()
	}
	bits := int64(float64(sentBps) * dur.Seconds())
	return a.ceiling.Update(now, dur, bits, int64(a.target.BitrateKbps)*1000)
}

const (
	// paceFactor is how far above GCC's estimate the frame pacer lets video go. At 1 the
	// estimate could never be seen exceeded and GCC, which grows by some 8% a second while
	// it sees no congestion, would take tens of seconds to find a fast link; well above 1
	// the bottleneck queue fills before GCC backs off.
	paceFactor = 1.25
	// deliveredShare is the share of the measured delivery rate (deliveryMeter) the frame
	// pacer fills when there is a measurement: what the bottleneck really carries is a
	// better guide than GCC's estimate, which climbs past it while the session sends
	// little (2.3 Mbit/s on a 2 Mbit/s link); the rest is for retransmissions and the
	// channels, so the bottleneck queue drains.
	deliveredShare = 0.9
	// paceHold is how long after the estimate last fell the frame pacer stays on. Only a
	// congested link needs it: pion's GCC climbs some 8% a second, and pacing to it
	// from the start would hold a fast link (loopback, a LAN) to its start value for
	// tens of seconds.
	paceHold = 10 * time.Second
	// refineLinkTime is the longest a refinement frame at RefineQ may hold the link: when
	// the last one took longer at the estimate, the next is left to the single-frame VBV
	// (any quantiser up to 63), so a still screen's sharpening never delays the answer to
	// the next click by more than about this.
	refineLinkTime = 120 * time.Millisecond
	// refineFirstGuess is the size assumed for a refinement before one was measured: a
	// busy 1080p page at RefineQ, measured at 60-170 kB.
	refineFirstGuess = 60_000
)

// paced returns when the next frame may be encoded after a frame of n bytes went out at
// now: not before next (the frame rate in force), and not before the link, at
// deliveredShare × the rate it was measured to deliver at (deliveryMeter), or
// paceFactor × the capped estimate before there is a measurement, has carried what is in
// flight beyond one frame interval's worth, while the link limits (linkLimited). This
// enforces the single-frame VBV where the encoder cannot keep it (libvpx cannot shrink a
// frame of scrolling 1080p text below what its largest quantiser gives): a frame over its
// budget costs the frames after it, not a standing queue in the network. kind is the frame's kind ("key", "delta", "refine"); a refinement's size sets
// the next one's quantisers (refineQuantizers).
func (a *adaptation) paced(next, now time.Time, n, fps int, kind string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	rate := a.paceRate()
	if kind == "refine" {
		a.lastRefine = n
	}
	if kind == "key" {
		// No new keyframe while this one may still be on its way: a 100 kB keyframe
		// takes 400 ms of a 2 Mbit/s link, and a client that keeps asking (it does every
		// 300 ms until one arrives) would otherwise get one keyframe after another, each
		// overflowing the queue the last one filled.
		a.keys.MinInterval = max(keyframeInterval, 2*time.Duration(int64(n)*8*int64(time.Second)/max(rate, 1)))
	}
	limited := a.linkLimited(now)
	if kind == "delta" && a.deliveredBps > 0 {
		// The budget of a measured bottleneck, not the encoder's target: a frame within
		// it does not hold the link for more than frameBudget frame intervals.
		budget := int(float64(rate) / 8 / float64(max(fps, 1)) * frameBudget)
		if a.gov.Frame(now, n, budget) && a.log != nil {
			a.log.Debug("picture size governor", "scale", a.gov.Scale(), "bytes", n, "budget", budget)
		}
	}
	if a.log != nil && a.target.MaxFrameBytes > 0 && n > a.target.MaxFrameBytes {
		a.log.Debug("frame over budget", "kind", kind, "bytes", n, "budget", a.target.MaxFrameBytes,
			"target_kbps", a.target.BitrateKbps, "estimate", a.estimate, "mode", a.mode.String())
	}
	a.pacer.Sent(now, n, rate)
	if !limited {
		return next
	}
	at := a.pacer.NextAt(now, int(rate/8/int64(max(fps, 1))))
	if at.After(next) {
		return at
	}
	return next
}

// spreadBurst is the least part of a frame that leaves back to back on a congested link;
// the rest is spread at the pacing rate (spreadRate). 16 packets fit the smallest
// router buffers; a larger burst of a 1080p refinement or keyframe would be tail-dropped
// at a 2 Mbit/s bottleneck, and its repair cost more than the spreading.
const spreadBurst = 16 * rtpPayloadMTU

// spreadFactor is how far above GCC's estimate the packets of one frame may leave when
// they are spread (libwebrtc paces at 2.5 × its estimate too): fast enough that a frame
// is not held long, slow enough that a 1080p keyframe (260 kB for a busy page) does not
// arrive at a 10 Mbit/s router faster than its 200 ms buffer drains.
const spreadFactor = 2.5

// spreadDeliveredFactor replaces spreadFactor once the delivery rate is measured: spread
// at 1.5 × what the bottleneck delivers, a 110 kB frame grows its queue by a third of its
// size (37 kB, inside a 2 Mbit/s router's 50 kB), while the bursts still show the meter
// a link that got faster.
const spreadDeliveredFactor = 1.5

// spreadRate returns how fast the packets of one frame may leave (bytes per second) and
// how many bytes may go back to back first: spreadFactor × the estimate with a burst of
// 40 ms of it (at least spreadBurst), for keyframes always and for other frames while
// the link is congested (paceHold); 0 otherwise (no spreading, as on a LAN). It never
// holds a packet behind another frame: only the frame's own packets wait, for at most
// the time the link needs to carry them.
func (a *adaptation) spreadRate(key bool) (float64, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !key && !a.linkLimited(time.Now()) {
		return 0, 0
	}
	rate := float64(max(a.estimate, a.floorBps)) * spreadFactor / 8
	if a.deliveredBps > 0 {
		rate = float64(a.deliveredBps) * spreadDeliveredFactor / 8
	}
	return rate, max(spreadBurst, int(rate*0.040))
}

const (
	// slowLinkBitsPerPixel is the link rate per captured pixel (bits per second) below
	// which the quantiser floor is raised to slowLinkMinQ: about 4 Mbit/s at 1920×1080.
	slowLinkBitsPerPixel = 2.0
	// slowLinkMinQ is the finest quantiser (libvpx scale) on a slow link. With office's
	// floor of 2, libvpx's rate control coded a full-screen change after quiet frames at a
	// fine quantiser: 90–130 kB frames at a 1.3 Mbit/s target, half a second of a 2 Mbit/s
	// link each. Refinement still sharpens a still screen within the link.
	slowLinkMinQ = 28
)

// minQuantizer returns the quantiser floor (libvpx scale) for a profile's minQ: raised to
// slowLinkMinQ while the link (the estimate, the measured delivery rate or its floor, or
// in video and game mode the ramped estimate the encoder's target follows) is slow for the
// capture size. Without the ramp a video kept the slow floor while its target was already at the
// send ceiling, as GCC's own estimate climbs from 1.5 Mbit/s for tens of seconds.
func (a *adaptation) minQuantizer(minQ int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	link := max(a.estimate, a.deliveredBps, a.floorSeenBps)
	if a.mode == adapt.ModeVideo || a.mode == adapt.ModeGame {
		link = max(link, a.capped)
	}
	pixels := a.rcSize[0] * a.rcSize[1]
	if link > 0 && pixels > 0 && float64(link)/float64(pixels) < slowLinkBitsPerPixel {
		return max(minQ, slowLinkMinQ)
	}
	return minQ
}

// frameBudget is the byte budget a frame at fps is held to (capGate) at now, or 0 for no
// cap: a frame clogs the link, not the target. On a bottleneck whose capacity is measured
// (deliveryMeter: packets queued behind one another, the last measurement for paceHold)
// and that is slow for the capture size (below slowLinkBitsPerPixel), it is frameBudget
// frame intervals of the share of it the pacer drains at, or of the encoder's target kbps
// when that is higher; on a link that only showed congestion (the estimate fell, the
// receiver lost packets, within paceHold) without a measurement, of the encoder's target.
// A faster link carries even a full-screen redraw (50–100 kB) within 60–100 ms, and the
// trial encode of a capped frame costs: libvpx's rate control counts it as a frame of its
// own, and at 10 Mbit/s the trials cost fileops 1–3 VMAF points. A link with neither has
// room for a redraw at once: capping an office session's frames to its low,
// application-limited target there blurred them (fileops VMAF 91–93 against 95–97
// without the cap, on loopback and at 10 Mbit/s).
func (a *adaptation) frameBudget(now time.Time, encoderKbps, fps int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if fps <= 0 || encoderKbps <= 0 {
		return 0
	}
	bps := float64(encoderKbps) * 1000
	switch {
	case a.linkBps > 0 && now.Sub(a.linkAt) <= paceHold:
		if pixels := a.rcSize[0] * a.rcSize[1]; pixels > 0 && float64(a.linkBps)/float64(pixels) >= slowLinkBitsPerPixel {
			return 0
		}
		bps = max(bps, float64(a.linkBps)*deliveredShare)
	case !a.congestedAt.IsZero() && now.Sub(a.congestedAt) <= paceHold:
	default:
		return 0
	}
	return max(int(bps/8/float64(fps)*frameBudget), capFloorBytes)
}

// paceRate is the rate the frame pacer drains at: deliveredShare × the measured delivery
// rate, or paceFactor × paceBase before there is a measurement.
func (a *adaptation) paceRate() int64 {
	if a.deliveredBps > 0 {
		return int64(float64(a.deliveredBps) * deliveredShare)
	}
	return int64(float64(a.paceBase()) * paceFactor)
}

// paceBase is the rate pacing and spreading start from: the estimate after the
// application-limited cap (GCC's own climbs past the link while the session sends little,
// measured 2.3 Mbit/s on a 2 Mbit/s link), never below the floor.
func (a *adaptation) paceBase() int64 {
	return max(min(a.estimate, a.capped), a.floorBps)
}

// refineAllowed reports whether the link affords a refinement frame: one of the last
// refinement's size (refineFirstGuess before the first) takes it at most
// 4 × refineLinkTime at the estimate; refineQuantizers then bounds it further. On a slower
// link a still screen is not sharpened: a 30–70 kB refinement at 2 Mbit/s holds the next
// click's answer for 150–300 ms.
func (a *adaptation) refineAllowed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	size := a.lastRefine
	if size == 0 {
		size = refineFirstGuess
	}
	rate := max(a.estimate, a.floorBps, a.deliveredBps, a.floorSeenBps)
	return time.Duration(int64(size)*8*int64(time.Second)/rate) <= 4*refineLinkTime
}

// resent counts n bytes of NACK retransmissions against the frame pacer: they take the
// link as frames do, and on a saturated link the next frame must wait for them too.
func (a *adaptation) resent(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rate := a.paceRate()
	a.pacer.Sent(time.Now(), n, rate)
}

// linkLimited reports whether frames are paced and spread: while a bottleneck's capacity
// is measured (deliveryMeter: packets queued at a link; on a LAN or loopback nothing
// queues and there is no measurement), and for paceHold after the estimate fell or the
// receiver lost packets. Without the measurement, GCC's estimate, which climbs past the link while the
// session sends little (3.8 Mbit/s on a 2 Mbit/s link), let a 52 kB frame follow an
// 18 kB one within 50 ms into a 50 kB router queue.
func (a *adaptation) linkLimited(now time.Time) bool {
	return a.deliveredBps > 0 || !a.congestedAt.IsZero() && now.Sub(a.congestedAt) <= paceHold
}

// bottleneck reports whether a bottleneck's capacity is measured (deliveryMeter): then
// the frame pacer holds new pictures too, not only re-sends. On the estimate's word alone
// it does not: GCC's estimate dips on loopback under load, and holding a 60 fps video to
// paceFactor × an estimate that lags it halved its bitrate (video-60 4 against 7 Mbit/s).
func (a *adaptation) bottleneck() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deliveredBps > 0
}

// lossSeen records that the receiver reported loss (a NACK): the link is congested or
// lossy, so frames are paced and spread for a while (paceHold).
func (a *adaptation) lossSeen() {
	a.mu.Lock()
	a.congestedAt = time.Now()
	a.lost = true
	a.mu.Unlock()
}

// spreader spaces the packets of one frame: the first burst bytes go at once, the rest
// at rate.
type spreader struct {
	rate  float64
	burst int
	start time.Time
	sent  int
}

func newSpreader(f func(key bool) (float64, int), key bool) spreader {
	if f == nil {
		return spreader{}
	}
	rate, burst := f(key)
	return spreader{rate: rate, burst: burst, start: time.Now()}
}

// wait sleeps until a packet of n bytes may leave.
func (s *spreader) wait(n int) {
	if s.rate <= 0 {
		return
	}
	if over := s.sent - s.burst; over > 0 {
		if d := time.Until(s.start.Add(time.Duration(float64(over) / s.rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
	}
	s.sent += n
}

// requestKeyframe records a keyframe request.
func (a *adaptation) requestKeyframe() {
	a.mu.Lock()
	a.keys.Request()
	if a.log != nil {
		a.log.Debug("keyframe requested", "pending_until", a.keys.PendingAt(), "min_interval", a.keys.MinInterval)
	}
	a.mu.Unlock()
}

// keyframeDue reports whether the next frame must be a keyframe, and when a pending but
// rate-limited request becomes due (zero when none is pending).
func (a *adaptation) keyframeDue(now time.Time) (bool, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys.Due(now) {
		return true, time.Time{}
	}
	return false, a.keys.PendingAt()
}

// keyframeSent tells the limiter a keyframe went out.
func (a *adaptation) keyframeSent(now time.Time) {
	a.mu.Lock()
	a.keys.Sent(now)
	a.mu.Unlock()
}

// mapQuantizer maps a quantiser on libvpx's 0–63 scale (adapt.Profile) to the codec's own.
func mapQuantizer(c codec.Codec, q int) int {
	if c == codec.H264 {
		return max((q*51+31)/63, 1)
	}
	return max(q, 1)
}

// adaptLoop turns the bandwidth estimate into the encoder target every adaptInterval: the
// estimate is capped to what the session really sends (application-limited), split between
// the channels and video, and the rate controller picks bitrate, frame rate and size. The
// capture loop applies the target at its next frame.
func (s *session) adaptLoop() {
	defer s.wg.Done()
	t := time.NewTicker(adaptInterval)
	defer t.Stop()
	m := s.srv.metrics
	cfg := s.srv.cfg
	var lastVideo, lastChan uint64
	var gEst, gTarget float64
	var gMode adapt.Mode
	ticks := 0
	last := time.Now()
	defer func() {
		m.bwe.Sub(gEst)
		m.target.Sub(gTarget)
		if gMode != 0 {
			m.modes.WithLabelValues(gMode.String()).Dec()
		}
	}()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			video, chans := s.bytes.Load(), s.chanBytes.Load()
			secs := now.Sub(last).Seconds()
			if secs <= 0 {
				continue
			}
			sent := int64(float64(video-lastVideo+chans-lastChan) * 8 / secs)
			chanRate := int64(float64(chans-lastChan) * 8 / secs)
			lastVideo, lastChan, last = video, chans, now
			s.mu.RLock()
			size := s.size
			s.mu.RUnlock()
			target, data := s.adapt.update(now, sent, chanRate, size.X&^1, size.Y&^1, int(cfg.frameRate), cfg.minKbps, cfg.bitrateKbps)
			s.setDataRate(data, now)
			snap := s.adapt.snapshot()
			if ticks++; ticks%7 == 0 {
				s.log.Debug("adapt", "estimate", snap.EstimateBps, "capped", snap.CappedBps, "sent", snap.SentBps,
					"target_kbps", target.BitrateKbps, "fps", target.FPS, "width", target.Width, "mode", snap.mode.String(),
					"link", snap.linkBps)
			}
			est := float64(snap.CappedBps)
			m.bwe.Add(est - gEst)
			m.target.Add(float64(target.BitrateKbps)*1000 - gTarget)
			gEst, gTarget = est, float64(target.BitrateKbps)*1000
			if snap.mode != gMode {
				if gMode != 0 {
					m.modes.WithLabelValues(gMode.String()).Dec()
				}
				m.modes.WithLabelValues(snap.mode.String()).Inc()
				gMode = snap.mode
			}
		}
	}
}

// SessionInfo is one session as GET /api/sessions lists it.
type SessionInfo struct {
	ID      string   `json:"id"`
	Codec   string   `json:"codec"`
	Encoder string   `json:"encoder"`
	Reasons []string `json:"reasons"`
	// HardwareEncode and HardwareDecode say whether the chosen pair runs in hardware.
	HardwareEncode bool `json:"hardware_encode"`
	HardwareDecode bool `json:"hardware_decode"`
	ScreenWidth    int  `json:"screen_width"`
	ScreenHeight   int  `json:"screen_height"`
	VideoWidth     int  `json:"video_width"`
	VideoHeight    int  `json:"video_height"`
	// EstimateBps is GCC's estimate; CappedBps after the application-limited cap; SentBps
	// what the session really sends (smoothed).
	EstimateBps int64  `json:"estimate_bps"`
	CappedBps   int64  `json:"capped_bps"`
	SentBps     int64  `json:"sent_bps"`
	TargetKbps  int    `json:"target_kbps"`
	TargetFPS   int    `json:"target_fps"`
	MaxFrame    int    `json:"max_frame_bytes"`
	Mode        string `json:"mode"`
	// Client is what the client said about itself (decoders from the SDP offer and, from a
	// native client, its capability block).
	Client ClientInfo `json:"client"`
	Frames uint64     `json:"frames"`
	Bytes  uint64     `json:"bytes"`
}

// ClientInfo is the client part of SessionInfo.
type ClientInfo struct {
	Agent        string        `json:"agent,omitempty"`
	Decoders     []DecoderInfo `json:"decoders"`
	ScreenWidth  int           `json:"screen_width,omitempty"`
	ScreenHeight int           `json:"screen_height,omitempty"`
	DPI          int           `json:"dpi,omitempty"`
	InputDevices []string      `json:"input_devices,omitempty"`
}

func (s *session) info() SessionInfo {
	a := s.adapt.snapshot()
	s.mu.RLock()
	size := s.size
	s.mu.RUnlock()
	in := SessionInfo{
		ID: s.id, Codec: string(s.codec), Encoder: s.choice.Encoder, Reasons: s.choice.Reasons,
		HardwareEncode: s.choice.HardwareEncode, HardwareDecode: s.choice.HardwareDecode,
		ScreenWidth: size.X, ScreenHeight: size.Y,
		VideoWidth: int(s.videoW.Load()), VideoHeight: int(s.videoH.Load()),
		EstimateBps: a.EstimateBps, CappedBps: a.CappedBps, SentBps: a.SentBps,
		TargetKbps: a.Target.BitrateKbps, TargetFPS: a.FPS, MaxFrame: a.Target.MaxFrameBytes,
		Mode: a.mode.String(), Frames: s.frames.Load(), Bytes: s.bytes.Load(),
		Client: ClientInfo{ScreenWidth: s.caps.ScreenWidth, ScreenHeight: s.caps.ScreenHeight,
			DPI: s.caps.DPI, InputDevices: s.caps.InputDevices, Decoders: []DecoderInfo{}},
	}
	for _, d := range s.caps.Decoders {
		in.Client.Decoders = append(in.Client.Decoders, DecoderInfo{Codec: string(d.Codec), Hardware: d.Hardware,
			MaxWidth: d.MaxWidth, MaxHeight: d.MaxHeight})
	}
	if h := a.hello; h != nil {
		in.Client.Agent = h.Agent
		if c := h.Caps; c != nil && in.Client.ScreenWidth == 0 {
			in.Client.ScreenWidth, in.Client.ScreenHeight, in.Client.DPI = c.ScreenWidth, c.ScreenHeight, c.DPI
			in.Client.InputDevices = c.InputDevices
		}
	}
	return in
}

// SessionList returns the open sessions with their negotiation and adaptation state.
func (s *Server) SessionList() []SessionInfo {
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	out := make([]SessionInfo, 0, len(list))
	for _, sess := range list {
		out = append(out, sess.info())
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// handleSessions serves GET /api/sessions: a JSON array of SessionInfo.
func (s *Server) handleSessions(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.SessionList())
}

package harness

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/benchmarks/netem"
)

// LossBurst schedules a burst of packet loss on the emulated network during the
// measurement, and makes the run measure how long the picture takes to be whole again.
type LossBurst struct {
	// At is when the burst starts, counted from the start of the measurement (default 3 s).
	At time.Duration
	// Length of the burst (e.g. 1 s).
	Length time.Duration
	// Loss is the probability that a packet is lost during the burst, in each direction.
	Loss float64
}

// IsZero reports whether no burst is scheduled.
func (b LossBurst) IsZero() bool { return b.Length <= 0 }

// String renders the burst as --loss-burst writes it, e.g. "1s,10%,3s".
func (b LossBurst) String() string {
	return fmt.Sprintf("%s,%s%%,%s", b.Length, strconv.FormatFloat(b.Loss*100, 'f', -1, 64), b.At)
}

// ErrLossBurst is returned by ParseLossBurst for a malformed burst.
var ErrLossBurst = errors.New("harness: bad loss burst")

// DefaultBurstAt is when a burst starts when its spec does not say.
const DefaultBurstAt = 3 * time.Second

// recoveryWindow is how long after a burst frames are judged: a picture still broken then
// counts as not recovered.
const recoveryWindow = 3 * time.Second

// ParseLossBurst reads "LENGTH,LOSS[,AT]" such as "1s,10%" or "1s,10%,5s": a burst of
// LENGTH with LOSS (a percentage or a fraction) in each direction, starting AT into the
// measurement (default DefaultBurstAt).
func ParseLossBurst(s string) (LossBurst, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	if len(parts) < 2 || len(parts) > 3 {
		return LossBurst{}, fmt.Errorf("%w: %q (want LENGTH,LOSS[,AT] such as 1s,10%%)", ErrLossBurst, s)
	}
	b := LossBurst{At: DefaultBurstAt}
	d, err := time.ParseDuration(strings.TrimSpace(parts[0]))
	if err != nil || d <= 0 {
		return LossBurst{}, fmt.Errorf("%w: length %q", ErrLossBurst, parts[0])
	}
	b.Length = d
	l := strings.TrimSpace(parts[1])
	v, err := strconv.ParseFloat(strings.TrimSuffix(l, "%"), 64)
	if err != nil {
		return LossBurst{}, fmt.Errorf("%w: loss %q", ErrLossBurst, parts[1])
	}
	if strings.HasSuffix(l, "%") {
		v /= 100
	}
	if v <= 0 || v > 1 {
		return LossBurst{}, fmt.Errorf("%w: loss %q is outside (0, 100%%]", ErrLossBurst, parts[1])
	}
	b.Loss = v
	if len(parts) == 3 {
		at, err := time.ParseDuration(strings.TrimSpace(parts[2]))
		if err != nil || at < 0 {
			return LossBurst{}, fmt.Errorf("%w: start %q", ErrLossBurst, parts[2])
		}
		b.At = at
	}
	return b, nil
}

// Recovery is what a loss burst did to the picture.
type Recovery struct {
	// Burst as given ("1s,10%,3s").
	Burst string `json:"burst"`
	// RelayLost is the packets the burst dropped (both directions).
	RelayLost uint64 `json:"relay_lost"`
	// ClientPacketsLost: RTP packets the client gave up on between the burst's start and
	// the end of the recovery window (NACK did not bring them back in time).
	ClientPacketsLost uint64 `json:"client_packets_lost"`
	// DecodeErrors counted by the client in the same span.
	DecodeErrors uint64 `json:"decode_errors"`
	// Frames judged (decoded from the burst's start to the end of the recovery window),
	// and of them Broken: the decoded picture differs from the captured one with the same
	// stamp (or carries no readable stamp).
	Frames int `json:"frames"`
	Broken int `json:"broken"`
	// Keyframes the server sent in the same span.
	Keyframes int `json:"keyframes"`
	// Recovered is false when the picture was still broken at the end of the window.
	Recovered bool `json:"recovered"`
	// MS is the time from the burst's end to the first whole frame after the last broken
	// one (0 when the picture was whole by the burst's end).
	MS float64 `json:"ms"`
	// Threshold is the block error above which a frame counts as broken, from the frames
	// before the burst (BaselineErr, their 90th percentile).
	Threshold   float64 `json:"threshold"`
	BaselineErr float64 `json:"baseline_err"`
}

// thumbBlock is the side of the blocks a thumbnail averages (at the capture size).
const thumbBlock = 8

// thumb is a picture's luma averaged over thumbBlock×thumbBlock blocks of the capture
// size. A decoder that lost a reference shows misplaced or smeared blocks whose means are
// far from the original, while coding noise barely moves them.
type thumb struct {
	w, h int
	px   []uint8
}

// makeThumb averages img's luma into a thumbnail of the blocks of a capW×capH picture, so
// that a picture encoded at a smaller size maps onto the same grid as the capture.
func makeThumb(img *image.YCbCr, capW, capH int) thumb {
	tw, th := max(capW/thumbBlock, 1), max(capH/thumbBlock, 1)
	t := thumb{w: tw, h: th, px: make([]uint8, tw*th)}
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	if iw <= 0 || ih <= 0 {
		return t
	}
	for ty := 0; ty < th; ty++ {
		y0, y1 := ty*ih/th, max((ty+1)*ih/th, ty*ih/th+1)
		for tx := 0; tx < tw; tx++ {
			x0, x1 := tx*iw/tw, max((tx+1)*iw/tw, tx*iw/tw+1)
			sum, n := 0, 0
			for y := y0; y < y1 && y < ih; y++ {
				row := img.Y[img.YOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
				for x := x0; x < x1 && x < iw; x++ {
					sum += int(row[x])
				}
				n += min(x1, iw) - x0
			}
			if n > 0 {
				t.px[ty*tw+tx] = uint8(sum / n)
			}
		}
	}
	return t
}

// thumbErr is the error between two thumbnails: the mean of the worst 1% of block
// differences, so that a damaged region stands out however small the rest of the change.
func thumbErr(a, b thumb) float64 {
	if a.w != b.w || a.h != b.h || len(a.px) == 0 {
		return 255
	}
	d := make([]int, len(a.px))
	for i := range a.px {
		d[i] = absInt(int(a.px[i]) - int(b.px[i]))
	}
	slices.Sort(d)
	n := max(len(d)/100, 1)
	sum := 0
	for _, v := range d[len(d)-n:] {
		sum += v
	}
	return float64(sum) / float64(n)
}

// bestErr is the least thumbErr of t against the captures that carry its stamp: the
// workload may be captured mid-drawing, so one stamp can stand for several pictures.
func bestErr(t thumb, refs []thumb) float64 {
	best := 255.0
	for _, r := range refs {
		best = min(best, thumbErr(t, r))
	}
	return best
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// burstFrame is one frame the client decoded around a burst.
type burstFrame struct {
	decoded time.Time
	stamped bool
	frame   uint32 // stamp frame number
	th      thumb
}

// judgeRecovery decides, for the frames decoded around a burst from from to to, which
// are broken (their thumbnail is far from the capture's with the same stamp, or the stamp
// is unreadable) and how long after to the picture was whole again. refs holds the
// captures' thumbnails by stamp frame number (several when one stamp was captured more
// than once; the closest counts). The threshold is set from the frames before
// the burst: three times their 90th-percentile error, from 24 to 64 grey levels.
func judgeRecovery(frames []burstFrame, refs map[uint32][]thumb, from, to time.Time) Recovery {
	// minThreshold and maxThreshold bound the threshold: a baseline already broken (a loss
	// before the burst) must not make the judge blind.
	const minThreshold, maxThreshold = 24, 64
	var base []float64
	for _, f := range frames {
		if f.decoded.Before(from) && f.stamped {
			if r, ok := refs[f.frame]; ok {
				base = append(base, bestErr(f.th, r))
			}
		}
	}
	rc := Recovery{Threshold: minThreshold}
	if len(base) > 0 {
		slices.Sort(base)
		rc.BaselineErr = base[len(base)*9/10]
		rc.Threshold = min(maxThreshold, max(minThreshold, 3*rc.BaselineErr))
	}
	oldest := uint32(math.MaxUint32)
	for n := range refs {
		oldest = min(oldest, n)
	}
	var lastBroken time.Time
	var broken []bool
	var judged []burstFrame
	for _, f := range frames {
		if f.decoded.Before(from) || f.decoded.After(to.Add(recoveryWindow)) {
			continue
		}
		bad := !f.stamped
		if !bad {
			r, ok := refs[f.frame]
			switch {
			case ok:
				bad = bestErr(f.th, r) > rc.Threshold
			case f.frame < oldest:
				// A still picture captured before the span (a refinement or a
				// keyframe of it): nothing to compare with.
				continue
			default:
				bad = true // a stamp no capture had: the stamp itself was misdecoded
			}
		}
		rc.Frames++
		judged = append(judged, f)
		broken = append(broken, bad)
		if bad {
			rc.Broken++
			lastBroken = f.decoded
		}
	}
	switch {
	case lastBroken.IsZero() || lastBroken.Before(to) && followedByWhole(judged, broken, lastBroken, to):
		rc.Recovered = true
	default:
		for i, f := range judged {
			if f.decoded.After(lastBroken) && !broken[i] {
				rc.Recovered = true
				rc.MS = ms(f.decoded.Sub(to))
				break
			}
		}
	}
	if !rc.Recovered {
		rc.MS = ms(recoveryWindow)
	}
	return rc
}

// followedByWhole reports whether a whole frame was decoded after the last broken one and
// before the burst's end.
func followedByWhole(frames []burstFrame, broken []bool, lastBroken, to time.Time) bool {
	for i, f := range frames {
		if f.decoded.After(lastBroken) && !f.decoded.After(to) && !broken[i] {
			return true
		}
	}
	return false
}

// burstCounters are the client's counters at the start of a burst and at the end of its
// recovery window, and the burst's span.
type burstCounters struct {
	from, to      time.Time
	before, after client.Counters
}

// scheduleBurst arms the relay's loss burst relative to the measurement's start, opens the
// span in which frames are judged (from 1.5 s before the burst, for the baseline, to the
// end of the recovery window) and sends the client's counters around it when the window
// closes.
func (r *run) scheduleBurst(ctx context.Context, conn *client.Conn, relay *netem.Relay, start time.Time) chan burstCounters {
	b := r.cfg.LossBurst
	from := start.Add(b.At)
	to := from.Add(b.Length)
	win := [2]time.Time{from.Add(-1500 * time.Millisecond), to.Add(recoveryWindow)}
	r.mu.Lock()
	r.burstWin = win
	r.mu.Unlock()
	r.rec.mu.Lock()
	r.rec.burstWin, r.rec.burstSize = win, image.Pt(r.cfg.Width&^1, r.cfg.Height&^1)
	r.rec.mu.Unlock()
	relay.SetBurst(netem.Burst{From: from, To: to, Loss: b.Loss})
	done := make(chan burstCounters, 1)
	go func() {
		bc := burstCounters{from: from, to: to}
		if sleep(ctx, time.Until(from)) != nil {
			return
		}
		bc.before = conn.Counters()
		if sleep(ctx, time.Until(win[1])) != nil {
			return
		}
		bc.after = conn.Counters()
		done <- bc
	}()
	return done
}

// recovery judges the frames decoded around the burst.
func (r *run) recovery(bc burstCounters, relay netem.Stats) *Recovery {
	r.mu.Lock()
	frames := append([]burstFrame(nil), r.burstFrames...)
	r.mu.Unlock()
	r.rec.mu.Lock()
	refs := r.rec.burstRefs
	keys := 0
	for _, ev := range r.rec.events {
		if ev.Keyframe && !ev.Dropped && !ev.EncodeEnd.Before(bc.from) && !ev.EncodeEnd.After(bc.to.Add(recoveryWindow)) {
			keys++
		}
	}
	r.rec.mu.Unlock()
	rc := judgeRecovery(frames, refs, bc.from, bc.to)
	rc.Burst = r.cfg.LossBurst.String()
	rc.RelayLost = relay.UpBurstLost + relay.DownBurstLost
	rc.ClientPacketsLost = bc.after.PacketsLost - bc.before.PacketsLost
	rc.DecodeErrors = bc.after.DecodeErrors - bc.before.DecodeErrors
	rc.Keyframes = keys
	return &rc
}

// upscaleNearest returns src enlarged to w×h by nearest neighbour: what the client shows
// when the server sent a smaller picture (the rate controller lowered the size), so that
// the stamp and the thumbnails read as on the capture.
func upscaleNearest(src *image.YCbCr, w, h int) *image.YCbCr {
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw <= 0 || sh <= 0 {
		return dst
	}
	for y := 0; y < h; y++ {
		row := src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y*sh/h):]
		out := dst.Y[y*dst.YStride:]
		for x := 0; x < w; x++ {
			out[x] = row[x*sw/w]
		}
	}
	for y := 0; y < h/2; y++ {
		sy := src.Rect.Min.Y + (2*y)*sh/h
		for x := 0; x < w/2; x++ {
			o := src.COffset(src.Rect.Min.X+(2*x)*sw/w, sy)
			dst.Cb[y*dst.CStride+x] = src.Cb[o]
			dst.Cr[y*dst.CStride+x] = src.Cr[o]
		}
	}
	return dst
}

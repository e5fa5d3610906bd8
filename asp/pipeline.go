package asp

import (
	"context"
	"image"
	"sync"
	"time"

	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/yuv"
)

// minFrameGap is the least time between two captured frames, in eighths of the frame
// interval in force: room for a frame a little early (a workload drawing at the capped rate
// jitters against the capture clock: 2 ms at 60 fps), none for one half an interval early.
const minFrameGap = 7

// maxMergedDamage is how many damage rectangles a frame may carry after it absorbed the
// damage of frames it replaced; beyond it the frame counts as fully damaged.
const maxMergedDamage = 64

// grabbed is one captured frame handed from the capture goroutine to the encode loop. Its
// picture is a copy the encode loop owns until it gives the buffer back (frameSlot.release).
type grabbed struct {
	img      *image.YCbCr
	damage   []image.Rectangle // nil: the whole picture
	captured time.Time
	seq      uint64
}

// frameSlot is the depth-1 handoff between capture and encoding: the capture goroutine
// converts frame N+1 while the encoder works on frame N. A frame the encoder has not taken
// yet is replaced by a newer one (never queued), whose damage then includes the replaced
// frame's, so the newest picture always goes out next. The capture goroutine also times
// its grabs to the encoder (captureAt): it starts the next one when the encoder is about
// to finish, so a frame waits little and no CPU goes into frames that would only be
// replaced. Picture buffers are recycled: at most three exist at a time (one encoded or
// kept as the last picture, one waiting, one being filled).
type frameSlot struct {
	mu      sync.Mutex
	pending *grabbed
	err     error
	free    []*image.YCbCr
	stale   uint64 // frames replaced before the encoder took them
	ready   chan struct{}
	taken   chan struct{} // cap 1: the encoder took a frame

	lastTake   time.Time
	encodeEMA  time.Duration // smoothed time the encoder takes per frame
	captureEMA time.Duration // smoothed time a grab takes
	// hold is when the link may take the next frame (the frame pacer, zero: now): no grab
	// starts before it, less the time a grab takes.
	hold time.Time
}

func newFrameSlot() *frameSlot {
	return &frameSlot{ready: make(chan struct{}, 1), taken: make(chan struct{}, 1)}
}

// ema moves a smoothed duration a quarter of the way to d.
func ema(avg, d time.Duration) time.Duration {
	if avg == 0 {
		return d
	}
	return avg + (d-avg)/4
}

// encoded records how long the encoder took for a frame.
func (s *frameSlot) encoded(d time.Duration) {
	s.mu.Lock()
	s.encodeEMA = ema(s.encodeEMA, d)
	s.mu.Unlock()
}

// grabbedIn records how long a grab (reading, converting and copying a frame) took.
func (s *frameSlot) grabbedIn(d time.Duration) {
	s.mu.Lock()
	s.captureEMA = ema(s.captureEMA, d)
	s.mu.Unlock()
}

// holdUntil records when the link may take the next frame (zero: at once). The encode
// loop sets it after each frame from the frame pacer: while the link still carries what
// is in flight, the screen keeps collecting damage instead of the capture grabbing a
// picture that would only grow stale waiting for the link.
func (s *frameSlot) holdUntil(t time.Time) {
	s.mu.Lock()
	s.hold = t
	s.mu.Unlock()
}

// held reports whether a grab started at now would be early for the hold.
func (s *frameSlot) held(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Before(s.hold.Add(-s.captureEMA))
}

// captureAt waits until the frame last put was taken by the encoder (or none waits) and
// returns when the next grab should start: when the encoder is expected to finish the
// frame it took, and not before the hold, less the time a grab takes. It returns false
// when ctx ends.
func (s *frameSlot) captureAt(ctx context.Context) (time.Time, bool) {
	for {
		s.mu.Lock()
		if s.pending == nil {
			at := s.lastTake.Add(s.encodeEMA)
			if s.hold.After(at) {
				at = s.hold
			}
			at = at.Add(-s.captureEMA)
			s.mu.Unlock()
			return at, true
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-s.taken:
		}
	}
}

// buffer returns a picture buffer of w×h to fill: a released one when there is one.
func (s *frameSlot) buffer(w, h int) *image.YCbCr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.free) > 0 {
		b := s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		if b.Rect.Dx() == w && b.Rect.Dy() == h {
			return b
		}
	}
	return image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
}

// release gives a picture buffer back for reuse.
func (s *frameSlot) release(img *image.YCbCr) {
	if img == nil {
		return
	}
	s.mu.Lock()
	if len(s.free) < 2 {
		s.free = append(s.free, img)
	}
	s.mu.Unlock()
}

// put offers a frame to the encoder; it reports whether it replaced one still waiting.
func (s *frameSlot) put(g grabbed) (replaced bool) {
	s.mu.Lock()
	if old := s.pending; old != nil {
		replaced = true
		s.stale++
		g.damage = mergeDamage(old.damage, g.damage)
		if len(s.free) < 2 {
			s.free = append(s.free, old.img)
		}
	}
	s.pending = &g
	s.mu.Unlock()
	s.signal()
	return replaced
}

// fail records the error that ended capture; take reports it once the frames before it
// are taken.
func (s *frameSlot) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.signal()
}

func (s *frameSlot) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// take returns the waiting frame, if any, or the capture error.
func (s *frameSlot) take() (grabbed, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.pending; g != nil {
		s.pending = nil
		s.lastTake = time.Now()
		select {
		case s.taken <- struct{}{}:
		default:
		}
		return *g, true, nil
	}
	return grabbed{}, false, s.err
}

// waiting reports whether a frame waits for the encoder.
func (s *frameSlot) waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending != nil
}

// keyframePendingAt returns when a pending keyframe request will be served (zero: none
// pending) without counting it as served, as keyframeDue does.
func (a *adaptation) keyframePendingAt() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys.PendingAt()
}

// mergeDamage is the damage of two frames replaced by one: both lists, or nil (the whole
// picture) when either is nil or the list grows too long.
func mergeDamage(a, b []image.Rectangle) []image.Rectangle {
	if a == nil || b == nil || len(a)+len(b) > maxMergedDamage {
		return nil
	}
	out := make([]image.Rectangle, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// captureFrames is the capture half of the video pipeline: it waits for the source's next
// frame, paced to the frame rate interval() returns (capture.Pacer, and never sooner than
// minFrameGap after the last frame) and timed to the encoder (see frameSlot.captureAt),
// copies it into a buffer of slot's and hands it over. It returns
// when ctx ends or the source fails (the error goes to slot).
func captureFrames(ctx context.Context, src capture.Source, slot *frameSlot, interval func() time.Duration, onStale func()) {
	var p capture.Pacer
	var lastCap time.Time
	for {
		at, ok := slot.captureAt(ctx)
		if !ok {
			return
		}
		if e := p.Earliest(interval()); e.After(at) {
			at = e
		}
		if !lastCap.IsZero() {
			// The pacer's tolerance is for a frame a little early, not for two frames half
			// an interval apart: after any frame that came late (the screen was still) it
			// let the next one be grabbed half an interval on, in the middle of the
			// redraw the first caught the start of. At office's 30 fps a 1080p file list
			// went out as frames 10–25 ms apart, and the encoder spent well under its
			// target on them (libvpx reads its frame rate off the timestamps; the exact
			// mechanism is not isolated): fileops at 10 Mbit/s
			// sent 540–650 kbit/s at VMAF 89–93 for a 1.3–1.5 Mbit/s target, and 990–1010
			// kbit/s at VMAF 97 with this gap.
			if e := lastCap.Add(interval() * minFrameGap / 8); e.After(at) {
				at = e
			}
		}
		if d := time.Until(at); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if slot.held(time.Now()) {
			continue // the encoder's last frame moved the hold while this one waited
		}
		start := time.Now()
		f, err := src.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				slot.fail(err)
			}
			return
		}
		captured := f.Captured
		if captured.IsZero() {
			captured = time.Now()
		}
		p.Took(captured, interval())
		lastCap = captured
		b := f.Image.Rect
		buf := yuv.Copy(slot.buffer(b.Dx(), b.Dy()), f.Image)
		var damage []image.Rectangle
		if f.Damage != nil {
			// Damage is in screen coordinates; the copy starts at the origin.
			damage = make([]image.Rectangle, len(f.Damage))
			for i, r := range f.Damage {
				damage[i] = r.Sub(b.Min)
			}
		}
		// A grab that waited for the screen to change says nothing of its cost.
		if d := time.Since(start); d < 20*time.Millisecond {
			slot.grabbedIn(d)
		}
		if slot.put(grabbed{img: buf, damage: damage, captured: captured, seq: f.Seq}) && onStale != nil {
			onStale()
		}
	}
}

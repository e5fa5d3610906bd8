package harness

import (
	"context"
	"image"
	"sync"
	"time"

	"github.com/shadowless-dev/shadowless/asp/yuv"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/input"
	"github.com/shadowless-dev/shadowless/benchmarks/workload"
)

// captureRecord is what the server side saw of one captured frame.
type captureRecord struct {
	seq      uint64
	captured time.Time // pixels read and converted (capture.Frame.Captured)
	encStart time.Time // Next returned the frame to the session's encode loop
	encEnd   time.Time // the loop asked for the next frame: encoded and sent
	stamp    workload.Stamp
	stamped  bool
	// From the server's frame observer (asp.WithFrameObserver), when it reported the frame.
	observed bool
	rtp      uint32
	keyframe bool
	bytes    int
}

// recorder wraps a session's capture source and injector to time frames and input on the
// server side without changing the server: the session calls Next again only after it
// encoded and sent the previous frame, so the time between two calls is encode + send.
type recorder struct {
	mu      sync.Mutex
	records []*captureRecord
	bySeq   map[uint64]*captureRecord
	last    *captureRecord
	events  []asp.FrameEvent // every frame the server encoded
	injects []time.Time      // key and button presses, as injected

	// Reference pictures for quality: windows of three consecutive captured frames.
	every      int
	maxWindows int
	window     [2]time.Time // only frames captured inside are sampled
	refs       map[uint64]*image.YCbCr
	sampled    map[uint32]bool // stamp frame numbers of sampled frames

	// Around a loss burst: thumbnails of every captured frame by stamp frame number.
	burstWin  [2]time.Time
	burstSize image.Point
	burstRefs map[uint32][]thumb // several captures can carry one stamp (a frame drawn in steps)
}

// inBurstWindow reports whether t is inside the span judged around a loss burst.
func inBurstWindow(win [2]time.Time, t time.Time) bool {
	return !win[0].IsZero() && !t.Before(win[0]) && !t.After(win[1])
}

func newRecorder(every, maxWindows int) *recorder {
	return &recorder{every: every, maxWindows: maxWindows, refs: map[uint64]*image.YCbCr{}, sampled: map[uint32]bool{},
		bySeq: map[uint64]*captureRecord{}, burstRefs: map[uint32][]thumb{}}
}

func (r *recorder) setWindow(from, to time.Time) {
	r.mu.Lock()
	r.window = [2]time.Time{from, to}
	r.mu.Unlock()
}

type recSource struct {
	capture.Source
	r *recorder
}

func (s recSource) Next(ctx context.Context) (capture.Frame, error) {
	now := time.Now()
	s.r.mu.Lock()
	if s.r.last != nil && s.r.last.encEnd.IsZero() {
		s.r.last.encEnd = now
	}
	s.r.mu.Unlock()
	f, err := s.Source.Next(ctx)
	if err != nil {
		return f, err
	}
	rec := &captureRecord{seq: f.Seq, captured: f.Captured, encStart: time.Now()}
	if rec.captured.IsZero() {
		rec.captured = rec.encStart
	}
	if st, err := workload.ReadStamp(f.Image); err == nil {
		rec.stamp, rec.stamped = st, true
	}
	s.r.mu.Lock()
	win, size := s.r.burstWin, s.r.burstSize
	s.r.mu.Unlock()
	var th *thumb
	if rec.stamped && inBurstWindow(win, rec.captured) {
		t := makeThumb(f.Image, size.X, size.Y)
		th = &t
	}
	s.r.mu.Lock()
	if th != nil {
		s.r.burstRefs[rec.stamp.Frame] = append(s.r.burstRefs[rec.stamp.Frame], *th)
	}
	s.r.records = append(s.r.records, rec)
	s.r.bySeq[rec.seq] = rec
	s.r.last = rec
	s.r.sample(rec, f.Image)
	s.r.mu.Unlock()
	return f, nil
}

// sample keeps a copy of the picture if it belongs to a quality window. Windows start at
// every r.every-th captured frame; when there are too many, every other one is dropped and
// the spacing doubled, so they stay spread over the whole run.
func (r *recorder) sample(rec *captureRecord, img *image.YCbCr) {
	if r.window[0].IsZero() || rec.captured.Before(r.window[0]) || rec.captured.After(r.window[1]) || !rec.stamped {
		return
	}
	if rec.seq%uint64(r.every) > 2 {
		return
	}
	if rec.seq%uint64(r.every) == 0 && len(r.refs)/3 >= r.maxWindows {
		r.every *= 2
		for seq := range r.refs {
			if seq%uint64(r.every) > 2 {
				delete(r.refs, seq)
			}
		}
		if rec.seq%uint64(r.every) > 2 {
			return
		}
	}
	r.refs[rec.seq] = yuv.Copy(nil, img)
	r.sampled[rec.stamp.Frame] = true
}

func (r *recorder) wantsStamp(frame uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sampled[frame]
}

// observe takes the server's report of an encoded frame: the exact end of encoding, the
// RTP timestamp that pairs it with the client's frame, size and keyframe flag.
func (r *recorder) observe(ev asp.FrameEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	if ev.Refine || ev.Dropped {
		return
	}
	if rc := r.bySeq[ev.CaptureSeq]; rc != nil {
		rc.observed, rc.rtp, rc.keyframe, rc.bytes = true, ev.RTPTimestamp, ev.Keyframe, ev.Bytes
		rc.encEnd = ev.EncodeEnd
	}
}

type recInjector struct {
	input.Injector
	r *recorder
}

func (i recInjector) Inject(ctx context.Context, ev input.Event) error {
	if ev.Kind == input.KeyDown || ev.Kind == input.ButtonDown {
		i.r.mu.Lock()
		i.r.injects = append(i.r.injects, time.Now())
		i.r.mu.Unlock()
	}
	return i.Injector.Inject(ctx, ev)
}

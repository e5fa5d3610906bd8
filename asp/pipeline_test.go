package asp

import (
	"context"
	"errors"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/asp/capture"
)

func TestFrameSlotKeepsNewestAndMergesDamage(t *testing.T) {
	s := newFrameSlot()
	_, ok, err := s.take()
	require.NoError(t, err)
	assert.False(t, ok, "empty slot")

	a, b := s.buffer(8, 8), s.buffer(8, 8)
	assert.False(t, s.put(grabbed{img: a, seq: 1, damage: []image.Rectangle{image.Rect(0, 0, 2, 2)}}))
	assert.True(t, s.waiting())
	assert.True(t, s.put(grabbed{img: b, seq: 2, damage: []image.Rectangle{image.Rect(4, 4, 6, 6)}}), "replaces the waiting frame")
	g, ok, err := s.take()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, uint64(2), g.seq, "the newest frame wins")
	assert.Same(t, b, g.img)
	assert.Equal(t, []image.Rectangle{image.Rect(0, 0, 2, 2), image.Rect(4, 4, 6, 6)}, g.damage, "damage of the stale frame is kept")
	assert.Equal(t, uint64(1), s.stale)
	assert.False(t, s.waiting())

	// The stale frame's buffer is reused.
	assert.Same(t, a, s.buffer(8, 8))
	// A buffer of another size is not.
	s.release(g.img)
	assert.NotSame(t, g.img, s.buffer(16, 8))

	// A full frame (nil damage) makes the merge full.
	s.put(grabbed{img: a, seq: 3, damage: []image.Rectangle{image.Rect(0, 0, 2, 2)}})
	s.put(grabbed{img: b, seq: 4})
	g, _, _ = s.take()
	assert.Nil(t, g.damage)

	// The capture error comes after the frames before it.
	s.put(grabbed{img: a, seq: 5})
	boom := errors.New("boom")
	s.fail(boom)
	g, ok, err = s.take()
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, uint64(5), g.seq)
	_, ok, err = s.take()
	assert.False(t, ok)
	assert.ErrorIs(t, err, boom)
}

func TestMergeDamageCaps(t *testing.T) {
	many := make([]image.Rectangle, maxMergedDamage)
	assert.Nil(t, mergeDamage(many, []image.Rectangle{{}}))
	assert.Len(t, mergeDamage(many[:3], many[:4]), 7)
}

func TestFrameSlotTimesCaptureToTheEncoder(t *testing.T) {
	s := newFrameSlot()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at, ok := s.captureAt(ctx)
	require.True(t, ok)
	assert.True(t, at.Before(time.Now().Add(time.Millisecond)), "nothing taken yet: capture now")

	s.encoded(30 * time.Millisecond)
	s.grabbedIn(5 * time.Millisecond)
	s.put(grabbed{img: s.buffer(8, 8), seq: 1})
	got := make(chan time.Time, 1)
	go func() {
		at, ok := s.captureAt(ctx)
		if ok {
			got <- at
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("the next grab may not start while a frame waits")
	case <-time.After(50 * time.Millisecond):
	}
	_, ok, err := s.take()
	require.NoError(t, err)
	require.True(t, ok)
	taken := time.Now()
	select {
	case at := <-got:
		// The encoder needs 30 ms, a grab 5: the next grab starts 25 ms after the take.
		assert.InDelta(t, 25, float64(at.Sub(taken))/float64(time.Millisecond), 3)
	case <-time.After(5 * time.Second):
		t.Fatal("captureAt did not return after the take")
	}

	// Ending the context ends the wait.
	s.put(grabbed{img: s.buffer(8, 8), seq: 2})
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	_, ok = s.captureAt(cctx)
	assert.False(t, ok)
}

// countingSource hands out frames from a synthetic source and records how many it produced.
type countingSource struct {
	capture.Source
	mu sync.Mutex
	n  int
}

func (c *countingSource) Next(ctx context.Context) (capture.Frame, error) {
	f, err := c.Source.Next(ctx)
	if err == nil {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return f, err
}

func (c *countingSource) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// encodeLoop takes frames from slot like the session's encode loop, "encoding" each for
// encode, until it has n frames; it returns their ages when taken.
func encodeLoop(t *testing.T, slot *frameSlot, n int, encode time.Duration) []time.Duration {
	t.Helper()
	var ages []time.Duration
	for len(ages) < n {
		select {
		case <-slot.ready:
		case <-time.After(5 * time.Second):
			t.Fatal("no frame")
		}
		g, ok, err := slot.take()
		require.NoError(t, err)
		if !ok {
			continue
		}
		ages = append(ages, time.Since(g.captured))
		time.Sleep(encode)
		slot.encoded(encode)
		slot.release(g.img)
	}
	return ages
}

func TestCaptureFramesKeepsUpWithASlowEncoderAndStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// The screen changes all the time (frames as fast as asked); the encoder needs 30 ms.
	src := &countingSource{Source: capture.NewSynthetic(64, 48, capture.SyntheticOptions{})}
	slot := newFrameSlot()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		captureFrames(ctx, src, slot, func() time.Duration { return 0 }, nil)
	}()
	ages := encodeLoop(t, slot, 8, 30*time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture goroutine did not stop")
	}
	// No grab is wasted on a frame the encoder never takes, and the frames it takes were
	// grabbed just before (not when the encoder started on the one before).
	assert.LessOrEqual(t, src.count(), len(ages)+1, "frames grabbed")
	slot.mu.Lock()
	assert.Zero(t, slot.stale)
	slot.mu.Unlock()
	late := 0
	for _, a := range ages[3:] {
		if a > 20*time.Millisecond {
			late++
		}
	}
	assert.LessOrEqual(t, late, 1, "frame ages when taken: %v", ages)
	_, _, err := slot.take()
	assert.NoError(t, err, "a cancelled capture is no capture error")
}

func TestCaptureFramesReportsSourceError(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := capture.NewSynthetic(32, 32, capture.SyntheticOptions{FPS: 100})
	slot := newFrameSlot()
	done := make(chan struct{})
	go func() {
		defer close(done)
		captureFrames(context.Background(), src, slot, func() time.Duration { return 20 * time.Millisecond }, nil)
	}()
	encodeLoop(t, slot, 2, time.Millisecond)
	require.NoError(t, src.Close())
	for {
		select {
		case <-slot.ready:
		case <-time.After(5 * time.Second):
			t.Fatal("no error from the capture goroutine")
		}
		_, ok, err := slot.take()
		if !ok && err != nil {
			assert.ErrorIs(t, err, capture.ErrClosed)
			break
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture goroutine did not stop on a source error")
	}
}

func TestCaptureFramesPaces(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := &countingSource{Source: capture.NewSynthetic(32, 32, capture.SyntheticOptions{})}
	slot := newFrameSlot()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		captureFrames(ctx, src, slot, func() time.Duration { return 20 * time.Millisecond }, nil)
	}()
	start := time.Now()
	encodeLoop(t, slot, 10, time.Millisecond)
	elapsed := time.Since(start)
	cancel()
	<-done
	// A fast encoder and a screen that always changes: 50 frames per second (one may come
	// an eighth of an interval early), not as many as the source can make.
	assert.GreaterOrEqual(t, elapsed, 9*20*time.Millisecond-10*time.Millisecond)
	assert.LessOrEqual(t, src.count(), 11)
}

// splitRedrawSource is a screen redrawn every period in two parts a few milliseconds
// apart, as a workload's redraw of a file list reaches the X server: each Next returns
// once the next part is drawn, with the time it was grabbed.
type splitRedrawSource struct {
	capture.Source
	start   time.Time
	period  time.Duration
	split   time.Duration
	mu      sync.Mutex
	parts   int // parts drawn so far that were not grabbed yet are coalesced
	grabbed []time.Time
	img     *image.YCbCr
	seq     uint64
}

// drawnBy returns how many parts were drawn by t.
func (s *splitRedrawSource) drawnBy(t time.Time) int {
	d := t.Sub(s.start)
	n := int(d/s.period) * 2
	if d%s.period >= s.split {
		n += 2
	} else {
		n++
	}
	return n
}

func (s *splitRedrawSource) Next(ctx context.Context) (capture.Frame, error) {
	for {
		now := time.Now()
		s.mu.Lock()
		if s.drawnBy(now) > s.parts {
			s.parts = s.drawnBy(now)
			s.seq++
			s.grabbed = append(s.grabbed, now)
			f := capture.Frame{Image: s.img, Captured: now, Seq: s.seq}
			s.mu.Unlock()
			return f, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return capture.Frame{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// TestCaptureFramesKeepsTheFrameGap: frames are never grabbed closer than minFrameGap
// eighths of the interval, even right after a frame that came late (a still screen),
// where the pacer's tolerance alone let the second part of a redraw go out as its own
// frame half an interval after the first.
func TestCaptureFramesKeepsTheFrameGap(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const interval = 40 * time.Millisecond
	src := &splitRedrawSource{start: time.Now(), period: 120 * time.Millisecond, split: 20 * time.Millisecond,
		img: image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)}
	slot := newFrameSlot()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		captureFrames(ctx, src, slot, func() time.Duration { return interval }, nil)
	}()
	encodeLoop(t, slot, 8, time.Millisecond)
	cancel()
	<-done
	src.mu.Lock()
	defer src.mu.Unlock()
	require.GreaterOrEqual(t, len(src.grabbed), 8)
	for i := 1; i < len(src.grabbed); i++ {
		gap := src.grabbed[i].Sub(src.grabbed[i-1])
		assert.GreaterOrEqual(t, gap, interval*minFrameGap/8-time.Millisecond, "gap before frame %d", i)
	}
}

// The frame pacer's hold keeps the capture from grabbing a picture the link could not
// take yet: the grab starts at the hold less the time a grab takes, and a hold set while
// the capture goroutine already waits moves its grab too.
func TestFrameSlotHoldsCaptureForTheLink(t *testing.T) {
	s := newFrameSlot()
	s.grabbedIn(5 * time.Millisecond)
	now := time.Now()
	s.holdUntil(now.Add(40 * time.Millisecond))
	at, ok := s.captureAt(context.Background())
	require.True(t, ok)
	assert.Equal(t, now.Add(35*time.Millisecond), at)
	assert.True(t, s.held(now))
	assert.False(t, s.held(now.Add(35*time.Millisecond)))
	s.holdUntil(time.Time{})
	assert.False(t, s.held(now), "no hold")

	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := capture.NewSynthetic(32, 32, capture.SyntheticOptions{})
	slot := newFrameSlot()
	// The last frame needs the link for 100 ms; the capture goroutine starts waiting for
	// that, and then a retransmission moves the hold to 200 ms.
	start := time.Now()
	slot.holdUntil(start.Add(100 * time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		captureFrames(ctx, src, slot, func() time.Duration { return 0 }, nil)
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(30 * time.Millisecond) // the capture goroutine waits for the first hold
	hold := start.Add(200 * time.Millisecond)
	slot.holdUntil(hold)
	select {
	case <-slot.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("no frame after the hold")
	}
	g, ok, err := slot.take()
	require.NoError(t, err)
	require.True(t, ok)
	assert.False(t, g.captured.Before(hold), "grabbed %v before the hold", hold.Sub(g.captured))
}

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

func TestCaptureFramesDropsStaleFramesAndStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := &countingSource{Source: capture.NewSynthetic(64, 48, capture.SyntheticOptions{FPS: 200})}
	slot := newFrameSlot()
	ctx, cancel := context.WithCancel(context.Background())
	var staleN int
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		captureFrames(ctx, src, slot, func() time.Duration { return 0 }, func() { mu.Lock(); staleN++; mu.Unlock() })
	}()
	// A slow consumer: takes a frame every 30 ms while frames come every 5 ms.
	var seqs []uint64
	for len(seqs) < 5 {
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
		assert.Equal(t, image.Rect(0, 0, 64, 48), g.img.Rect)
		seqs = append(seqs, g.seq)
		time.Sleep(30 * time.Millisecond)
		slot.release(g.img)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture goroutine did not stop")
	}
	for i := 1; i < len(seqs); i++ {
		assert.Greater(t, seqs[i], seqs[i-1]+1, "stale frames skipped: %v", seqs)
	}
	mu.Lock()
	assert.Positive(t, staleN)
	mu.Unlock()
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
	<-slot.ready
	require.NoError(t, src.Close())
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture goroutine did not stop on a source error")
	}
	for {
		_, ok, err := slot.take()
		if !ok {
			assert.ErrorIs(t, err, capture.ErrClosed)
			break
		}
	}
}

func TestCaptureFramesPaces(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := &countingSource{Source: capture.NewSynthetic(32, 32, capture.SyntheticOptions{})}
	slot := newFrameSlot()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	captureFrames(ctx, src, slot, func() time.Duration { return 20 * time.Millisecond }, nil)
	src.mu.Lock()
	n := src.n
	src.mu.Unlock()
	// 300 ms at 50 per second: about 15 (one early frame allowed), never hundreds.
	assert.InDelta(t, 16, n, 4)
}

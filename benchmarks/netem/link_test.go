package netem

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"10mbit,20ms,0.5%":    {RateBps: 10_000_000, Delay: 20 * time.Millisecond, Loss: 0.005},
		"500kbit":             {RateBps: 500_000},
		"0,50ms":              {Delay: 50 * time.Millisecond},
		"unlimited,0s,0.01":   {Loss: 0.01},
		"1.5mbit,1ms,0%":      {RateBps: 1_500_000, Delay: time.Millisecond},
		"2mbit,20ms,0%,100ms": {RateBps: 2_000_000, Delay: 20 * time.Millisecond, QueueDelay: 100 * time.Millisecond},
	} {
		got, err := ParseSpec(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "fast", "10mbit,soon", "10mbit,-1ms", "10mbit,1ms,150%", "1,2,3,4", "-5mbit", "1mbit,1ms,0,0s", "1,2ms,3,4s,5"} {
		_, err := ParseSpec(bad)
		require.ErrorIs(t, err, ErrSpec, bad)
	}
	assert.Equal(t, "10mbit,20ms,0.5%", Spec{RateBps: 10_000_000, Delay: 20 * time.Millisecond, Loss: 0.005}.String())
	assert.Equal(t, "2mbit,20ms,0%,100ms", Spec{RateBps: 2_000_000, Delay: 20 * time.Millisecond, QueueDelay: 100 * time.Millisecond}.String())
}

// The default bottleneck queue holds DefaultQueueDelay at the link rate: a burst far
// larger than the link can carry waits at most that long, the rest is tail-dropped.
func TestLinkQueueBoundedInTime(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLink(Spec{RateBps: 2_000_000}, 1)
	var latest time.Time
	sent := 0
	for i := 0; i < 200; i++ { // 240 kB at once: ~1 s at 2 Mbit/s
		if at, ok := l.Send(t0, 1200); ok {
			latest, sent = at, sent+1
		}
	}
	assert.LessOrEqual(t, latest.Sub(t0), DefaultQueueDelay+10*time.Millisecond, "no packet waits longer than the queue")
	assert.Greater(t, latest.Sub(t0), DefaultQueueDelay-20*time.Millisecond, "the queue fills up to its size")
	assert.Equal(t, uint64(200-sent), l.QueueDrops)
	// A slow link still queues a handful of full-size packets.
	assert.Equal(t, MinQueueBytes, Spec{RateBps: 100_000}.queueBytes())
	assert.Equal(t, 50_000, Spec{RateBps: 4_000_000, QueueDelay: 100 * time.Millisecond}.queueBytes())
}

// A burst raises the loss only inside its window.
func TestLinkBurst(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLink(Spec{}, 7)
	l.SetBurst(Burst{From: t0.Add(time.Second), To: t0.Add(2 * time.Second), Loss: 0.1})
	lost := func(from time.Time) uint64 {
		before := l.Lost
		for i := 0; i < 5000; i++ {
			l.Send(from.Add(time.Duration(i)*100*time.Microsecond), 100) // 0.5 s
		}
		return l.Lost - before
	}
	assert.Zero(t, lost(t0), "before the burst")
	inside := lost(t0.Add(1200 * time.Millisecond))
	assert.InDelta(t, 500, float64(inside), 90, "10%% inside the burst")
	assert.Equal(t, inside, l.BurstLost)
	assert.Zero(t, lost(t0.Add(2*time.Second)), "the window's end is exclusive")
}

func TestLinkDelayAndRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLink(Spec{RateBps: 8_000_000, Delay: 40 * time.Millisecond}, 1) // 1 byte per µs, 20 ms each way
	at, ok := l.Send(t0, 1000)
	require.True(t, ok)
	assert.Equal(t, t0.Add(time.Millisecond+20*time.Millisecond), at, "serialization plus half the delay")
	at2, ok := l.Send(t0, 1000) // queued behind the first
	require.True(t, ok)
	assert.Equal(t, at.Add(time.Millisecond), at2)
	at3, ok := l.Send(t0.Add(time.Second), 500) // idle link again
	require.True(t, ok)
	assert.Equal(t, t0.Add(time.Second+500*time.Microsecond+20*time.Millisecond), at3)
}

func TestLinkQueueDrops(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLink(Spec{RateBps: 800_000, QueueBytes: 10_000}, 1)
	sent := 0
	for i := 0; i < 100; i++ {
		if _, ok := l.Send(t0, 1000); ok {
			sent++
		}
	}
	assert.InDelta(t, 11, sent, 1, "about a queue's worth gets through a burst")
	assert.Equal(t, uint64(100-sent), l.QueueDrops)
}

func TestLinkLoss(t *testing.T) {
	l := NewLink(Spec{Loss: 0.1}, 42)
	t0 := time.Unix(0, 0)
	for i := 0; i < 10000; i++ {
		at, ok := l.Send(t0, 100)
		if ok {
			require.Equal(t, t0, at, "no delay, no rate: delivered at once")
		}
	}
	assert.InDelta(t, 1000, float64(l.Lost), 120)
	// Same seed, same losses.
	l2 := NewLink(Spec{Loss: 0.1}, 42)
	for i := 0; i < 10000; i++ {
		l2.Send(t0, 100)
	}
	assert.Equal(t, l.Lost, l2.Lost)
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"10mbit,20ms,0.5%", "0", "1gbit,1s,1", "x,y,z", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			require.ErrorIs(t, err, ErrSpec)
			return
		}
		require.GreaterOrEqual(t, sp.RateBps, int64(0))
		require.GreaterOrEqual(t, sp.Delay, time.Duration(0))
		require.True(t, sp.Loss >= 0 && sp.Loss <= 1)
		require.GreaterOrEqual(t, sp.QueueDelay, time.Duration(0))
		back, err := ParseSpec(sp.String())
		require.NoError(t, err, sp.String())
		require.Equal(t, sp.QueueDelay, back.QueueDelay)
	})
}

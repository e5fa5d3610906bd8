package netem

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"10mbit,20ms,0.5%":  {RateBps: 10_000_000, Delay: 20 * time.Millisecond, Loss: 0.005},
		"500kbit":           {RateBps: 500_000},
		"0,50ms":            {Delay: 50 * time.Millisecond},
		"unlimited,0s,0.01": {Loss: 0.01},
		"1.5mbit,1ms,0%":    {RateBps: 1_500_000, Delay: time.Millisecond},
	} {
		got, err := ParseSpec(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "fast", "10mbit,soon", "10mbit,-1ms", "10mbit,1ms,150%", "1,2,3,4", "-5mbit"} {
		_, err := ParseSpec(bad)
		require.ErrorIs(t, err, ErrSpec, bad)
	}
	assert.Equal(t, "10mbit,20ms,0.5%", Spec{RateBps: 10_000_000, Delay: 20 * time.Millisecond, Loss: 0.005}.String())
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
	})
}

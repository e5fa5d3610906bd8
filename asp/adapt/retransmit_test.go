package adapt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetransmitPolicy(t *testing.T) {
	t0 := time.Unix(100, 0)
	p := RetransmitPolicy{}
	p.SetEstimate(8_000_000) // 4 Mbit/s for retransmissions, 75 kB of depth
	sent := t0.Add(-20 * time.Millisecond)
	assert.True(t, p.Allow(t0, sent, time.Time{}, 1200), "a fresh NACK is answered")
	// The receiver repeats its NACK every 20 ms while the copy waits in a queue: only
	// one copy per MinGap goes out.
	assert.False(t, p.Allow(t0.Add(20*time.Millisecond), sent, t0, 1200))
	assert.False(t, p.Allow(t0.Add(99*time.Millisecond), sent, t0, 1200))
	assert.True(t, p.Allow(t0.Add(100*time.Millisecond), sent, t0, 1200))
	// Too old: the receiver has given up on it.
	assert.False(t, p.Allow(t0.Add(1500*time.Millisecond), t0, time.Time{}, 1200))
}

// The budget bounds a burst of retransmissions and refills at the share of the estimate.
func TestRetransmitPolicyBudget(t *testing.T) {
	t0 := time.Unix(100, 0)
	p := RetransmitPolicy{}
	p.SetEstimate(2_000_000) // 1 Mbit/s: 125 kB/s, 18.75 kB of depth
	n := 0
	for range 100 {
		if p.Allow(t0, t0, time.Time{}, 1000) {
			n++
		}
	}
	assert.Equal(t, 18, n, "the depth's worth at once")
	assert.False(t, p.Allow(t0.Add(time.Millisecond), t0, time.Time{}, 1000))
	assert.True(t, p.Allow(t0.Add(10*time.Millisecond), t0, time.Time{}, 1000), "refilled 1.25 kB in 10 ms")
	// A tiny estimate still gets MinBps.
	q := RetransmitPolicy{}
	q.SetEstimate(10_000)
	assert.True(t, q.Allow(t0, t0, time.Time{}, 5000))
}

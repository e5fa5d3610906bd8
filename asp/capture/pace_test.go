package capture

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPacerKeepsRateAndToleratesJitter(t *testing.T) {
	const iv = 10 * time.Millisecond
	var p Pacer
	t0 := time.Unix(1000, 0)
	assert.True(t, p.Earliest(iv).IsZero(), "first frame at once")
	p.Took(t0, iv)
	// The next frame may come half an interval early, not earlier.
	assert.Equal(t, t0.Add(5*time.Millisecond), p.Earliest(iv))

	// A source offering frames every 9 ms (faster than the cap) is held to 10 ms on average.
	var p2 Pacer
	now, taken := t0, 0
	for range 1000 {
		if at := p2.Earliest(iv); !at.IsZero() && now.Before(at) {
			now = at
		}
		p2.Took(now, iv)
		taken++
		now = now.Add(9 * time.Millisecond)
	}
	span := now.Sub(t0)
	assert.InDelta(t, float64(span/iv), float64(taken), 2, "long-run rate is the cap")

	// A source at exactly the cap with ±2 ms jitter is never delayed.
	var p3 Pacer
	base := t0
	for i := range 100 {
		at := base.Add(time.Duration(i)*iv + time.Duration((i%3-1)*2)*time.Millisecond)
		if e := p3.Earliest(iv); !e.IsZero() {
			assert.False(t, at.Before(e), "frame %d delayed", i)
		}
		p3.Took(at, iv)
	}

	// No limit.
	var p4 Pacer
	p4.Took(t0, 0)
	assert.True(t, p4.Earliest(0).IsZero())
}

package netem

import (
	"testing"
	"time"
)

// BenchmarkLinkSend is the per-packet cost of the emulation model.
func BenchmarkLinkSend(b *testing.B) {
	l := NewLink(Spec{RateBps: 100_000_000, Delay: 20 * time.Millisecond, Loss: 0.01}, 1)
	now := time.Unix(0, 0)
	for b.Loop() {
		now = now.Add(100 * time.Microsecond)
		l.Send(now, 1200)
	}
}

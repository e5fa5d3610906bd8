package adapt

import "time"

// DeliveryMeter measures the rate at which the bottleneck delivers packets, from the
// receiver's arrival times (transport-wide congestion control feedback): the packets of a
// frame leave back to back, queue at the narrowest link and arrive spaced at its rate, so
// bytes over arrival span is that rate. It keeps the largest sample of the last Window.
// pion's GCC has no such measurement exposed and, without probing, climbs some 8% a
// second; pacing to the delivered rate lets a fast link carry big frames at once while a
// slow one is still paced to what it really carries. Pure logic; not safe for concurrent
// use.
type DeliveryMeter struct {
	// Window is how long a sample counts (default 2 s).
	Window time.Duration
	// MinPackets and MinSpan bound what makes a sample (defaults 4 packets, 5 ms): fewer
	// or closer arrivals say more about timer resolution than about the link.
	MinPackets int
	MinSpan    time.Duration

	samples []deliverySample
}

type deliverySample struct {
	at  time.Time
	bps int64
}

func (m *DeliveryMeter) defaults() {
	if m.Window <= 0 {
		m.Window = 2 * time.Second
	}
	if m.MinPackets <= 0 {
		m.MinPackets = 4
	}
	if m.MinSpan <= 0 {
		m.MinSpan = 5 * time.Millisecond
	}
}

// Feedback takes the packets one feedback reports received: their arrival times (on the
// receiver's clock, in order of sending) and sizes in bytes; now is when it came.
func (m *DeliveryMeter) Feedback(now time.Time, arrivals []time.Duration, sizes []int) {
	m.defaults()
	if len(arrivals) < m.MinPackets || len(arrivals) != len(sizes) {
		return
	}
	first, last := arrivals[0], arrivals[0]
	bytes := 0
	for i, a := range arrivals {
		first, last = min(first, a), max(last, a)
		if i > 0 {
			bytes += sizes[i] // the first packet's bytes arrived before the span began
		}
	}
	span := last - first
	if span < m.MinSpan {
		return
	}
	m.samples = append(m.samples, deliverySample{at: now, bps: int64(float64(bytes) * 8 / span.Seconds())})
}

// Rate returns the largest delivery rate sampled in the last Window, in bits per second,
// or 0 when there is none.
func (m *DeliveryMeter) Rate(now time.Time) int64 {
	m.defaults()
	keep := m.samples[:0]
	var best int64
	for _, s := range m.samples {
		if now.Sub(s.at) <= m.Window {
			keep = append(keep, s)
			best = max(best, s.bps)
		}
	}
	m.samples = keep
	return best
}

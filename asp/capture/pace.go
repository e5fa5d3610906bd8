package capture

import "time"

// Pacer spaces frames to a frame rate with the generic cell rate algorithm: frames keep to
// the rate on average, yet one that comes up to half an interval early is still taken. A
// strict minimum gap between frames skips every frame that a workload drawing at the
// capped rate delivers a little early (the clocks of the two jitter against each other),
// and measured from the end of a grab it also adds the grab time to every interval. The
// zero Pacer takes the first frame at once.
type Pacer struct {
	tat time.Time // theoretical arrival time of the next frame
}

// Earliest returns when the next frame may be taken at the given interval between frames;
// the zero time means now (no frame taken yet, or no limit).
func (p *Pacer) Earliest(interval time.Duration) time.Time {
	if p.tat.IsZero() || interval <= 0 {
		return time.Time{}
	}
	return p.tat.Add(-interval / 2)
}

// Took records a frame taken at t.
func (p *Pacer) Took(t time.Time, interval time.Duration) {
	if interval <= 0 {
		p.tat = time.Time{}
		return
	}
	if p.tat.Before(t) {
		p.tat = t
	}
	p.tat = p.tat.Add(interval)
}

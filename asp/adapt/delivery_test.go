package adapt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// pathSim carries packets through a drop-free FIFO bottleneck of rate bits per second (0:
// no bottleneck) with a one-way delay, and reports arrivals as transport-wide feedback
// does: on the receiver's own clock (an offset from the sender's), rounded to 250 µs.
type pathSim struct {
	rate   int64
	delay  time.Duration
	offset time.Duration // receiver clock minus sender clock
	busy   time.Duration
	seq    uint16
}

// send returns the timing of a packet of size bytes sent at t (sender clock).
func (p *pathSim) send(t time.Duration, size int) PacketTiming {
	start := max(t, p.busy)
	leave := start
	if p.rate > 0 {
		leave = start + time.Duration(int64(size)*8*int64(time.Second)/p.rate)
	}
	p.busy = leave
	arr := (leave + p.delay + p.offset).Round(250 * time.Microsecond)
	p.seq++
	return PacketTiming{Seq: p.seq, Sent: t, Arrived: arr, Size: size}
}

// frames sends n frames of k packets of size bytes, every interval from t0; within a
// frame the packets leave every gap (0: back to back).
func (p *pathSim) frames(t0 time.Duration, n, k, size int, interval, gap time.Duration) []PacketTiming {
	var out []PacketTiming
	for f := range n {
		for i := range k {
			out = append(out, p.send(t0+time.Duration(f)*interval+time.Duration(i)*gap, size))
		}
	}
	return out
}

// feed hands pkts to m in feedbacks of every packets, the last one at now.
func feed(m *DeliveryMeter, now time.Time, pkts []PacketTiming, every int) {
	for len(pkts) > 0 {
		n := min(every, len(pkts))
		m.Feedback(now, pkts[:n])
		pkts = pkts[n:]
	}
}

func TestDeliveryMeterMeasuresASlowBottleneck(t *testing.T) {
	now := time.Unix(100, 0)
	var m DeliveryMeter
	assert.Zero(t, m.Rate(now), "no feedback yet")
	// Office frames of 12 packets back to back, 5 a second, through 2 Mbit/s: each
	// frame's packets queue and arrive 4.8 ms apart.
	p := &pathSim{rate: 2_000_000, delay: 10 * time.Millisecond, offset: 3 * time.Hour}
	feed(&m, now, p.frames(0, 10, 12, 1200, 200*time.Millisecond, 0), 7)
	assert.InEpsilon(t, 2_000_000, m.Rate(now), 0.03)

	// Spread at 1.5 × the link after a burst, the packets still queue: still the link.
	var s DeliveryMeter
	p = &pathSim{rate: 2_000_000, delay: 10 * time.Millisecond}
	feed(&s, now, p.frames(0, 5, 30, 1200, 400*time.Millisecond, 3200*time.Microsecond), 10)
	assert.InEpsilon(t, 2_000_000, s.Rate(now), 0.03)
}

// The sender's own rate is no measurement of the link: packets that did not queue
// (an application-limited sender, or a paced one, on a fast link) make none, where bytes
// over arrival span would have read the sender's rate.
func TestDeliveryMeterIgnoresTheSendersOwnRate(t *testing.T) {
	now := time.Unix(100, 0)
	// Application-limited: small frames of 2 packets every 100 ms through 100 Mbit/s.
	var a DeliveryMeter
	p := &pathSim{rate: 100_000_000, delay: 10 * time.Millisecond}
	feed(&a, now, p.frames(0, 30, 2, 1200, 100*time.Millisecond, 0), 8)
	assert.Zero(t, a.Rate(now))
	// Paced: 20 packets a frame spaced at 5 Mbit/s through a 50 Mbit/s link; the frames
	// themselves are 40 ms apart. Bytes over arrival span would read about 5 Mbit/s.
	var b DeliveryMeter
	p = &pathSim{rate: 50_000_000, delay: 10 * time.Millisecond}
	pkts := p.frames(0, 10, 20, 1200, 40*time.Millisecond, 1920*time.Microsecond)
	feed(&b, now, pkts, 20)
	assert.Zero(t, b.Rate(now))
	// Loopback: no bottleneck, a frame arrives within the feedback's resolution.
	var c DeliveryMeter
	p = &pathSim{}
	feed(&c, now, p.frames(0, 10, 40, 1200, 33*time.Millisecond, 20*time.Microsecond), 25)
	assert.Zero(t, c.Rate(now))
}

// A receiver that stalled for 3 ms delays a few packets, which then arrive bunched: that
// is no queue at a link.
func TestDeliveryMeterIgnoresAStall(t *testing.T) {
	now := time.Unix(100, 0)
	var m DeliveryMeter
	p := &pathSim{}
	pkts := p.frames(0, 4, 10, 1200, 33*time.Millisecond, 0)
	for i := 13; i < 18; i++ {
		pkts[i].Arrived += 3 * time.Millisecond
	}
	m.Feedback(now, pkts)
	assert.Zero(t, m.Rate(now))
}

func TestDeliveryMeterRunsAndWindow(t *testing.T) {
	now := time.Unix(100, 0)
	p := &pathSim{rate: 2_000_000}
	pkts := p.frames(0, 1, 12, 1200, 0, 0)

	// A run continues into the next feedback: two of 2 queued packets each make one run
	// of 4 (the first packet of a frame did not queue).
	var m DeliveryMeter
	m.Feedback(now, pkts[:3])
	assert.Zero(t, m.Rate(now), "2 queued packets are no run yet")
	m.Feedback(now, pkts[3:5])
	assert.InEpsilon(t, 2_000_000, m.Rate(now), 0.03)

	// A lost packet ends a run: every other packet reported makes none.
	var l DeliveryMeter
	var odd []PacketTiming
	for i, pk := range pkts {
		if i%2 == 1 {
			odd = append(odd, pk)
		}
	}
	l.Feedback(now, odd)
	assert.Zero(t, l.Rate(now))

	// Samples age out after Window.
	var w DeliveryMeter
	w.Feedback(now, pkts)
	assert.Positive(t, w.Rate(now.Add(2*time.Second)))
	assert.Zero(t, w.Rate(now.Add(2*time.Second+time.Millisecond)))

	// The rate is over all runs of the window: a faster link measured later counts by
	// its bytes and time with the slower one.
	var f DeliveryMeter
	p = &pathSim{rate: 2_000_000}
	f.Feedback(now, p.frames(0, 1, 11, 1000, 0, 0)) // 10 × 1000 B in 40 ms
	p = &pathSim{rate: 8_000_000}
	f.Feedback(now, p.frames(time.Second, 1, 11, 1000, 0, 0)) // 10 × 1000 B in 10 ms
	assert.InEpsilon(t, 3_200_000, f.Rate(now), 0.03)
}

// sawtooth sends n packets of 1200 B 2 ms apart over a path without a bottleneck whose
// delay jitters up 250 µs a packet over four packets, then back: every arrival gap but
// one in four is wider than its send gap, yet nothing queues.
func sawtooth(t0, delay time.Duration, n int, seq uint16) []PacketTiming {
	var out []PacketTiming
	for i := range n {
		sent := t0 + time.Duration(i)*2*time.Millisecond
		out = append(out, PacketTiming{Seq: seq + uint16(i), Sent: sent, Size: 1200,
			Arrived: sent + delay + time.Duration(i%4)*250*time.Microsecond})
	}
	return out
}

// Jitter that widens a few arrival gaps in a row is no queue while the delay stays near
// the path's least; and a path that got longer (the least delay rose) is taken afresh
// after BaseWindow, not counted as a queue for ever.
func TestDeliveryMeterJitterAndBaseWindow(t *testing.T) {
	now := time.Unix(100, 0)
	m := DeliveryMeter{BaseWindow: time.Second}
	m.Feedback(now, sawtooth(0, 5*time.Millisecond, 40, 1))
	assert.Zero(t, m.Rate(now))
	// 20 ms longer from now on.
	later := now.Add(2 * time.Second)
	m.Feedback(later, sawtooth(2*time.Second, 25*time.Millisecond, 40, 41))
	assert.Zero(t, m.Rate(later))
}

// Small frames of one packet every 33 ms on a loaded machine: the receiver's timestamps
// drift later by 0.6 ms a frame for a few frames (each gap wider than sent, each delay
// above the least). No packet waited behind another: no measurement (bytes over those
// gaps would read 300 kbit/s).
func TestDeliveryMeterIgnoresJitterOfASparseSender(t *testing.T) {
	now := time.Unix(100, 0)
	var m DeliveryMeter
	p := &pathSim{rate: 100_000_000, delay: 10 * time.Millisecond}
	pkts := p.frames(0, 12, 1, 1200, 33*time.Millisecond, 0)
	for i := range pkts {
		pkts[i].Arrived += time.Duration(i%6) * 600 * time.Microsecond
	}
	m.Feedback(now, pkts)
	assert.Zero(t, m.Rate(now))
}

// The floor is what the path was seen to carry, queue or not: the sender's own rate on a
// fast link, the link's on a slow one; the largest of the window.
func TestDeliveryMeterFloor(t *testing.T) {
	now := time.Unix(100, 0)
	var m DeliveryMeter
	assert.Zero(t, m.Floor(now))
	// 20 packets of 1200 B paced 1.92 ms apart (5 Mbit/s) over a fast link.
	p := &pathSim{rate: 50_000_000}
	m.Feedback(now, p.frames(0, 1, 20, 1200, 0, 1920*time.Microsecond))
	assert.InEpsilon(t, 5_000_000, m.Floor(now), 0.03)
	assert.Zero(t, m.Rate(now), "no capacity measured")
	// A slower feedback does not lower it within the window; it ages out after.
	p = &pathSim{rate: 50_000_000}
	m.Feedback(now.Add(time.Second), p.frames(0, 1, 20, 1200, 0, 4800*time.Microsecond))
	assert.InEpsilon(t, 5_000_000, m.Floor(now.Add(time.Second)), 0.03)
	assert.InEpsilon(t, 2_000_000, m.Floor(now.Add(2500*time.Millisecond)), 0.03)
	// A frame that arrived within 5 ms (loopback) makes no floor sample.
	var l DeliveryMeter
	p = &pathSim{}
	l.Feedback(now, p.frames(0, 1, 20, 1200, 0, 10*time.Microsecond))
	assert.Zero(t, l.Floor(now))
}

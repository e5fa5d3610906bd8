package adapt

import "time"

// PacketTiming is one packet a transport-wide congestion control feedback reports
// received: when it left (on the sender's clock) and arrived (on the receiver's clock).
// The two clocks need not agree: only differences on each side are compared.
type PacketTiming struct {
	// Seq is the transport-wide sequence number: packets whose numbers follow each other
	// left one after the other.
	Seq uint16
	// Sent and Arrived are the send and arrival times, each from its own clock's origin.
	Sent, Arrived time.Duration
	// Size is the packet's size in bytes.
	Size int
}

// DeliveryMeter measures the capacity of the narrowest link on the way to the receiver
// from transport-wide feedback, and tells a slow link from a sender that merely sends
// little. A packet that reaches the bottleneck while the one sent before it is still there
// waits, and leaves one serialisation time (its size over the link's rate) after it: its
// one-way delay (arrival less send time, on two clocks whose offset does not matter) is
// above the path's least, and it arrives later after its predecessor than it left after
// it. Such a packet's arrival gap is a measurement of the link; the gap of a packet that
// did not wait is only the sender's own spacing (a paced or application-limited sender on
// a fast link), and counting it, as bytes over arrival span does, would measure the
// sender. So the meter counts, packet after packet in order of sending, the packets that
// queued (delay above the least of the last BaseWindow by more than Slack, an arrival gap
// wider than the send gap, and sent while its predecessor still waited), in runs of at
// least MinRun in a row: the capacity is their bytes over their arrival gaps. A single
// late packet (a receiver that was descheduled, and the packets after it that arrive
// bunched) makes no run, nor do jittered timestamps of packets sent far apart. On
// loopback or a LAN the packets of a frame arrive within the feedback's resolution
// (250 µs) and nothing queues: no bottleneck, no measurement. Pure logic; not safe for
// concurrent use.
type DeliveryMeter struct {
	// Window is how long a sample counts (default 2 s).
	Window time.Duration
	// MinRun is the least number of queued packets in a row that make a sample
	// (default 3).
	MinRun int
	// Slack is how much more than the least one-way delay a packet must take to count as
	// queued (default 500 µs: twice the feedback's resolution).
	Slack time.Duration
	// BaseWindow is how long the least one-way delay is kept before it is taken afresh
	// (default 10 s), so that a path that got longer is not taken for a queue for ever.
	BaseWindow time.Duration

	samples  []deliverySample
	floors   []floorSample
	prev     PacketTiming // the last packet of the previous feedback
	havePrev bool
	base     time.Duration // least one-way delay seen
	baseAt   time.Time     // when base was taken
	haveBase bool
	// The run of queued packets in progress: its length, and the bytes and arrival gaps
	// not yet recorded as a sample.
	run   int
	bytes int
	span  time.Duration
}

// floorSample is the rate one feedback's packets arrived at, bytes over arrival span.
type floorSample struct {
	at  time.Time
	bps int64
}

// floorMinSpan is the least arrival span a floor sample is taken over: closer arrivals
// say more about timer resolution than about the link.
const floorMinSpan = 5 * time.Millisecond

type deliverySample struct {
	at    time.Time
	bytes int           // bytes that arrived queued
	span  time.Duration // over this arrival time
}

func (m *DeliveryMeter) defaults() {
	if m.Window <= 0 {
		m.Window = 2 * time.Second
	}
	if m.MinRun <= 0 {
		m.MinRun = 3
	}
	if m.Slack <= 0 {
		m.Slack = 500 * time.Microsecond
	}
	if m.BaseWindow <= 0 {
		m.BaseWindow = 10 * time.Second
	}
}

// record turns what the run in progress gathered into a sample once the run is long
// enough; end says the run ended.
func (m *DeliveryMeter) record(now time.Time, end bool) {
	if m.run >= m.MinRun && m.span > 0 {
		m.samples = append(m.samples, deliverySample{at: now, bytes: m.bytes, span: m.span})
		m.bytes, m.span = 0, 0
	}
	if end {
		m.run, m.bytes, m.span = 0, 0, 0
	}
}

// Feedback takes the packets one feedback reports received, in order of sending; now is
// when it came. A packet's predecessor is the packet sent just before it (sequence number
// one less), here or at the end of the previous feedback; a lost packet ends a run.
func (m *DeliveryMeter) Feedback(now time.Time, pkts []PacketTiming) {
	m.defaults()
	m.floor(now, pkts)
	for _, p := range pkts {
		d := p.Arrived - p.Sent
		if !m.haveBase || d <= m.base || now.Sub(m.baseAt) > m.BaseWindow {
			m.base, m.baseAt, m.haveBase = d, now, true
		}
		if m.havePrev && p.Seq == m.prev.Seq+1 {
			ga, gs := p.Arrived-m.prev.Arrived, p.Sent-m.prev.Sent
			// Queued behind its predecessor: delayed, spread further than it was sent,
			// and sent while the predecessor was still waiting (its delay above the least
			// is about how long it waited). A packet sent 30 ms after the last one of a
			// small frame waits behind nothing, whatever jitter did to its timestamps.
			waited := m.prev.Arrived - m.prev.Sent - m.base
			if d > m.base+m.Slack && ga > gs && gs < waited+m.Slack {
				m.run++
				m.bytes += p.Size
				m.span += ga
			} else {
				m.record(now, true)
			}
		} else {
			m.record(now, true)
		}
		m.prev, m.havePrev = p, true
	}
	m.record(now, false)
}

// Rate returns the bottleneck's capacity measured over the last Window, in bits per
// second, or 0 when no packet queued at a bottleneck lately (a fast link, or too little
// sent to tell).
func (m *DeliveryMeter) Rate(now time.Time) int64 {
	m.defaults()
	keep := m.samples[:0]
	bytes, span := 0, time.Duration(0)
	for _, s := range m.samples {
		if now.Sub(s.at) <= m.Window {
			keep = append(keep, s)
			bytes += s.bytes
			span += s.span
		}
	}
	m.samples = keep
	if span <= 0 {
		return 0
	}
	return int64(float64(bytes) * 8 / span.Seconds())
}

// floor takes the rate the packets of one feedback arrived at as a floor sample: the
// path carried that much, whatever limited it.
func (m *DeliveryMeter) floor(now time.Time, pkts []PacketTiming) {
	if len(pkts) < m.MinRun+1 {
		return
	}
	first, last, bytes := pkts[0].Arrived, pkts[0].Arrived, 0
	for i, p := range pkts {
		first, last = min(first, p.Arrived), max(last, p.Arrived)
		if i > 0 {
			bytes += p.Size // the first packet's bytes arrived before the span began
		}
	}
	if span := last - first; span >= floorMinSpan {
		m.floors = append(m.floors, floorSample{at: now, bps: int64(float64(bytes) * 8 / span.Seconds())})
	}
}

// Floor returns the largest rate the packets of one feedback arrived at in the last
// Window, in bits per second (0: none): a lower bound of the path's capacity, which on a
// fast link is only the sender's own rate but tells a link that carries a video's
// bursts from one that was never tried.
func (m *DeliveryMeter) Floor(now time.Time) int64 {
	m.defaults()
	keep := m.floors[:0]
	var best int64
	for _, s := range m.floors {
		if now.Sub(s.at) <= m.Window {
			keep = append(keep, s)
			best = max(best, s.bps)
		}
	}
	m.floors = keep
	return best
}

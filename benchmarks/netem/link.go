package netem

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ErrSpec is returned by ParseSpec for a malformed network description.
var ErrSpec = errors.New("netem: bad network spec")

// Spec describes an emulated network path.
type Spec struct {
	// RateBps is the bottleneck rate of each direction in bits per second; 0 is unlimited.
	RateBps int64
	// Delay is added to the round-trip time: each direction gets half of it.
	Delay time.Duration
	// Loss is the probability that a packet is dropped, in each direction (0 to 1).
	Loss float64
	// QueueBytes bounds what may wait at the bottleneck before packets are tail-dropped.
	// 0 means QueueDelay's worth of bytes at RateBps.
	QueueBytes int
	// QueueDelay bounds the bottleneck queue in time when QueueBytes is 0: a drop-tail
	// queue that holds this long at RateBps, as a router's buffer is sized (default
	// DefaultQueueDelay, never less than MinQueueBytes).
	QueueDelay time.Duration
}

const (
	// DefaultQueueDelay is the bottleneck queue when neither QueueBytes nor QueueDelay is
	// set: 200 ms at the link rate, a typical home router's buffer. tc netem's own default
	// of 1000 packets would be 6 s at 2 Mbit/s, a queue no real path has, in which any
	// overshoot turns into seconds of delay instead of the loss a sender reacts to.
	DefaultQueueDelay = 200 * time.Millisecond
	// MinQueueBytes is the smallest bottleneck queue: 16 full-size packets.
	MinQueueBytes = 16 * 1500
)

// queueBytes is the bottleneck queue of sp in bytes.
func (s Spec) queueBytes() int {
	if s.QueueBytes > 0 {
		return s.QueueBytes
	}
	d := s.QueueDelay
	if d <= 0 {
		d = DefaultQueueDelay
	}
	return max(MinQueueBytes, int(s.RateBps*int64(d)/8/int64(time.Second)))
}

// IsZero reports whether the spec leaves the path as it is.
func (s Spec) IsZero() bool { return s.RateBps == 0 && s.Delay == 0 && s.Loss == 0 }

// String renders the spec as the --net flag writes it, e.g. "10mbit,20ms,0.5%".
func (s Spec) String() string {
	rate := "unlimited"
	if s.RateBps > 0 {
		rate = formatRate(s.RateBps)
	}
	out := fmt.Sprintf("%s,%s,%s%%", rate, s.Delay, strconv.FormatFloat(s.Loss*100, 'f', -1, 64))
	if s.QueueDelay > 0 && s.QueueBytes == 0 {
		out += "," + s.QueueDelay.String()
	}
	return out
}

func formatRate(bps int64) string {
	switch {
	case bps%1_000_000_000 == 0:
		return fmt.Sprintf("%dgbit", bps/1_000_000_000)
	case bps%1_000_000 == 0:
		return fmt.Sprintf("%dmbit", bps/1_000_000)
	case bps%1000 == 0:
		return fmt.Sprintf("%dkbit", bps/1000)
	}
	return fmt.Sprintf("%dbit", bps)
}

// ParseSpec reads "RATE,DELAY,LOSS[,QUEUE]" such as "10mbit,20ms,0.5%". RATE takes tc's
// units (bit, kbit, mbit, gbit; "0" or "unlimited" for none), DELAY a Go duration (the
// added round-trip time), LOSS a percentage ("0.5%") or a fraction ("0.005"), QUEUE the
// bottleneck buffer as a Go duration at RATE (default DefaultQueueDelay). Trailing fields
// may be left out: "10mbit" or "10mbit,50ms".
func ParseSpec(s string) (Spec, error) {
	var sp Spec
	parts := strings.Split(strings.TrimSpace(s), ",")
	if len(parts) > 4 || parts[0] == "" {
		return Spec{}, fmt.Errorf("%w: %q (want RATE,DELAY,LOSS such as 10mbit,20ms,0.5%%)", ErrSpec, s)
	}
	rate, err := parseRate(strings.TrimSpace(parts[0]))
	if err != nil {
		return Spec{}, err
	}
	sp.RateBps = rate
	if len(parts) > 1 {
		d, err := time.ParseDuration(strings.TrimSpace(parts[1]))
		if err != nil || d < 0 {
			return Spec{}, fmt.Errorf("%w: delay %q", ErrSpec, parts[1])
		}
		sp.Delay = d
	}
	if len(parts) > 2 {
		l := strings.TrimSpace(parts[2])
		pct := strings.HasSuffix(l, "%")
		v, err := strconv.ParseFloat(strings.TrimSuffix(l, "%"), 64)
		if err != nil {
			return Spec{}, fmt.Errorf("%w: loss %q", ErrSpec, parts[2])
		}
		if pct {
			v /= 100
		}
		if v < 0 || v > 1 {
			return Spec{}, fmt.Errorf("%w: loss %q is outside 0..100%%", ErrSpec, parts[2])
		}
		sp.Loss = v
	}
	if len(parts) > 3 {
		d, err := time.ParseDuration(strings.TrimSpace(parts[3]))
		if err != nil || d <= 0 {
			return Spec{}, fmt.Errorf("%w: queue %q (a duration such as 200ms)", ErrSpec, parts[3])
		}
		sp.QueueDelay = d
	}
	return sp, nil
}

func parseRate(s string) (int64, error) {
	ls := strings.ToLower(s)
	if ls == "0" || ls == "unlimited" || ls == "inf" {
		return 0, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}} {
		if strings.HasSuffix(ls, u.suffix) {
			ls, mult = strings.TrimSuffix(ls, u.suffix), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(ls, 64)
	if err != nil || v <= 0 || v*float64(mult) > 1e12 {
		return 0, fmt.Errorf("%w: rate %q (e.g. 10mbit, 500kbit)", ErrSpec, s)
	}
	return int64(v * float64(mult)), nil
}

// Link models one direction of a path: Bernoulli loss, a bottleneck that sends one packet
// at a time at RateBps from a drop-tail FIFO queue (Spec.QueueBytes, or QueueDelay at the
// rate), then a fixed delay. A loss burst (SetBurst) raises the loss for a time window. It
// is a pure state machine: the caller passes the time, nothing sleeps.
type Link struct {
	rate      int64
	delay     time.Duration
	loss      float64
	queue     int
	rng       *rand.Rand
	busyUntil time.Time
	burst     Burst

	// Counters. BurstLost counts the packets of Lost that a burst dropped.
	Packets, Bytes, Lost, QueueDrops, BurstLost uint64
}

// NewLink returns the model of one direction of sp (half of sp.Delay), with loss drawn
// from a generator seeded with seed.
func NewLink(sp Spec, seed uint64) *Link {
	return &Link{rate: sp.RateBps, delay: sp.Delay / 2, loss: sp.Loss, queue: sp.queueBytes(), rng: rand.New(rand.NewPCG(seed, 0x6e65))}
}

// Burst is a window of extra loss: from From (inclusive) to To (exclusive), packets are
// lost with probability Loss instead of the spec's loss.
type Burst struct {
	From, To time.Time
	Loss     float64
}

// active reports whether the burst covers now.
func (b Burst) active(now time.Time) bool {
	return !b.From.IsZero() && !now.Before(b.From) && now.Before(b.To)
}

// SetBurst schedules a loss burst (replacing any earlier one).
func (l *Link) SetBurst(b Burst) { l.burst = b }

// lossAt is the loss probability for a packet arriving at now.
func (l *Link) lossAt(now time.Time) float64 {
	if l.burst.active(now) {
		return l.burst.Loss
	}
	return l.loss
}

// Send accounts for a packet of size bytes arriving at now and returns when it leaves the
// far end, or ok=false if it is lost or the queue is full.
func (l *Link) Send(now time.Time, size int) (deliver time.Time, ok bool) {
	l.Packets++
	if p := l.lossAt(now); p > 0 && l.rng.Float64() < p {
		l.Lost++
		if l.burst.active(now) {
			l.BurstLost++
		}
		return time.Time{}, false
	}
	start := now
	if l.rate > 0 {
		if l.busyUntil.After(now) {
			waiting := int64(l.busyUntil.Sub(now)) * l.rate / 8 / int64(time.Second)
			if waiting+int64(size) > int64(l.queue) {
				l.QueueDrops++
				return time.Time{}, false
			}
			start = l.busyUntil
		}
		l.busyUntil = start.Add(time.Duration(int64(size) * 8 * int64(time.Second) / l.rate))
		start = l.busyUntil
	}
	l.Bytes += uint64(size)
	return start.Add(l.delay), true
}

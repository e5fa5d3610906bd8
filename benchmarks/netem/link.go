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
	// QueueBytes bounds what may wait at the bottleneck before packets are tail-dropped
	// (default DefaultQueueBytes, tc netem's default limit of 1000 full-size packets).
	QueueBytes int
}

// DefaultQueueBytes is the bottleneck queue when Spec.QueueBytes is 0: 1000 packets of
// 1500 bytes, as tc netem's default limit of 1000 packets.
const DefaultQueueBytes = 1000 * 1500

// IsZero reports whether the spec leaves the path as it is.
func (s Spec) IsZero() bool { return s.RateBps == 0 && s.Delay == 0 && s.Loss == 0 }

// String renders the spec as the --net flag writes it, e.g. "10mbit,20ms,0.5%".
func (s Spec) String() string {
	rate := "unlimited"
	if s.RateBps > 0 {
		rate = formatRate(s.RateBps)
	}
	return fmt.Sprintf("%s,%s,%s%%", rate, s.Delay, strconv.FormatFloat(s.Loss*100, 'f', -1, 64))
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

// ParseSpec reads "RATE,DELAY,LOSS" such as "10mbit,20ms,0.5%". RATE takes tc's units
// (bit, kbit, mbit, gbit; "0" or "unlimited" for none), DELAY a Go duration (the added
// round-trip time), LOSS a percentage ("0.5%") or a fraction ("0.005"). Trailing fields
// may be left out: "10mbit" or "10mbit,50ms".
func ParseSpec(s string) (Spec, error) {
	var sp Spec
	parts := strings.Split(strings.TrimSpace(s), ",")
	if len(parts) > 3 || parts[0] == "" {
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
// at a time at RateBps from a FIFO queue of at most QueueBytes, then a fixed delay. It is
// a pure state machine: the caller passes the time, nothing sleeps.
type Link struct {
	rate      int64
	delay     time.Duration
	loss      float64
	queue     int
	rng       *rand.Rand
	busyUntil time.Time

	// Counters.
	Packets, Bytes, Lost, QueueDrops uint64
}

// NewLink returns the model of one direction of sp (half of sp.Delay), with loss drawn
// from a generator seeded with seed.
func NewLink(sp Spec, seed uint64) *Link {
	q := sp.QueueBytes
	if q <= 0 {
		q = DefaultQueueBytes
	}
	return &Link{rate: sp.RateBps, delay: sp.Delay / 2, loss: sp.Loss, queue: q, rng: rand.New(rand.NewPCG(seed, 0x6e65))}
}

// Send accounts for a packet of size bytes arriving at now and returns when it leaves the
// far end, or ok=false if it is lost or the queue is full.
func (l *Link) Send(now time.Time, size int) (deliver time.Time, ok bool) {
	l.Packets++
	if l.loss > 0 && l.rng.Float64() < l.loss {
		l.Lost++
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

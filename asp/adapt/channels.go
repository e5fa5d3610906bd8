package adapt

import (
	"errors"
	"fmt"
	"time"
)

// Class is a channel's priority class.
type Class uint8

// Priority classes. Realtime channels (input, cursor, control) are sent before anything
// else, in the order they were queued; Shared channels (clipboard, file, USB) divide what
// the budget leaves by weight.
const (
	Realtime Class = iota + 1
	Shared
)

// ChannelConfig describes one virtual channel to the Scheduler.
type ChannelConfig struct {
	Name  string
	Class Class
	// Weight is a Shared channel's share relative to the other Shared channels.
	Weight int
	// MaxQueued bounds the bytes waiting on the channel; Enqueue refuses more with
	// ErrBackpressure. 0 means 256 KiB.
	MaxQueued int
}

// Errors the Scheduler returns.
var (
	// ErrBackpressure means the channel's queue is full: wait until Queued drops (the
	// sender should stop reading from its source meanwhile) instead of buffering more.
	ErrBackpressure = errors.New("adapt: channel queue full")
	ErrNoChannel    = errors.New("adapt: no such channel")
)

// DefaultMaxQueued is the queue bound of a channel that sets none.
const DefaultMaxQueued = 256 << 10

// Scheduler orders messages of the virtual channels onto one connection: realtime channels
// first, shared channels by deficit round robin in proportion to their weights, all within a
// byte budget that follows the bandwidth estimate. It does no I/O and starts no goroutines:
// the transport enqueues, and dequeues whenever the connection can take more (for WebRTC
// data channels, while BufferedAmount is below a threshold). Video is not scheduled here; it
// gets what the channels leave, see VideoBudget. Not safe for concurrent use.
type Scheduler struct {
	channels []channel
	quantum  int  // bytes of deficit a weight of 1 earns per round
	next     int  // channel the round robin visits next
	arrived  bool // the turn just reached next, which has not been topped up yet

	// Token bucket: bytes the shared class may send now, refilled at dataRate.
	tokens   float64
	burst    float64
	dataRate float64 // bytes per second for shared channels
	last     time.Time

	// sentRate is an exponential moving average of everything sent (bytes per second),
	// used to leave the rest to video.
	sentRate  float64
	sentBytes int
	rateStart time.Time
}

type channel struct {
	ChannelConfig
	queue   [][]byte
	queued  int
	deficit int
	sent    int64
}

// NewScheduler returns a scheduler for the channels, numbered in the order given.
func NewScheduler(configs ...ChannelConfig) (*Scheduler, error) {
	s := &Scheduler{quantum: 1200, arrived: true}
	for i, c := range configs {
		switch {
		case c.Class != Realtime && c.Class != Shared:
			return nil, fmt.Errorf("adapt: channel %d (%s): unknown class %d", i, c.Name, c.Class)
		case c.Class == Shared && c.Weight <= 0:
			return nil, fmt.Errorf("adapt: channel %d (%s): a shared channel needs a positive weight", i, c.Name)
		case c.MaxQueued < 0:
			return nil, fmt.Errorf("adapt: channel %d (%s): negative queue bound", i, c.Name)
		}
		if c.MaxQueued == 0 {
			c.MaxQueued = DefaultMaxQueued
		}
		s.channels = append(s.channels, channel{ChannelConfig: c})
	}
	return s, nil
}

// SetDataRate sets how many bits per second the shared channels may use together; it
// follows the bandwidth estimate (see Budget.Split). The bucket holds at most 50 ms of it.
func (s *Scheduler) SetDataRate(bitsPerSecond int64, now time.Time) {
	s.refill(now)
	first := s.dataRate == 0
	s.dataRate = float64(bitsPerSecond) / 8
	s.burst = max(s.dataRate*0.05, 16<<10)
	if first {
		s.tokens = s.burst // a new connection may send its first burst at once
	}
	s.tokens = min(s.tokens, s.burst)
}

func (s *Scheduler) refill(now time.Time) {
	if !s.last.IsZero() && now.After(s.last) {
		s.tokens = min(s.burst, s.tokens+s.dataRate*now.Sub(s.last).Seconds())
	}
	s.last = now
}

// Enqueue queues one message on channel ch. The scheduler keeps msg; the caller must not
// modify it afterwards.
func (s *Scheduler) Enqueue(ch int, msg []byte) error {
	if ch < 0 || ch >= len(s.channels) {
		return fmt.Errorf("%w: %d", ErrNoChannel, ch)
	}
	c := &s.channels[ch]
	if c.queued+len(msg) > c.MaxQueued {
		return fmt.Errorf("%w: %s holds %d of %d bytes", ErrBackpressure, c.Name, c.queued, c.MaxQueued)
	}
	c.queue = append(c.queue, msg)
	c.queued += len(msg)
	return nil
}

// Queued returns the bytes waiting on channel ch.
func (s *Scheduler) Queued(ch int) int { return s.channels[ch].queued }

// Sent returns the bytes channel ch has sent so far.
func (s *Scheduler) Sent(ch int) int64 { return s.channels[ch].sent }

// Dequeue returns the next message to send and its channel, or ok false when nothing may be
// sent now: every queue is empty, or only shared channels wait and the budget is spent.
func (s *Scheduler) Dequeue(now time.Time) (ch int, msg []byte, ok bool) {
	s.refill(now)
	for i := range s.channels {
		if c := &s.channels[i]; c.Class == Realtime && len(c.queue) > 0 {
			return i, s.pop(i, now), true
		}
	}
	if s.tokens <= 0 {
		return 0, nil, false
	}
	// Deficit round robin: arriving at a backlogged channel tops its deficit up by its
	// weight's quantum once; it then sends while its head message fits, and the turn passes
	// on when it does not. A channel that empties loses its deficit, so idle channels bank
	// nothing. Every round adds to some backlogged channel's deficit, so the loop ends.
	for s.sharedBacklog() {
		c := &s.channels[s.next]
		if c.Class != Shared || len(c.queue) == 0 {
			c.deficit = 0
			s.advance()
			continue
		}
		if s.arrived {
			c.deficit += c.Weight * s.quantum
			s.arrived = false
		}
		if len(c.queue[0]) > c.deficit {
			s.advance()
			continue
		}
		i := s.next
		msg := s.pop(i, now)
		c.deficit -= len(msg)
		s.tokens -= float64(len(msg))
		if len(c.queue) == 0 {
			c.deficit = 0
			s.advance()
		}
		return i, msg, true
	}
	return 0, nil, false
}

// DequeueRealtime is Dequeue restricted to the realtime channels: for a transport whose
// buffer is too full to take bulk data, but which must still let input, cursor and control
// through.
func (s *Scheduler) DequeueRealtime(now time.Time) (ch int, msg []byte, ok bool) {
	s.refill(now)
	for i := range s.channels {
		if c := &s.channels[i]; c.Class == Realtime && len(c.queue) > 0 {
			return i, s.pop(i, now), true
		}
	}
	return 0, nil, false
}

// Backlogged reports whether any channel has messages waiting.
func (s *Scheduler) Backlogged() bool {
	for i := range s.channels {
		if len(s.channels[i].queue) > 0 {
			return true
		}
	}
	return false
}

// advance passes the round-robin turn to the next channel.
func (s *Scheduler) advance() {
	s.next = (s.next + 1) % len(s.channels)
	s.arrived = true
}

func (s *Scheduler) sharedBacklog() bool {
	for i := range s.channels {
		if s.channels[i].Class == Shared && len(s.channels[i].queue) > 0 {
			return true
		}
	}
	return false
}

func (s *Scheduler) pop(i int, now time.Time) []byte {
	c := &s.channels[i]
	msg := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	c.queued -= len(msg)
	c.sent += int64(len(msg))
	s.account(len(msg), now)
	return msg
}

// rateWindow is how often the sent-rate average takes a new sample.
const rateWindow = 100 * time.Millisecond

func (s *Scheduler) account(n int, now time.Time) {
	if s.rateStart.IsZero() {
		s.rateStart = now
	}
	s.sentBytes += n
	s.updateRate(now)
}

func (s *Scheduler) updateRate(now time.Time) {
	if s.rateStart.IsZero() {
		s.rateStart = now
		return
	}
	elapsed := now.Sub(s.rateStart)
	if elapsed < rateWindow {
		return
	}
	sample := float64(s.sentBytes) / elapsed.Seconds()
	s.sentRate = 0.7*s.sentRate + 0.3*sample
	s.sentBytes = 0
	s.rateStart = now
}

// SentRate returns the moving average of what the channels send, in bits per second.
func (s *Scheduler) SentRate(now time.Time) int64 {
	s.updateRate(now)
	return int64(s.sentRate * 8)
}

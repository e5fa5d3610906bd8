package asp

import (
	"errors"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp/adapt"
)

// The server's outgoing channels in scheduler order. Control and cursor are realtime: they
// go before anything else. Clipboard is shared by weight (file and USB channels would join
// it with their own weights) and within the budget the estimate leaves for data.
var outChannels = []adapt.ChannelConfig{
	{Name: ChannelControl, Class: adapt.Realtime, MaxQueued: 64 << 10},
	{Name: ChannelCursor, Class: adapt.Realtime, MaxQueued: cursorBacklog},
	{Name: ChannelClipboard, Class: adapt.Shared, Weight: 1, MaxQueued: 2 * maxChannelMessage},
}

const (
	// sharedHighWater is how many bytes may wait in the SCTP association's buffers before
	// shared channels stop handing it more: SCTP sends its streams' data in the order it was
	// given, so a full buffer of clipboard data would delay the next cursor message by its
	// whole length. Realtime messages are always handed over.
	sharedHighWater = 64 << 10
	// sendPoll is how often the sender looks again while only a token-limited or
	// buffer-limited shared channel waits.
	sendPoll = 10 * time.Millisecond
)

func channelIndex(label string) int {
	for i, c := range outChannels {
		if c.Name == label {
			return i
		}
	}
	return -1
}

// errChannelClosed is returned by enqueue when the session or its channel is gone.
var errChannelClosed = errors.New("asp: channel not open")

// enqueue queues b on the labelled channel through the scheduler. It returns
// adapt.ErrBackpressure when the channel's queue is full: the caller drops (superseded
// updates) or waits (clipboard) but never buffers more itself.
func (s *session) enqueue(label string, b []byte) error {
	i := channelIndex(label)
	if dc := s.channel(label); i < 0 || dc == nil || !dc.open() {
		return errChannelClosed
	}
	s.schedMu.Lock()
	err := s.sched.Enqueue(i, b)
	s.schedMu.Unlock()
	if err != nil {
		return err
	}
	s.kickSender()
	return nil
}

func (s *session) kickSender() {
	select {
	case s.sendWake <- struct{}{}:
	default:
	}
}

// setDataRate gives the shared channels their part of the estimate.
func (s *session) setDataRate(bps int64, now time.Time) {
	s.schedMu.Lock()
	s.sched.SetDataRate(bps, now)
	s.schedMu.Unlock()
}

// queued returns the bytes waiting on a channel in the scheduler.
func (s *session) queued(label string) int {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	return s.sched.Queued(channelIndex(label))
}

// sendLoop hands scheduled messages to the data channels: realtime whenever they come,
// shared while the association's buffer is below sharedHighWater and the token bucket
// allows. It wakes on new messages, on OnBufferedAmountLow and, while shared data waits,
// every sendPoll.
func (s *session) sendLoop() {
	defer s.wg.Done()
	t := time.NewTimer(sendPoll)
	defer t.Stop()
	for {
		waiting := s.pump(time.Now())
		var poll <-chan time.Time
		if waiting {
			t.Reset(sendPoll)
			poll = t.C
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.sendWake:
		case <-poll:
		}
	}
}

// pump sends what may be sent now and reports whether messages still wait.
func (s *session) pump(now time.Time) bool {
	for {
		buffered := uint64(0)
		for _, c := range outChannels {
			if dc := s.channel(c.Name); dc != nil {
				buffered += dc.BufferedAmount()
			}
		}
		s.schedMu.Lock()
		var (
			ch  int
			msg []byte
			ok  bool
		)
		if buffered < sharedHighWater {
			ch, msg, ok = s.sched.Dequeue(now)
		} else {
			ch, msg, ok = s.sched.DequeueRealtime(now)
		}
		backlog := s.sched.Backlogged()
		s.schedMu.Unlock()
		if !ok {
			return backlog
		}
		label := outChannels[ch].Name
		dc := s.channel(label)
		if dc == nil || !dc.open() {
			continue
		}
		if err := dc.Send(msg); err != nil {
			s.log.Debug("send", "channel", label, "error", err)
			continue
		}
		s.chanBytes.Add(uint64(len(msg)))
		s.srv.metrics.channelBytes.WithLabelValues(label).Add(float64(len(msg)))
	}
}

// outChannel is a data channel the session sends on: a WebRTC data channel or a direct
// transport channel.
type outChannel interface {
	Send(msg []byte) error
	BufferedAmount() uint64
	open() bool
}

// rtcChannel adapts a WebRTC data channel.
type rtcChannel struct{ *webrtc.DataChannel }

func (c rtcChannel) open() bool { return c.ReadyState() == webrtc.DataChannelStateOpen }

// videoSink sends one encoded frame and returns its RTP timestamp (90 kHz, from pts), the
// clock clients and benchmarks pair frames by.
type videoSink interface {
	writeFrame(data []byte, pts time.Duration, key bool) (uint32, error)
}

// rtpSink packetises frames onto the WebRTC video track.
type rtpSink struct {
	track     *webrtc.TrackLocalStaticRTP
	payloader rtp.Payloader
	seq       uint16
	tsBase    uint32
	// spread, when set, says how fast the packets of a big frame may leave (spreader).
	spread func(key bool) (bytesPerSecond float64, burst int)
}

func (r *rtpSink) writeFrame(data []byte, pts time.Duration, key bool) (uint32, error) {
	ts := r.tsBase + uint32(pts.Seconds()*90000)
	payloads := r.payloader.Payload(rtpPayloadMTU, data)
	var werr error
	sp := newSpreader(r.spread, key)
	for i, p := range payloads {
		sp.wait(len(p))
		err := r.track.WriteRTP(&rtp.Packet{
			Header:  rtp.Header{Version: 2, Marker: i == len(payloads)-1, SequenceNumber: r.seq, Timestamp: ts},
			Payload: p,
		})
		r.seq++
		if err != nil && werr == nil {
			werr = err
		}
	}
	return ts, werr
}

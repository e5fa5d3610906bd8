package asp

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp/adapt"
)

// nackHistory is how many sent packets the responder keeps per stream: 4096 packets of
// 1150 bytes are adapt.RetransmitPolicy's MaxAge (1 s) at up to 35 Mbit/s.
const nackHistory = 4096

// nackResponder answers the receiver's NACKs (RFC 4585 generic NACK) with copies of the
// packets it asks for, as pion's responder does, but through adapt.RetransmitPolicy: each
// packet at most once per MinGap, none older than MaxAge, within a budget that follows
// the bandwidth estimate (setEstimate), so that NACKs repeated while a copy still waits
// in a bottleneck queue do not become a retransmission storm.
type nackResponder struct {
	interceptor.NoOp
	estimate atomic.Int64

	mu      sync.Mutex
	policy  adapt.RetransmitPolicy
	streams map[uint32]*nackStream
	now     func() time.Time
	resent  atomic.Uint64
	refused atomic.Uint64
	// lossAt is when the last NACK came: tail probes are sent for tailProbeMemory after it.
	lossAt time.Time
	probes atomic.Uint64
	// onLoss, when set, is called (outside the lock) for every NACK: the receiver lost
	// packets. onResent, when set, is told the bytes of the copies sent for it, which take
	// the link like new frames do.
	onLoss   func()
	onResent func(bytes int)
	// onCopy, when set, is shown every copy before it is written (outside the lock).
	onCopy func(h *rtp.Header)
}

type nackStream struct {
	w    interceptor.RTPWriter
	ring [nackHistory]sentPacket
	// last is the sequence number of the newest packet sent.
	last uint16
}

// A receiver finds a lost packet by the gap it leaves before the next one, so when the
// last packets of a frame are lost on a screen that then stays still, nothing shows the
// loss until the next frame, and the answer to a click waited half a second for its repair
// (bench fileops over a 10 Mbit/s link with 0.5% loss: 550 ms against 50). So on a link
// that lost packets lately (a NACK within tailProbeMemory), a frame's last packet is sent
// once more, unasked, when nothing newer followed it within tailProbeDelay (TCP's tail
// loss probe does the same for a flight's end): the copy reveals a lost tail to the
// receiver, whose NACK then repairs it, and a copy of a packet that did arrive is dropped
// by the receiver's replay check. The copy takes the retransmission budget like any other.
const (
	tailProbeDelay  = 50 * time.Millisecond
	tailProbeMemory = 10 * time.Second
)

type sentPacket struct {
	hdr     rtp.Header
	payload []byte
	sent    time.Time
	resent  time.Time
	ok      bool
}

// registerNackResponder registers NACK feedback for video with me and a nackResponder,
// nearest the network, with ir. The server receives no video, so it needs no generator.
func registerNackResponder(me *webrtc.MediaEngine, ir *interceptor.Registry) (*nackResponder, error) {
	for _, fb := range []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}} {
		me.RegisterFeedback(fb, webrtc.RTPCodecTypeVideo)
	}
	n := newNackResponder()
	ir.Add(n)
	return n, nil
}

func newNackResponder() *nackResponder {
	return &nackResponder{streams: map[uint32]*nackStream{}, now: time.Now}
}

// NewInterceptor implements interceptor.Factory: one peer connection, one responder.
func (n *nackResponder) NewInterceptor(string) (interceptor.Interceptor, error) { return n, nil }

// setEstimate passes the bandwidth estimate (bits per second) to the retransmission budget.
func (n *nackResponder) setEstimate(bps int64) { n.estimate.Store(bps) }

// BindLocalStream keeps a copy of every packet sent on a stream that takes NACKs.
func (n *nackResponder) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	nacks := false
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			nacks = true
		}
	}
	if !nacks {
		return w
	}
	st := &nackStream{w: w}
	n.mu.Lock()
	n.streams[info.SSRC] = st
	n.mu.Unlock()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		n.mu.Lock()
		p := &st.ring[h.SequenceNumber%nackHistory]
		p.hdr = *h
		p.hdr.Extensions = append([]rtp.Extension(nil), h.Extensions...)
		p.payload = append(p.payload[:0], payload...)
		p.sent, p.resent, p.ok = n.now(), time.Time{}, true
		st.last = h.SequenceNumber
		probe := h.Marker && !n.lossAt.IsZero() && p.sent.Sub(n.lossAt) <= tailProbeMemory
		n.mu.Unlock()
		if probe {
			seq := h.SequenceNumber
			time.AfterFunc(tailProbeDelay, func() { n.probeTail(st, seq) })
		}
		return w.Write(h, payload, a)
	})
}

// probeTail sends packet seq, a frame's last, once more when it is still the newest packet
// of the stream and was not sent again already.
func (n *nackResponder) probeTail(st *nackStream, seq uint16) {
	n.mu.Lock()
	p := &st.ring[seq%nackHistory]
	now := n.now()
	n.policy.SetEstimate(n.estimate.Load())
	if st.last != seq || !p.ok || p.hdr.SequenceNumber != seq || !p.resent.IsZero() ||
		!n.policy.Allow(now, p.sent, p.resent, len(p.payload)+p.hdr.MarshalSize()) {
		n.mu.Unlock()
		return
	}
	p.resent = now
	h := p.hdr
	h.Extensions = append([]rtp.Extension(nil), p.hdr.Extensions...)
	payload := append([]byte(nil), p.payload...)
	w, onResent, onCopy := st.w, n.onResent, n.onCopy
	n.mu.Unlock()
	if onCopy != nil {
		onCopy(&h)
	}
	if _, err := w.Write(&h, payload, nil); err == nil {
		n.probes.Add(1)
		if onResent != nil {
			onResent(h.MarshalSize() + len(payload))
		}
	}
}

// UnbindLocalStream forgets the stream.
func (n *nackResponder) UnbindLocalStream(info *interceptor.StreamInfo) {
	n.mu.Lock()
	delete(n.streams, info.SSRC)
	n.mu.Unlock()
}

// BindRTCPReader answers the NACKs in the RTCP coming in.
func (n *nackResponder) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return eachRTCP(r, func(p rtcp.Packet) {
		if nack, ok := p.(*rtcp.TransportLayerNack); ok {
			n.answer(nack)
		}
	})
}

// answer sends again what the policy allows of what nack asks for. The copies are written
// outside the lock, in sequence order.
func (n *nackResponder) answer(nack *rtcp.TransportLayerNack) {
	type out struct {
		hdr     rtp.Header
		payload []byte
	}
	var send []out
	n.mu.Lock()
	st := n.streams[nack.MediaSSRC]
	if st == nil {
		n.mu.Unlock()
		return
	}
	now := n.now()
	n.lossAt = now
	n.policy.SetEstimate(n.estimate.Load())
	for _, pair := range nack.Nacks {
		pair.Range(func(seq uint16) bool {
			p := &st.ring[seq%nackHistory]
			if !p.ok || p.hdr.SequenceNumber != seq {
				return true
			}
			if !n.policy.Allow(now, p.sent, p.resent, len(p.payload)+p.hdr.MarshalSize()) {
				n.refused.Add(1)
				return true
			}
			p.resent = now
			h := p.hdr
			h.Extensions = append([]rtp.Extension(nil), p.hdr.Extensions...)
			send = append(send, out{h, append([]byte(nil), p.payload...)})
			return true
		})
	}
	w, onLoss, onResent, onCopy := st.w, n.onLoss, n.onResent, n.onCopy
	n.mu.Unlock()
	if onLoss != nil {
		onLoss()
	}
	bytes := 0
	for _, o := range send {
		if onCopy != nil {
			onCopy(&o.hdr)
		}
		if _, err := w.Write(&o.hdr, o.payload, nil); err == nil {
			n.resent.Add(1)
			bytes += o.hdr.MarshalSize() + len(o.payload)
		}
	}
	if onResent != nil && bytes > 0 {
		onResent(bytes)
	}
}

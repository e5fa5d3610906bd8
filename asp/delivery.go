package asp

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/shadowless-dev/shadowless/asp/adapt"
)

// deliveryHistory is how many sent packets the delivery meter remembers by transport-wide
// sequence number.
const deliveryHistory = 4096

// deliveryMeter is an interceptor that feeds adapt.DeliveryMeter: it notes the size and
// send time of every packet sent under its transport-wide sequence number, and reads the
// receiver's transport-wide feedback for their arrival times.
type deliveryMeter struct {
	interceptor.NoOp

	mu   sync.Mutex
	sent [deliveryHistory]struct {
		seq  uint16
		size int
		at   time.Duration // since base
		ok   bool
	}
	base  time.Time
	meter adapt.DeliveryMeter
	now   func() time.Time
	// extID is the transport-wide sequence number's header extension ID (0: not known).
	extID uint8
}

func newDeliveryMeter() *deliveryMeter { return &deliveryMeter{now: time.Now, base: time.Now()} }

// NewInterceptor implements interceptor.Factory: one peer connection, one meter.
func (d *deliveryMeter) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

// rate returns the bottleneck's measured capacity in bits per second (0: not measured
// lately) and the floor the path is known to carry (0: none).
func (d *deliveryMeter) rate() (capacity, floor int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	return d.meter.Rate(now), d.meter.Floor(now)
}

// BindLocalStream notes the size and send time of every packet of a stream that carries
// transport-wide sequence numbers.
func (d *deliveryMeter) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	id := 0
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			id = e.ID
		}
	}
	if id == 0 {
		return w
	}
	d.mu.Lock()
	d.extID = uint8(id)
	d.mu.Unlock()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if ext := h.GetExtension(uint8(id)); len(ext) >= 2 {
			seq := binary.BigEndian.Uint16(ext)
			d.mu.Lock()
			s := &d.sent[seq%deliveryHistory]
			s.seq, s.size, s.at, s.ok = seq, h.MarshalSize()+len(payload), d.now().Sub(d.base), true
			d.mu.Unlock()
		}
		return w.Write(h, payload, a)
	})
}

// forget drops the packet h from the meter because it is being sent again (a NACK's
// answer or a tail probe) under the same transport-wide sequence number: the receiver may
// report the copy's arrival, which against the first send time looks like a packet that
// queued for the whole repair (a 10 Mbit/s link read as 2.5 Mbit/s after a burst of loss).
func (d *deliveryMeter) forget(h *rtp.Header) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.extID == 0 {
		return
	}
	if ext := h.GetExtension(d.extID); len(ext) >= 2 {
		seq := binary.BigEndian.Uint16(ext)
		if s := &d.sent[seq%deliveryHistory]; s.seq == seq {
			s.ok = false
		}
	}
}

// BindRTCPReader reads transport-wide feedback.
func (d *deliveryMeter) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return eachRTCP(r, func(p rtcp.Packet) {
		if fb, ok := p.(*rtcp.TransportLayerCC); ok {
			d.feedback(fb)
		}
	})
}

// eachRTCP wraps r so that every RTCP packet read through it is also handed to see, in
// order, before the reader above gets the bytes.
func eachRTCP(r interceptor.RTCPReader, see func(rtcp.Packet)) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		i, attr, err := r.Read(b, a)
		if err != nil {
			return 0, nil, err
		}
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		pkts, err := attr.GetRTCPPackets(b[:i])
		if err != nil {
			return 0, nil, err
		}
		for _, p := range pkts {
			see(p)
		}
		return i, attr, nil
	})
}

// feedback pairs the packets one transport-wide feedback reports received with their
// sizes and send times for the meter.
func (d *deliveryMeter) feedback(fb *rtcp.TransportLayerCC) {
	arrivals, seqs := tccArrivals(fb)
	d.mu.Lock()
	defer d.mu.Unlock()
	pkts := make([]adapt.PacketTiming, 0, len(seqs))
	for i, seq := range seqs {
		s := d.sent[seq%deliveryHistory]
		if s.ok && s.seq == seq {
			pkts = append(pkts, adapt.PacketTiming{Seq: seq, Sent: s.at, Arrived: arrivals[i], Size: s.size})
		}
	}
	d.meter.Feedback(d.now(), pkts)
}

// tccArrivals expands a transport-wide feedback into the arrival time (receiver clock) and
// sequence number of each packet it reports received.
func tccArrivals(fb *rtcp.TransportLayerCC) ([]time.Duration, []uint16) {
	var statuses []uint16
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				statuses = append(statuses, c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			statuses = append(statuses, c.SymbolList...)
		}
	}
	statuses = statuses[:min(len(statuses), int(fb.PacketStatusCount))]
	t := time.Duration(fb.ReferenceTime) * 64 * time.Millisecond
	var arrivals []time.Duration
	var seqs []uint16
	di := 0
	for i, st := range statuses {
		if st != rtcp.TypeTCCPacketReceivedSmallDelta && st != rtcp.TypeTCCPacketReceivedLargeDelta {
			continue
		}
		if di >= len(fb.RecvDeltas) {
			break
		}
		t += time.Duration(fb.RecvDeltas[di].Delta) * time.Microsecond
		di++
		arrivals = append(arrivals, t)
		seqs = append(seqs, fb.BaseSequenceNumber+uint16(i))
	}
	return arrivals, seqs
}

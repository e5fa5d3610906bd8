package client

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// assembler turns RTP packets into encoded frames as soon as the last packet of a frame is
// in: pion's samplebuilder waits for the first packet of the next frame, which on a
// damage-driven stream can be a second away. A frame is the contiguous run of packets from
// a partition head to a packet with the marker bit, all with one timestamp. Packets may
// arrive out of order (NACK retransmissions); a hole that stays open longer than
// resyncAfter is given up on, and the assembler restarts at the next frame start and
// reports the loss so the caller can ask for a keyframe. It does no I/O.
type assembler struct {
	dep         rtp.Depacketizer
	resyncAfter time.Duration
	maxPackets  int

	pkts        map[uint16]*rtp.Packet
	next        uint16 // sequence number the next frame starts at
	highest     uint16 // highest sequence number buffered or consumed
	started     bool
	stuckSince  time.Time
	lostPackets int
	// lostPending: packets were given up on (a resync, a jump to a keyframe, a restart with
	// no frame start buffered, an undecodable frame); the next frame delivered reports the
	// loss, however many pushes later it is complete.
	lostPending bool
}

type assembled struct {
	data      []byte
	timestamp uint32
	// lost reports that packets before this frame were given up on.
	lost bool
	// key reports that the frame is a keyframe (isKeyframe).
	key bool
}

func newAssembler(dep rtp.Depacketizer) *assembler {
	return &assembler{dep: dep, resyncAfter: 300 * time.Millisecond, maxPackets: 4096, pkts: map[uint16]*rtp.Packet{}}
}

// before reports whether sequence number a comes before b (with wrap-around).
func before(a, b uint16) bool { return int16(a-b) < 0 }

// push adds a packet received at now and returns the frames it completed, in order.
func (a *assembler) push(p *rtp.Packet, now time.Time) []assembled {
	if !a.started {
		if !a.dep.IsPartitionHead(p.Payload) {
			return nil
		}
		a.started, a.next, a.highest = true, p.SequenceNumber, p.SequenceNumber
	}
	if before(p.SequenceNumber, a.next) {
		return nil // late duplicate or part of a frame given up on
	}
	a.pkts[p.SequenceNumber] = p
	if before(a.highest, p.SequenceNumber) {
		a.highest = p.SequenceNumber
	}
	var out []assembled
	if p.Marker && a.incomplete() {
		// A hole holds up delivery. If this packet completes a keyframe, the frames
		// before it are of no use any more: jump to it now rather than after resyncAfter.
		if head, ok := a.keyframeEndingAt(p); ok && before(a.next, head) {
			a.skipTo(head)
			a.lostPending = true
		}
	}
	for {
		f, ok := a.build()
		if ok {
			a.stuckSince = time.Time{}
			if f.data == nil {
				a.lostPending = true // consumed but undecodable: the chain is broken too
				continue
			}
			f.lost, a.lostPending = a.lostPending, false
			out = append(out, f)
			continue
		}
		if len(a.pkts) == 0 {
			return out
		}
		if len(a.pkts) == int(a.highest-a.next)+1 {
			// No hole, the frame is still arriving (a big frame on a slow link takes
			// longer than resyncAfter): not stuck.
			a.stuckSince = time.Time{}
			return out
		}
		if a.stuckSince.IsZero() {
			a.stuckSince = now
		}
		if now.Sub(a.stuckSince) < a.resyncAfter && len(a.pkts) < a.maxPackets {
			return out
		}
		if !a.resync() {
			return out
		}
		a.lostPending = true
		a.stuckSince = time.Time{}
	}
}

// build takes the frame starting at next if it is complete.
func (a *assembler) build() (assembled, bool) {
	first := a.pkts[a.next]
	if first == nil {
		return assembled{}, false
	}
	n := 0
	for seq := a.next; ; seq++ {
		p := a.pkts[seq]
		if p == nil || p.Timestamp != first.Timestamp {
			return assembled{}, false
		}
		n++
		if p.Marker {
			break
		}
		if n > a.maxPackets {
			return assembled{}, false
		}
	}
	f := assembled{timestamp: first.Timestamp}
	ok := a.dep.IsPartitionHead(first.Payload)
	f.key = ok && isKeyframe(a.dep, first.Payload)
	for i := 0; i < n; i++ {
		seq := a.next + uint16(i)
		if ok {
			b, err := a.dep.Unmarshal(a.pkts[seq].Payload)
			if err != nil {
				ok = false
			}
			f.data = append(f.data, b...)
		}
		delete(a.pkts, seq)
	}
	a.next += uint16(n)
	if !ok {
		f.data = nil // undecodable: consumed, nothing to deliver
	}
	return f, true
}

// incomplete reports whether the frame at next is missing a packet (it does not end in a
// marker with one timestamp throughout).
func (a *assembler) incomplete() bool {
	first := a.pkts[a.next]
	if first == nil {
		return true
	}
	for seq, n := a.next, 0; n <= a.maxPackets; seq, n = seq+1, n+1 {
		p := a.pkts[seq]
		if p == nil || p.Timestamp != first.Timestamp {
			return true
		}
		if p.Marker {
			return false
		}
	}
	return true
}

// keyframeEndingAt reports whether last (a marker packet) ends a complete keyframe, and
// the sequence number of its first packet.
func (a *assembler) keyframeEndingAt(last *rtp.Packet) (uint16, bool) {
	seq := last.SequenceNumber
	for n := 0; n < a.maxPackets; n++ {
		prev := a.pkts[seq-1]
		if prev == nil || prev.Timestamp != last.Timestamp {
			break
		}
		seq--
	}
	head := a.pkts[seq]
	if prev := a.pkts[seq-1]; prev == nil && seq != a.next {
		// The packet before is missing: it may belong to this frame.
		if !a.dep.IsPartitionHead(head.Payload) {
			return 0, false
		}
	}
	if !a.dep.IsPartitionHead(head.Payload) || !isKeyframe(a.dep, head.Payload) {
		return 0, false
	}
	return seq, true
}

// skipTo drops everything before head, counting it lost, and makes head the next frame.
func (a *assembler) skipTo(head uint16) {
	for seq := range a.pkts {
		if before(seq, head) {
			delete(a.pkts, seq)
		}
	}
	a.lostPackets += int(head - a.next)
	a.next = head
	a.stuckSince = time.Time{}
}

// isKeyframe reports whether payload, the first RTP payload of a frame, starts a keyframe:
// VP8's P bit clear, VP9's descriptor without inter-picture prediction, or an H.264 IDR
// slice or sequence parameter set.
func isKeyframe(dep rtp.Depacketizer, payload []byte) bool {
	switch dep.(type) {
	case *codecs.VP8Packet:
		var p codecs.VP8Packet
		b, err := p.Unmarshal(payload)
		return err == nil && len(b) > 0 && b[0]&1 == 0
	case *codecs.VP9Packet:
		var p codecs.VP9Packet
		_, err := p.Unmarshal(payload)
		return err == nil && p.B && !p.P
	case *codecs.H264Packet:
		var p codecs.H264Packet
		b, err := p.Unmarshal(payload)
		if err != nil {
			return false
		}
		for i := 0; i+3 < len(b); i++ {
			if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
				if t := b[i+3] & 0x1f; t == 5 || t == 7 {
					return true
				}
			}
		}
	}
	return false
}

// resync gives up on the hole at next and moves to the earliest buffered frame start.
func (a *assembler) resync() bool {
	var best uint16
	found := false
	for seq, p := range a.pkts {
		if seq != a.next && a.dep.IsPartitionHead(p.Payload) && (!found || before(seq, best)) {
			if prev := a.pkts[seq-1]; prev != nil && prev.Timestamp == p.Timestamp {
				continue // a middle packet that merely looks like a head
			}
			best, found = seq, true
		}
	}
	if !found {
		a.lostPackets += len(a.pkts)
		clear(a.pkts)
		a.started = false
		a.lostPending = true
		return false
	}
	for seq := range a.pkts {
		if before(seq, best) {
			delete(a.pkts, seq)
		}
	}
	a.lostPackets += int(best - a.next) // every sequence number skipped, received or not
	a.next = best
	return true
}

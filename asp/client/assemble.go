package client

import (
	"time"

	"github.com/pion/rtp"
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
	started     bool
	stuckSince  time.Time
	lostPackets int
}

type assembled struct {
	data      []byte
	timestamp uint32
	// lost reports that packets before this frame were given up on.
	lost bool
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
		a.started, a.next = true, p.SequenceNumber
	}
	if before(p.SequenceNumber, a.next) {
		return nil // late duplicate or part of a frame given up on
	}
	a.pkts[p.SequenceNumber] = p
	var out []assembled
	lost := false
	for {
		f, ok := a.build()
		if ok {
			a.stuckSince = time.Time{}
			f.lost = lost
			lost = false
			if f.data != nil {
				out = append(out, f)
			}
			continue
		}
		if len(a.pkts) == 0 {
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
		lost = true
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
		return false
	}
	for seq := range a.pkts {
		if before(seq, best) {
			delete(a.pkts, seq)
			a.lostPackets++
		}
	}
	a.lostPackets += int(best - a.next)
	a.next = best
	return true
}

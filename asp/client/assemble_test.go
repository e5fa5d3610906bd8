package client

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packetize makes VP8 RTP packets of frames (each frame's bytes are its index repeated).
func packetize(t *testing.T, frames [][]byte, seq uint16) []*rtp.Packet {
	t.Helper()
	pay := &codecs.VP8Payloader{EnablePictureID: true}
	var out []*rtp.Packet
	for i, f := range frames {
		parts := pay.Payload(100, f)
		for j, p := range parts {
			out = append(out, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(i * 3000), Marker: j == len(parts)-1}, Payload: p})
			seq++
		}
	}
	return out
}

func frames(n, size int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		f := make([]byte, size+i)
		for j := range f {
			f[j] = byte(i)
		}
		out = append(out, f)
	}
	return out
}

func TestAssemblerInOrderNoDelay(t *testing.T) {
	in := frames(5, 350)
	a := newAssembler(&codecs.VP8Packet{})
	now := time.Now()
	var got [][]byte
	for _, p := range packetize(t, in, 65530) { // wraps
		out := a.push(p, now)
		// A frame comes out with its own last packet, not with the next frame's first.
		if p.Marker {
			require.Len(t, out, 1)
		} else {
			require.Empty(t, out)
		}
		for _, f := range out {
			assert.False(t, f.lost)
			got = append(got, f.data)
		}
	}
	assert.Equal(t, in, got)
}

func TestAssemblerReordered(t *testing.T) {
	in := frames(8, 250)
	pkts := packetize(t, in, 100)
	r := rand.New(rand.NewPCG(1, 2))
	// Shuffle inside windows of 4, keeping the very first packet first.
	for i := 1; i+4 <= len(pkts); i += 4 {
		r.Shuffle(4, func(x, y int) { pkts[i+x], pkts[i+y] = pkts[i+y], pkts[i+x] })
	}
	a := newAssembler(&codecs.VP8Packet{})
	var got [][]byte
	for _, p := range pkts {
		for _, f := range a.push(p, time.Now()) {
			got = append(got, f.data)
		}
	}
	assert.Equal(t, in, got)
}

func TestAssemblerLossResyncs(t *testing.T) {
	in := frames(6, 250)
	pkts := packetize(t, in, 0)
	// Drop the second packet of frame 1.
	var drop int
	for i, p := range pkts {
		if p.Timestamp == 3000 {
			drop = i + 1
			break
		}
	}
	a := newAssembler(&codecs.VP8Packet{})
	t0 := time.Now()
	var got [][]byte
	var lost bool
	for i, p := range pkts {
		if i == drop {
			continue
		}
		now := t0
		if p.Timestamp >= 5*3000 {
			now = t0.Add(time.Second) // the hole has been open long enough
		}
		for _, f := range a.push(p, now) {
			got = append(got, f.data)
			lost = lost || f.lost
		}
	}
	require.True(t, lost)
	require.NotEmpty(t, got)
	assert.Equal(t, in[0], got[0])
	assert.Equal(t, in[2:], got[1:], "frames after the hole are delivered")
	assert.Positive(t, a.lostPackets)
}

func TestAssemblerIgnoresUntilFrameStart(t *testing.T) {
	in := frames(2, 250)
	pkts := packetize(t, in, 10)
	a := newAssembler(&codecs.VP8Packet{})
	var got [][]byte
	for _, p := range pkts[1:] { // the first frame's head is missing
		for _, f := range a.push(p, time.Now()) {
			got = append(got, f.data)
		}
	}
	assert.Equal(t, in[1:], got)
}

// A hole that NACK has not filled holds up delivery only until a later keyframe is
// complete: the assembler jumps to it at once instead of waiting resyncAfter, and reports
// the loss. Delta frames after a hole still wait.
func TestAssemblerJumpsToKeyframe(t *testing.T) {
	// frames() fills frame i with byte i: even frames start with a clear VP8 P bit
	// (keyframes), odd ones are delta frames.
	in := frames(5, 300)
	pkts := packetize(t, in, 100)
	a := newAssembler(&codecs.VP8Packet{})
	now := time.Now()
	var got []assembled
	lostFrom, lostTo := -1, -1 // frame 1's first packet is lost
	for i, p := range pkts {
		if p.Timestamp == 1*3000 && lostFrom < 0 {
			lostFrom = i
			continue
		}
		if p.Timestamp == 2*3000 && lostTo < 0 {
			lostTo = i
		}
		got = append(got, a.push(p, now)...)
		if p.Timestamp == 3*3000 && p.Marker {
			break
		}
		if p.Timestamp == 2*3000 && !p.Marker {
			require.Len(t, got, 1, "only frame 0 while frame 2 is incomplete")
		}
	}
	require.Len(t, got, 3, "frame 0, then frames 2 (a keyframe) and 3")
	assert.Equal(t, in[0], got[0].data)
	assert.True(t, got[1].lost)
	assert.Equal(t, in[2], got[1].data)
	assert.Equal(t, in[3], got[2].data)
	assert.False(t, got[2].lost)
	assert.True(t, got[0].key && got[1].key, "frames 0 and 2 are keyframes")
	assert.False(t, got[2].key, "frame 3 is a delta frame")
	assert.Equal(t, lostTo-lostFrom, a.lostPackets, "frame 1's packets")

	// A delta frame complete behind a hole does not make the assembler jump.
	b := newAssembler(&codecs.VP8Packet{})
	var out []assembled
	for _, p := range pkts {
		if p.Timestamp == 2*3000 && p.Marker { // frame 2 stays incomplete
			continue
		}
		if p.Timestamp > 3*3000 {
			break
		}
		out = append(out, b.push(p, now)...)
	}
	require.Len(t, out, 2, "frames 0 and 1; frame 3 waits behind the hole")
}

// A frame whose packets arrive slowly but without a hole (a big frame on a slow link) is
// not given up on, however long it takes.
func TestAssemblerWaitsForSlowFrame(t *testing.T) {
	in := frames(2, 2000)
	pkts := packetize(t, in, 10)
	a := newAssembler(&codecs.VP8Packet{})
	now := time.Now()
	var got []assembled
	for i, p := range pkts {
		got = append(got, a.push(p, now.Add(time.Duration(i)*200*time.Millisecond))...)
	}
	require.Len(t, got, 2)
	assert.Equal(t, in, [][]byte{got[0].data, got[1].data})
	assert.False(t, got[0].lost || got[1].lost)
	assert.Zero(t, a.lostPackets)
}

// Giving up on a hole with no frame start buffered restarts the assembler; the first frame
// after the restart still reports the loss, so the client asks for a keyframe.
func TestAssemblerRestartReportsLoss(t *testing.T) {
	var in [][]byte
	for i := range 3 { // delta frames only (odd first byte): no jump to a keyframe
		f := make([]byte, 350)
		for j := range f {
			f[j] = byte(2*i + 1)
		}
		in = append(in, f)
	}
	pkts := packetize(t, in, 7)
	a := newAssembler(&codecs.VP8Packet{})
	now := time.Now()
	var got []assembled
	var frame1 []*rtp.Packet
	for _, p := range pkts {
		switch p.Timestamp {
		case 0:
			got = append(got, a.push(p, now)...)
		case 3000:
			frame1 = append(frame1, p)
		}
	}
	require.Len(t, got, 1)
	assert.False(t, got[0].lost)
	// Frame 1 loses its first packet; the rest wait for it until the assembler gives up.
	for _, p := range frame1[1:] {
		require.Empty(t, a.push(p, now))
	}
	require.Empty(t, a.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: frame1[len(frame1)-1].SequenceNumber + 50, Timestamp: 77}, Payload: []byte{0, 0}}, now.Add(400*time.Millisecond)))
	got = nil
	for _, p := range pkts {
		if p.Timestamp == 6000 {
			got = append(got, a.push(p, now.Add(500*time.Millisecond))...)
		}
	}
	require.Len(t, got, 1, "frame 2 after the restart")
	assert.Equal(t, in[2], got[0].data)
	assert.True(t, got[0].lost, "it reports the loss")
	assert.Positive(t, a.lostPackets)
}

// The loss of a resync is reported on the next frame delivered even when that frame is
// still arriving when the assembler gives up (its packets come in over later pushes).
func TestAssemblerLossSurvivesSlowNextFrame(t *testing.T) {
	var in [][]byte
	for i := range 3 { // delta frames only
		f := make([]byte, 350)
		for j := range f {
			f[j] = byte(2*i + 1)
		}
		in = append(in, f)
	}
	pkts := packetize(t, in, 300)
	a := newAssembler(&codecs.VP8Packet{})
	now := time.Now()
	var got []assembled
	var f1, f2 []*rtp.Packet
	for _, p := range pkts {
		switch p.Timestamp {
		case 0:
			got = append(got, a.push(p, now)...)
		case 3000:
			f1 = append(f1, p)
		case 6000:
			f2 = append(f2, p)
		}
	}
	require.Len(t, got, 1)
	for _, p := range f1[1:] { // frame 1 lost its first packet
		require.Empty(t, a.push(p, now))
	}
	// Frame 2 starts arriving after resyncAfter: the assembler jumps to it, but it is not
	// complete yet.
	require.Empty(t, a.push(f2[0], now.Add(400*time.Millisecond)))
	require.Empty(t, a.push(f2[1], now.Add(401*time.Millisecond)))
	got = nil
	for _, p := range f2[2:] {
		got = append(got, a.push(p, now.Add(402*time.Millisecond))...)
	}
	require.Len(t, got, 1)
	assert.Equal(t, in[2], got[0].data)
	assert.True(t, got[0].lost, "frame 2 reports the loss given up on two pushes before")
}

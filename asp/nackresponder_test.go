package asp

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A NACK repeated every 20 ms while the copy waits in a queue gets one copy per MinGap,
// not one per NACK; packets never sent or overwritten in the history are ignored.
func TestNackResponderNoStorm(t *testing.T) {
	n := newNackResponder()
	now := time.Unix(100, 0)
	n.now = func() time.Time { return now }
	n.setEstimate(10_000_000)
	var wrote []uint16
	w := n.BindLocalStream(&interceptor.StreamInfo{SSRC: 7, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}},
		interceptor.RTPWriterFunc(func(h *rtp.Header, _ []byte, _ interceptor.Attributes) (int, error) {
			wrote = append(wrote, h.SequenceNumber)
			return 0, nil
		}))
	for seq := uint16(0); seq < 100; seq++ {
		_, err := w.Write(&rtp.Header{SSRC: 7, SequenceNumber: seq}, make([]byte, 1000), nil)
		require.NoError(t, err)
	}
	wrote = nil
	nack := &rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{10, 11, 12, 500})}
	for i := range 5 { // 100 ms of NACKs every 20 ms
		now = now.Add(time.Duration(min(i, 1)) * 20 * time.Millisecond)
		n.answer(nack)
	}
	assert.Equal(t, []uint16{10, 11, 12}, wrote, "one copy each, 500 was never sent")
	now = now.Add(40 * time.Millisecond) // 120 ms after the first copies
	n.answer(nack)
	assert.Equal(t, []uint16{10, 11, 12, 10, 11, 12}, wrote)
	assert.Equal(t, uint64(6), n.resent.Load())
	// Another SSRC, or a stream that does not take NACKs, gets nothing.
	n.answer(&rtcp.TransportLayerNack{MediaSSRC: 8, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1})})
	plain := n.BindLocalStream(&interceptor.StreamInfo{SSRC: 9}, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	_, _ = plain.Write(&rtp.Header{SSRC: 9, SequenceNumber: 1}, []byte{1}, nil)
	n.answer(&rtcp.TransportLayerNack{MediaSSRC: 9, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1})})
	assert.Len(t, wrote, 6)
}

// After the receiver has lost packets, a frame's last packet goes out once more when
// nothing newer follows it within tailProbeDelay, so a lost tail shows; before any loss,
// or when the next frame follows, there is no probe.
func TestNackResponderTailProbe(t *testing.T) {
	n := newNackResponder()
	n.setEstimate(10_000_000)
	var mu sync.Mutex
	var wrote []uint16
	written := func() []uint16 {
		mu.Lock()
		defer mu.Unlock()
		return append([]uint16(nil), wrote...)
	}
	w := n.BindLocalStream(&interceptor.StreamInfo{SSRC: 7, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}},
		interceptor.RTPWriterFunc(func(h *rtp.Header, _ []byte, _ interceptor.Attributes) (int, error) {
			mu.Lock()
			wrote = append(wrote, h.SequenceNumber)
			mu.Unlock()
			return 0, nil
		}))
	frame := func(from, to uint16) {
		for seq := from; seq <= to; seq++ {
			_, err := w.Write(&rtp.Header{SSRC: 7, SequenceNumber: seq, Marker: seq == to}, make([]byte, 1000), nil)
			require.NoError(t, err)
		}
	}
	seqs := func(from, to uint16) []uint16 {
		var s []uint16
		for seq := from; seq <= to; seq++ {
			s = append(s, seq)
		}
		return s
	}
	wait := 3 * tailProbeDelay

	frame(0, 4)
	time.Sleep(wait)
	assert.Equal(t, seqs(0, 4), written(), "no probe before any loss")

	n.answer(&rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{2})})
	frame(5, 9)
	want := append(append(seqs(0, 4), 2), seqs(5, 9)...)
	require.Eventually(t, func() bool { return len(written()) == len(want)+1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, append(want, 9), written(), "the frame's last packet probes its tail")
	assert.Equal(t, uint64(1), n.probes.Load())

	frame(10, 14)
	frame(15, 15) // the next frame follows at once: its own probe covers both
	time.Sleep(wait)
	got := written()
	assert.Equal(t, append(append(want, 9), append(seqs(10, 15), 15)...), got, "only the newest frame's last packet is probed")
}

package asp

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The meter pairs transport-wide feedback with the sizes and send times of the packets it
// sent: eleven 1250-byte packets sent back to back and reported 1 ms apart queued at a
// 10 Mbit/s link (a lost one is skipped); sent 1 ms apart, they say nothing of the link.
// When the last one is reported 200 ms late, as when a NACK's copy arrived for it, the
// copy reads as a packet that queued for the whole repair, unless the responder told the
// meter to forget it.
func TestDeliveryMeterFeedback(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gap        time.Duration
		copyLast   bool // the last packet's reported arrival is its copy's, 200 ms late
		forgetCopy bool
		want       func(capacity int64) bool
	}{
		{"back to back", 0, false, false, func(c int64) bool { return c == 10_000_000 }},
		{"spread", time.Millisecond, false, false, func(c int64) bool { return c == 0 }},
		{"copy counted", 0, true, false, func(c int64) bool { return c < 1_000_000 }},
		{"copy forgotten", 0, true, true, func(c int64) bool { return c == 10_000_000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capacity, floor := deliveryFeedback(t, tc.gap, tc.copyLast, tc.forgetCopy)
			assert.True(t, tc.want(capacity), "capacity %d", capacity)
			if !tc.copyLast {
				assert.Equal(t, int64(10_000_000), floor, "the path carried 10 Mbit/s either way")
			}
		})
	}
}

func deliveryFeedback(t *testing.T, gap time.Duration, copyLast, forgetCopy bool) (capacity, floor int64) {
	d := newDeliveryMeter()
	now := time.Unix(100, 0)
	d.now = func() time.Time { return now }
	d.base = now
	w := d.BindLocalStream(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 3}}},
		interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	var last *rtp.Header
	for seq := uint16(500); seq < 511; seq++ {
		h := &rtp.Header{Version: 2, SequenceNumber: seq}
		require.NoError(t, h.SetExtension(3, []byte{byte(seq >> 8), byte(seq)}))
		_, err := w.Write(h, make([]byte, 1250-h.MarshalSize()), nil)
		require.NoError(t, err)
		now = now.Add(gap)
		last = h
	}
	if forgetCopy {
		d.forget(last)
	}
	deltas := []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 0}}
	for i := range 9 {
		delta := int64(1000)
		if copyLast && i == 8 {
			delta = 200_000
		}
		deltas = append(deltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: delta})
	}
	fb := &rtcp.TransportLayerCC{BaseSequenceNumber: 500, PacketStatusCount: 11, ReferenceTime: 10,
		PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 5},
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{
				rtcp.TypeTCCPacketNotReceived, 1, 1, 1, 1, 1, 0}},
		},
		RecvDeltas: deltas}
	arr, seqs := tccArrivals(fb)
	require.Len(t, arr, 10)
	assert.Equal(t, uint16(506), seqs[5], "the sixth reported packet was lost")
	assert.Equal(t, 640*time.Millisecond, arr[0])
	d.feedback(fb)
	return d.rate()
}

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
func TestDeliveryMeterFeedback(t *testing.T) {
	for _, tc := range []struct {
		gap  time.Duration
		want int64
	}{{0, 10_000_000}, {time.Millisecond, 0}} {
		deliveryFeedback(t, tc.gap, tc.want)
	}
}

func deliveryFeedback(t *testing.T, gap time.Duration, want int64) {
	d := newDeliveryMeter()
	now := time.Unix(100, 0)
	d.now = func() time.Time { return now }
	d.base = now
	w := d.BindLocalStream(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 3}}},
		interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	for seq := uint16(500); seq < 511; seq++ {
		h := &rtp.Header{Version: 2, SequenceNumber: seq}
		require.NoError(t, h.SetExtension(3, []byte{byte(seq >> 8), byte(seq)}))
		_, err := w.Write(h, make([]byte, 1250-h.MarshalSize()), nil)
		require.NoError(t, err)
		now = now.Add(gap)
	}
	deltas := []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 0}}
	for range 9 {
		deltas = append(deltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 1000})
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
	capacity, floor := d.rate()
	assert.Equal(t, want, capacity, "packets sent %v apart", gap)
	assert.Equal(t, int64(10_000_000), floor, "the path carried 10 Mbit/s either way")
}

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

// The meter pairs transport-wide feedback with the sizes of the packets it sent: ten
// 1250-byte packets reported 1 ms apart are 10 Mbit/s; a lost one is skipped.
func TestDeliveryMeterFeedback(t *testing.T) {
	d := newDeliveryMeter()
	now := time.Unix(100, 0)
	d.now = func() time.Time { return now }
	w := d.BindLocalStream(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 3}}},
		interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	for seq := uint16(500); seq < 511; seq++ {
		h := &rtp.Header{Version: 2, SequenceNumber: seq}
		require.NoError(t, h.SetExtension(3, []byte{byte(seq >> 8), byte(seq)}))
		_, err := w.Write(h, make([]byte, 1250-h.MarshalSize()), nil)
		require.NoError(t, err)
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
	assert.Equal(t, int64(10_000_000), d.rate())
}

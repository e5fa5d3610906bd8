package usbredir

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allMessages has one value of every packet type, with non-zero fields.
func allMessages() []Message {
	var ep EPInfo
	var ii InterfaceInfo
	for i := range 32 {
		ep.TransferType[i], ep.Interval[i], ep.Interface[i], ep.MaxPacketSize[i], ep.MaxStreams[i] = uint8(i%4), uint8(i), uint8(i/8), uint16(64*i), uint32(i)
	}
	ii.Count = 2
	ii.Number[1], ii.Class[0], ii.SubClass[1], ii.Protocol[0] = 1, 3, 1, 2
	return []Message{
		DeviceConnect{Speed: 2, Class: 0xff, SubClass: 1, Protocol: 2, VendorID: 0x1d6b, ProductID: 0x0104, DeviceVersion: 0x0100},
		DeviceDisconnect{}, Reset{}, ii, ep,
		SetConfiguration{1}, GetConfiguration{}, ConfigurationStatus{0, 1},
		SetAltSetting{1, 2}, GetAltSetting{1}, AltSettingStatus{4, 1, 2},
		StartISOStream{0x82, 8, 3}, StopISOStream{0x82}, ISOStreamStatus{0, 0x82},
		StartInterruptReceiving{0x81}, StopInterruptReceiving{0x81}, InterruptReceivingStatus{0, 0x81},
		AllocBulkStreams{0x30, 16}, FreeBulkStreams{0x30}, BulkStreamsStatus{0x30, 16, 2},
		CancelDataPacket{}, FilterReject{}, FilterFilter{Rules: "0x03,-1,-1,-1,0|-1,-1,-1,-1,1"}, DeviceDisconnectAck{},
		StartBulkReceiving{StreamID: 3, BytesPerTransfer: 1 << 20, Endpoint: 0x81, NumTransfers: 4},
		StopBulkReceiving{StreamID: 3, Endpoint: 0x81}, BulkReceivingStatus{StreamID: 3, Endpoint: 0x81, Status: 0},
		ControlPacket{Endpoint: 0x80, Request: 6, RequestType: 0x80, Status: 0, Value: 0x100, Index: 0, Length: 18, Data: make([]byte, 18)},
		BulkPacket{Endpoint: 0x81, Status: 0, Length: 100000, StreamID: 0, Data: make([]byte, 100000)},
		ISOPacket{Endpoint: 0x82, Status: 0, Length: 3, Data: []byte{1, 2, 3}},
		InterruptPacket{Endpoint: 0x81, Status: 0, Length: 8, Data: []byte{2, 0, 4, 0, 0, 0, 0, 0}},
		BufferedBulkPacket{StreamID: 0, Length: 5, Endpoint: 0x81, Status: 0, Data: []byte("hello")},
	}
}

// pair returns two codecs that have exchanged hellos.
func pair(t testing.TB, a, b Caps) (*Codec, *Codec) {
	ca, cb := NewCodec(a), NewCodec(b)
	ha, err := ca.Append(nil, 0, Hello{Version: "a", Caps: a})
	require.NoError(t, err)
	hb, err := cb.Append(nil, 0, Hello{Version: "b", Caps: b})
	require.NoError(t, err)
	ca.Feed(hb)
	cb.Feed(ha)
	p, ok, err := ca.Next()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, Hello{Version: "b", Caps: b}, p.Msg)
	_, ok, err = cb.Next()
	require.NoError(t, err)
	require.True(t, ok)
	return ca, cb
}

func TestCodecRoundTripAllTypes(t *testing.T) {
	for _, caps := range []Caps{AllCaps, 0, AllCaps &^ (1 << Cap64BitIDs), AllCaps &^ (1 << CapBulkStreams)} {
		a, b := pair(t, AllCaps, caps)
		var stream []byte
		msgs := allMessages()
		for i, m := range msgs {
			if bp, ok := m.(BulkPacket); ok && !a.Negotiated().Has(Cap32BitBulkLength) {
				bp.Length, bp.Data = 1000, bp.Data[:1000]
				msgs[i], m = bp, bp
			}
			var err error
			stream, err = a.Append(stream, uint64(i)<<33|7, m)
			require.NoError(t, err, "%T", m)
		}
		// Feed in odd-sized pieces to exercise partial packets.
		for off := 0; off < len(stream); off += 7 {
			b.Feed(stream[off:min(off+7, len(stream))])
		}
		for i, want := range msgs {
			p, ok, err := b.Next()
			require.NoError(t, err)
			require.True(t, ok, "packet %d", i)
			wantID := uint64(i)<<33 | 7
			if !b.Negotiated().Has(Cap64BitIDs) {
				wantID &= 0xffffffff
			}
			assert.Equal(t, wantID, p.ID)
			got := p.Msg
			neg := b.Negotiated()
			if e, ok := want.(EPInfo); ok {
				if !neg.Has(CapBulkStreams) {
					e.MaxStreams = [32]uint32{}
				}
				if !neg.Has(CapBulkStreams) && !neg.Has(CapEPInfoMaxPacketSize) {
					e.MaxPacketSize = [32]uint16{}
				}
				want = e
			}
			if d, ok := want.(DeviceConnect); ok && !neg.Has(CapConnectDeviceVersion) {
				d.DeviceVersion = 0
				want = d
			}
			assert.True(t, reflect.DeepEqual(want, got), "caps %#x type %T:\nwant %+v\ngot  %+v", caps, want, want, got)
		}
		_, ok, err := b.Next()
		require.NoError(t, err)
		assert.False(t, ok)
	}
}

func TestCodecRejects(t *testing.T) {
	cases := map[string][]byte{
		"unknown type":         {200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"hello too short":      {0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3},
		"reset with data":      append(hello(), 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9),
		"huge length":          append(hello(), 101, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0),
		"before hello":         {3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"interface count > 32": append(hello(), append([]byte{4, 0, 0, 0, 132, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 33, 0, 0, 0}, make([]byte, 128)...)...),
		"data beyond length":   append(hello(), 103, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0, 1, 0, 1, 2),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			c := NewCodec(AllCaps)
			c.Feed(in)
			var err error
			for range 4 {
				var ok bool
				_, ok, err = c.Next()
				if err != nil || !ok {
					break
				}
			}
			require.ErrorIs(t, err, ErrProtocol)
		})
	}
}

// hello is a peer hello with all caps (12-byte header).
func hello() []byte {
	c := NewCodec(AllCaps)
	b, _ := c.Append(nil, 0, Hello{Version: "peer", Caps: AllCaps})
	return b
}

// FuzzCodec feeds arbitrary bytes after a valid hello: decoding must never panic, and every
// packet decoded must re-encode to bytes that decode to the same packet.
func FuzzCodec(f *testing.F) {
	a := NewCodec(AllCaps)
	h, _ := a.Append(nil, 0, Hello{Version: "seed", Caps: AllCaps})
	a.Feed(h)
	_, _, _ = a.Next()
	for i, m := range allMessages() {
		b, err := a.Append(nil, uint64(i), m)
		if err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewCodec(AllCaps)
		c.Feed(hello())
		if _, ok, err := c.Next(); !ok || err != nil {
			t.Fatal("hello did not decode")
		}
		c.Feed(in)
		for {
			p, ok, err := c.Next()
			if err != nil || !ok {
				return
			}
			enc := NewCodec(AllCaps)
			enc.Feed(hello())
			_, _, _ = enc.Next()
			b, err := enc.Append(nil, p.ID, p.Msg)
			if err != nil {
				continue // e.g. a hello inside the stream cannot be re-sent after hello
			}
			dec := NewCodec(AllCaps)
			dec.Feed(hello())
			_, _, _ = dec.Next()
			dec.Feed(b)
			q, ok, err := dec.Next()
			if err != nil || !ok {
				t.Fatalf("re-encoded %T did not decode: %v", p.Msg, err)
			}
			if q.ID != p.ID || !reflect.DeepEqual(normalize(q.Msg), normalize(p.Msg)) {
				t.Fatalf("round trip changed %T:\n%+v\n%+v", p.Msg, p.Msg, q.Msg)
			}
		}
	})
}

// normalize maps nil and empty data to the same value.
func normalize(m Message) Message {
	switch v := m.(type) {
	case ControlPacket:
		if len(v.Data) == 0 {
			v.Data = nil
		}
		return v
	case BulkPacket:
		if len(v.Data) == 0 {
			v.Data = nil
		}
		return v
	case ISOPacket:
		if len(v.Data) == 0 {
			v.Data = nil
		}
		return v
	case InterruptPacket:
		if len(v.Data) == 0 {
			v.Data = nil
		}
		return v
	case BufferedBulkPacket:
		if len(v.Data) == 0 {
			v.Data = nil
		}
		return v
	}
	return m
}

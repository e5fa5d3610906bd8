package usbredir_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

// rawGuest speaks usbredir with the bare Codec, to drive packets Remote does not send.
type rawGuest struct {
	t     *testing.T
	c     net.Conn
	codec *usbredir.Codec
}

func newRawGuest(t *testing.T, dev device.Device) (*rawGuest, <-chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			served <- err
			return
		}
		served <- usbredir.Serve(context.Background(), c, dev)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	g := &rawGuest{t: t, c: c, codec: usbredir.NewCodec(usbredir.AllCaps)}
	g.send(0, usbredir.Hello{Version: "raw guest", Caps: usbredir.AllCaps})
	return g, served
}

func (g *rawGuest) send(id uint64, m usbredir.Message) {
	b, err := g.codec.Append(nil, id, m)
	require.NoError(g.t, err)
	_, err = g.c.Write(b)
	require.NoError(g.t, err)
}

// next returns the next packet, or fails the test after 5 s.
func (g *rawGuest) next() usbredir.Packet {
	_ = g.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		p, ok, err := g.codec.Next()
		require.NoError(g.t, err)
		if ok {
			return p
		}
		n, err := g.c.Read(buf)
		require.NoError(g.t, err)
		g.codec.Feed(buf[:n])
	}
}

// until returns the first packet of type T, skipping others.
func until[T usbredir.Message](g *rawGuest) (uint64, T) {
	for {
		p := g.next()
		if m, ok := p.Msg.(T); ok {
			return p.ID, m
		}
	}
}

func TestConnectSequenceAndBulkReceiving(t *testing.T) {
	lb := virtual.NewLoopback()
	g, served := newRawGuest(t, lb)
	// The usb-host side announces: hello, ep_info, interface_info, device_connect.
	var order []usbredir.Type
	for len(order) < 4 {
		order = append(order, g.next().Msg.Type())
	}
	assert.Equal(t, []usbredir.Type{usbredir.TypeHello, usbredir.TypeEPInfo, usbredir.TypeInterfaceInfo, usbredir.TypeDeviceConnect}, order)

	// set_configuration (a packet of its own, as QEMU sends it) re-sends ep_info and
	// interface_info before the configuration status.
	g.send(1<<40, usbredir.SetConfiguration{Configuration: 1})
	assert.Equal(t, usbredir.TypeEPInfo, g.next().Msg.Type())
	assert.Equal(t, usbredir.TypeInterfaceInfo, g.next().Msg.Type())
	p0 := g.next()
	assert.Equal(t, uint64(1<<40), p0.ID, "64-bit id echoed")
	assert.Equal(t, usbredir.ConfigurationStatus{Status: 0, Configuration: 1}, p0.Msg)

	// set_alt_setting re-sends ep_info and interface_info before the status.
	g.send(5, usbredir.SetAltSetting{Interface: 1, Alt: 1})
	p := g.next()
	ep, ok := p.Msg.(usbredir.EPInfo)
	require.True(t, ok, "ep_info first, got %T", p.Msg)
	assert.Equal(t, uint8(device.Isochronous), ep.TransferType[usbredir.EPIndex(virtual.LoopISOIn)])
	assert.Equal(t, uint16(1024), ep.MaxPacketSize[usbredir.EPIndex(virtual.LoopISOIn)])
	assert.Equal(t, usbredir.TypeInterfaceInfo, g.next().Msg.Type())
	id, as := until[usbredir.AltSettingStatus](g)
	assert.Equal(t, uint64(5), id)
	assert.Equal(t, usbredir.AltSettingStatus{Status: 0, Interface: 1, Alt: 1}, as)

	// Buffered bulk: start bulk receiving on the bulk IN endpoint, push data in through
	// bulk OUT, and receive it as buffered_bulk_packets.
	g.send(7, usbredir.StartBulkReceiving{StreamID: 0, BytesPerTransfer: 4096, Endpoint: virtual.LoopBulkIn, NumTransfers: 2})
	id, bs := until[usbredir.BulkReceivingStatus](g)
	assert.Equal(t, uint64(7), id)
	assert.Equal(t, uint8(0), bs.Status)
	g.send(8, usbredir.BulkPacket{Endpoint: virtual.LoopBulkOut, Length: 5, Data: []byte("hello")})
	_, bb := until[usbredir.BufferedBulkPacket](g)
	assert.Equal(t, "hello", string(bb.Data))
	assert.Equal(t, uint8(virtual.LoopBulkIn), bb.Endpoint)
	g.send(9, usbredir.StopBulkReceiving{Endpoint: virtual.LoopBulkIn})
	until[usbredir.BulkReceivingStatus](g)

	// Bulk streams are not offered by our devices: the status says invalid.
	g.send(10, usbredir.AllocBulkStreams{Endpoints: 1 << usbredir.EPIndex(virtual.LoopBulkIn), NumStreams: 4})
	id, st := until[usbredir.BulkStreamsStatus](g)
	assert.Equal(t, uint64(10), id)
	assert.Equal(t, uint8(device.StatusInvalid), st.Status)

	// Interrupt receiving on a bulk endpoint is refused.
	g.send(11, usbredir.StartInterruptReceiving{Endpoint: virtual.LoopBulkIn})
	_, is := until[usbredir.InterruptReceivingStatus](g)
	assert.Equal(t, uint8(device.StatusInvalid), is.Status)

	g.c.Close()
	select {
	case err := <-served:
		require.ErrorIs(t, err, io.EOF)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestPeerFilterFilterRejects(t *testing.T) {
	kb := virtual.NewKeyboard()
	g, served := newRawGuest(t, kb)
	until[usbredir.DeviceConnect](g)
	g.send(0, usbredir.FilterFilter{Rules: "0x03,-1,-1,-1,0|-1,-1,-1,-1,1"})
	until[usbredir.DeviceDisconnect](g)
	select {
	case err := <-served:
		require.ErrorIs(t, err, usbredir.ErrRejected)
		require.ErrorIs(t, err, device.ErrDenied)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	g.c.Close()
}

package usbredir_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

func guestBytes(msgs ...usbredir.Message) []byte {
	c := usbredir.NewCodec(usbredir.AllCaps)
	out, _ := c.Append(nil, 0, usbredir.Hello{Version: "fuzz", Caps: usbredir.AllCaps})
	// Pretend the host said hello too, so later packets use the negotiated layout.
	peer := usbredir.NewCodec(usbredir.AllCaps)
	h, _ := peer.Append(nil, 0, usbredir.Hello{Version: "host", Caps: usbredir.AllCaps})
	c.Feed(h)
	_, _, _ = c.Next()
	for i, m := range msgs {
		out, _ = c.Append(out, uint64(i+1)<<32, m)
	}
	return out
}

// FuzzServe feeds arbitrary bytes to the usb-host side as if from a usb-guest: Serve must
// return (with an error for malformed input) once the input ends, leave no goroutine
// behind (goleak in TestMain), and leave the device usable.
func FuzzServe(f *testing.F) {
	f.Add(guestBytes())
	f.Add(guestBytes(usbredir.ControlPacket{Endpoint: 0x80, Request: 6, RequestType: 0x80, Value: 0x100, Length: 18}))
	f.Add(guestBytes(usbredir.SetConfiguration{Configuration: 1}, usbredir.BulkPacket{Endpoint: 1, Length: 3, Data: []byte("abc")},
		usbredir.BulkPacket{Endpoint: 0x81, Length: 512}, usbredir.CancelDataPacket{}))
	f.Add(guestBytes(usbredir.SetAltSetting{Interface: 1, Alt: 1}, usbredir.StartISOStream{Endpoint: 0x82, PacketsPerURB: 4, NumURBs: 2},
		usbredir.StartISOStream{Endpoint: 0x02, PacketsPerURB: 4, NumURBs: 2}, usbredir.ISOPacket{Endpoint: 2, Length: 2, Data: []byte{1, 2}}))
	f.Add(guestBytes(usbredir.StartBulkReceiving{BytesPerTransfer: 0xffffffff, Endpoint: 0x81, NumTransfers: 255}, usbredir.Reset{}))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		dev := virtual.NewLoopback()
		a, b := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- usbredir.Serve(context.Background(), b, dev) }()
		drained := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, a)
			close(drained)
		}()
		_ = a.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = a.Write(in)
		a.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after the input ended")
		}
		<-drained
		u := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: 0x80, Request: device.ReqGetStatus, Length: 2}, Data: make([]byte, 2)}
		if err := dev.Submit(context.Background(), u); err != nil {
			t.Fatalf("device unusable after the session: %v", err)
		}
	})
}

package usbip_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/usbip"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

func importReq(busid string) []byte {
	b := []byte{0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0}
	var id [32]byte
	copy(id[:], busid)
	return append(b, id[:]...)
}

func submit(seq uint32, dir, ep uint32, length int32, setup []byte, data []byte) []byte {
	m := usbip.Message{Header: usbip.Header{Command: usbip.CmdSubmit, SeqNum: seq, Direction: dir, EP: ep, TransferLength: length}, Data: data}
	copy(m.Setup[:], setup)
	return m.Append(nil)
}

// FuzzServeConn feeds arbitrary bytes to the server as if from a client: the connection
// must end once the input ends, with the device released and usable.
func FuzzServeConn(f *testing.F) {
	f.Add([]byte{0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0})
	f.Add(importReq("1-1"))
	seed := importReq("1-1")
	seed = append(seed, submit(1, usbip.DirIn, 0, 18, []byte{0x80, 6, 0, 1, 0, 0, 18, 0}, nil)...)
	seed = append(seed, submit(2, usbip.DirOut, 1, 3, nil, []byte("abc"))...)
	seed = append(seed, submit(3, usbip.DirIn, 1, 512, nil, nil)...)
	seed = append(seed, usbip.Message{Header: usbip.Header{Command: usbip.CmdUnlink, SeqNum: 4, UnlinkSeqNum: 3}}.Append(nil)...)
	f.Add(seed)
	f.Add(append(importReq("1-1"), 0, 0, 0, 9))
	f.Fuzz(func(t *testing.T, in []byte) {
		srv := usbip.NewServer()
		dev := virtual.NewLoopback()
		srv.Export(dev)
		a, b := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- srv.ServeConn(context.Background(), b) }()
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
			t.Fatal("ServeConn did not return after the input ended")
		}
		<-drained
		u := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: 0x80, Request: device.ReqGetStatus, Length: 2}, Data: make([]byte, 2)}
		if err := dev.Submit(context.Background(), u); err != nil {
			t.Fatalf("device unusable after the session: %v", err)
		}
	})
}

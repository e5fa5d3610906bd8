package usbredir_test

import (
	"context"
	"fmt"
	"net"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

// One side serves a virtual keyboard; the other side uses it as a device.Device.
func ExampleServe() {
	kb := virtual.NewKeyboard()
	hostEnd, guestEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- usbredir.Serve(ctx, hostEnd, kb) }()

	remote, err := usbredir.NewRemote(context.Background(), guestEnd)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(remote.Descriptors())
	_ = kb.Type(ctx, "a")
	u := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
	if err := remote.Submit(ctx, u); err == nil {
		fmt.Printf("report %x types %q\n", u.Data[:u.Actual], virtual.DecodeReport(u.Data))
	}
	remote.Close()
	cancel()
	<-served
	// Output:
	// 1d6b:0104 Shadowless Virtual Keyboard
	// report 0000040000000000 types "a"
}

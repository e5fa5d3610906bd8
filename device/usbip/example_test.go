package usbip_test

import (
	"context"
	"fmt"
	"net"

	"github.com/shadowless-dev/shadowless/device/usbip"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

// Export a virtual keyboard and list it as "usbip list -r" would.
func ExampleServer() {
	srv := usbip.NewServer()
	srv.Export(virtual.NewKeyboard())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	devs, err := usbip.ListDevices(ctx, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range devs {
		fmt.Printf("%s: %04x:%04x interfaces %v\n", d.BusID, d.Vendor, d.Product, d.Interfaces)
	}
	cancel()
	<-done
	// Output: 1-1: 1d6b:0104 interfaces [{3 1 1}]
}

package virtual_test

import (
	"context"
	"fmt"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

// A virtual barcode scanner types what it scans; the host reads boot keyboard reports
// from its interrupt endpoint.
func ExampleScanner() {
	ctx := context.Background()
	sc := virtual.NewScanner()
	defer sc.Close()
	_ = sc.Scan(ctx, "42")
	var typed string
	for len(typed) < 3 {
		u := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
		if err := sc.Submit(ctx, u); err != nil {
			fmt.Println(err)
			return
		}
		typed += virtual.DecodeReport(u.Data[:u.Actual])
	}
	fmt.Printf("%q\n", typed)
	// Output: "42\n"
}

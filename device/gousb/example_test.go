package gousb_test

import (
	"fmt"

	"github.com/shadowless-dev/shadowless/device/gousb"
)

// Devices are selected by vendor:product or by bus-address, as the CLI's --device usb:...
func ExampleParseSelector() {
	a, _ := gousb.ParseSelector("usb:046d:c31c")
	b, _ := gousb.ParseSelector("usb:3-7")
	fmt.Println(a, b, b.Matches(0x046d, 0xc31c, 3, 7))
	// Output: usb:046d:c31c usb:3-7 true
}

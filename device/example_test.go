package device_test

import (
	"fmt"

	"github.com/shadowless-dev/shadowless/device"
)

// Filters use usbredir's syntax; the first matching rule wins, and a composite device is
// denied when any of its interfaces is.
func ExampleParseFilter() {
	f, err := device.ParseFilter("0x08,-1,-1,-1,1|0x03,0x046d,-1,-1,1|-1,-1,-1,-1,0")
	if err != nil {
		fmt.Println(err)
		return
	}
	mouse := device.Identity{Vendor: 0x046d, Product: 0xc077, Interfaces: []device.InterfaceClass{{Number: 0, Class: 3, SubClass: 1, Protocol: 2}}}
	webcam := device.Identity{Vendor: 0x046d, Product: 0x0825, Interfaces: []device.InterfaceClass{{Number: 0, Class: 0x0e}, {Number: 2, Class: 1}}}
	fmt.Println(f.Check(mouse))
	fmt.Println(f.Check(webcam))
	// Output:
	// <nil>
	// usb: device denied by filter: interface 0 class 0x0e (a deny rule matched first)
}

// ChooseRoute says how a device should travel and why.
func ExampleChooseRoute() {
	drive := device.Identity{Interfaces: []device.InterfaceClass{{Number: 0, Class: device.ClassMassStorage, SubClass: 6, Protocol: 0x50}}}
	hub := device.Identity{Class: device.ClassHub}
	fmt.Println(device.ChooseRoute(drive, device.RouteOptions{}).Path)
	fmt.Println(device.ChooseRoute(hub, device.RouteOptions{}).Path)
	// Output:
	// files
	// denied
}

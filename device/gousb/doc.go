// Package gousb drives real USB devices through libusb (github.com/google/gousb) and
// offers them as device.Device, so they can be exported over usbredir or USB/IP. It needs
// cgo and libusb-1.0 and is only built with the build tag "gousb"; everything else in
// device/ stays pure Go.
//
// What it does: list devices, open one by vendor:product or bus-address, detach the kernel
// driver (SetAutoDetach) and claim the interfaces of the active configuration, perform
// control, bulk and interrupt transfers with cancellation, and poll for hotplug (gousb has
// no hotplug callbacks). Control transfers always have a timeout (ControlTimeout), a device
// unplugged mid-transfer completes its pending URBs with device.ErrNoDevice, and nothing
// waits forever. Isochronous transfers are refused: gousb's isochronous reads lose the
// per-packet boundaries (bad for webcams and audio), so such devices need another backend.
package gousb

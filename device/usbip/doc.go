// Package usbip implements the USB/IP protocol of the Linux kernel
// (Documentation/usb/usbip_protocol.rst): a Server that exports device.Device values so
// that Linux "usbip list -r" and "usbip attach" (vhci-hcd) can use them, and a client
// (ListDevices, Import) whose Remote is itself a device.Device. Decoder is the pure
// state machine that frames the URB phase. USB/IP has neither authentication nor
// encryption: listen on loopback, or carry it inside an authenticated channel.
package usbip

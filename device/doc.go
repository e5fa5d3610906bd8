// Package device redirects USB devices from the machine they are plugged into to the machine
// that uses them. It models URBs and descriptors, speaks the usbredir and USB/IP protocols,
// drives real devices through libusb and offers virtual devices for tests and demos. Where a
// device class allows it, device-level redirection (storage as files, printers as print jobs)
// is preferred to raw URB forwarding.
package device

// Package usbredir implements the USB network redirection protocol of freedesktop's
// usbredir (usbredirproto.h, protocol 0.7), both roles: Serve is the usb-host side that has
// the device and offers it, Remote is the usb-guest side that uses it (as QEMU's
// -device usb-redir does) and is itself a device.Device. Codec is the pure framing state
// machine (bytes in, packets out; packets in, bytes out), independent of any I/O. Both
// roles run over any io.ReadWriteCloser: a TCP connection, a QEMU chardev socket, or a
// channel of a remoting session.
//
// Capabilities: 64-bit packet ids, 32-bit bulk lengths, ep_info with max packet sizes and
// streams, device versions in connect, filters, disconnect ack and bulk receiving are all
// announced and honoured; a peer lacking some gets the older packet layouts.
package usbredir

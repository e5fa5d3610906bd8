// Package msc is a host-side driver for USB mass storage devices speaking the bulk-only
// transport with SCSI commands: it reads and writes blocks of any device.Device (local,
// virtual, or remote over usbredir or USB/IP), pipelining each command's data phase in
// several URBs. Tests, benchmarks and the file-center path of storage redirection use it.
package msc

// Package virtual provides software USB devices that implement device.Device: a HID boot
// keyboard, a barcode scanner (a keyboard that types codes), a mass-storage drive (bulk-only
// transport and the SCSI commands an operating system needs) backed by any
// io.ReaderAt/io.WriterAt, a printer that collects print jobs into files, and a loopback
// device for tests of bulk and isochronous paths. They serve demos, tests and benchmarks of
// the redirection protocols without real hardware.
package virtual

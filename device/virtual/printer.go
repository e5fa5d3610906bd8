package virtual

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shadowless-dev/shadowless/device"
)

// Printer class requests (USB Printer Class 1.1).
const (
	prnGetDeviceID   = 0x00
	prnGetPortStatus = 0x01
	prnSoftReset     = 0x02

	prnEPOut = 0x01
	prnEPIn  = 0x82
)

// Printer is a virtual USB printer (class 7, bidirectional). Bytes the host sends on the
// bulk OUT endpoint are collected into job files in a directory; a job ends after an idle
// timeout, on a class SOFT_RESET, or when EndJob is called.
type Printer struct {
	*core
	dir      string
	deviceID string
	idle     time.Duration

	mu    sync.Mutex
	cur   *os.File
	seq   int
	timer *time.Timer
	jobs  chan string
	err   error
}

// PrinterOption adjusts a virtual printer.
type PrinterOption func(*Printer)

// WithIdleTimeout sets how long the printer waits for more data before ending a job
// (default 2 s).
func WithIdleTimeout(d time.Duration) PrinterOption { return func(p *Printer) { p.idle = d } }

// WithDeviceID sets the IEEE 1284 device ID string returned by GET_DEVICE_ID.
func WithDeviceID(id string) PrinterOption { return func(p *Printer) { p.deviceID = id } }

// NewPrinter returns a virtual printer writing jobs into dir (which must exist) as
// job-0001.prn, job-0002.prn, ...; a job file appears under its final name only when the
// job has ended.
func NewPrinter(dir string, opts ...PrinterOption) *Printer {
	d := device.Descriptors{
		Speed: device.SpeedHigh,
		Device: device.DeviceDescriptor{USB: 0x0200, MaxPacketSize0: 64, Vendor: 0x1d6b, Product: 0x0107,
			Release: 0x0100, ManufacturerIndex: 1, ProductIndex: 2, SerialIndex: 3, NumConfigurations: 1},
		Configs: []device.ConfigDescriptor{{Value: 1, Attributes: 0xC0, MaxPower: 1, Interfaces: []device.InterfaceDescriptor{{
			Number: 0, Class: device.ClassPrinter, SubClass: 1, Protocol: 2,
			Endpoints: []device.EndpointDescriptor{
				{Address: prnEPOut, Attributes: uint8(device.Bulk), MaxPacketSize: 512},
				{Address: prnEPIn, Attributes: uint8(device.Bulk), MaxPacketSize: 512},
			},
		}}}},
		Strings: map[uint8]string{1: "Shadowless", 2: "Shadowless Virtual Printer", 3: "SLPRN0001"},
	}
	p := &Printer{dir: dir, idle: 2 * time.Second, jobs: make(chan string, 64),
		deviceID: "MFG:Shadowless;MDL:Virtual Printer;CMD:PDF,POSTSCRIPT,PCL;CLS:PRINTER;DES:Shadowless Virtual Printer;"}
	for _, o := range opts {
		o(p)
	}
	p.core = newCore(d, p)
	return p
}

// Jobs delivers the path of each finished job file.
func (p *Printer) Jobs() <-chan string { return p.jobs }

// Err returns the last error writing a job file, if any.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// EndJob ends the current job now (if one is open) and returns its path.
func (p *Printer) EndJob() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endLocked()
}

func (p *Printer) endLocked() (string, error) {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if p.cur == nil {
		return "", nil
	}
	tmp := p.cur.Name()
	err := p.cur.Close()
	p.cur = nil
	final := filepath.Join(p.dir, fmt.Sprintf("job-%04d.prn", p.seq))
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		p.err = fmt.Errorf("virtual printer: finishing job: %w", err)
		return "", p.err
	}
	select {
	case p.jobs <- final:
	default:
	}
	return final, nil
}

// Close ends the current job and unplugs the printer.
func (p *Printer) Close() error {
	_, err := p.EndJob()
	p.core.Close()
	return err
}

func (p *Printer) reset() { _, _ = p.EndJob() }

func (p *Printer) classControl(_ context.Context, u *device.URB) error {
	s := u.Setup
	if s.RequestType&device.RequestTypeMask != device.TypeClass {
		return u.Complete(device.StatusStall, 0)
	}
	switch s.Request {
	case prnGetDeviceID:
		id := p.deviceID
		b := append([]byte{uint8((len(id) + 2) >> 8), uint8(len(id) + 2)}, id...)
		return reply(u, b)
	case prnGetPortStatus:
		return reply(u, []byte{0x18}) // selected, no error, paper present
	case prnSoftReset:
		_, _ = p.EndJob()
		return u.Complete(device.StatusOK, 0)
	}
	return u.Complete(device.StatusStall, 0)
}

func (p *Printer) transfer(ctx context.Context, u *device.URB) error {
	switch u.Endpoint {
	case prnEPOut:
		return p.write(u)
	case prnEPIn:
		// The virtual printer never has status data to report; the read waits like a NAK.
		select {
		case <-ctx.Done():
			return u.Complete(device.StatusCancelled, 0)
		case <-p.closed:
			u.Status = device.StatusIOError
			return device.ErrNoDevice
		}
	}
	return u.Complete(device.StatusInvalid, 0)
}

func (p *Printer) write(u *device.URB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		p.seq++
		f, err := os.CreateTemp(p.dir, fmt.Sprintf(".job-%04d-*.part", p.seq))
		if err != nil {
			p.err = fmt.Errorf("virtual printer: %w", err)
			return u.Complete(device.StatusIOError, 0)
		}
		p.cur = f
	}
	if _, err := p.cur.Write(u.Data); err != nil {
		p.err = fmt.Errorf("virtual printer: %w", err)
		return u.Complete(device.StatusIOError, 0)
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	cur := p.cur
	p.timer = time.AfterFunc(p.idle, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.cur == cur {
			_, _ = p.endLocked()
		}
	})
	return u.Complete(device.StatusOK, len(u.Data))
}

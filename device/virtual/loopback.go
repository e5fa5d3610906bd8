package virtual

import (
	"context"
	"sync"

	"github.com/shadowless-dev/shadowless/device"
)

// Loopback endpoints.
const (
	LoopBulkOut = 0x01
	LoopBulkIn  = 0x81
	LoopISOOut  = 0x02
	LoopISOIn   = 0x82
)

// Loopback is a vendor-class test device: whatever is written to its bulk OUT endpoint
// comes back, message by message, on its bulk IN endpoint; isochronous packets written to
// its iso OUT endpoint come back one per packet slot on its iso IN endpoint (an IN URB
// completes once every slot can be filled), so packet
// boundaries, lengths and statuses can be checked end to end.
type Loopback struct {
	*core
	mu      sync.Mutex
	changed chan struct{}
	bulk    [][]byte
	iso     [][]byte
}

// NewLoopback returns a high-speed loopback device (vendor 0x1d6b, product 0x0108).
func NewLoopback() *Loopback {
	d := device.Descriptors{
		Speed: device.SpeedHigh,
		Device: device.DeviceDescriptor{USB: 0x0200, Class: device.ClassVendor, MaxPacketSize0: 64, Vendor: 0x1d6b, Product: 0x0108,
			Release: 0x0100, ManufacturerIndex: 1, ProductIndex: 2, NumConfigurations: 1},
		Configs: []device.ConfigDescriptor{{Value: 1, Attributes: 0x80, MaxPower: 50, Interfaces: []device.InterfaceDescriptor{
			{Number: 0, Class: device.ClassVendor, Endpoints: []device.EndpointDescriptor{
				{Address: LoopBulkOut, Attributes: uint8(device.Bulk), MaxPacketSize: 512},
				{Address: LoopBulkIn, Attributes: uint8(device.Bulk), MaxPacketSize: 512},
			}},
			{Number: 1, AltSetting: 0, Class: device.ClassVendor},
			{Number: 1, AltSetting: 1, Class: device.ClassVendor, Endpoints: []device.EndpointDescriptor{
				{Address: LoopISOOut, Attributes: uint8(device.Isochronous), MaxPacketSize: 1024, Interval: 1},
				{Address: LoopISOIn, Attributes: uint8(device.Isochronous), MaxPacketSize: 1024, Interval: 1},
			}},
		}}},
		Strings: map[uint8]string{1: "Shadowless", 2: "Shadowless Loopback"},
	}
	l := &Loopback{changed: make(chan struct{})}
	l.core = newCore(d, l)
	return l
}

func (l *Loopback) reset() {
	l.mu.Lock()
	l.bulk, l.iso = nil, nil
	l.mu.Unlock()
}

func (l *Loopback) classControl(_ context.Context, u *device.URB) error {
	return u.Complete(device.StatusStall, 0)
}

func (l *Loopback) transfer(ctx context.Context, u *device.URB) error {
	switch u.Endpoint {
	case LoopBulkOut:
		l.push(&l.bulk, append([]byte(nil), u.Data...))
		return u.Complete(device.StatusOK, len(u.Data))
	case LoopISOOut:
		total := 0
		off := 0
		for i := range u.ISO {
			p := &u.ISO[i]
			l.push(&l.iso, append([]byte(nil), u.Data[off:off+p.Length]...))
			off += p.Length
			p.Actual, p.Status = p.Length, device.StatusOK
			total += p.Length
		}
		return u.Complete(device.StatusOK, total)
	case LoopBulkIn:
		for {
			l.mu.Lock()
			if len(l.bulk) > 0 {
				b := l.bulk[0]
				n := copy(u.Data, b)
				if n < len(b) {
					l.bulk[0] = b[n:]
				} else {
					l.bulk = l.bulk[1:]
				}
				l.mu.Unlock()
				return u.Complete(device.StatusOK, n)
			}
			ch := l.changed
			l.mu.Unlock()
			if err := l.wait(ctx, ch, u); err != nil {
				return err
			}
		}
	case LoopISOIn:
		// Each packet slot takes one queued packet, in order; the URB waits until there
		// is a packet for every slot, as a device producing one packet per (micro)frame.
		for {
			l.mu.Lock()
			if len(l.iso) >= len(u.ISO) {
				total, off := 0, 0
				for i := range u.ISO {
					p := &u.ISO[i]
					p.Actual, p.Status = 0, device.StatusOK
					if len(l.iso) > 0 {
						b := l.iso[0]
						l.iso = l.iso[1:]
						n := copy(u.Data[off:off+p.Length], b)
						p.Actual = n
						if n < len(b) {
							p.Status = device.StatusBabble
						}
						total += n
					}
					off += p.Length
				}
				l.mu.Unlock()
				return u.Complete(device.StatusOK, total)
			}
			ch := l.changed
			l.mu.Unlock()
			if err := l.wait(ctx, ch, u); err != nil {
				return err
			}
		}
	}
	return u.Complete(device.StatusInvalid, 0)
}

func (l *Loopback) push(q *[][]byte, b []byte) {
	l.mu.Lock()
	*q = append(*q, b)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *Loopback) wait(ctx context.Context, ch chan struct{}, u *device.URB) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return u.Complete(device.StatusCancelled, 0)
	case <-l.closed:
		u.Status = device.StatusIOError
		return device.ErrNoDevice
	}
}

package device

import (
	"context"
	"fmt"
)

// Descriptors is what a device says about itself: speed, device descriptor,
// configurations, and the strings its descriptors refer to.
type Descriptors struct {
	Speed   Speed
	Device  DeviceDescriptor
	Configs []ConfigDescriptor
	// Strings maps string-descriptor indexes to their text (language 0x0409). It may be
	// empty for remote devices that were not asked.
	Strings map[uint8]string
}

// Config returns the configuration with bConfigurationValue value.
func (d Descriptors) Config(value uint8) (ConfigDescriptor, bool) {
	for _, c := range d.Configs {
		if c.Value == value {
			return c, true
		}
	}
	return ConfigDescriptor{}, false
}

// Product returns the product string, if known.
func (d Descriptors) Product() string { return d.Strings[d.Device.ProductIndex] }

// Manufacturer returns the manufacturer string, if known.
func (d Descriptors) Manufacturer() string { return d.Strings[d.Device.ManufacturerIndex] }

// String is "vvvv:pppp product".
func (d Descriptors) String() string {
	s := fmt.Sprintf("%04x:%04x", d.Device.Vendor, d.Device.Product)
	if p := d.Product(); p != "" {
		s += " " + p
	}
	return s
}

// Device is a USB device that URBs can be submitted to: a real device through libusb, a
// virtual one, or a remote one reached over usbredir or USB/IP. All methods are safe for
// concurrent use; URBs on different endpoints proceed concurrently, URBs on the same
// endpoint complete in submission order when submitted from one goroutine in order.
type Device interface {
	// Descriptors returns the device's descriptors.
	Descriptors() Descriptors
	// Submit performs one transfer and blocks until it completes, the context is done
	// (the URB is then cancelled and completes with StatusCancelled) or the device goes
	// away (ErrNoDevice). It sets u.Status and u.Actual and returns u.Err() or a wrapped
	// ErrNoDevice.
	Submit(ctx context.Context, u *URB) error
	// SetConfiguration selects a configuration (0 = unconfigured).
	SetConfiguration(ctx context.Context, value uint8) error
	// Configuration returns the active bConfigurationValue.
	Configuration() uint8
	// SetAltSetting selects an alternate setting of an interface.
	SetAltSetting(ctx context.Context, iface, alt uint8) error
	// AltSetting returns the active alternate setting of an interface.
	AltSetting(iface uint8) uint8
	// Reset performs a USB port reset; the device keeps its descriptors.
	Reset(ctx context.Context) error
	// Close releases the device; pending URBs complete with ErrNoDevice.
	Close() error
}

// ActiveEndpoints lists the endpoints of dev's active configuration and alternate
// settings, with the interface number each belongs to. With no active configuration it
// lists the endpoints of the first configuration's alternate settings 0.
func ActiveEndpoints(d Descriptors, config uint8, alt func(uint8) uint8) []InterfaceDescriptor {
	c, ok := d.Config(config)
	if !ok {
		if len(d.Configs) == 0 {
			return nil
		}
		c = d.Configs[0]
		alt = func(uint8) uint8 { return 0 }
	}
	var out []InterfaceDescriptor
	seen := map[uint8]bool{}
	for _, i := range c.Interfaces {
		if seen[i.Number] {
			continue
		}
		want := alt(i.Number)
		if id, ok := c.Interface(i.Number, want); ok {
			out = append(out, id)
		} else {
			out = append(out, i)
		}
		seen[i.Number] = true
	}
	return out
}

// Pipeliner is implemented by devices that can have several URBs in flight at once (remote
// devices over usbredir or USB/IP). SubmitAll sends the URBs in order, so URBs on one
// endpoint keep their order, and returns when all have completed; the error is that of
// the first URB that failed.
type Pipeliner interface {
	SubmitAll(ctx context.Context, urbs []*URB) error
}

// SubmitAll submits urbs through dev, pipelined when dev is a Pipeliner and one after the
// other otherwise, stopping at the first failure in that case.
func SubmitAll(ctx context.Context, dev Device, urbs []*URB) error {
	if p, ok := dev.(Pipeliner); ok {
		return p.SubmitAll(ctx, urbs)
	}
	for _, u := range urbs {
		if err := dev.Submit(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// Watcher is implemented by devices that can tell when they go away (unplug, peer
// disconnect, close) without a transfer in flight.
type Watcher interface {
	Done() <-chan struct{}
}

package virtual

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/shadowless-dev/shadowless/device"
)

// function is the class-specific part of a virtual device; core does the standard part.
type function interface {
	// classControl handles a non-standard control request (class or vendor), or a
	// standard request core does not (e.g. GET_DESCRIPTOR of a class descriptor).
	classControl(ctx context.Context, u *device.URB) error
	// transfer handles a URB on a non-control endpoint.
	transfer(ctx context.Context, u *device.URB) error
	// reset returns the function to its power-on state.
	reset()
}

// core implements the standard-request half of device.Device for virtual devices.
type core struct {
	desc device.Descriptors
	fn   function

	mu     sync.Mutex
	config uint8
	alts   map[uint8]uint8
	halted map[uint8]bool

	closeOnce sync.Once
	closed    chan struct{}
}

func newCore(desc device.Descriptors, fn function) *core {
	c := &core{desc: desc, fn: fn, alts: map[uint8]uint8{}, halted: map[uint8]bool{}, closed: make(chan struct{})}
	if len(desc.Configs) > 0 {
		// Like a device already enumerated by the OS it is plugged into.
		c.config = desc.Configs[0].Value
	}
	return c
}

// Descriptors implements device.Device.
func (c *core) Descriptors() device.Descriptors { return c.desc }

// Configuration implements device.Device.
func (c *core) Configuration() uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.config
}

// AltSetting implements device.Device.
func (c *core) AltSetting(iface uint8) uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alts[iface]
}

// SetConfiguration implements device.Device.
func (c *core) SetConfiguration(_ context.Context, value uint8) error {
	if c.isClosed() {
		return device.ErrNoDevice
	}
	if _, ok := c.desc.Config(value); !ok && value != 0 {
		return fmt.Errorf("configuration %d: %w", value, device.ErrStall)
	}
	c.mu.Lock()
	c.config = value
	c.alts = map[uint8]uint8{}
	c.halted = map[uint8]bool{}
	c.mu.Unlock()
	return nil
}

// SetAltSetting implements device.Device.
func (c *core) SetAltSetting(_ context.Context, iface, alt uint8) error {
	if c.isClosed() {
		return device.ErrNoDevice
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg, ok := c.desc.Config(c.config)
	if !ok {
		return fmt.Errorf("set alt setting while unconfigured: %w", device.ErrStall)
	}
	if _, ok := cfg.Interface(iface, alt); !ok {
		return fmt.Errorf("interface %d alt %d: %w", iface, alt, device.ErrStall)
	}
	c.alts[iface] = alt
	return nil
}

// Reset implements device.Device.
func (c *core) Reset(context.Context) error {
	if c.isClosed() {
		return device.ErrNoDevice
	}
	c.mu.Lock()
	c.halted = map[uint8]bool{}
	c.mu.Unlock()
	c.fn.reset()
	return nil
}

// Close implements device.Device: pending and later URBs fail with ErrNoDevice.
func (c *core) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *core) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Unplug simulates pulling the device out: the same as Close.
func (c *core) Unplug() { _ = c.Close() }

func (c *core) setHalt(ep uint8, on bool) {
	c.mu.Lock()
	c.halted[ep] = on
	c.mu.Unlock()
}

func (c *core) isHalted(ep uint8) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.halted[ep]
}

// Submit implements device.Device.
func (c *core) Submit(ctx context.Context, u *device.URB) error {
	if c.isClosed() {
		u.Status, u.Actual = device.StatusIOError, 0
		return device.ErrNoDevice
	}
	if err := ctx.Err(); err != nil {
		return u.Complete(device.StatusCancelled, 0)
	}
	if u.Type == device.Control {
		return c.control(ctx, u)
	}
	if c.isHalted(u.Endpoint) {
		return u.Complete(device.StatusStall, 0)
	}
	if !c.endpointActive(u) {
		return u.Complete(device.StatusInvalid, 0)
	}
	err := c.fn.transfer(ctx, u)
	if c.isClosed() && u.Status != device.StatusOK {
		u.Status = device.StatusIOError
		return device.ErrNoDevice
	}
	return err
}

func (c *core) endpointActive(u *device.URB) bool {
	cfg := c.Configuration()
	if cfg == 0 {
		return false // unconfigured: only the default control pipe works
	}
	for _, i := range device.ActiveEndpoints(c.desc, cfg, c.AltSetting) {
		for _, e := range i.Endpoints {
			if e.Address == u.Endpoint {
				return e.Type() == u.Type
			}
		}
	}
	return false
}

// reply copies b into an IN control URB's buffer and completes it.
func reply(u *device.URB, b []byte) error {
	n := copy(u.Data, b)
	return u.Complete(device.StatusOK, n)
}

func (c *core) control(ctx context.Context, u *device.URB) error {
	s := u.Setup
	if s.RequestType&device.RequestTypeMask != device.TypeStandard {
		return c.fn.classControl(ctx, u)
	}
	switch s.Request {
	case device.ReqGetDescriptor:
		if s.RequestType&device.RecipientMask != device.RecipientDevice {
			return c.fn.classControl(ctx, u)
		}
		typ, idx := uint8(s.Value>>8), uint8(s.Value)
		switch typ {
		case device.DescDevice:
			return reply(u, c.desc.Device.Marshal())
		case device.DescConfiguration:
			if int(idx) >= len(c.desc.Configs) {
				return u.Complete(device.StatusStall, 0)
			}
			return reply(u, c.desc.Configs[idx].Marshal())
		case device.DescString:
			if idx == 0 {
				return reply(u, device.LanguageDescriptor())
			}
			str, ok := c.desc.Strings[idx]
			if !ok {
				return u.Complete(device.StatusStall, 0)
			}
			return reply(u, device.StringDescriptor(str))
		}
		return u.Complete(device.StatusStall, 0)
	case device.ReqSetAddress:
		return u.Complete(device.StatusOK, 0)
	case device.ReqGetConfiguration:
		return reply(u, []byte{c.Configuration()})
	case device.ReqSetConfiguration:
		if err := c.SetConfiguration(ctx, uint8(s.Value)); err != nil {
			return u.Fail(err)
		}
		return u.Complete(device.StatusOK, 0)
	case device.ReqGetInterface:
		return reply(u, []byte{c.AltSetting(uint8(s.Index))})
	case device.ReqSetInterface:
		if err := c.SetAltSetting(ctx, uint8(s.Index), uint8(s.Value)); err != nil {
			return u.Fail(err)
		}
		return u.Complete(device.StatusOK, 0)
	case device.ReqGetStatus:
		var st [2]byte
		if s.RequestType&device.RecipientMask == device.RecipientEndpoint && c.isHalted(uint8(s.Index)) {
			st[0] = 1
		}
		return reply(u, st[:])
	case device.ReqClearFeature, device.ReqSetFeature:
		if s.RequestType&device.RecipientMask == device.RecipientEndpoint && s.Value == 0 { // ENDPOINT_HALT
			c.setHalt(uint8(s.Index), s.Request == device.ReqSetFeature)
		}
		return u.Complete(device.StatusOK, 0)
	}
	return u.Complete(device.StatusStall, 0)
}

// putBE32 and friends keep the SCSI code readable.
func putBE32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }

// Done is closed when the device is closed or unplugged.
func (c *core) Done() <-chan struct{} { return c.closed }

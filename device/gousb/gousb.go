//go:build gousb

package gousb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	gu "github.com/google/gousb"

	"github.com/shadowless-dev/shadowless/device"
)

// Supported reports whether this build includes libusb support.
const Supported = true

// Open starts a libusb session (see OpenContext).
func Open(log *slog.Logger) (Backend, error) {
	c, err := OpenContext(log)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Open implements Backend.
func (c *Context) Open(sel Selector) (device.Device, error) {
	d, err := c.OpenDevice(sel)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Context is a libusb session.
type Context struct {
	ctx *gu.Context
	log *slog.Logger
}

// OpenContext starts a libusb session. It returns an error wrapping ErrAccess when libusb cannot
// be initialised (gousb panics in that case; the panic is turned into the error).
func OpenContext(log *slog.Logger) (c *Context, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: libusb_init failed: %v", ErrAccess, r)
		}
	}()
	return &Context{ctx: gu.NewContext(), log: log}, nil
}

// Close ends the session.
func (c *Context) Close() error { return c.ctx.Close() }

func speedOf(s gu.Speed) device.Speed {
	switch s {
	case gu.SpeedLow:
		return device.SpeedLow
	case gu.SpeedFull:
		return device.SpeedFull
	case gu.SpeedHigh:
		return device.SpeedHigh
	case gu.SpeedSuper:
		return device.SpeedSuper
	}
	return device.SpeedUnknown
}

func infoOf(d *gu.DeviceDesc) Info {
	i := Info{Bus: d.Bus, Address: d.Address, Port: d.Port, Path: d.Path, Speed: speedOf(d.Speed),
		Vendor: uint16(d.Vendor), Product: uint16(d.Product), Release: uint16(d.Device),
		Class: uint8(d.Class), SubClass: uint8(d.SubClass), Protocol: uint8(d.Protocol)}
	ids := make([]int, 0, len(d.Configs))
	for id := range d.Configs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	if len(ids) > 0 {
		for _, intf := range d.Configs[ids[0]].Interfaces {
			if len(intf.AltSettings) > 0 {
				a := intf.AltSettings[0]
				i.Interfaces = append(i.Interfaces, device.InterfaceClass{Number: uint8(intf.Number), Class: uint8(a.Class), SubClass: uint8(a.SubClass), Protocol: uint8(a.Protocol)})
			}
		}
	}
	return i
}

// List enumerates the devices on the local buses (without opening them).
func (c *Context) List() ([]Info, error) {
	var out []Info
	_, err := c.ctx.OpenDevices(func(d *gu.DeviceDesc) bool {
		out = append(out, infoOf(d))
		return false
	})
	if err != nil {
		return out, fmt.Errorf("gousb: listing devices: %w", mapErr(err))
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Bus != out[b].Bus {
			return out[a].Bus < out[b].Bus
		}
		return out[a].Address < out[b].Address
	})
	return out, nil
}

// Watch polls the device list every interval until ctx ends, calling f with the devices
// that appeared and disappeared since the previous poll (the first call lists everything
// present). gousb has no hotplug callbacks, so polling is the portable way.
func (c *Context) Watch(ctx context.Context, interval time.Duration, f func(added, removed []Info)) error {
	key := func(i Info) [2]int { return [2]int{i.Bus, i.Address} }
	prev := map[[2]int]Info{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		list, err := c.List()
		if err != nil && len(list) == 0 {
			return err
		}
		cur := map[[2]int]Info{}
		var added, removed []Info
		for _, i := range list {
			cur[key(i)] = i
			if _, ok := prev[key(i)]; !ok {
				added = append(added, i)
			}
		}
		for k, i := range prev {
			if _, ok := cur[k]; !ok {
				removed = append(removed, i)
			}
		}
		if len(added)+len(removed) > 0 {
			f(added, removed)
		}
		prev = cur
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// OpenDevice opens the device sel names, detaches kernel drivers from its interfaces
// and claims the interfaces of its active configuration.
func (c *Context) OpenDevice(sel Selector) (*Device, error) {
	var info Info
	devs, err := c.ctx.OpenDevices(func(d *gu.DeviceDesc) bool {
		if sel.Matches(uint16(d.Vendor), uint16(d.Product), d.Bus, d.Address) && info.Bus == 0 && info.Address == 0 {
			info = infoOf(d)
			return true
		}
		return false
	})
	if len(devs) == 0 {
		if err != nil {
			return nil, fmt.Errorf("gousb: opening %s: %w", sel, mapErr(err))
		}
		return nil, fmt.Errorf("gousb: %s: %w", sel, device.ErrNoDevice)
	}
	for _, extra := range devs[1:] {
		extra.Close()
	}
	d := &Device{dev: devs[0], info: info, log: c.log, done: make(chan struct{}), intfs: map[uint8]*gu.Interface{}, alts: map[uint8]uint8{}}
	d.dev.ControlTimeout = 5 * time.Second
	if err := d.dev.SetAutoDetach(true); err != nil {
		d.dev.Close()
		return nil, fmt.Errorf("gousb: detaching kernel drivers of %s: %w", sel, mapErr(err))
	}
	desc, err := device.ReadDescriptors(context.Background(), controlOnly{d}, info.Speed)
	if err != nil {
		d.dev.Close()
		return nil, fmt.Errorf("gousb: reading descriptors of %s: %w", sel, err)
	}
	d.desc = desc
	cfg, err := d.dev.ActiveConfigNum()
	if err == nil && cfg > 0 {
		if err := d.claim(uint8(cfg)); err != nil {
			d.dev.Close()
			return nil, err
		}
	}
	return d, nil
}

// mapErr maps libusb errors to the device package's sentinels.
func mapErr(err error) error {
	var e gu.Error
	if errors.As(err, &e) {
		switch e {
		case gu.ErrorNoDevice:
			return fmt.Errorf("%w (%v)", device.ErrNoDevice, err)
		case gu.ErrorAccess:
			return fmt.Errorf("%w (%v)", ErrAccess, err)
		case gu.ErrorPipe:
			return fmt.Errorf("%w (%v)", device.ErrStall, err)
		case gu.ErrorTimeout:
			return fmt.Errorf("%w (%v)", device.ErrTimeout, err)
		case gu.ErrorOverflow:
			return fmt.Errorf("%w (%v)", device.ErrBabble, err)
		case gu.ErrorInterrupted:
			return fmt.Errorf("%w (%v)", device.ErrCancelled, err)
		case gu.ErrorInvalidParam, gu.ErrorNotSupported, gu.ErrorNotFound:
			return fmt.Errorf("%w (%v)", device.ErrInvalid, err)
		}
		return fmt.Errorf("%w (%v)", device.ErrIO, err)
	}
	var ts gu.TransferStatus
	if errors.As(err, &ts) {
		switch ts {
		case gu.TransferNoDevice:
			return fmt.Errorf("%w (%v)", device.ErrNoDevice, err)
		case gu.TransferStall:
			return fmt.Errorf("%w (%v)", device.ErrStall, err)
		case gu.TransferTimedOut:
			return fmt.Errorf("%w (%v)", device.ErrTimeout, err)
		case gu.TransferCancelled:
			return fmt.Errorf("%w (%v)", device.ErrCancelled, err)
		case gu.TransferOverflow:
			return fmt.Errorf("%w (%v)", device.ErrBabble, err)
		}
		return fmt.Errorf("%w (%v)", device.ErrIO, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v)", device.ErrCancelled, err)
	}
	return fmt.Errorf("%w (%v)", device.ErrIO, err)
}

// Device is an opened real device; it implements device.Device and device.Watcher.
type Device struct {
	dev  *gu.Device
	info Info
	desc device.Descriptors
	log  *slog.Logger

	mu     sync.Mutex
	cfg    *gu.Config
	config uint8
	intfs  map[uint8]*gu.Interface
	alts   map[uint8]uint8

	closeOnce sync.Once
	done      chan struct{}
}

// controlOnly lets ReadDescriptors run before the Device is complete.
type controlOnly struct{ d *Device }

func (c controlOnly) Descriptors() device.Descriptors                   { return device.Descriptors{} }
func (c controlOnly) Submit(ctx context.Context, u *device.URB) error   { return c.d.Submit(ctx, u) }
func (c controlOnly) SetConfiguration(context.Context, uint8) error     { return device.ErrInvalid }
func (c controlOnly) Configuration() uint8                              { return 0 }
func (c controlOnly) SetAltSetting(context.Context, uint8, uint8) error { return device.ErrInvalid }
func (c controlOnly) AltSetting(uint8) uint8                            { return 0 }
func (c controlOnly) Reset(context.Context) error                       { return device.ErrInvalid }
func (c controlOnly) Close() error                                      { return nil }

// Info returns where the device is and what it is.
func (d *Device) Info() Info { return d.info }

// Descriptors implements device.Device.
func (d *Device) Descriptors() device.Descriptors { return d.desc }

// Done is closed when the device was closed or found unplugged.
func (d *Device) Done() <-chan struct{} { return d.done }

func (d *Device) gone() {
	d.closeOnce.Do(func() { close(d.done) })
}

func (d *Device) isGone() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// claim selects configuration value and claims all its interfaces at alt setting 0.
func (d *Device) claim(value uint8) error {
	d.release()
	if value == 0 {
		return nil
	}
	cfg, err := d.dev.Config(int(value))
	if err != nil {
		return fmt.Errorf("gousb: configuration %d: %w", value, mapErr(err))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg, d.config = cfg, value
	c, _ := d.desc.Config(value)
	for _, i := range c.Interfaces {
		if _, done := d.intfs[i.Number]; done || i.AltSetting != 0 {
			continue
		}
		intf, err := cfg.Interface(int(i.Number), 0)
		if err != nil {
			return fmt.Errorf("gousb: claiming interface %d: %w", i.Number, mapErr(err))
		}
		d.intfs[i.Number] = intf
	}
	return nil
}

func (d *Device) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for n, i := range d.intfs {
		i.Close()
		delete(d.intfs, n)
	}
	if d.cfg != nil {
		_ = d.cfg.Close()
		d.cfg = nil
	}
	d.config = 0
	d.alts = map[uint8]uint8{}
}

// Configuration implements device.Device.
func (d *Device) Configuration() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.config
}

// AltSetting implements device.Device.
func (d *Device) AltSetting(iface uint8) uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.alts[iface]
}

// SetConfiguration implements device.Device.
func (d *Device) SetConfiguration(_ context.Context, value uint8) error {
	if d.isGone() {
		return device.ErrNoDevice
	}
	return d.claim(value)
}

// SetAltSetting implements device.Device.
func (d *Device) SetAltSetting(_ context.Context, iface, alt uint8) error {
	if d.isGone() {
		return device.ErrNoDevice
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg == nil {
		return fmt.Errorf("gousb: set alt setting while unconfigured: %w", device.ErrStall)
	}
	if old := d.intfs[iface]; old != nil {
		old.Close()
		delete(d.intfs, iface)
	}
	intf, err := d.cfg.Interface(int(iface), int(alt))
	if err != nil {
		return fmt.Errorf("gousb: interface %d alt %d: %w", iface, alt, mapErr(err))
	}
	d.intfs[iface], d.alts[iface] = intf, alt
	return nil
}

// Reset implements device.Device.
func (d *Device) Reset(context.Context) error {
	if d.isGone() {
		return device.ErrNoDevice
	}
	if err := d.dev.Reset(); err != nil {
		return d.fail(err)
	}
	return nil
}

// Close releases the interfaces (the kernel driver is re-attached by libusb's auto-detach)
// and closes the device.
func (d *Device) Close() error {
	d.gone()
	d.release()
	return d.dev.Close()
}

func (d *Device) fail(err error) error {
	err = mapErr(err)
	if errors.Is(err, device.ErrNoDevice) {
		d.gone()
	}
	return err
}

// Submit implements device.Device for control, bulk and interrupt transfers.
func (d *Device) Submit(ctx context.Context, u *device.URB) error {
	if d.isGone() {
		u.Status, u.Actual = device.StatusIOError, 0
		return device.ErrNoDevice
	}
	switch u.Type {
	case device.Control:
		// gousb's Control is synchronous and bounded by ControlTimeout.
		n, err := d.dev.Control(u.Setup.RequestType, u.Setup.Request, u.Setup.Value, u.Setup.Index, u.Data)
		if err != nil {
			return u.Fail(d.fail(err))
		}
		return u.Complete(device.StatusOK, n)
	case device.Bulk, device.Interrupt:
		ep, err := d.endpointOf(u.Endpoint)
		if err != nil {
			return u.Fail(err)
		}
		// Transfers also end when the device is closed or unplugged elsewhere.
		tctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-d.done:
				cancel()
			case <-tctx.Done():
			}
		}()
		defer cancel()
		var n int
		if in, ok := ep.(*gu.InEndpoint); ok {
			n, err = in.ReadContext(tctx, u.Data)
		} else {
			n, err = ep.(*gu.OutEndpoint).WriteContext(tctx, u.Data)
		}
		if err != nil {
			if d.isGone() {
				u.Status, u.Actual = device.StatusIOError, n
				return device.ErrNoDevice
			}
			err = d.fail(err)
			u.Status, u.Actual = device.StatusOf(err), n
			return err
		}
		return u.Complete(device.StatusOK, n)
	case device.Isochronous:
		return u.Fail(fmt.Errorf("gousb: isochronous transfers are not supported (gousb loses packet boundaries): %w", device.ErrInvalid))
	}
	return u.Fail(fmt.Errorf("gousb: transfer type %v: %w", u.Type, device.ErrInvalid))
}

// endpointOf finds the claimed interface owning addr and opens the endpoint.
func (d *Device) endpointOf(addr uint8) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, intf := range d.intfs {
		for _, e := range intf.Setting.Endpoints {
			if uint8(e.Address) != addr {
				continue
			}
			if addr&device.DirIn != 0 {
				ep, err := intf.InEndpoint(int(addr & 0x0f))
				if err != nil {
					return nil, mapErr(err)
				}
				return ep, nil
			}
			ep, err := intf.OutEndpoint(int(addr & 0x0f))
			if err != nil {
				return nil, mapErr(err)
			}
			return ep, nil
		}
	}
	return nil, fmt.Errorf("gousb: endpoint %#02x is not in a claimed interface: %w", addr, device.ErrInvalid)
}

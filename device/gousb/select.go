package gousb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shadowless-dev/shadowless/device"
)

// ErrAccess is wrapped when libusb cannot be initialised or may not open a device
// (permissions, no /dev/bus/usb in a container).
var ErrAccess = errors.New("gousb: no access to USB devices")

// ErrNotBuilt is returned by Open in binaries built without the "gousb" build tag.
var ErrNotBuilt = errors.New("gousb: this binary was built without libusb support (rebuild with -tags gousb; needs cgo and libusb-1.0-0-dev)")

// Backend is a libusb session: what callers need without importing cgo themselves.
type Backend interface {
	// List enumerates the devices on the local buses without opening them.
	List() ([]Info, error)
	// Open opens the selected device, detaching kernel drivers and claiming interfaces.
	Open(sel Selector) (device.Device, error)
	// Watch polls for devices appearing and disappearing until ctx ends.
	Watch(ctx context.Context, interval time.Duration, f func(added, removed []Info)) error
	// Close ends the session.
	Close() error
}

// Info describes a device found on the local buses.
type Info struct {
	Bus, Address, Port int
	Path               []int
	Speed              device.Speed
	Vendor, Product    uint16
	Release            uint16
	Class              uint8
	SubClass           uint8
	Protocol           uint8
	Interfaces         []device.InterfaceClass // of the first configuration
}

// Identity returns the filter identity of the device.
func (i Info) Identity() device.Identity {
	return device.Identity{Class: i.Class, SubClass: i.SubClass, Protocol: i.Protocol, Vendor: i.Vendor, Product: i.Product, Version: i.Release, Interfaces: i.Interfaces}
}

// Selector names one device: by vendor and product id ("usb:VID:PID", hex) or by bus
// number and address ("usb:BUS-ADDR", decimal). The "usb:" prefix is optional.
type Selector struct {
	Vendor, Product uint16
	Bus, Address    int
	ByAddress       bool
}

// ParseSelector parses "usb:1d6b:0104" or "usb:1-4".
func ParseSelector(s string) (Selector, error) {
	s = strings.TrimPrefix(s, "usb:")
	if bus, addr, ok := strings.Cut(s, "-"); ok {
		b, err1 := strconv.Atoi(bus)
		a, err2 := strconv.Atoi(addr)
		if err1 != nil || err2 != nil || b < 0 || a < 0 || a > 127 {
			return Selector{}, fmt.Errorf("usb device %q: want BUS-ADDR with decimal numbers, e.g. usb:1-4", s)
		}
		return Selector{Bus: b, Address: a, ByAddress: true}, nil
	}
	vid, pid, ok := strings.Cut(s, ":")
	if !ok {
		return Selector{}, fmt.Errorf("usb device %q: want VID:PID (hex, e.g. usb:1d6b:0104) or BUS-ADDR (e.g. usb:1-4)", s)
	}
	v, err1 := strconv.ParseUint(strings.TrimPrefix(vid, "0x"), 16, 16)
	p, err2 := strconv.ParseUint(strings.TrimPrefix(pid, "0x"), 16, 16)
	if err1 != nil || err2 != nil {
		return Selector{}, fmt.Errorf("usb device %q: vendor and product must be 4-digit hex ids", s)
	}
	return Selector{Vendor: uint16(v), Product: uint16(p)}, nil
}

// String formats the selector as ParseSelector reads it.
func (s Selector) String() string {
	if s.ByAddress {
		return fmt.Sprintf("usb:%d-%d", s.Bus, s.Address)
	}
	return fmt.Sprintf("usb:%04x:%04x", s.Vendor, s.Product)
}

// Matches reports whether a device with these ids and location is the one selected.
func (s Selector) Matches(vendor, product uint16, bus, address int) bool {
	if s.ByAddress {
		return s.Bus == bus && s.Address == address
	}
	return s.Vendor == vendor && s.Product == product
}

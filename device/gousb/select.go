package gousb

import (
	"fmt"
	"strconv"
	"strings"
)

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

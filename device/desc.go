package device

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// Descriptor types (USB 2.0 table 9-5, HID 1.11).
const (
	DescDevice        = 0x01
	DescConfiguration = 0x02
	DescString        = 0x03
	DescInterface     = 0x04
	DescEndpoint      = 0x05
	DescQualifier     = 0x06
	DescHID           = 0x21
	DescHIDReport     = 0x22
)

// Class codes used by the library's decisions.
const (
	ClassPerInterface = 0x00
	ClassAudio        = 0x01
	ClassComm         = 0x02
	ClassHID          = 0x03
	ClassImage        = 0x06
	ClassPrinter      = 0x07
	ClassMassStorage  = 0x08
	ClassHub          = 0x09
	ClassSmartCard    = 0x0B
	ClassVideo        = 0x0E
	ClassWireless     = 0xE0
	ClassMisc         = 0xEF
	ClassVendor       = 0xFF
)

// Speed is the bus speed of a device. Values follow usbredir's speed codes.
type Speed uint8

// Speeds.
const (
	SpeedLow     Speed = 0
	SpeedFull    Speed = 1
	SpeedHigh    Speed = 2
	SpeedSuper   Speed = 3
	SpeedUnknown Speed = 255
)

// String names the speed with its signalling rate.
func (s Speed) String() string {
	switch s {
	case SpeedLow:
		return "low (1.5 Mb/s)"
	case SpeedFull:
		return "full (12 Mb/s)"
	case SpeedHigh:
		return "high (480 Mb/s)"
	case SpeedSuper:
		return "super (5 Gb/s)"
	}
	return "unknown"
}

// DeviceDescriptor is the standard device descriptor (18 bytes).
type DeviceDescriptor struct {
	USB               uint16 // bcdUSB
	Class             uint8
	SubClass          uint8
	Protocol          uint8
	MaxPacketSize0    uint8
	Vendor            uint16
	Product           uint16
	Release           uint16 // bcdDevice
	ManufacturerIndex uint8
	ProductIndex      uint8
	SerialIndex       uint8
	NumConfigurations uint8
}

// Marshal encodes the descriptor.
func (d DeviceDescriptor) Marshal() []byte {
	b := make([]byte, 18)
	b[0], b[1] = 18, DescDevice
	binary.LittleEndian.PutUint16(b[2:], d.USB)
	b[4], b[5], b[6], b[7] = d.Class, d.SubClass, d.Protocol, d.MaxPacketSize0
	binary.LittleEndian.PutUint16(b[8:], d.Vendor)
	binary.LittleEndian.PutUint16(b[10:], d.Product)
	binary.LittleEndian.PutUint16(b[12:], d.Release)
	b[14], b[15], b[16], b[17] = d.ManufacturerIndex, d.ProductIndex, d.SerialIndex, d.NumConfigurations
	return b
}

// ParseDeviceDescriptor decodes a device descriptor.
func ParseDeviceDescriptor(b []byte) (DeviceDescriptor, error) {
	if len(b) < 18 || b[0] < 18 || b[1] != DescDevice {
		return DeviceDescriptor{}, fmt.Errorf("device descriptor: %d bytes, type %#x: %w", len(b), first2(b), ErrInvalid)
	}
	return DeviceDescriptor{
		USB:   binary.LittleEndian.Uint16(b[2:]),
		Class: b[4], SubClass: b[5], Protocol: b[6], MaxPacketSize0: b[7],
		Vendor:            binary.LittleEndian.Uint16(b[8:]),
		Product:           binary.LittleEndian.Uint16(b[10:]),
		Release:           binary.LittleEndian.Uint16(b[12:]),
		ManufacturerIndex: b[14], ProductIndex: b[15], SerialIndex: b[16], NumConfigurations: b[17],
	}, nil
}

func first2(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	return int(b[1])
}

// EndpointDescriptor is a standard endpoint descriptor plus any class-specific
// descriptors that follow it.
type EndpointDescriptor struct {
	Address       uint8 // bit 7 = IN
	Attributes    uint8 // bits 0-1 = transfer type
	MaxPacketSize uint16
	Interval      uint8
	Extra         []byte // descriptors following this one (e.g. SuperSpeed companion)
}

// Type returns the endpoint's transfer type.
func (e EndpointDescriptor) Type() TransferType { return TransferType(e.Attributes & 3) }

// MaxPacketBytes returns the maximum packet size in bytes, counting the additional
// transactions per microframe of high-bandwidth high-speed endpoints.
func (e EndpointDescriptor) MaxPacketBytes() int {
	base := int(e.MaxPacketSize & 0x7ff)
	mult := int(e.MaxPacketSize>>11)&3 + 1
	return base * mult
}

// InterfaceDescriptor is one alternate setting of an interface, its endpoints, and the
// class-specific descriptors between it and its first endpoint (e.g. the HID descriptor).
type InterfaceDescriptor struct {
	Number      uint8
	AltSetting  uint8
	Class       uint8
	SubClass    uint8
	Protocol    uint8
	StringIndex uint8
	Extra       []byte
	Endpoints   []EndpointDescriptor
}

// ConfigDescriptor is a configuration with all its interfaces' alternate settings, in the
// order they appear in the full configuration descriptor.
type ConfigDescriptor struct {
	Value       uint8
	StringIndex uint8
	Attributes  uint8 // bit 7 must be set; bit 6 self-powered; bit 5 remote wakeup
	MaxPower    uint8 // in 2 mA units (8 mA for SuperSpeed)
	Extra       []byte
	Interfaces  []InterfaceDescriptor
}

// NumInterfaces counts distinct interface numbers.
func (c ConfigDescriptor) NumInterfaces() int {
	seen := map[uint8]bool{}
	for _, i := range c.Interfaces {
		seen[i.Number] = true
	}
	return len(seen)
}

// Interface returns the descriptor of interface number n, alternate setting alt.
func (c ConfigDescriptor) Interface(n, alt uint8) (InterfaceDescriptor, bool) {
	for _, i := range c.Interfaces {
		if i.Number == n && i.AltSetting == alt {
			return i, true
		}
	}
	return InterfaceDescriptor{}, false
}

// Marshal encodes the full configuration descriptor (configuration, interfaces, class
// descriptors, endpoints) with wTotalLength and bNumInterfaces computed.
func (c ConfigDescriptor) Marshal() []byte {
	b := make([]byte, 9, 64)
	b[0], b[1] = 9, DescConfiguration
	b[4] = uint8(c.NumInterfaces())
	b[5], b[6], b[7], b[8] = c.Value, c.StringIndex, c.Attributes|0x80, c.MaxPower
	b = append(b, c.Extra...)
	for _, i := range c.Interfaces {
		b = append(b, 9, DescInterface, i.Number, i.AltSetting, uint8(len(i.Endpoints)), i.Class, i.SubClass, i.Protocol, i.StringIndex)
		b = append(b, i.Extra...)
		for _, e := range i.Endpoints {
			b = append(b, 7, DescEndpoint, e.Address, e.Attributes, uint8(e.MaxPacketSize), uint8(e.MaxPacketSize>>8), e.Interval)
			b = append(b, e.Extra...)
		}
	}
	binary.LittleEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// ParseConfigDescriptor decodes a full configuration descriptor as returned by
// GET_DESCRIPTOR(CONFIGURATION) with wLength >= wTotalLength.
func ParseConfigDescriptor(b []byte) (ConfigDescriptor, error) {
	if len(b) < 9 || b[0] < 9 || b[1] != DescConfiguration {
		return ConfigDescriptor{}, fmt.Errorf("configuration descriptor: %d bytes, type %#x: %w", len(b), first2(b), ErrInvalid)
	}
	total := int(binary.LittleEndian.Uint16(b[2:]))
	if total > len(b) {
		return ConfigDescriptor{}, fmt.Errorf("configuration descriptor: wTotalLength %d > %d bytes: %w", total, len(b), ErrInvalid)
	}
	if total < int(b[0]) {
		return ConfigDescriptor{}, fmt.Errorf("configuration descriptor: wTotalLength %d too small: %w", total, ErrInvalid)
	}
	b = b[:total]
	c := ConfigDescriptor{Value: b[5], StringIndex: b[6], Attributes: b[7], MaxPower: b[8]}
	var cur *InterfaceDescriptor
	var curEP *EndpointDescriptor
	for off := int(b[0]); off < len(b); {
		l := int(b[off])
		if l < 2 || off+l > len(b) {
			return ConfigDescriptor{}, fmt.Errorf("configuration descriptor: bad descriptor length %d at offset %d: %w", l, off, ErrInvalid)
		}
		d := b[off : off+l]
		switch d[1] {
		case DescInterface:
			if l < 9 {
				return ConfigDescriptor{}, fmt.Errorf("interface descriptor of %d bytes: %w", l, ErrInvalid)
			}
			c.Interfaces = append(c.Interfaces, InterfaceDescriptor{Number: d[2], AltSetting: d[3], Class: d[5], SubClass: d[6], Protocol: d[7], StringIndex: d[8]})
			cur, curEP = &c.Interfaces[len(c.Interfaces)-1], nil
		case DescEndpoint:
			if l < 7 || cur == nil {
				return ConfigDescriptor{}, fmt.Errorf("endpoint descriptor of %d bytes or outside an interface: %w", l, ErrInvalid)
			}
			cur.Endpoints = append(cur.Endpoints, EndpointDescriptor{Address: d[2], Attributes: d[3], MaxPacketSize: binary.LittleEndian.Uint16(d[4:]), Interval: d[6]})
			curEP = &cur.Endpoints[len(cur.Endpoints)-1]
		default:
			switch {
			case curEP != nil:
				curEP.Extra = append(curEP.Extra, d...)
			case cur != nil:
				cur.Extra = append(cur.Extra, d...)
			default:
				c.Extra = append(c.Extra, d...)
			}
		}
		off += l
	}
	return c, nil
}

// StringDescriptor encodes s as a USB string descriptor (UTF-16LE).
func StringDescriptor(s string) []byte {
	u := utf16.Encode([]rune(s))
	if len(u) > 126 {
		u = u[:126]
	}
	b := make([]byte, 2+2*len(u))
	b[0], b[1] = uint8(len(b)), DescString
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2+2*i:], r)
	}
	return b
}

// LanguageDescriptor is string descriptor 0 listing US English (0x0409).
func LanguageDescriptor() []byte { return []byte{4, DescString, 0x09, 0x04} }

// ParseStringDescriptor decodes a string descriptor.
func ParseStringDescriptor(b []byte) (string, error) {
	if len(b) < 2 || b[1] != DescString || int(b[0]) > len(b) || b[0]%2 != 0 {
		return "", fmt.Errorf("string descriptor of %d bytes: %w", len(b), ErrInvalid)
	}
	u := make([]uint16, (int(b[0])-2)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2+2*i:])
	}
	return string(utf16.Decode(u)), nil
}

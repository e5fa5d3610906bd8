package virtual

import (
	"context"
	"fmt"
	"strings"

	"github.com/shadowless-dev/shadowless/device"
)

// HID class requests.
const (
	hidGetReport   = 0x01
	hidGetIdle     = 0x02
	hidGetProtocol = 0x03
	hidSetReport   = 0x09
	hidSetIdle     = 0x0A
	hidSetProtocol = 0x0B
)

// bootKeyboardReport is the HID report descriptor of a boot-protocol keyboard: modifier
// byte, reserved byte, five LED output bits, six key codes.
var bootKeyboardReport = []byte{
	0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, // Usage Page (Generic Desktop), Usage (Keyboard), Collection (Application)
	0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, // modifiers
	0x95, 0x01, 0x75, 0x08, 0x81, 0x01, // reserved
	0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, // LEDs
	0x95, 0x01, 0x75, 0x03, 0x91, 0x01, // LED padding
	0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, // keys
	0xC0,
}

// Keyboard is a virtual USB HID keyboard speaking the boot protocol: 8-byte input reports
// on interrupt endpoint 0x81. Type and Press queue reports; the host reads them.
type Keyboard struct {
	*core
	reports  chan [8]byte
	leds     chan uint8
	protocol uint8
	idle     uint8
}

// KeyboardOption adjusts a virtual keyboard's identity.
type KeyboardOption func(*device.Descriptors)

// WithIdentity sets vendor id, product id and product string.
func WithIdentity(vendor, product uint16, name string) KeyboardOption {
	return func(d *device.Descriptors) {
		d.Device.Vendor, d.Device.Product = vendor, product
		d.Strings[2] = name
	}
}

// NewKeyboard returns a virtual boot keyboard (vendor 0x1d6b, product 0x0104).
func NewKeyboard(opts ...KeyboardOption) *Keyboard {
	hidDesc := []byte{9, device.DescHID, 0x11, 0x01, 0, 1, device.DescHIDReport, uint8(len(bootKeyboardReport)), 0}
	d := device.Descriptors{
		Speed: device.SpeedFull,
		Device: device.DeviceDescriptor{USB: 0x0200, MaxPacketSize0: 64, Vendor: 0x1d6b, Product: 0x0104,
			Release: 0x0100, ManufacturerIndex: 1, ProductIndex: 2, SerialIndex: 3, NumConfigurations: 1},
		Configs: []device.ConfigDescriptor{{Value: 1, Attributes: 0xA0, MaxPower: 50, Interfaces: []device.InterfaceDescriptor{{
			Number: 0, Class: device.ClassHID, SubClass: 1, Protocol: 1, Extra: hidDesc,
			Endpoints: []device.EndpointDescriptor{{Address: 0x81, Attributes: uint8(device.Interrupt), MaxPacketSize: 8, Interval: 10}},
		}}}},
		Strings: map[uint8]string{1: "Shadowless", 2: "Shadowless Virtual Keyboard", 3: "SLKBD0001"},
	}
	for _, o := range opts {
		o(&d)
	}
	k := &Keyboard{reports: make(chan [8]byte, 1024), leds: make(chan uint8, 16), protocol: 1}
	k.core = newCore(d, k)
	return k
}

// LEDs delivers LED output reports (bit 0 NumLock, 1 CapsLock, 2 ScrollLock) the host sets.
func (k *Keyboard) LEDs() <-chan uint8 { return k.leds }

// Press queues one report with the modifier byte and up to six key usage codes, followed
// by an all-keys-up report.
func (k *Keyboard) Press(ctx context.Context, modifiers uint8, keys ...uint8) error {
	var r [8]byte
	r[0] = modifiers
	copy(r[2:], keys)
	if err := k.queue(ctx, r); err != nil {
		return err
	}
	return k.queue(ctx, [8]byte{})
}

func (k *Keyboard) queue(ctx context.Context, r [8]byte) error {
	select {
	case k.reports <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-k.closed:
		return device.ErrNoDevice
	}
}

// Type queues the key presses that type text (US layout, printable ASCII, '\n' = Enter,
// '\t' = Tab).
func (k *Keyboard) Type(ctx context.Context, text string) error {
	for _, r := range text {
		code, shift, ok := usageOf(r)
		if !ok {
			return fmt.Errorf("virtual keyboard: cannot type %q: %w", r, device.ErrInvalid)
		}
		var mod uint8
		if shift {
			mod = 0x02 // left shift
		}
		if err := k.Press(ctx, mod, code); err != nil {
			return err
		}
	}
	return nil
}

// UsageOf returns the HID usage code of r on a US keyboard and whether Shift is needed.
func usageOf(r rune) (code uint8, shift bool, ok bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return uint8(0x04 + r - 'a'), false, true
	case r >= 'A' && r <= 'Z':
		return uint8(0x04 + r - 'A'), true, true
	case r >= '1' && r <= '9':
		return uint8(0x1E + r - '1'), false, true
	case r == '0':
		return 0x27, false, true
	case r == '\n':
		return 0x28, false, true
	case r == '\t':
		return 0x2B, false, true
	case r == ' ':
		return 0x2C, false, true
	}
	const plain = "-=[]\\#;'`,./"
	const plainCodes = "\x2d\x2e\x2f\x30\x31\x32\x33\x34\x35\x36\x37\x38"
	const shifted = "_+{}|~:\"~<>?"
	if i := strings.IndexRune(plain, r); i >= 0 {
		return plainCodes[i], false, true
	}
	if i := strings.IndexRune(shifted, r); i >= 0 {
		return plainCodes[i], true, true
	}
	const shiftedDigits = "!@#$%^&*()"
	if i := strings.IndexRune(shiftedDigits, r); i >= 0 {
		return uint8(0x1E + i), true, true
	}
	return 0, false, false
}

// DecodeReport turns a boot keyboard report back into the character it types ("" for a
// release or a key without a character). It is the inverse of Type, for tests and demos.
func DecodeReport(r []byte) string {
	if len(r) < 3 || r[2] == 0 {
		return ""
	}
	shift := r[0]&0x22 != 0
	for c := rune(0x20); c < 0x7f; c++ {
		if code, sh, ok := usageOf(c); ok && code == r[2] && sh == shift {
			return string(c)
		}
	}
	switch r[2] {
	case 0x28:
		return "\n"
	case 0x2B:
		return "\t"
	}
	return ""
}

func (k *Keyboard) reset() {
	for {
		select {
		case <-k.reports:
		default:
			return
		}
	}
}

func (k *Keyboard) classControl(_ context.Context, u *device.URB) error {
	s := u.Setup
	if s.RequestType&device.RequestTypeMask == device.TypeStandard && s.Request == device.ReqGetDescriptor {
		switch uint8(s.Value >> 8) {
		case device.DescHIDReport:
			return reply(u, bootKeyboardReport)
		case device.DescHID:
			return reply(u, k.desc.Configs[0].Interfaces[0].Extra)
		}
		return u.Complete(device.StatusStall, 0)
	}
	if s.RequestType&device.RequestTypeMask != device.TypeClass {
		return u.Complete(device.StatusStall, 0)
	}
	switch s.Request {
	case hidGetReport:
		return reply(u, make([]byte, 8))
	case hidSetReport:
		if len(u.Data) > 0 {
			select {
			case k.leds <- u.Data[0]:
			default:
			}
		}
		return u.Complete(device.StatusOK, len(u.Data))
	case hidSetIdle:
		k.core.mu.Lock()
		k.idle = uint8(s.Value >> 8)
		k.core.mu.Unlock()
		return u.Complete(device.StatusOK, 0)
	case hidGetIdle:
		k.core.mu.Lock()
		v := k.idle
		k.core.mu.Unlock()
		return reply(u, []byte{v})
	case hidSetProtocol:
		k.core.mu.Lock()
		k.protocol = uint8(s.Value)
		k.core.mu.Unlock()
		return u.Complete(device.StatusOK, 0)
	case hidGetProtocol:
		k.core.mu.Lock()
		v := k.protocol
		k.core.mu.Unlock()
		return reply(u, []byte{v})
	}
	return u.Complete(device.StatusStall, 0)
}

func (k *Keyboard) transfer(ctx context.Context, u *device.URB) error {
	if u.Endpoint != 0x81 {
		return u.Complete(device.StatusInvalid, 0)
	}
	select {
	case r := <-k.reports:
		n := copy(u.Data, r[:])
		if n < len(r) {
			return u.Complete(device.StatusBabble, n)
		}
		return u.Complete(device.StatusOK, n)
	case <-ctx.Done():
		return u.Complete(device.StatusCancelled, 0)
	case <-k.closed:
		u.Status = device.StatusIOError
		return device.ErrNoDevice
	}
}

// Scanner is a barcode scanner: a HID keyboard that types each scanned code followed by
// Enter, as the common "keyboard wedge" scanners do.
type Scanner struct {
	*Keyboard
}

// NewScanner returns a virtual barcode scanner (vendor 0x1d6b, product 0x0105).
func NewScanner() *Scanner {
	return &Scanner{NewKeyboard(WithIdentity(0x1d6b, 0x0105, "Shadowless Virtual Barcode Scanner"))}
}

// Scan types code and Enter.
func (s *Scanner) Scan(ctx context.Context, code string) error {
	return s.Type(ctx, code+"\n")
}

package input

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// XInput2 device use values (XIDeviceInfo.use).
const (
	xiMasterPointer  = 1
	xiMasterKeyboard = 2
	xiSlavePointer   = 3
	xiSlaveKeyboard  = 4
	xiFloatingSlave  = 5
)

// xiDevice is one entry of an XIQueryDevice reply.
type xiDevice struct {
	ID         uint16
	Use        uint16
	Attachment uint16
	Enabled    bool
	Name       string
}

var errShortReply = errors.New("input: short XIQueryDevice reply")

// parseXIQueryDevice decodes an XIQueryDevice reply (the X server's bytes, little-endian as
// our connection requests). xgb has no XInput2 binding, so this is done by hand.
//
// Layout: 32-byte header (type, pad, sequence u16, length u32, num_devices u16, pad 22),
// then per device: deviceid u16, use u16, attachment u16, num_classes u16, name_len u16,
// enabled u8, pad u8, name padded to 4 bytes, then num_classes classes of (type u16,
// len u16 in 4-byte units including this header, ...).
func parseXIQueryDevice(b []byte) ([]xiDevice, error) {
	if len(b) < 32 {
		return nil, errShortReply
	}
	if b[0] != 1 {
		return nil, fmt.Errorf("input: XIQueryDevice: not a reply (type %d)", b[0])
	}
	n := int(binary.LittleEndian.Uint16(b[8:]))
	length := int(binary.LittleEndian.Uint32(b[4:]))
	end := 32 + 4*length
	if end > len(b) || end < 32 {
		return nil, errShortReply
	}
	b = b[32:end]
	devs := make([]xiDevice, 0, min(n, 64))
	for i := 0; i < n; i++ {
		if len(b) < 12 {
			return nil, errShortReply
		}
		d := xiDevice{
			ID:         binary.LittleEndian.Uint16(b[0:]),
			Use:        binary.LittleEndian.Uint16(b[2:]),
			Attachment: binary.LittleEndian.Uint16(b[4:]),
			Enabled:    b[10] != 0,
		}
		classes := int(binary.LittleEndian.Uint16(b[6:]))
		nameLen := int(binary.LittleEndian.Uint16(b[8:]))
		b = b[12:]
		padded := (nameLen + 3) &^ 3
		if len(b) < padded {
			return nil, errShortReply
		}
		d.Name = string(b[:nameLen])
		b = b[padded:]
		for c := 0; c < classes; c++ {
			if len(b) < 4 {
				return nil, errShortReply
			}
			size := 4 * int(binary.LittleEndian.Uint16(b[2:]))
			if size < 4 || size > len(b) {
				return nil, fmt.Errorf("input: XIQueryDevice: bad class length %d", size)
			}
			b = b[size:]
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// xtestDevices picks the XTEST slave keyboard and pointer ("Virtual core XTEST keyboard"
// and "Virtual core XTEST pointer") from a device list; 0 when absent.
func xtestDevices(devs []xiDevice) (keyboard, pointer uint16) {
	for _, d := range devs {
		switch {
		case d.Use == xiSlaveKeyboard && d.Name == "Virtual core XTEST keyboard":
			keyboard = d.ID
		case d.Use == xiSlavePointer && d.Name == "Virtual core XTEST pointer":
			pointer = d.ID
		}
	}
	return keyboard, pointer
}

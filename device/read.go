package device

import (
	"context"
	"fmt"
)

// GetDescriptor performs a standard GET_DESCRIPTOR control transfer on dev.
func GetDescriptor(ctx context.Context, dev Device, typ, index uint8, lang uint16, length int) ([]byte, error) {
	u := &URB{Type: Control, Setup: Setup{RequestType: DirIn, Request: ReqGetDescriptor,
		Value: uint16(typ)<<8 | uint16(index), Index: lang, Length: uint16(length)}, Data: make([]byte, length)}
	if err := dev.Submit(ctx, u); err != nil {
		return nil, fmt.Errorf("GET_DESCRIPTOR(%#x, %d): %w", typ, index, err)
	}
	return u.Data[:u.Actual], nil
}

// ReadDescriptors reads a device's descriptors with control transfers, as a host does when
// it enumerates a device: the device descriptor, every configuration (first its 9-byte
// header for wTotalLength, then all of it), and the manufacturer, product and serial
// strings (failures to read strings are ignored, as many devices have none).
func ReadDescriptors(ctx context.Context, dev Device, speed Speed) (Descriptors, error) {
	b, err := GetDescriptor(ctx, dev, DescDevice, 0, 0, 18)
	if err != nil {
		return Descriptors{}, err
	}
	dd, err := ParseDeviceDescriptor(b)
	if err != nil {
		return Descriptors{}, err
	}
	d := Descriptors{Speed: speed, Device: dd, Strings: map[uint8]string{}}
	for i := 0; i < int(dd.NumConfigurations); i++ {
		b, err := GetDescriptor(ctx, dev, DescConfiguration, uint8(i), 0, 9)
		if err != nil {
			return Descriptors{}, err
		}
		if len(b) < 4 {
			return Descriptors{}, fmt.Errorf("configuration %d: %d-byte header: %w", i, len(b), ErrInvalid)
		}
		total := int(b[2]) | int(b[3])<<8
		if b, err = GetDescriptor(ctx, dev, DescConfiguration, uint8(i), 0, total); err != nil {
			return Descriptors{}, err
		}
		c, err := ParseConfigDescriptor(b)
		if err != nil {
			return Descriptors{}, err
		}
		d.Configs = append(d.Configs, c)
	}
	for _, idx := range []uint8{dd.ManufacturerIndex, dd.ProductIndex, dd.SerialIndex} {
		if idx == 0 {
			continue
		}
		if b, err := GetDescriptor(ctx, dev, DescString, idx, 0x0409, 255); err == nil {
			if s, err := ParseStringDescriptor(b); err == nil {
				d.Strings[idx] = s
			}
		}
	}
	return d, nil
}

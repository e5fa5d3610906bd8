package usbip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shadowless-dev/shadowless/device"
)

// Protocol constants (Linux Documentation/usb/usbip_protocol.rst). All integers are big
// endian on the wire.
const (
	Version = 0x0111

	OpReqDevlist = 0x8005
	OpRepDevlist = 0x0005
	OpReqImport  = 0x8003
	OpRepImport  = 0x0003

	CmdSubmit = 1
	CmdUnlink = 2
	RetSubmit = 3
	RetUnlink = 4

	DirOut = 0
	DirIn  = 1

	// DefaultPort is the TCP port usbip uses.
	DefaultPort = 3240

	headerLen     = 48
	opHeaderLen   = 8
	deviceInfoLen = 312
	isoDescLen    = 16

	// MaxTransfer bounds one URB's buffer (malformed input must not allocate gigabytes).
	MaxTransfer = 16 << 20
	// MaxISOPackets bounds the packets of one isochronous URB.
	MaxISOPackets = 1024
)

// Linux errno values carried (negated) in status fields.
const (
	errnoENOENT     = 2
	errnoEIO        = 5
	errnoEINVAL     = 22
	errnoEPIPE      = 32
	errnoEPROTO     = 71
	errnoEOVERFLOW  = 75
	errnoECONNRESET = 104
	errnoESHUTDOWN  = 108
	errnoETIMEDOUT  = 110
)

// ErrProtocol is wrapped by every decoding error.
var ErrProtocol = errors.New("usbip: protocol error")

// StatusToErrno maps a URB status to the negative errno USB/IP carries.
func StatusToErrno(s device.Status) int32 {
	switch s {
	case device.StatusOK:
		return 0
	case device.StatusCancelled:
		return -errnoECONNRESET
	case device.StatusInvalid:
		return -errnoEINVAL
	case device.StatusStall:
		return -errnoEPIPE
	case device.StatusTimeout:
		return -errnoETIMEDOUT
	case device.StatusBabble:
		return -errnoEOVERFLOW
	}
	return -errnoEPROTO
}

// ErrnoToStatus is the inverse of StatusToErrno.
func ErrnoToStatus(e int32) device.Status {
	switch -e {
	case 0:
		return device.StatusOK
	case errnoECONNRESET, errnoENOENT:
		return device.StatusCancelled
	case errnoEINVAL:
		return device.StatusInvalid
	case errnoEPIPE:
		return device.StatusStall
	case errnoETIMEDOUT:
		return device.StatusTimeout
	case errnoEOVERFLOW:
		return device.StatusBabble
	}
	return device.StatusIOError
}

// Speed codes of USB/IP (Linux enum usb_device_speed).
func speedToWire(s device.Speed) uint32 {
	switch s {
	case device.SpeedLow:
		return 1
	case device.SpeedFull:
		return 2
	case device.SpeedHigh:
		return 3
	case device.SpeedSuper:
		return 5
	}
	return 0
}

func speedFromWire(v uint32) device.Speed {
	switch v {
	case 1:
		return device.SpeedLow
	case 2:
		return device.SpeedFull
	case 3:
		return device.SpeedHigh
	case 5, 6:
		return device.SpeedSuper
	}
	return device.SpeedUnknown
}

// OpHeader starts every operation of the connection phase.
type OpHeader struct {
	Version uint16
	Code    uint16
	Status  uint32
}

func (h OpHeader) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint16(b, h.Code)
	return binary.BigEndian.AppendUint32(b, h.Status)
}

// ParseOpHeader decodes an operation header.
func ParseOpHeader(b []byte) (OpHeader, error) {
	if len(b) < opHeaderLen {
		return OpHeader{}, fmt.Errorf("%w: op header of %d bytes", ErrProtocol, len(b))
	}
	return OpHeader{binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint32(b[4:])}, nil
}

// InterfaceInfo is the class triple of one interface in a device list.
type InterfaceInfo struct {
	Class, SubClass, Protocol uint8
}

// DeviceInfo describes an exported device (struct usbip_usb_device).
type DeviceInfo struct {
	Path               string
	BusID              string
	BusNum, DevNum     uint32
	Speed              device.Speed
	Vendor, Product    uint16
	Release            uint16
	Class, SubClass    uint8
	Protocol           uint8
	ConfigurationValue uint8
	NumConfigurations  uint8
	NumInterfaces      uint8
	Interfaces         []InterfaceInfo // only in device lists
}

// DevID is the devid field URB headers carry: busnum << 16 | devnum.
func (d DeviceInfo) DevID() uint32 { return d.BusNum<<16 | d.DevNum }

func putString(b []byte, s string) {
	copy(b[:len(b)-1], s)
}

func (d DeviceInfo) append(b []byte, withInterfaces bool) []byte {
	var fixed [deviceInfoLen]byte
	putString(fixed[0:256], d.Path)
	putString(fixed[256:288], d.BusID)
	be := binary.BigEndian
	be.PutUint32(fixed[288:], d.BusNum)
	be.PutUint32(fixed[292:], d.DevNum)
	be.PutUint32(fixed[296:], speedToWire(d.Speed))
	be.PutUint16(fixed[300:], d.Vendor)
	be.PutUint16(fixed[302:], d.Product)
	be.PutUint16(fixed[304:], d.Release)
	fixed[306], fixed[307], fixed[308] = d.Class, d.SubClass, d.Protocol
	fixed[309], fixed[310], fixed[311] = d.ConfigurationValue, d.NumConfigurations, d.NumInterfaces
	b = append(b, fixed[:]...)
	if withInterfaces {
		for _, i := range d.Interfaces {
			b = append(b, i.Class, i.SubClass, i.Protocol, 0)
		}
	}
	return b
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// ParseDeviceInfo decodes the fixed 312-byte part of a device description.
func ParseDeviceInfo(b []byte) (DeviceInfo, error) {
	if len(b) < deviceInfoLen {
		return DeviceInfo{}, fmt.Errorf("%w: device info of %d bytes", ErrProtocol, len(b))
	}
	be := binary.BigEndian
	return DeviceInfo{
		Path: cstring(b[0:256]), BusID: cstring(b[256:288]),
		BusNum: be.Uint32(b[288:]), DevNum: be.Uint32(b[292:]), Speed: speedFromWire(be.Uint32(b[296:])),
		Vendor: be.Uint16(b[300:]), Product: be.Uint16(b[302:]), Release: be.Uint16(b[304:]),
		Class: b[306], SubClass: b[307], Protocol: b[308],
		ConfigurationValue: b[309], NumConfigurations: b[310], NumInterfaces: b[311],
	}, nil
}

// Header is the 48-byte header of every URB-phase message. Which fields mean something
// depends on Command.
type Header struct {
	Command   uint32
	SeqNum    uint32
	DevID     uint32
	Direction uint32
	EP        uint32
	// CMD_SUBMIT
	TransferFlags  uint32
	TransferLength int32
	StartFrame     int32
	NumPackets     int32
	Interval       int32
	Setup          [8]byte
	// RET_SUBMIT (StartFrame, NumPackets shared) and RET_UNLINK (Status)
	Status       int32
	ActualLength int32
	ErrorCount   int32
	// CMD_UNLINK
	UnlinkSeqNum uint32
}

func (h Header) append(b []byte) []byte {
	var w [headerLen]byte
	be := binary.BigEndian
	be.PutUint32(w[0:], h.Command)
	be.PutUint32(w[4:], h.SeqNum)
	be.PutUint32(w[8:], h.DevID)
	be.PutUint32(w[12:], h.Direction)
	be.PutUint32(w[16:], h.EP)
	switch h.Command {
	case CmdSubmit:
		be.PutUint32(w[20:], h.TransferFlags)
		be.PutUint32(w[24:], uint32(h.TransferLength))
		be.PutUint32(w[28:], uint32(h.StartFrame))
		be.PutUint32(w[32:], uint32(h.NumPackets))
		be.PutUint32(w[36:], uint32(h.Interval))
		copy(w[40:], h.Setup[:])
	case RetSubmit:
		be.PutUint32(w[20:], uint32(h.Status))
		be.PutUint32(w[24:], uint32(h.ActualLength))
		be.PutUint32(w[28:], uint32(h.StartFrame))
		be.PutUint32(w[32:], uint32(h.NumPackets))
		be.PutUint32(w[36:], uint32(h.ErrorCount))
	case CmdUnlink:
		be.PutUint32(w[20:], h.UnlinkSeqNum)
	case RetUnlink:
		be.PutUint32(w[20:], uint32(h.Status))
	}
	return append(b, w[:]...)
}

func parseHeader(w []byte) Header {
	be := binary.BigEndian
	h := Header{Command: be.Uint32(w[0:]), SeqNum: be.Uint32(w[4:]), DevID: be.Uint32(w[8:]), Direction: be.Uint32(w[12:]), EP: be.Uint32(w[16:])}
	switch h.Command {
	case CmdSubmit:
		h.TransferFlags = be.Uint32(w[20:])
		h.TransferLength = int32(be.Uint32(w[24:]))
		h.StartFrame = int32(be.Uint32(w[28:]))
		h.NumPackets = int32(be.Uint32(w[32:]))
		h.Interval = int32(be.Uint32(w[36:]))
		copy(h.Setup[:], w[40:48])
	case RetSubmit:
		h.Status = int32(be.Uint32(w[20:]))
		h.ActualLength = int32(be.Uint32(w[24:]))
		h.StartFrame = int32(be.Uint32(w[28:]))
		h.NumPackets = int32(be.Uint32(w[32:]))
		h.ErrorCount = int32(be.Uint32(w[36:]))
	case CmdUnlink:
		h.UnlinkSeqNum = be.Uint32(w[20:])
	case RetUnlink:
		h.Status = int32(be.Uint32(w[20:]))
	}
	return h
}

// ISODesc is one isochronous packet descriptor (struct usbip_iso_packet_descriptor).
type ISODesc struct {
	Offset, Length, ActualLength uint32
	Status                       int32
}

// Message is one URB-phase message: header, transfer data and iso descriptors.
type Message struct {
	Header
	Data []byte
	ISO  []ISODesc
}

// Append encodes m. Data is sent for CMD_SUBMIT OUT and RET_SUBMIT IN; ISO descriptors
// when NumPackets > 0.
func (m Message) Append(b []byte) []byte {
	b = m.Header.append(b)
	b = append(b, m.Data...)
	if m.NumPackets > 0 {
		for _, d := range m.ISO {
			b = binary.BigEndian.AppendUint32(b, d.Offset)
			b = binary.BigEndian.AppendUint32(b, d.Length)
			b = binary.BigEndian.AppendUint32(b, d.ActualLength)
			b = binary.BigEndian.AppendUint32(b, uint32(d.Status))
		}
	}
	return b
}

// Decoder splits a URB-phase byte stream into messages. It is a pure state machine: Feed
// bytes, take messages with Next. The server side decodes CMD_SUBMIT and CMD_UNLINK; the
// client side decodes RET_SUBMIT and RET_UNLINK and must say, through InDirection, whether
// the request a RET_SUBMIT answers was IN (then the reply carries data).
type Decoder struct {
	// Client selects the client side (returns) instead of the server side (commands).
	Client bool
	// InDirection reports whether the request with seqnum was an IN transfer; used by the
	// client side.
	InDirection func(seqnum uint32) bool

	buf []byte
	off int
}

// Feed appends received bytes.
func (d *Decoder) Feed(p []byte) {
	if d.off > 0 && d.off == len(d.buf) {
		d.buf, d.off = d.buf[:0], 0
	}
	if d.off > 1<<20 && d.off > len(d.buf)/2 {
		d.buf = append(d.buf[:0], d.buf[d.off:]...)
		d.off = 0
	}
	d.buf = append(d.buf, p...)
}

// Next returns the next complete message; ok is false when more bytes are needed. Errors
// wrap ErrProtocol and are final.
func (d *Decoder) Next() (m Message, ok bool, err error) {
	b := d.buf[d.off:]
	if len(b) < headerLen {
		return Message{}, false, nil
	}
	h := parseHeader(b)
	dataLen, npk := 0, 0
	switch {
	case !d.Client && h.Command == CmdSubmit:
		if h.TransferLength < 0 || h.TransferLength > MaxTransfer {
			return Message{}, false, fmt.Errorf("%w: transfer length %d", ErrProtocol, h.TransferLength)
		}
		if h.Direction != DirIn && h.Direction != DirOut {
			return Message{}, false, fmt.Errorf("%w: direction %d", ErrProtocol, h.Direction)
		}
		if h.EP > 15 {
			return Message{}, false, fmt.Errorf("%w: endpoint %d", ErrProtocol, h.EP)
		}
		if h.Direction == DirOut {
			dataLen = int(h.TransferLength)
		}
		if h.NumPackets > 0 {
			npk = int(h.NumPackets)
		}
	case !d.Client && h.Command == CmdUnlink:
	case d.Client && h.Command == RetSubmit:
		if h.ActualLength < 0 || h.ActualLength > MaxTransfer {
			return Message{}, false, fmt.Errorf("%w: actual length %d", ErrProtocol, h.ActualLength)
		}
		if d.InDirection != nil && d.InDirection(h.SeqNum) {
			dataLen = int(h.ActualLength)
		}
		if h.NumPackets > 0 {
			npk = int(h.NumPackets)
		}
	case d.Client && h.Command == RetUnlink:
	default:
		return Message{}, false, fmt.Errorf("%w: unexpected command %d", ErrProtocol, h.Command)
	}
	if npk > MaxISOPackets {
		return Message{}, false, fmt.Errorf("%w: %d iso packets", ErrProtocol, npk)
	}
	total := headerLen + dataLen + npk*isoDescLen
	if len(b) < total {
		return Message{}, false, nil
	}
	m = Message{Header: h}
	if dataLen > 0 {
		m.Data = append([]byte(nil), b[headerLen:headerLen+dataLen]...)
	}
	if npk > 0 {
		m.ISO = make([]ISODesc, npk)
		p := b[headerLen+dataLen:]
		var sum uint64
		for i := range m.ISO {
			q := p[i*isoDescLen:]
			m.ISO[i] = ISODesc{Offset: binary.BigEndian.Uint32(q), Length: binary.BigEndian.Uint32(q[4:]),
				ActualLength: binary.BigEndian.Uint32(q[8:]), Status: int32(binary.BigEndian.Uint32(q[12:]))}
			sum += uint64(m.ISO[i].Length)
		}
		if !d.Client && sum > uint64(h.TransferLength) {
			return Message{}, false, fmt.Errorf("%w: iso packets of %d bytes exceed transfer length %d", ErrProtocol, sum, h.TransferLength)
		}
	}
	d.off += total
	return m, true, nil
}

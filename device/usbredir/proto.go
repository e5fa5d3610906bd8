package usbredir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Type is a usbredir packet type (usbredirproto.h).
type Type uint32

// Control packet types.
const (
	TypeHello Type = iota
	TypeDeviceConnect
	TypeDeviceDisconnect
	TypeReset
	TypeInterfaceInfo
	TypeEPInfo
	TypeSetConfiguration
	TypeGetConfiguration
	TypeConfigurationStatus
	TypeSetAltSetting
	TypeGetAltSetting
	TypeAltSettingStatus
	TypeStartISOStream
	TypeStopISOStream
	TypeISOStreamStatus
	TypeStartInterruptReceiving
	TypeStopInterruptReceiving
	TypeInterruptReceivingStatus
	TypeAllocBulkStreams
	TypeFreeBulkStreams
	TypeBulkStreamsStatus
	TypeCancelDataPacket
	TypeFilterReject
	TypeFilterFilter
	TypeDeviceDisconnectAck
	TypeStartBulkReceiving
	TypeStopBulkReceiving
	TypeBulkReceivingStatus
)

// Data packet types.
const (
	TypeControlPacket Type = 100 + iota
	TypeBulkPacket
	TypeISOPacket
	TypeInterruptPacket
	TypeBufferedBulkPacket
)

// Cap is a capability bit exchanged in hello.
type Cap uint

// Capabilities.
const (
	CapBulkStreams Cap = iota
	CapConnectDeviceVersion
	CapFilter
	CapDeviceDisconnectAck
	CapEPInfoMaxPacketSize
	Cap64BitIDs
	Cap32BitBulkLength
	CapBulkReceiving
)

// Caps is a capability set (the first 32-bit word of usbredir's capability array).
type Caps uint32

// Has reports whether c includes cap.
func (c Caps) Has(cap Cap) bool { return c&(1<<cap) != 0 }

// With returns c plus cap.
func (c Caps) With(cap Cap) Caps { return c | 1<<cap }

// AllCaps are the capabilities this implementation supports.
const AllCaps Caps = 1<<CapBulkStreams | 1<<CapConnectDeviceVersion | 1<<CapFilter | 1<<CapDeviceDisconnectAck |
	1<<CapEPInfoMaxPacketSize | 1<<Cap64BitIDs | 1<<Cap32BitBulkLength | 1<<CapBulkReceiving

// Version is the version string we send in hello.
const Version = "shadowless usbredir 0.7"

// MaxDataLen bounds the data part of one packet we accept (a malicious or corrupt peer
// must not make us allocate gigabytes).
const MaxDataLen = 64 << 20

// ErrProtocol is wrapped by every decoding error: the peer broke the protocol and the
// connection must be closed.
var ErrProtocol = errors.New("usbredir: protocol error")

// Message is the type-specific part of a usbredir packet.
type Message interface {
	Type() Type
}

// Packet is one decoded usbredir packet: its id (the data packets' request id; 0 or
// unused for most control packets) and its message.
type Packet struct {
	ID  uint64
	Msg Message
}

// Hello is the first packet each side sends.
type Hello struct {
	Version string
	Caps    Caps
}

// DeviceConnect announces the device (usb-host to usb-guest).
type DeviceConnect struct {
	Speed         uint8
	Class         uint8
	SubClass      uint8
	Protocol      uint8
	VendorID      uint16
	ProductID     uint16
	DeviceVersion uint16 // bcdDevice; sent only with CapConnectDeviceVersion
}

// DeviceDisconnect says the device went away.
type DeviceDisconnect struct{}

// Reset asks for a USB port reset.
type Reset struct{}

// InterfaceInfo lists the interfaces of the active configuration.
type InterfaceInfo struct {
	Count    uint32
	Number   [32]uint8
	Class    [32]uint8
	SubClass [32]uint8
	Protocol [32]uint8
}

// EPInfo describes all 32 endpoints, indexed by EPIndex.
type EPInfo struct {
	TransferType  [32]uint8 // transfer type, 255 = invalid
	Interval      [32]uint8
	Interface     [32]uint8
	MaxPacketSize [32]uint16
	MaxStreams    [32]uint32
}

// EPIndex maps an endpoint address to its index in EPInfo arrays (IN endpoints 16-31).
func EPIndex(ep uint8) int { return int((ep&0x80)>>3 | ep&0x0f) }

// IndexEP is the inverse of EPIndex.
func IndexEP(i int) uint8 { return uint8((i&0x10)<<3 | i&0x0f) }

// SetConfiguration selects a configuration.
type SetConfiguration struct{ Configuration uint8 }

// GetConfiguration asks for the active configuration.
type GetConfiguration struct{}

// ConfigurationStatus answers Set/GetConfiguration.
type ConfigurationStatus struct{ Status, Configuration uint8 }

// SetAltSetting selects an alternate setting.
type SetAltSetting struct{ Interface, Alt uint8 }

// GetAltSetting asks for an interface's alternate setting.
type GetAltSetting struct{ Interface uint8 }

// AltSettingStatus answers Set/GetAltSetting.
type AltSettingStatus struct{ Status, Interface, Alt uint8 }

// StartISOStream starts an isochronous stream on an endpoint.
type StartISOStream struct{ Endpoint, PacketsPerURB, NumURBs uint8 }

// StopISOStream stops it.
type StopISOStream struct{ Endpoint uint8 }

// ISOStreamStatus reports the stream's state.
type ISOStreamStatus struct{ Status, Endpoint uint8 }

// StartInterruptReceiving makes the usb-host poll an interrupt IN endpoint and send what
// it reads as InterruptPackets.
type StartInterruptReceiving struct{ Endpoint uint8 }

// StopInterruptReceiving stops that.
type StopInterruptReceiving struct{ Endpoint uint8 }

// InterruptReceivingStatus reports the state of interrupt receiving.
type InterruptReceivingStatus struct{ Status, Endpoint uint8 }

// AllocBulkStreams asks for USB 3 bulk streams on a set of endpoints (bit mask of EPIndex).
type AllocBulkStreams struct{ Endpoints, NumStreams uint32 }

// FreeBulkStreams frees them.
type FreeBulkStreams struct{ Endpoints uint32 }

// BulkStreamsStatus answers Alloc/FreeBulkStreams.
type BulkStreamsStatus struct {
	Endpoints, NumStreams uint32
	Status                uint8
}

// CancelDataPacket cancels the data packet whose id is the packet id.
type CancelDataPacket struct{}

// FilterReject says the usb-guest rejected the device.
type FilterReject struct{}

// FilterFilter carries the sender's filter rules in usbredir string form.
type FilterFilter struct{ Rules string }

// DeviceDisconnectAck acknowledges a DeviceDisconnect.
type DeviceDisconnectAck struct{}

// StartBulkReceiving makes the usb-host read a bulk IN endpoint continuously and send the
// data as BufferedBulkPackets.
type StartBulkReceiving struct {
	StreamID         uint32
	BytesPerTransfer uint32
	Endpoint         uint8
	NumTransfers     uint8
}

// StopBulkReceiving stops that.
type StopBulkReceiving struct {
	StreamID uint32
	Endpoint uint8
}

// BulkReceivingStatus reports the state of bulk receiving.
type BulkReceivingStatus struct {
	StreamID uint32
	Endpoint uint8
	Status   uint8
}

// ControlPacket is a control transfer request (guest to host) or its completion.
type ControlPacket struct {
	Endpoint    uint8
	Request     uint8
	RequestType uint8
	Status      uint8
	Value       uint16
	Index       uint16
	Length      uint16
	Data        []byte
}

// BulkPacket is a bulk transfer request or completion. Length is the requested (IN) or
// sent length; with Cap32BitBulkLength it may exceed 65535.
type BulkPacket struct {
	Endpoint uint8
	Status   uint8
	Length   uint32
	StreamID uint32
	Data     []byte
}

// ISOPacket is one isochronous packet.
type ISOPacket struct {
	Endpoint uint8
	Status   uint8
	Length   uint16
	Data     []byte
}

// InterruptPacket is an interrupt transfer request or completion.
type InterruptPacket struct {
	Endpoint uint8
	Status   uint8
	Length   uint16
	Data     []byte
}

// BufferedBulkPacket carries data read by bulk receiving.
type BufferedBulkPacket struct {
	StreamID uint32
	Length   uint32
	Endpoint uint8
	Status   uint8
	Data     []byte
}

// Type returns TypeHello.
func (Hello) Type() Type { return TypeHello }

// Type returns TypeDeviceConnect.
func (DeviceConnect) Type() Type { return TypeDeviceConnect }

// Type returns TypeDeviceDisconnect.
func (DeviceDisconnect) Type() Type { return TypeDeviceDisconnect }

// Type returns TypeReset.
func (Reset) Type() Type { return TypeReset }

// Type returns TypeInterfaceInfo.
func (InterfaceInfo) Type() Type { return TypeInterfaceInfo }

// Type returns TypeEPInfo.
func (EPInfo) Type() Type { return TypeEPInfo }

// Type returns TypeSetConfiguration.
func (SetConfiguration) Type() Type { return TypeSetConfiguration }

// Type returns TypeGetConfiguration.
func (GetConfiguration) Type() Type { return TypeGetConfiguration }

// Type returns TypeConfigurationStatus.
func (ConfigurationStatus) Type() Type { return TypeConfigurationStatus }

// Type returns TypeSetAltSetting.
func (SetAltSetting) Type() Type { return TypeSetAltSetting }

// Type returns TypeGetAltSetting.
func (GetAltSetting) Type() Type { return TypeGetAltSetting }

// Type returns TypeAltSettingStatus.
func (AltSettingStatus) Type() Type { return TypeAltSettingStatus }

// Type returns TypeStartISOStream.
func (StartISOStream) Type() Type { return TypeStartISOStream }

// Type returns TypeStopISOStream.
func (StopISOStream) Type() Type { return TypeStopISOStream }

// Type returns TypeISOStreamStatus.
func (ISOStreamStatus) Type() Type { return TypeISOStreamStatus }

// Type returns TypeStartInterruptReceiving.
func (StartInterruptReceiving) Type() Type { return TypeStartInterruptReceiving }

// Type returns TypeStopInterruptReceiving.
func (StopInterruptReceiving) Type() Type { return TypeStopInterruptReceiving }

// Type returns TypeInterruptReceivingStatus.
func (InterruptReceivingStatus) Type() Type { return TypeInterruptReceivingStatus }

// Type returns TypeAllocBulkStreams.
func (AllocBulkStreams) Type() Type { return TypeAllocBulkStreams }

// Type returns TypeFreeBulkStreams.
func (FreeBulkStreams) Type() Type { return TypeFreeBulkStreams }

// Type returns TypeBulkStreamsStatus.
func (BulkStreamsStatus) Type() Type { return TypeBulkStreamsStatus }

// Type returns TypeCancelDataPacket.
func (CancelDataPacket) Type() Type { return TypeCancelDataPacket }

// Type returns TypeFilterReject.
func (FilterReject) Type() Type { return TypeFilterReject }

// Type returns TypeFilterFilter.
func (FilterFilter) Type() Type { return TypeFilterFilter }

// Type returns TypeDeviceDisconnectAck.
func (DeviceDisconnectAck) Type() Type { return TypeDeviceDisconnectAck }

// Type returns TypeStartBulkReceiving.
func (StartBulkReceiving) Type() Type { return TypeStartBulkReceiving }

// Type returns TypeStopBulkReceiving.
func (StopBulkReceiving) Type() Type { return TypeStopBulkReceiving }

// Type returns TypeBulkReceivingStatus.
func (BulkReceivingStatus) Type() Type { return TypeBulkReceivingStatus }

// Type returns TypeControlPacket.
func (ControlPacket) Type() Type { return TypeControlPacket }

// Type returns TypeBulkPacket.
func (BulkPacket) Type() Type { return TypeBulkPacket }

// Type returns TypeISOPacket.
func (ISOPacket) Type() Type { return TypeISOPacket }

// Type returns TypeInterruptPacket.
func (InterruptPacket) Type() Type { return TypeInterruptPacket }

// Type returns TypeBufferedBulkPacket.
func (BufferedBulkPacket) Type() Type { return TypeBufferedBulkPacket }

// Codec frames usbredir packets: Feed it bytes from the peer and take decoded packets
// with Next; Append encodes packets for the peer. It is a pure state machine (no I/O, no
// goroutines, not safe for concurrent use). The header size and several type-specific
// header sizes depend on the capabilities both sides announced, which the codec learns
// from the hello packets passing through it.
type Codec struct {
	ours     Caps
	peer     Caps
	havePeer bool
	buf      []byte
	off      int
}

// NewCodec returns a codec for a side announcing ours.
func NewCodec(ours Caps) *Codec { return &Codec{ours: ours} }

// Negotiated returns the capabilities both sides have (valid after the peer's hello).
func (c *Codec) Negotiated() Caps { return c.ours & c.peer }

// PeerCaps returns the peer's capabilities and whether its hello has arrived.
func (c *Codec) PeerCaps() (Caps, bool) { return c.peer, c.havePeer }

func (c *Codec) both(cap Cap) bool { return c.havePeer && c.ours.Has(cap) && c.peer.Has(cap) }

func (c *Codec) headerLen() int {
	if c.both(Cap64BitIDs) {
		return 16
	}
	return 12
}

// typeHeaderLen returns the size of the type-specific header and whether the type may
// carry data after it.
func (c *Codec) typeHeaderLen(t Type) (n int, data bool, ok bool) {
	switch t {
	case TypeHello:
		return 64, true, true
	case TypeDeviceConnect:
		if c.both(CapConnectDeviceVersion) {
			return 10, false, true
		}
		return 8, false, true
	case TypeDeviceDisconnect, TypeReset, TypeGetConfiguration, TypeCancelDataPacket, TypeFilterReject, TypeDeviceDisconnectAck:
		return 0, false, true
	case TypeInterfaceInfo:
		return 132, false, true
	case TypeEPInfo:
		switch {
		case c.both(CapBulkStreams):
			return 288, false, true
		case c.both(CapEPInfoMaxPacketSize):
			return 160, false, true
		}
		return 96, false, true
	case TypeSetConfiguration, TypeGetAltSetting, TypeStopISOStream, TypeStartInterruptReceiving, TypeStopInterruptReceiving:
		return 1, false, true
	case TypeConfigurationStatus, TypeSetAltSetting, TypeISOStreamStatus, TypeInterruptReceivingStatus:
		return 2, false, true
	case TypeAltSettingStatus, TypeStartISOStream:
		return 3, false, true
	case TypeAllocBulkStreams:
		return 8, false, true
	case TypeFreeBulkStreams:
		return 4, false, true
	case TypeBulkStreamsStatus:
		return 9, false, true
	case TypeFilterFilter:
		return 0, true, true
	case TypeStartBulkReceiving:
		return 10, false, true
	case TypeStopBulkReceiving:
		return 5, false, true
	case TypeBulkReceivingStatus:
		return 6, false, true
	case TypeControlPacket:
		return 10, true, true
	case TypeBulkPacket:
		if c.both(Cap32BitBulkLength) {
			return 10, true, true
		}
		return 8, true, true
	case TypeISOPacket, TypeInterruptPacket:
		return 4, true, true
	case TypeBufferedBulkPacket:
		return 10, true, true
	}
	return 0, false, false
}

// Feed appends bytes received from the peer.
func (c *Codec) Feed(p []byte) {
	if c.off > 0 && c.off == len(c.buf) {
		c.buf, c.off = c.buf[:0], 0
	}
	if c.off > 1<<20 && c.off > len(c.buf)/2 {
		c.buf = append(c.buf[:0], c.buf[c.off:]...)
		c.off = 0
	}
	c.buf = append(c.buf, p...)
}

// Buffered returns how many fed bytes are not yet decoded.
func (c *Codec) Buffered() int { return len(c.buf) - c.off }

// Need returns how many more bytes are needed before Next can return the next packet
// (at least 1 when nothing is buffered). Readers can use it to size their reads.
func (c *Codec) Need() int {
	hl := c.headerLen()
	b := c.buf[c.off:]
	if len(b) < hl {
		return hl - len(b)
	}
	total := hl + int(binary.LittleEndian.Uint32(b[4:]))
	if total > len(b) {
		return total - len(b)
	}
	return 0
}

// Next decodes the next complete packet. ok is false when more bytes are needed. An
// error (wrapping ErrProtocol) is final: the peer broke the protocol. Data slices of the
// returned message are copies, owned by the caller.
func (c *Codec) Next() (p Packet, ok bool, err error) {
	hl := c.headerLen()
	b := c.buf[c.off:]
	if len(b) < hl {
		return Packet{}, false, nil
	}
	t := Type(binary.LittleEndian.Uint32(b))
	length := binary.LittleEndian.Uint32(b[4:])
	var id uint64
	if hl == 16 {
		id = binary.LittleEndian.Uint64(b[8:])
	} else {
		id = uint64(binary.LittleEndian.Uint32(b[8:]))
	}
	thl, hasData, known := c.typeHeaderLen(t)
	if !known {
		return Packet{}, false, fmt.Errorf("%w: unknown packet type %d", ErrProtocol, t)
	}
	if int64(length) < int64(thl) {
		return Packet{}, false, fmt.Errorf("%w: packet type %d length %d shorter than its header %d", ErrProtocol, t, length, thl)
	}
	if !hasData && int(length) != thl {
		return Packet{}, false, fmt.Errorf("%w: packet type %d length %d, want %d", ErrProtocol, t, length, thl)
	}
	if length > MaxDataLen+uint32(thl) {
		return Packet{}, false, fmt.Errorf("%w: packet type %d length %d too large", ErrProtocol, t, length)
	}
	if len(b) < hl+int(length) {
		return Packet{}, false, nil
	}
	h := b[hl : hl+thl]
	data := b[hl+thl : hl+int(length)]
	msg, err := c.decode(t, h, data)
	if err != nil {
		return Packet{}, false, err
	}
	c.off += hl + int(length)
	if hello, isHello := msg.(Hello); isHello {
		if c.havePeer {
			return Packet{}, false, fmt.Errorf("%w: second hello", ErrProtocol)
		}
		c.peer, c.havePeer = hello.Caps, true
	} else if !c.havePeer {
		return Packet{}, false, fmt.Errorf("%w: packet type %d before hello", ErrProtocol, t)
	}
	return Packet{ID: id, Msg: msg}, true, nil
}

func cp(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (c *Codec) decode(t Type, h, data []byte) (Message, error) {
	le := binary.LittleEndian
	switch t {
	case TypeHello:
		v := h[:64]
		if i := bytes.IndexByte(v, 0); i >= 0 {
			v = v[:i]
		}
		var caps Caps
		if len(data) >= 4 {
			caps = Caps(le.Uint32(data))
		}
		return Hello{Version: string(v), Caps: caps}, nil
	case TypeDeviceConnect:
		m := DeviceConnect{Speed: h[0], Class: h[1], SubClass: h[2], Protocol: h[3], VendorID: le.Uint16(h[4:]), ProductID: le.Uint16(h[6:])}
		if len(h) >= 10 {
			m.DeviceVersion = le.Uint16(h[8:])
		}
		return m, nil
	case TypeDeviceDisconnect:
		return DeviceDisconnect{}, nil
	case TypeReset:
		return Reset{}, nil
	case TypeInterfaceInfo:
		var m InterfaceInfo
		m.Count = le.Uint32(h)
		if m.Count > 32 {
			return nil, fmt.Errorf("%w: interface count %d > 32", ErrProtocol, m.Count)
		}
		copy(m.Number[:], h[4:36])
		copy(m.Class[:], h[36:68])
		copy(m.SubClass[:], h[68:100])
		copy(m.Protocol[:], h[100:132])
		return m, nil
	case TypeEPInfo:
		var m EPInfo
		copy(m.TransferType[:], h[0:32])
		copy(m.Interval[:], h[32:64])
		copy(m.Interface[:], h[64:96])
		if len(h) >= 160 {
			for i := range 32 {
				m.MaxPacketSize[i] = le.Uint16(h[96+2*i:])
			}
		}
		if len(h) >= 288 {
			for i := range 32 {
				m.MaxStreams[i] = le.Uint32(h[160+4*i:])
			}
		}
		return m, nil
	case TypeSetConfiguration:
		return SetConfiguration{h[0]}, nil
	case TypeGetConfiguration:
		return GetConfiguration{}, nil
	case TypeConfigurationStatus:
		return ConfigurationStatus{h[0], h[1]}, nil
	case TypeSetAltSetting:
		return SetAltSetting{h[0], h[1]}, nil
	case TypeGetAltSetting:
		return GetAltSetting{h[0]}, nil
	case TypeAltSettingStatus:
		return AltSettingStatus{h[0], h[1], h[2]}, nil
	case TypeStartISOStream:
		return StartISOStream{h[0], h[1], h[2]}, nil
	case TypeStopISOStream:
		return StopISOStream{h[0]}, nil
	case TypeISOStreamStatus:
		return ISOStreamStatus{h[0], h[1]}, nil
	case TypeStartInterruptReceiving:
		return StartInterruptReceiving{h[0]}, nil
	case TypeStopInterruptReceiving:
		return StopInterruptReceiving{h[0]}, nil
	case TypeInterruptReceivingStatus:
		return InterruptReceivingStatus{h[0], h[1]}, nil
	case TypeAllocBulkStreams:
		return AllocBulkStreams{le.Uint32(h), le.Uint32(h[4:])}, nil
	case TypeFreeBulkStreams:
		return FreeBulkStreams{le.Uint32(h)}, nil
	case TypeBulkStreamsStatus:
		return BulkStreamsStatus{le.Uint32(h), le.Uint32(h[4:]), h[8]}, nil
	case TypeCancelDataPacket:
		return CancelDataPacket{}, nil
	case TypeFilterReject:
		return FilterReject{}, nil
	case TypeFilterFilter:
		s := data
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return FilterFilter{Rules: string(s)}, nil
	case TypeDeviceDisconnectAck:
		return DeviceDisconnectAck{}, nil
	case TypeStartBulkReceiving:
		return StartBulkReceiving{le.Uint32(h), le.Uint32(h[4:]), h[8], h[9]}, nil
	case TypeStopBulkReceiving:
		return StopBulkReceiving{le.Uint32(h), h[4]}, nil
	case TypeBulkReceivingStatus:
		return BulkReceivingStatus{le.Uint32(h), h[4], h[5]}, nil
	case TypeControlPacket:
		m := ControlPacket{Endpoint: h[0], Request: h[1], RequestType: h[2], Status: h[3], Value: le.Uint16(h[4:]), Index: le.Uint16(h[6:]), Length: le.Uint16(h[8:]), Data: cp(data)}
		if len(data) > int(m.Length) {
			return nil, fmt.Errorf("%w: control packet with %d data bytes > length %d", ErrProtocol, len(data), m.Length)
		}
		return m, nil
	case TypeBulkPacket:
		m := BulkPacket{Endpoint: h[0], Status: h[1], Length: uint32(le.Uint16(h[2:])), StreamID: le.Uint32(h[4:]), Data: cp(data)}
		if len(h) >= 10 {
			m.Length |= uint32(le.Uint16(h[8:])) << 16
		}
		if uint64(len(data)) > uint64(m.Length) {
			return nil, fmt.Errorf("%w: bulk packet with %d data bytes > length %d", ErrProtocol, len(data), m.Length)
		}
		return m, nil
	case TypeISOPacket:
		m := ISOPacket{Endpoint: h[0], Status: h[1], Length: le.Uint16(h[2:]), Data: cp(data)}
		if len(data) > int(m.Length) {
			return nil, fmt.Errorf("%w: iso packet with %d data bytes > length %d", ErrProtocol, len(data), m.Length)
		}
		return m, nil
	case TypeInterruptPacket:
		m := InterruptPacket{Endpoint: h[0], Status: h[1], Length: le.Uint16(h[2:]), Data: cp(data)}
		if len(data) > int(m.Length) {
			return nil, fmt.Errorf("%w: interrupt packet with %d data bytes > length %d", ErrProtocol, len(data), m.Length)
		}
		return m, nil
	case TypeBufferedBulkPacket:
		m := BufferedBulkPacket{StreamID: le.Uint32(h), Length: le.Uint32(h[4:]), Endpoint: h[8], Status: h[9], Data: cp(data)}
		if uint64(len(data)) > uint64(m.Length) {
			return nil, fmt.Errorf("%w: buffered bulk packet with %d data bytes > length %d", ErrProtocol, len(data), m.Length)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: unknown packet type %d", ErrProtocol, t)
}

// Append encodes one packet after dst. The header depends on the negotiated caps; before
// the peer's hello only Hello may be sent.
func (c *Codec) Append(dst []byte, id uint64, m Message) ([]byte, error) {
	hdr, data, err := c.Encode(id, m)
	if err != nil {
		return dst, err
	}
	dst = append(dst, hdr...)
	return append(dst, data...), nil
}

// Encode returns the header (common and type-specific) and the data of one packet
// separately, so large data can be written without a copy (e.g. with net.Buffers).
func (c *Codec) Encode(id uint64, m Message) (hdr, data []byte, err error) {
	t := m.Type()
	if t != TypeHello && !c.havePeer {
		return nil, nil, fmt.Errorf("usbredir: cannot send packet type %d before the peer's hello", t)
	}
	thl, hasData, known := c.typeHeaderLen(t)
	if !known {
		return nil, nil, fmt.Errorf("usbredir: unknown packet type %d", t)
	}
	hl := c.headerLen()
	if t == TypeHello {
		hl = 12 // hello goes out before the capabilities are known: always 32-bit ids
	}
	hdr = make([]byte, hl+thl)
	h := hdr[hl:]
	le := binary.LittleEndian
	switch m := m.(type) {
	case Hello:
		copy(h[:63], m.Version)
		data = le.AppendUint32(nil, uint32(m.Caps))
	case DeviceConnect:
		h[0], h[1], h[2], h[3] = m.Speed, m.Class, m.SubClass, m.Protocol
		le.PutUint16(h[4:], m.VendorID)
		le.PutUint16(h[6:], m.ProductID)
		if thl >= 10 {
			le.PutUint16(h[8:], m.DeviceVersion)
		}
	case InterfaceInfo:
		le.PutUint32(h, m.Count)
		copy(h[4:], m.Number[:])
		copy(h[36:], m.Class[:])
		copy(h[68:], m.SubClass[:])
		copy(h[100:], m.Protocol[:])
	case EPInfo:
		copy(h[0:], m.TransferType[:])
		copy(h[32:], m.Interval[:])
		copy(h[64:], m.Interface[:])
		if thl >= 160 {
			for i := range 32 {
				le.PutUint16(h[96+2*i:], m.MaxPacketSize[i])
			}
		}
		if thl >= 288 {
			for i := range 32 {
				le.PutUint32(h[160+4*i:], m.MaxStreams[i])
			}
		}
	case SetConfiguration:
		h[0] = m.Configuration
	case ConfigurationStatus:
		h[0], h[1] = m.Status, m.Configuration
	case SetAltSetting:
		h[0], h[1] = m.Interface, m.Alt
	case GetAltSetting:
		h[0] = m.Interface
	case AltSettingStatus:
		h[0], h[1], h[2] = m.Status, m.Interface, m.Alt
	case StartISOStream:
		h[0], h[1], h[2] = m.Endpoint, m.PacketsPerURB, m.NumURBs
	case StopISOStream:
		h[0] = m.Endpoint
	case ISOStreamStatus:
		h[0], h[1] = m.Status, m.Endpoint
	case StartInterruptReceiving:
		h[0] = m.Endpoint
	case StopInterruptReceiving:
		h[0] = m.Endpoint
	case InterruptReceivingStatus:
		h[0], h[1] = m.Status, m.Endpoint
	case AllocBulkStreams:
		le.PutUint32(h, m.Endpoints)
		le.PutUint32(h[4:], m.NumStreams)
	case FreeBulkStreams:
		le.PutUint32(h, m.Endpoints)
	case BulkStreamsStatus:
		le.PutUint32(h, m.Endpoints)
		le.PutUint32(h[4:], m.NumStreams)
		h[8] = m.Status
	case FilterFilter:
		data = append([]byte(m.Rules), 0)
	case StartBulkReceiving:
		le.PutUint32(h, m.StreamID)
		le.PutUint32(h[4:], m.BytesPerTransfer)
		h[8], h[9] = m.Endpoint, m.NumTransfers
	case StopBulkReceiving:
		le.PutUint32(h, m.StreamID)
		h[4] = m.Endpoint
	case BulkReceivingStatus:
		le.PutUint32(h, m.StreamID)
		h[4], h[5] = m.Endpoint, m.Status
	case ControlPacket:
		h[0], h[1], h[2], h[3] = m.Endpoint, m.Request, m.RequestType, m.Status
		le.PutUint16(h[4:], m.Value)
		le.PutUint16(h[6:], m.Index)
		le.PutUint16(h[8:], m.Length)
		data = m.Data
	case BulkPacket:
		if thl < 10 && m.Length > 0xffff {
			return nil, nil, fmt.Errorf("usbredir: bulk length %d needs the 32-bit bulk length capability", m.Length)
		}
		h[0], h[1] = m.Endpoint, m.Status
		le.PutUint16(h[2:], uint16(m.Length))
		le.PutUint32(h[4:], m.StreamID)
		if thl >= 10 {
			le.PutUint16(h[8:], uint16(m.Length>>16))
		}
		data = m.Data
	case ISOPacket:
		h[0], h[1] = m.Endpoint, m.Status
		le.PutUint16(h[2:], m.Length)
		data = m.Data
	case InterruptPacket:
		h[0], h[1] = m.Endpoint, m.Status
		le.PutUint16(h[2:], m.Length)
		data = m.Data
	case BufferedBulkPacket:
		le.PutUint32(h, m.StreamID)
		le.PutUint32(h[4:], m.Length)
		h[8], h[9] = m.Endpoint, m.Status
		data = m.Data
	}
	if !hasData && len(data) > 0 {
		return nil, nil, fmt.Errorf("usbredir: packet type %d cannot carry data", t)
	}
	if len(data) > MaxDataLen {
		return nil, nil, fmt.Errorf("usbredir: %d data bytes exceed the %d-byte limit", len(data), MaxDataLen)
	}
	le.PutUint32(hdr, uint32(t))
	le.PutUint32(hdr[4:], uint32(thl+len(data)))
	if hl == 16 {
		le.PutUint64(hdr[8:], id)
	} else {
		le.PutUint32(hdr[8:], uint32(id))
	}
	return hdr, data, nil
}

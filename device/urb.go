package device

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// TransferType is the kind of a USB transfer. The values match the USB specification's
// bmAttributes transfer-type bits (and usbredir's type codes).
type TransferType uint8

// Transfer types.
const (
	Control     TransferType = 0
	Isochronous TransferType = 1
	Bulk        TransferType = 2
	Interrupt   TransferType = 3
)

// String names the transfer type.
func (t TransferType) String() string {
	switch t {
	case Control:
		return "control"
	case Isochronous:
		return "isochronous"
	case Bulk:
		return "bulk"
	case Interrupt:
		return "interrupt"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Status is the completion status of a URB or of one isochronous packet. The numeric
// values match usbredir's status codes so that they travel unchanged on that protocol.
type Status uint8

// Completion statuses.
const (
	StatusOK        Status = 0 // completed normally
	StatusCancelled Status = 1 // cancelled by the submitter (context done) or unlinked
	StatusInvalid   Status = 2 // invalid request: unknown endpoint, bad length, bad state
	StatusIOError   Status = 3 // I/O error, including a device that went away
	StatusStall     Status = 4 // the endpoint stalled (protocol STALL handshake)
	StatusTimeout   Status = 5 // the transfer timed out
	StatusBabble    Status = 6 // the device sent more data than was asked for
)

// Sentinel errors a URB's Err wraps, so callers can branch with errors.Is.
var (
	ErrCancelled = errors.New("usb: transfer cancelled")
	ErrInvalid   = errors.New("usb: invalid request")
	ErrIO        = errors.New("usb: I/O error")
	ErrStall     = errors.New("usb: endpoint stalled")
	ErrTimeout   = errors.New("usb: transfer timed out")
	ErrBabble    = errors.New("usb: babble (device sent too much data)")
	// ErrNoDevice is returned by every operation on a device that was unplugged,
	// disconnected by its peer, or closed. URBs pending at that moment complete with it.
	ErrNoDevice = errors.New("usb: no such device (unplugged, disconnected or closed)")
)

// Err returns the sentinel error for a non-OK status, or nil for StatusOK.
func (s Status) Err() error {
	switch s {
	case StatusOK:
		return nil
	case StatusCancelled:
		return ErrCancelled
	case StatusInvalid:
		return ErrInvalid
	case StatusStall:
		return ErrStall
	case StatusTimeout:
		return ErrTimeout
	case StatusBabble:
		return ErrBabble
	}
	return ErrIO
}

// String names the status.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusCancelled:
		return "cancelled"
	case StatusInvalid:
		return "invalid"
	case StatusIOError:
		return "io-error"
	case StatusStall:
		return "stall"
	case StatusTimeout:
		return "timeout"
	case StatusBabble:
		return "babble"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// StatusOf maps an error returned by a transfer to the status that describes it best.
func StatusOf(err error) Status {
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrCancelled):
		return StatusCancelled
	case errors.Is(err, ErrInvalid):
		return StatusInvalid
	case errors.Is(err, ErrStall):
		return StatusStall
	case errors.Is(err, ErrTimeout):
		return StatusTimeout
	case errors.Is(err, ErrBabble):
		return StatusBabble
	}
	return StatusIOError
}

// Setup is the 8-byte setup packet of a control transfer.
type Setup struct {
	RequestType uint8  // bmRequestType: direction (0x80 = IN), type, recipient
	Request     uint8  // bRequest
	Value       uint16 // wValue
	Index       uint16 // wIndex
	Length      uint16 // wLength
}

// Standard request codes (USB 2.0 §9.4).
const (
	ReqGetStatus        = 0x00
	ReqClearFeature     = 0x01
	ReqSetFeature       = 0x03
	ReqSetAddress       = 0x05
	ReqGetDescriptor    = 0x06
	ReqSetDescriptor    = 0x07
	ReqGetConfiguration = 0x08
	ReqSetConfiguration = 0x09
	ReqGetInterface     = 0x0A
	ReqSetInterface     = 0x0B
)

// Request-type fields.
const (
	DirIn             = 0x80
	RequestTypeMask   = 0x60
	TypeStandard      = 0x00
	TypeClass         = 0x20
	TypeVendor        = 0x40
	RecipientMask     = 0x1F
	RecipientDevice   = 0x00
	RecipientIface    = 0x01
	RecipientEndpoint = 0x02
)

// In reports whether the data stage flows from the device to the host.
func (s Setup) In() bool { return s.RequestType&DirIn != 0 }

// Marshal returns the 8 bytes of the setup packet (little endian, as on the wire).
func (s Setup) Marshal() [8]byte {
	var b [8]byte
	b[0], b[1] = s.RequestType, s.Request
	binary.LittleEndian.PutUint16(b[2:], s.Value)
	binary.LittleEndian.PutUint16(b[4:], s.Index)
	binary.LittleEndian.PutUint16(b[6:], s.Length)
	return b
}

// ParseSetup decodes an 8-byte setup packet.
func ParseSetup(b []byte) (Setup, error) {
	if len(b) < 8 {
		return Setup{}, fmt.Errorf("setup packet of %d bytes: %w", len(b), ErrInvalid)
	}
	return Setup{
		RequestType: b[0], Request: b[1],
		Value:  binary.LittleEndian.Uint16(b[2:]),
		Index:  binary.LittleEndian.Uint16(b[4:]),
		Length: binary.LittleEndian.Uint16(b[6:]),
	}, nil
}

// ISOPacket describes one packet of an isochronous URB. Packet i occupies
// Data[offset(i) : offset(i)+Length] where offset(i) is the sum of the Lengths before it;
// Actual bytes of it are valid after completion. Packet boundaries are never merged.
type ISOPacket struct {
	Length int    // bytes reserved (IN) or to send (OUT)
	Actual int    // bytes transferred
	Status Status // per-packet status
}

// URB is one USB request block: a transfer submitted to an endpoint and completed with a
// status. For OUT transfers Data holds the bytes to send; for IN transfers len(Data) is the
// number of bytes asked for and Data receives them. Actual says how many bytes moved.
type URB struct {
	// ID identifies the URB to its submitter (usbredir packet id, USB/IP seqnum).
	ID uint64
	// Type is the transfer type.
	Type TransferType
	// Endpoint is the endpoint address; bit 7 set means IN. 0 for the default control pipe.
	Endpoint uint8
	// Setup is the setup packet of a control transfer.
	Setup Setup
	// Data is the transfer buffer (see the type comment).
	Data []byte
	// StreamID selects a bulk stream (USB 3); 0 when streams are not used.
	StreamID uint32
	// ISO holds the packets of an isochronous transfer.
	ISO []ISOPacket
	// Status is set on completion.
	Status Status
	// Actual is the number of bytes transferred, set on completion. For isochronous
	// transfers it is the sum of the packets' Actual.
	Actual int
}

// In reports whether data flows from device to host.
func (u *URB) In() bool {
	if u.Type == Control {
		return u.Setup.In()
	}
	return u.Endpoint&DirIn != 0
}

// Complete sets the final status and actual length and returns Status.Err().
func (u *URB) Complete(s Status, actual int) error {
	u.Status, u.Actual = s, actual
	return s.Err()
}

// Fail completes the URB with the status matching err and returns err.
func (u *URB) Fail(err error) error {
	u.Status, u.Actual = StatusOf(err), 0
	return err
}

// Err returns the sentinel error of the URB's status.
func (u *URB) Err() error { return u.Status.Err() }

// ISOOffset returns the offset in Data of isochronous packet i.
func (u *URB) ISOOffset(i int) int {
	off := 0
	for j := 0; j < i && j < len(u.ISO); j++ {
		off += u.ISO[j].Length
	}
	return off
}

// String summarises the URB for logs.
func (u *URB) String() string {
	dir := "out"
	if u.In() {
		dir = "in"
	}
	return fmt.Sprintf("urb{id=%d %s ep=%#02x %s len=%d actual=%d %s}", u.ID, u.Type, u.Endpoint, dir, len(u.Data), u.Actual, u.Status)
}

package nbd

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic numbers of the NBD wire protocol.
const (
	// MagicNBD opens the server greeting ("NBDMAGIC").
	MagicNBD uint64 = 0x4e42444d41474943
	// MagicOption ("IHAVEOPT") follows MagicNBD in the newstyle greeting and opens every option.
	MagicOption uint64 = 0x49484156454f5054
	// MagicOptionReply opens every option reply.
	MagicOptionReply uint64 = 0x3e889045565a9
	// MagicRequest opens every transmission request.
	MagicRequest uint32 = 0x25609513
	// MagicSimpleReply opens every simple reply.
	MagicSimpleReply uint32 = 0x67446698
)

// Handshake flags (server) and client flags share their bit values.
const (
	// FlagFixedNewstyle: the server (or client) speaks the fixed newstyle handshake.
	FlagFixedNewstyle uint16 = 1 << 0
	// FlagNoZeroes: the 124 bytes of zero padding after NBD_OPT_EXPORT_NAME are omitted.
	FlagNoZeroes uint16 = 1 << 1
)

// Option codes sent by the client during the handshake.
const (
	OptExportName      uint32 = 1
	OptAbort           uint32 = 2
	OptList            uint32 = 3
	OptPeekExport      uint32 = 4
	OptStartTLS        uint32 = 5
	OptInfo            uint32 = 6
	OptGo              uint32 = 7
	OptStructuredReply uint32 = 8
	OptListMetaContext uint32 = 9
	OptSetMetaContext  uint32 = 10
	OptExtendedHeaders uint32 = 11
)

// Option reply types. Error replies have the top bit set.
const (
	RepAck              uint32 = 1
	RepServer           uint32 = 2
	RepInfo             uint32 = 3
	RepErrUnsup         uint32 = 1<<31 | 1
	RepErrPolicy        uint32 = 1<<31 | 2
	RepErrInvalid       uint32 = 1<<31 | 3
	RepErrPlatform      uint32 = 1<<31 | 4
	RepErrTLSReqd       uint32 = 1<<31 | 5
	RepErrUnknown       uint32 = 1<<31 | 6
	RepErrShutdown      uint32 = 1<<31 | 7
	RepErrBlockSizeReqd uint32 = 1<<31 | 8
	RepErrTooBig        uint32 = 1<<31 | 9
)

// Information types of NBD_OPT_INFO and NBD_OPT_GO.
const (
	InfoExport      uint16 = 0
	InfoName        uint16 = 1
	InfoDescription uint16 = 2
	InfoBlockSize   uint16 = 3
)

// Transmission flags, sent with the export size.
const (
	TFlagHasFlags        uint16 = 1 << 0
	TFlagReadOnly        uint16 = 1 << 1
	TFlagSendFlush       uint16 = 1 << 2
	TFlagSendFUA         uint16 = 1 << 3
	TFlagRotational      uint16 = 1 << 4
	TFlagSendTrim        uint16 = 1 << 5
	TFlagSendWriteZeroes uint16 = 1 << 6
	TFlagSendDF          uint16 = 1 << 7
	TFlagCanMultiConn    uint16 = 1 << 8
)

// Command types of transmission requests.
const (
	CmdRead        uint16 = 0
	CmdWrite       uint16 = 1
	CmdDisc        uint16 = 2
	CmdFlush       uint16 = 3
	CmdTrim        uint16 = 4
	CmdCache       uint16 = 5
	CmdWriteZeroes uint16 = 6
	CmdBlockStatus uint16 = 7
)

// Command flags of transmission requests.
const (
	CmdFlagFUA      uint16 = 1 << 0
	CmdFlagNoHole   uint16 = 1 << 1
	CmdFlagDF       uint16 = 1 << 2
	CmdFlagReqOne   uint16 = 1 << 3
	CmdFlagFastZero uint16 = 1 << 4
)

// Error values carried in replies (Linux errno numbering, as the protocol requires).
const (
	EPERM     uint32 = 1
	EIO       uint32 = 5
	ENOMEM    uint32 = 12
	EINVAL    uint32 = 22
	ENOSPC    uint32 = 28
	EOVERFLOW uint32 = 75
	ENOTSUP   uint32 = 95
	ESHUTDOWN uint32 = 108
)

// Sizes of the fixed parts of the protocol.
const (
	// GreetingSize is the length of the server's newstyle greeting.
	GreetingSize = 18
	// OptionHeaderSize is the length of an option header (magic, code, length).
	OptionHeaderSize = 16
	// RequestSize is the length of a transmission request header.
	RequestSize = 28
	// SimpleReplySize is the length of a simple reply header.
	SimpleReplySize = 16
	// DefaultMaxPayload is the largest READ or WRITE the server accepts unless configured
	// otherwise (32 MiB, the limit clients assume).
	DefaultMaxPayload = 32 << 20
	// MaxOptionData is the largest option payload the server reads; larger ones are skipped
	// and answered with NBD_REP_ERR_TOO_BIG.
	MaxOptionData = 64 << 10
	// MaxNameLength is the longest export name accepted (the protocol's 4096 bytes).
	MaxNameLength = 4096
)

// Decoding errors. A connection that produces one is closed: the stream can no longer be
// trusted to be in sync.
var (
	// ErrBadMagic is returned when a header does not start with the expected magic.
	ErrBadMagic = errors.New("nbd: bad magic")
	// ErrShort is returned when fewer bytes than a header's size were given.
	ErrShort = errors.New("nbd: short header")
	// ErrClientFlags is returned for client flags the server does not know.
	ErrClientFlags = errors.New("nbd: unknown or missing client flags")
)

var be = binary.BigEndian

// AppendGreeting appends the newstyle server greeting with the given handshake flags.
func AppendGreeting(b []byte, flags uint16) []byte {
	b = be.AppendUint64(b, MagicNBD)
	b = be.AppendUint64(b, MagicOption)
	return be.AppendUint16(b, flags)
}

// ParseGreeting decodes a server greeting, returning its handshake flags.
func ParseGreeting(b []byte) (uint16, error) {
	if len(b) < GreetingSize {
		return 0, ErrShort
	}
	if be.Uint64(b) != MagicNBD || be.Uint64(b[8:]) != MagicOption {
		return 0, fmt.Errorf("%w in greeting", ErrBadMagic)
	}
	return be.Uint16(b[16:]), nil
}

// ParseClientFlags decodes the client's 32-bit flags. The client must speak fixed newstyle
// (oldstyle-compatible clients are refused) and may set NO_ZEROES; any other bit is an error.
func ParseClientFlags(b []byte) (noZeroes bool, err error) {
	if len(b) < 4 {
		return false, ErrShort
	}
	f := be.Uint32(b)
	if f&^uint32(FlagFixedNewstyle|FlagNoZeroes) != 0 || f&uint32(FlagFixedNewstyle) == 0 {
		return false, fmt.Errorf("%w: %#x", ErrClientFlags, f)
	}
	return f&uint32(FlagNoZeroes) != 0, nil
}

// OptionHeader is the fixed part of a client option.
type OptionHeader struct {
	Code   uint32
	Length uint32
}

// DecodeOptionHeader decodes the 16-byte option header.
func DecodeOptionHeader(b []byte) (OptionHeader, error) {
	if len(b) < OptionHeaderSize {
		return OptionHeader{}, ErrShort
	}
	if be.Uint64(b) != MagicOption {
		return OptionHeader{}, fmt.Errorf("%w in option", ErrBadMagic)
	}
	return OptionHeader{Code: be.Uint32(b[8:]), Length: be.Uint32(b[12:])}, nil
}

// AppendOption appends a client option with its data.
func AppendOption(b []byte, code uint32, data []byte) []byte {
	b = be.AppendUint64(b, MagicOption)
	b = be.AppendUint32(b, code)
	b = be.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// AppendOptionReply appends a server option reply.
func AppendOptionReply(b []byte, code, typ uint32, data []byte) []byte {
	b = be.AppendUint64(b, MagicOptionReply)
	b = be.AppendUint32(b, code)
	b = be.AppendUint32(b, typ)
	b = be.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// OptionReply is a decoded option reply header; Length bytes of data follow it.
type OptionReply struct {
	Code   uint32
	Type   uint32
	Length uint32
}

// OptionReplySize is the length of an option reply header.
const OptionReplySize = 20

// DecodeOptionReply decodes an option reply header.
func DecodeOptionReply(b []byte) (OptionReply, error) {
	if len(b) < OptionReplySize {
		return OptionReply{}, ErrShort
	}
	if be.Uint64(b) != MagicOptionReply {
		return OptionReply{}, fmt.Errorf("%w in option reply", ErrBadMagic)
	}
	return OptionReply{Code: be.Uint32(b[8:]), Type: be.Uint32(b[12:]), Length: be.Uint32(b[16:])}, nil
}

// InfoRequest is the payload of NBD_OPT_INFO and NBD_OPT_GO.
type InfoRequest struct {
	Name  string
	Infos []uint16
}

// errInvalidOption is the reason given to the client for a malformed option payload.
var errInvalidOption = errors.New("nbd: malformed option data")

// ParseInfoRequest decodes the payload of NBD_OPT_INFO or NBD_OPT_GO: a 32-bit name length,
// the name, a 16-bit count and that many 16-bit information requests, and nothing more.
func ParseInfoRequest(data []byte) (InfoRequest, error) {
	if len(data) < 6 {
		return InfoRequest{}, fmt.Errorf("%w: %d bytes, need at least 6", errInvalidOption, len(data))
	}
	n := be.Uint32(data)
	if n > MaxNameLength || uint64(n)+6 > uint64(len(data)) {
		return InfoRequest{}, fmt.Errorf("%w: name length %d does not fit %d bytes", errInvalidOption, n, len(data))
	}
	name := string(data[4 : 4+n])
	rest := data[4+n:]
	count := int(be.Uint16(rest))
	rest = rest[2:]
	if len(rest) != 2*count {
		return InfoRequest{}, fmt.Errorf("%w: %d information requests in %d bytes", errInvalidOption, count, len(rest))
	}
	infos := make([]uint16, count)
	for i := range infos {
		infos[i] = be.Uint16(rest[2*i:])
	}
	return InfoRequest{Name: name, Infos: infos}, nil
}

// AppendInfoRequest appends the payload of NBD_OPT_INFO or NBD_OPT_GO.
func AppendInfoRequest(b []byte, r InfoRequest) []byte {
	b = be.AppendUint32(b, uint32(len(r.Name)))
	b = append(b, r.Name...)
	b = be.AppendUint16(b, uint16(len(r.Infos)))
	for _, i := range r.Infos {
		b = be.AppendUint16(b, i)
	}
	return b
}

// Request is a transmission request header. For CmdWrite, Length bytes of data follow it.
type Request struct {
	Flags  uint16
	Type   uint16
	Handle uint64
	Offset uint64
	Length uint32
}

// DecodeRequest decodes a 28-byte request header.
func DecodeRequest(b []byte) (Request, error) {
	if len(b) < RequestSize {
		return Request{}, ErrShort
	}
	if be.Uint32(b) != MagicRequest {
		return Request{}, fmt.Errorf("%w in request: %#x", ErrBadMagic, be.Uint32(b))
	}
	return Request{
		Flags:  be.Uint16(b[4:]),
		Type:   be.Uint16(b[6:]),
		Handle: be.Uint64(b[8:]),
		Offset: be.Uint64(b[16:]),
		Length: be.Uint32(b[24:]),
	}, nil
}

// AppendRequest appends the request header (not its payload).
func AppendRequest(b []byte, r Request) []byte {
	b = be.AppendUint32(b, MagicRequest)
	b = be.AppendUint16(b, r.Flags)
	b = be.AppendUint16(b, r.Type)
	b = be.AppendUint64(b, r.Handle)
	b = be.AppendUint64(b, r.Offset)
	return be.AppendUint32(b, r.Length)
}

// HasPayload reports whether data follows the request header on the wire.
func (r Request) HasPayload() bool { return r.Type == CmdWrite }

// AppendSimpleReply appends a simple reply header (read data, if any, follows it).
func AppendSimpleReply(b []byte, errno uint32, handle uint64) []byte {
	b = be.AppendUint32(b, MagicSimpleReply)
	b = be.AppendUint32(b, errno)
	return be.AppendUint64(b, handle)
}

// DecodeSimpleReply decodes a simple reply header.
func DecodeSimpleReply(b []byte) (errno uint32, handle uint64, err error) {
	if len(b) < SimpleReplySize {
		return 0, 0, ErrShort
	}
	if be.Uint32(b) != MagicSimpleReply {
		return 0, 0, fmt.Errorf("%w in reply", ErrBadMagic)
	}
	return be.Uint32(b[4:]), be.Uint64(b[8:]), nil
}

// TransmissionFlags are the flags the server advertises for an export.
func TransmissionFlags(readOnly bool) uint16 {
	f := TFlagHasFlags | TFlagSendFlush | TFlagSendFUA | TFlagSendTrim | TFlagSendWriteZeroes | TFlagCanMultiConn
	if readOnly {
		f |= TFlagReadOnly
	}
	return f
}

// allowedFlags lists the command flags the server accepts per command.
func allowedFlags(cmd uint16) (uint16, bool) {
	switch cmd {
	case CmdRead, CmdFlush, CmdDisc:
		return 0, true
	case CmdWrite, CmdTrim:
		return CmdFlagFUA, true
	case CmdWriteZeroes:
		return CmdFlagFUA | CmdFlagNoHole, true
	}
	return 0, false
}

// Validate checks a request against an export of the given size, returning the errno the
// reply must carry, or 0 when the request may be executed. It implements the protocol's
// rules: unknown commands and flags and oversized payloads are EINVAL, changes to a
// read-only export are EPERM, writes past the end ENOSPC and other accesses past the end
// EINVAL.
func Validate(r Request, size uint64, readOnly bool, maxPayload uint32) uint32 {
	allowed, known := allowedFlags(r.Type)
	if !known || r.Flags&^allowed != 0 {
		return EINVAL
	}
	switch r.Type {
	case CmdDisc, CmdFlush:
		return 0
	case CmdRead, CmdWrite:
		if r.Length > maxPayload {
			return EINVAL
		}
	}
	if readOnly && r.Type != CmdRead {
		return EPERM
	}
	if r.Offset > size || uint64(r.Length) > size-r.Offset {
		if r.Type == CmdWrite || r.Type == CmdWriteZeroes {
			return ENOSPC
		}
		return EINVAL
	}
	return 0
}

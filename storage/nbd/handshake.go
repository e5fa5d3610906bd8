package nbd

import (
	"context"
	"errors"
	"fmt"
)

// Handshake is the server side of the fixed newstyle option haggling as a state machine
// without I/O: the caller reads each option from the wire, hands it to Option, and writes
// back the reply bytes. When an Outcome carries an export, transmission begins with it.
type Handshake struct {
	// Exports resolves export names.
	Exports Exports
	// DefaultExport is the export used when the client asks for the empty name.
	DefaultExport string
	// MaxPayload is the largest READ/WRITE advertised in NBD_INFO_BLOCK_SIZE.
	MaxPayload uint32
	// NoZeroes is set from the client flags: omit the padding after NBD_OPT_EXPORT_NAME.
	NoZeroes bool
}

// Outcome is what the caller must do after an option.
type Outcome struct {
	// Reply is written to the client (it may be empty).
	Reply []byte
	// Export, when set, means the handshake is over: after Reply, transmission begins.
	Export *Export
	// Close means the connection ends after Reply is written.
	Close bool
}

// TooBig answers an option whose data was longer than MaxOptionData; the caller must have
// skipped the data on the wire.
func (h *Handshake) TooBig(hdr OptionHeader) Outcome {
	if hdr.Code == OptExportName {
		// NBD_OPT_EXPORT_NAME has no error reply: the only answer is to hang up.
		return Outcome{Close: true}
	}
	return Outcome{Reply: AppendOptionReply(nil, hdr.Code, RepErrTooBig, []byte("option data too long"))}
}

// Option handles one complete option (header and data).
func (h *Handshake) Option(ctx context.Context, hdr OptionHeader, data []byte) Outcome {
	switch hdr.Code {
	case OptExportName:
		e, err := h.lookup(ctx, string(data))
		if err != nil || len(data) > MaxNameLength {
			return Outcome{Close: true}
		}
		b := be.AppendUint64(nil, uint64(e.Device.Size()))
		b = be.AppendUint16(b, TransmissionFlags(e.ReadOnly))
		if !h.NoZeroes {
			b = append(b, make([]byte, 124)...)
		}
		return Outcome{Reply: b, Export: &e}
	case OptAbort:
		return Outcome{Reply: AppendOptionReply(nil, hdr.Code, RepAck, nil), Close: true}
	case OptList:
		if len(data) != 0 {
			return h.errReply(hdr.Code, RepErrInvalid, "NBD_OPT_LIST takes no data")
		}
		names, err := h.Exports.List(ctx)
		if err != nil {
			return h.errReply(hdr.Code, RepErrShutdown, "cannot list exports")
		}
		var b []byte
		for _, n := range names {
			d := be.AppendUint32(nil, uint32(len(n)))
			b = AppendOptionReply(b, hdr.Code, RepServer, append(d, n...))
		}
		return Outcome{Reply: AppendOptionReply(b, hdr.Code, RepAck, nil)}
	case OptInfo, OptGo:
		req, err := ParseInfoRequest(data)
		if err != nil {
			return h.errReply(hdr.Code, RepErrInvalid, err.Error())
		}
		e, err := h.lookup(ctx, req.Name)
		if err != nil {
			if errors.Is(err, ErrUnknownExport) {
				return h.errReply(hdr.Code, RepErrUnknown, fmt.Sprintf("no export named %q", req.Name))
			}
			return h.errReply(hdr.Code, RepErrShutdown, "export lookup failed")
		}
		info := be.AppendUint16(nil, InfoExport)
		info = be.AppendUint64(info, uint64(e.Device.Size()))
		info = be.AppendUint16(info, TransmissionFlags(e.ReadOnly))
		b := AppendOptionReply(nil, hdr.Code, RepInfo, info)
		for _, want := range req.Infos {
			switch want {
			case InfoName:
				b = AppendOptionReply(b, hdr.Code, RepInfo, append(be.AppendUint16(nil, InfoName), e.Name...))
			case InfoDescription:
				if e.Description != "" {
					b = AppendOptionReply(b, hdr.Code, RepInfo, append(be.AppendUint16(nil, InfoDescription), e.Description...))
				}
			case InfoBlockSize:
				d := be.AppendUint16(nil, InfoBlockSize)
				d = be.AppendUint32(d, 1)    // minimum: any alignment
				d = be.AppendUint32(d, 4096) // preferred
				d = be.AppendUint32(d, h.MaxPayload)
				b = AppendOptionReply(b, hdr.Code, RepInfo, d)
			}
		}
		b = AppendOptionReply(b, hdr.Code, RepAck, nil)
		if hdr.Code == OptGo {
			return Outcome{Reply: b, Export: &e}
		}
		return Outcome{Reply: b}
	case OptStartTLS:
		return h.errReply(hdr.Code, RepErrUnsup, "TLS is not offered on this listener")
	default:
		// Structured replies, metadata contexts, extended headers and options we do not
		// know: simple replies only.
		return h.errReply(hdr.Code, RepErrUnsup, fmt.Sprintf("option %d not supported", hdr.Code))
	}
}

func (h *Handshake) errReply(code, typ uint32, msg string) Outcome {
	return Outcome{Reply: AppendOptionReply(nil, code, typ, []byte(msg))}
}

func (h *Handshake) lookup(ctx context.Context, name string) (Export, error) {
	if name == "" && h.DefaultExport != "" {
		name = h.DefaultExport
	}
	e, err := h.Exports.Lookup(ctx, name)
	if err != nil {
		return Export{}, err
	}
	if e.Name == "" {
		e.Name = name
	}
	if e.Device == nil {
		return Export{}, fmt.Errorf("%w: %q has no device", ErrUnknownExport, name)
	}
	return e, nil
}

package direct

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
)

// The channel-open handshake is the Data Channel Establishment Protocol of RFC 8832
// (the one WebRTC data channels use), restricted as PROTOCOL.md says. The codec below
// is pure: bytes in, values out.

const (
	msgTypeAck  = 0x02
	msgTypeOpen = 0x03

	chanReliable          = 0x00
	chanRexmit            = 0x01
	chanTimed             = 0x02
	chanUnorderedBit      = 0x80
	openHeaderLen         = 12
	maxLabelLen           = 1024
	maxProtocolLen        = 1024
	maxReliabilityParam   = 1<<32 - 1
	ppiDCEP               = 50
	ppiBinary             = 53
	ppiBinaryEmpty        = 57
	videoRetransmits      = 1
	channelOpenAckTimeout = 10 * time.Second
)

// openMessage is a decoded DATA_CHANNEL_OPEN.
type openMessage struct {
	ChannelType uint8
	Priority    uint16
	Reliability uint32
	Label       string
	Protocol    string
}

// encodeOpen encodes m as a DATA_CHANNEL_OPEN message.
func encodeOpen(m openMessage) []byte {
	b := make([]byte, openHeaderLen, openHeaderLen+len(m.Label)+len(m.Protocol))
	b[0] = msgTypeOpen
	b[1] = m.ChannelType
	binary.BigEndian.PutUint16(b[2:], m.Priority)
	binary.BigEndian.PutUint32(b[4:], m.Reliability)
	binary.BigEndian.PutUint16(b[8:], uint16(len(m.Label)))
	binary.BigEndian.PutUint16(b[10:], uint16(len(m.Protocol)))
	b = append(b, m.Label...)
	return append(b, m.Protocol...)
}

// decodeOpen decodes a DATA_CHANNEL_OPEN message strictly: known channel type, exact
// length, UTF-8 label of 1..1024 bytes, UTF-8 protocol of at most 1024 bytes, and a zero
// reliability parameter for reliable channels and a non-zero one for timed channels.
func decodeOpen(b []byte) (openMessage, error) {
	var m openMessage
	if len(b) < openHeaderLen {
		return m, fmt.Errorf("%w: channel open of %d bytes", ErrProtocol, len(b))
	}
	if b[0] != msgTypeOpen {
		return m, fmt.Errorf("%w: message type %#x, want open", ErrProtocol, b[0])
	}
	m.ChannelType = b[1]
	switch m.ChannelType &^ chanUnorderedBit {
	case chanReliable, chanRexmit, chanTimed:
	default:
		return m, fmt.Errorf("%w: channel type %#x", ErrProtocol, m.ChannelType)
	}
	m.Priority = binary.BigEndian.Uint16(b[2:])
	m.Reliability = binary.BigEndian.Uint32(b[4:])
	if m.ChannelType&^chanUnorderedBit == chanReliable && m.Reliability != 0 {
		return m, fmt.Errorf("%w: reliable channel with reliability parameter %d", ErrProtocol, m.Reliability)
	}
	if m.ChannelType&^chanUnorderedBit == chanTimed && m.Reliability == 0 {
		return m, fmt.Errorf("%w: timed channel with a lifetime of 0 ms", ErrProtocol)
	}
	labelLen := int(binary.BigEndian.Uint16(b[8:]))
	protoLen := int(binary.BigEndian.Uint16(b[10:]))
	if len(b) != openHeaderLen+labelLen+protoLen {
		return m, fmt.Errorf("%w: channel open of %d bytes, header says %d", ErrProtocol, len(b), openHeaderLen+labelLen+protoLen)
	}
	if labelLen == 0 || labelLen > maxLabelLen || protoLen > maxProtocolLen {
		return m, fmt.Errorf("%w: label of %d bytes, protocol of %d bytes", ErrProtocol, labelLen, protoLen)
	}
	label := b[openHeaderLen : openHeaderLen+labelLen]
	proto := b[openHeaderLen+labelLen:]
	if !utf8.Valid(label) || !utf8.Valid(proto) {
		return m, fmt.Errorf("%w: label or protocol is not UTF-8", ErrProtocol)
	}
	m.Label, m.Protocol = string(label), string(proto)
	return m, nil
}

// isAck reports whether b is a DATA_CHANNEL_ACK message. Trailing bytes are allowed:
// pion/datachannel (WebRTC) sends the ACK padded to 4 bytes.
func isAck(b []byte) bool { return len(b) >= 1 && b[0] == msgTypeAck }

// openFromOptions turns label and options into the open message the opener sends.
func openFromOptions(label string, o ChannelOptions) (openMessage, error) {
	if label == "" || len(label) > maxLabelLen || !utf8.ValidString(label) {
		return openMessage{}, fmt.Errorf("direct: invalid channel label %q (1..%d bytes of UTF-8)", label, maxLabelLen)
	}
	if len(o.Protocol) > maxProtocolLen || !utf8.ValidString(o.Protocol) {
		return openMessage{}, fmt.Errorf("direct: invalid channel protocol %q", o.Protocol)
	}
	m := openMessage{Priority: o.Priority, Label: label, Protocol: o.Protocol}
	switch {
	case o.MaxRetransmits != nil && o.MaxLifetime != nil:
		return m, fmt.Errorf("direct: channel %q: MaxRetransmits and MaxLifetime are exclusive", label)
	case o.MaxRetransmits != nil:
		if *o.MaxRetransmits < 0 || int64(*o.MaxRetransmits) > maxReliabilityParam {
			return m, fmt.Errorf("direct: channel %q: MaxRetransmits %d out of range", label, *o.MaxRetransmits)
		}
		m.ChannelType, m.Reliability = chanRexmit, uint32(*o.MaxRetransmits)
	case o.MaxLifetime != nil:
		ms := o.MaxLifetime.Milliseconds()
		if ms < 1 || ms > maxReliabilityParam {
			return m, fmt.Errorf("direct: channel %q: MaxLifetime %v out of range (1 ms or more)", label, *o.MaxLifetime)
		}
		m.ChannelType, m.Reliability = chanTimed, uint32(ms)
	default:
		m.ChannelType = chanReliable
	}
	if !o.Ordered {
		m.ChannelType |= chanUnorderedBit
	}
	return m, nil
}

// options is the inverse of openFromOptions, for the accepting side.
func (m openMessage) options() ChannelOptions {
	o := ChannelOptions{Ordered: m.ChannelType&chanUnorderedBit == 0, Priority: m.Priority, Protocol: m.Protocol}
	switch m.ChannelType &^ chanUnorderedBit {
	case chanRexmit:
		n := int(m.Reliability)
		o.MaxRetransmits = &n
	case chanTimed:
		d := time.Duration(m.Reliability) * time.Millisecond
		o.MaxLifetime = &d
	}
	return o
}

// ChannelOptions say how a channel delivers its messages. The zero value is a reliable,
// unordered channel; Reliable gives the reliable ordered channel the ASP channels input,
// cursor, clipboard and control use, and Video the partially reliable one for frames.
type ChannelOptions struct {
	// Ordered delivers messages in the order they were sent.
	Ordered bool
	// MaxRetransmits, if set, makes the channel partially reliable: a message is given up
	// after this many retransmissions. Exclusive with MaxLifetime.
	MaxRetransmits *int
	// MaxLifetime, if set, makes the channel partially reliable by time (millisecond
	// resolution, at least 1 ms). A given-up message is dropped whole on the receiving
	// side; it is never delivered in part. Caution: pion/sctp measures the lifetime from
	// a fragment's latest transmission and checks it only when retransmitting, and never
	// gives up fragments still queued, so this bounds neither queueing nor total delay;
	// prefer MaxRetransmits (as Video does). Exclusive with MaxRetransmits.
	MaxLifetime *time.Duration
	// Priority is carried to the peer (the channel scheduler's class); SCTP itself does
	// not use it.
	Priority uint16
	// Protocol is an optional sub-protocol name carried to the peer.
	Protocol string
}

// Reliable returns options for a reliable, ordered channel (like a WebRTC data channel
// created with default options).
func Reliable() ChannelOptions { return ChannelOptions{Ordered: true} }

// Video returns options for a video channel: unordered and partially reliable with at
// most one retransmission, so a frame that lost a packet twice is dropped whole instead of
// delaying the frames after it. A receiver that sees a gap in its frame numbers asks for
// a keyframe (or a reference invalidation).
//
// Video uses MaxRetransmits rather than MaxLifetime on purpose: pion/sctp measures a
// message's lifetime from its latest transmission, not from Send, and checks it only
// when retransmitting, so a lifetime bounds neither queueing nor total delay.
func Video() ChannelOptions {
	n := videoRetransmits
	return ChannelOptions{MaxRetransmits: &n}
}

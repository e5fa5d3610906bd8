package asp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/shadowless-dev/shadowless/asp/input"
)

// ProtocolVersion is the version of the channel protocol this package speaks (PROTOCOL.md).
// Peers with a different version are refused with a Bye on the control channel.
const ProtocolVersion = 1

// The labels of the data channels a client opens (PROTOCOL.md, "Channels").
const (
	ChannelInput     = "input"
	ChannelCursor    = "cursor"
	ChannelClipboard = "clipboard"
	ChannelControl   = "control"
)

// Size limits of channel messages.
const (
	// MaxClipboardBytes is the largest clipboard text carried in one message, in bytes of
	// UTF-8. Larger texts are not sent.
	MaxClipboardBytes = 60 * 1024
	// MaxCursorSize is the largest cursor width or height.
	MaxCursorSize = 1024
	// MaxReasonBytes is the largest Bye reason.
	MaxReasonBytes = 1024
	// MaxAgentBytes is the largest Hello agent string.
	MaxAgentBytes = 255
)

// ErrMalformed is wrapped by every decoding error: the message is dropped and counted, the
// session goes on.
var ErrMalformed = errors.New("asp: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

var le = binary.LittleEndian

func clampU16(v int) uint16 {
	switch {
	case v < 0:
		return 0
	case v > 0xffff:
		return 0xffff
	}
	return uint16(v)
}

func clampI16(v int) int16 {
	switch {
	case v < -0x8000:
		return -0x8000
	case v > 0x7fff:
		return 0x7fff
	}
	return int16(v)
}

// ---- input channel ----

// AppendInput appends the wire form of ev (channel "input") to dst. Coordinates are clamped
// to 0..65535 and wheel steps to int16.
func AppendInput(dst []byte, ev input.Event) []byte {
	switch ev.Kind {
	case input.KeyDown, input.KeyUp:
		dst = append(dst, byte(ev.Kind))
		return le.AppendUint32(dst, ev.Keysym)
	case input.MouseMove:
		dst = append(dst, byte(ev.Kind))
		dst = le.AppendUint16(dst, clampU16(ev.X))
		return le.AppendUint16(dst, clampU16(ev.Y))
	case input.ButtonDown, input.ButtonUp:
		dst = append(dst, byte(ev.Kind), ev.Button)
		dst = le.AppendUint16(dst, clampU16(ev.X))
		return le.AppendUint16(dst, clampU16(ev.Y))
	case input.Wheel:
		dst = append(dst, byte(ev.Kind))
		dst = le.AppendUint16(dst, uint16(clampI16(ev.DX)))
		return le.AppendUint16(dst, uint16(clampI16(ev.DY)))
	}
	return dst
}

// DecodeInput parses one message of the "input" channel.
func DecodeInput(b []byte) (input.Event, error) {
	if len(b) == 0 {
		return input.Event{}, malformed("empty input message")
	}
	kind := input.Kind(b[0])
	want := map[input.Kind]int{
		input.KeyDown: 5, input.KeyUp: 5, input.MouseMove: 5,
		input.ButtonDown: 6, input.ButtonUp: 6, input.Wheel: 5,
	}[kind]
	if want == 0 {
		return input.Event{}, malformed("unknown input type %d", b[0])
	}
	if len(b) != want {
		return input.Event{}, malformed("input type %d: %d bytes, want %d", b[0], len(b), want)
	}
	ev := input.Event{Kind: kind}
	switch kind {
	case input.KeyDown, input.KeyUp:
		ev.Keysym = le.Uint32(b[1:])
		if ev.Keysym == 0 {
			return input.Event{}, malformed("keysym 0")
		}
	case input.MouseMove:
		ev.X, ev.Y = int(le.Uint16(b[1:])), int(le.Uint16(b[3:]))
	case input.ButtonDown, input.ButtonUp:
		ev.Button = b[1]
		if ev.Button == 0 {
			return input.Event{}, malformed("button 0")
		}
		ev.X, ev.Y = int(le.Uint16(b[2:])), int(le.Uint16(b[4:]))
	case input.Wheel:
		ev.DX, ev.DY = int(int16(le.Uint16(b[1:]))), int(int16(le.Uint16(b[3:])))
	}
	return ev, nil
}

// ---- cursor channel ----

// Cursor message types.
const (
	cursorPosition = 1
	cursorShape    = 2
)

// ImageFormat says how a cursor image is coded.
type ImageFormat uint8

// Cursor image formats.
const (
	// FormatPNG is a PNG file.
	FormatPNG ImageFormat = 1
	// FormatRGBA is width×height pixels of straight-alpha RGBA, row by row.
	FormatRGBA ImageFormat = 2
)

// CursorShape is a cursor image with its hotspot.
type CursorShape struct {
	HotX, HotY    int
	Width, Height int
	Format        ImageFormat
	Data          []byte
}

// CursorMessage is one message of the "cursor" channel: the pointer position and
// visibility, and the new shape when it changed.
type CursorMessage struct {
	X, Y    int
	Visible bool
	// Serial identifies the shape; a message without Shape keeps the last shape.
	Serial uint32
	// Shape is set when the shape changed.
	Shape *CursorShape
}

// AppendCursor appends the wire form of m to dst.
func AppendCursor(dst []byte, m CursorMessage) []byte {
	typ := byte(cursorPosition)
	if m.Shape != nil {
		typ = cursorShape
	}
	var flags byte
	if m.Visible {
		flags |= 1
	}
	dst = append(dst, typ, flags)
	dst = le.AppendUint16(dst, clampU16(m.X))
	dst = le.AppendUint16(dst, clampU16(m.Y))
	dst = le.AppendUint32(dst, m.Serial)
	if m.Shape == nil {
		return dst
	}
	s := m.Shape
	dst = le.AppendUint16(dst, clampU16(s.HotX))
	dst = le.AppendUint16(dst, clampU16(s.HotY))
	dst = le.AppendUint16(dst, clampU16(s.Width))
	dst = le.AppendUint16(dst, clampU16(s.Height))
	dst = append(dst, byte(s.Format))
	return append(dst, s.Data...)
}

// DecodeCursor parses one message of the "cursor" channel. The shape's Data aliases b.
func DecodeCursor(b []byte) (CursorMessage, error) {
	if len(b) < 10 {
		return CursorMessage{}, malformed("cursor message of %d bytes", len(b))
	}
	typ, flags := b[0], b[1]
	if flags&^1 != 0 {
		return CursorMessage{}, malformed("cursor flags %#x", flags)
	}
	m := CursorMessage{
		Visible: flags&1 != 0,
		X:       int(le.Uint16(b[2:])),
		Y:       int(le.Uint16(b[4:])),
		Serial:  le.Uint32(b[6:]),
	}
	switch typ {
	case cursorPosition:
		if len(b) != 10 {
			return CursorMessage{}, malformed("cursor position of %d bytes", len(b))
		}
		return m, nil
	case cursorShape:
	default:
		return CursorMessage{}, malformed("unknown cursor type %d", typ)
	}
	if len(b) < 19 {
		return CursorMessage{}, malformed("cursor shape of %d bytes", len(b))
	}
	s := &CursorShape{
		HotX:   int(le.Uint16(b[10:])),
		HotY:   int(le.Uint16(b[12:])),
		Width:  int(le.Uint16(b[14:])),
		Height: int(le.Uint16(b[16:])),
		Format: ImageFormat(b[18]),
		Data:   b[19:],
	}
	if s.Width == 0 || s.Height == 0 || s.Width > MaxCursorSize || s.Height > MaxCursorSize {
		return CursorMessage{}, malformed("cursor size %dx%d", s.Width, s.Height)
	}
	if s.HotX >= s.Width || s.HotY >= s.Height {
		return CursorMessage{}, malformed("cursor hotspot %d,%d outside %dx%d", s.HotX, s.HotY, s.Width, s.Height)
	}
	switch s.Format {
	case FormatPNG:
		if len(s.Data) == 0 {
			return CursorMessage{}, malformed("empty cursor PNG")
		}
	case FormatRGBA:
		if len(s.Data) != s.Width*s.Height*4 {
			return CursorMessage{}, malformed("cursor RGBA of %d bytes for %dx%d", len(s.Data), s.Width, s.Height)
		}
	default:
		return CursorMessage{}, malformed("unknown cursor format %d", s.Format)
	}
	m.Shape = s
	return m, nil
}

// ---- clipboard channel ----

const clipboardText = 1

// AppendClipboard appends the wire form of a clipboard text to dst. The caller keeps text
// within MaxClipboardBytes.
func AppendClipboard(dst []byte, text string) []byte {
	dst = append(dst, clipboardText)
	return append(dst, text...)
}

// DecodeClipboard parses one message of the "clipboard" channel.
func DecodeClipboard(b []byte) (string, error) {
	if len(b) == 0 {
		return "", malformed("empty clipboard message")
	}
	if b[0] != clipboardText {
		return "", malformed("unknown clipboard type %d", b[0])
	}
	if len(b)-1 > MaxClipboardBytes {
		return "", malformed("clipboard text of %d bytes", len(b)-1)
	}
	if !utf8.Valid(b[1:]) {
		return "", malformed("clipboard text is not UTF-8")
	}
	return string(b[1:]), nil
}

// ---- control channel ----

// Features are optional abilities a peer announces in Hello or Welcome.
type Features uint32

// The features of protocol version 1.
const (
	// FeatureInput: the server injects input (client: the client sends input).
	FeatureInput Features = 1 << iota
	// FeatureCursor: cursor updates are sent on the cursor channel.
	FeatureCursor
	// FeatureClipboardToClient: desktop clipboard changes may be sent to the client.
	FeatureClipboardToClient
	// FeatureClipboardFromClient: the client may set the desktop clipboard.
	FeatureClipboardFromClient
	// FeatureCursorRGBA: the peer understands FormatRGBA cursor images (PNG is mandatory).
	FeatureCursorRGBA
)

// ByeCode says why a session ended.
type ByeCode uint16

// Bye codes.
const (
	ByeNormal ByeCode = iota
	// ByeDisplayGone: the X server or capture source went away.
	ByeDisplayGone
	// ByeVersion: the peers' protocol versions do not match.
	ByeVersion
	// ByeInternal: the server failed (encoder error and the like).
	ByeInternal
)

// String names the code.
func (c ByeCode) String() string {
	switch c {
	case ByeNormal:
		return "normal"
	case ByeDisplayGone:
		return "display gone"
	case ByeVersion:
		return "version mismatch"
	case ByeInternal:
		return "internal error"
	}
	return fmt.Sprintf("bye(%d)", uint16(c))
}

// Control message types.
const (
	controlHello    = 1
	controlWelcome  = 2
	controlStats    = 3
	controlKeyframe = 4
	controlResize   = 5
	controlBye      = 6
)

// ControlMessage is one of Hello, Welcome, Stats, KeyframeRequest, Resize and Bye.
type ControlMessage interface {
	// Append appends the message's wire form to dst.
	Append(dst []byte) []byte
	control()
}

// Hello is the client's first message on the control channel.
type Hello struct {
	Version  uint16
	Features Features
	// Agent names the client software, for logs.
	Agent string
	// Caps is the capability block (PROTOCOL.md, "Capabilities"), added in revision 1.1; nil
	// when the client sent none. Older servers ignore it (trailing bytes).
	Caps *Caps
}

// Caps is what a client says about itself: decoders, screen and input devices. The native
// client sends it in Hello and in the offer (so the codec can be chosen from it); a browser's
// decoders are read from its SDP offer instead.
type Caps struct {
	ScreenWidth  int           `json:"screen_width,omitempty"`
	ScreenHeight int           `json:"screen_height,omitempty"`
	DPI          int           `json:"dpi,omitempty"`
	Decoders     []DecoderInfo `json:"decoders,omitempty"`
	// InputDevices names the client's input devices: "keyboard", "mouse", "touch", "pen",
	// "gamepad".
	InputDevices []string `json:"input_devices,omitempty"`
}

// DecoderInfo is one decoder a client has.
type DecoderInfo struct {
	Codec     string `json:"codec"`
	Hardware  bool   `json:"hardware,omitempty"`
	MaxWidth  int    `json:"max_width,omitempty"`
	MaxHeight int    `json:"max_height,omitempty"`
}

// Limits of the capability block.
const (
	maxCapsDecoders = 16
	maxCapsDevices  = 16
)

// Welcome is the server's first message on the control channel: what was chosen.
type Welcome struct {
	Version  uint16
	Features Features
	// Codec is the video codec of the track, e.g. "VP8".
	Codec         string
	Width, Height int
	// Encoder names the encoder negotiation chose, e.g. "libvpx-vp8" (revision 1.1; empty
	// from older servers).
	Encoder string
}

// Stats is sent by the server about once a second.
type Stats struct {
	Frames       uint64 // encoded frames sent since the session began
	Bytes        uint64 // encoded video bytes sent
	Dropped      uint64 // frames skipped (encoder drop or write failure)
	EncodeMicros uint32 // mean encode time over the last interval
	BitrateKbps  uint32 // video bitrate over the last interval
	FPSx100      uint32 // frames per second over the last interval, times 100

	// Adaptation (revision 1.1; zero from older servers).
	EstimateKbps uint32 // bandwidth estimate after the application-limited cap
	TargetKbps   uint32 // the encoder's target bitrate
	TargetFPS    uint16 // the frame rate cap in force
	VideoWidth   int    // the encoded picture's size (smaller than the screen when scaled)
	VideoHeight  int
	Mode         SceneMode // the scene mode
}

// SceneMode is the scene classification in Stats: 1 office, 2 video, 3 game (0 unknown).
type SceneMode uint8

// String names the mode.
func (m SceneMode) String() string {
	switch m {
	case 1:
		return "office"
	case 2:
		return "video"
	case 3:
		return "game"
	}
	return "unknown"
}

// KeyframeRequest asks the server for a keyframe (same effect as an RTCP PLI).
type KeyframeRequest struct{}

// Resize tells the client the screen size changed; the video changes size with it.
type Resize struct{ Width, Height int }

// Bye is the server's last message before it closes the session.
type Bye struct {
	Code   ByeCode
	Reason string
}

func (Hello) control()           {}
func (Welcome) control()         {}
func (Stats) control()           {}
func (KeyframeRequest) control() {}
func (Resize) control()          {}
func (Bye) control()             {}

func appendString8(dst []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

// Append implements ControlMessage.
func (m Hello) Append(dst []byte) []byte {
	dst = append(dst, controlHello)
	dst = le.AppendUint16(dst, m.Version)
	dst = le.AppendUint32(dst, uint32(m.Features))
	dst = appendString8(dst, m.Agent)
	if m.Caps == nil {
		return dst
	}
	c := m.Caps
	dst = append(dst, capsMagic, 0, 0) // length filled in below
	start := len(dst)
	dst = le.AppendUint16(dst, clampU16(c.ScreenWidth))
	dst = le.AppendUint16(dst, clampU16(c.ScreenHeight))
	dst = le.AppendUint16(dst, clampU16(c.DPI))
	decs := c.Decoders[:min(len(c.Decoders), maxCapsDecoders)]
	dst = append(dst, byte(len(decs)))
	for _, d := range decs {
		dst = appendString8(dst, d.Codec)
		var flags byte
		if d.Hardware {
			flags |= 1
		}
		dst = append(dst, flags)
		dst = le.AppendUint16(dst, clampU16(d.MaxWidth))
		dst = le.AppendUint16(dst, clampU16(d.MaxHeight))
	}
	devs := c.InputDevices[:min(len(c.InputDevices), maxCapsDevices)]
	dst = append(dst, byte(len(devs)))
	for _, d := range devs {
		dst = appendString8(dst, d)
	}
	le.PutUint16(dst[start-2:], uint16(len(dst)-start))
	return dst
}

// capsMagic starts the capability block after Hello's agent; other trailing bytes are left
// to later revisions and ignored.
const capsMagic = 'C'

// helloTrailer parses what follows Hello's agent: a capability block, or nothing known.
func helloTrailer(b []byte) (*Caps, error) {
	if len(b) < 3 || b[0] != capsMagic {
		return nil, nil
	}
	n := int(le.Uint16(b[1:]))
	if len(b)-3 < n {
		return nil, malformed("hello caps of %d bytes, %d there", n, len(b)-3)
	}
	return decodeCaps(b[3 : 3+n])
}

// decodeCaps parses the capability block of a Hello.
func decodeCaps(b []byte) (*Caps, error) {
	if len(b) < 7 {
		return nil, malformed("hello caps of %d bytes", len(b))
	}
	c := &Caps{ScreenWidth: int(le.Uint16(b)), ScreenHeight: int(le.Uint16(b[2:])), DPI: int(le.Uint16(b[4:]))}
	n := int(b[6])
	if n > maxCapsDecoders {
		return nil, malformed("hello caps: %d decoders", n)
	}
	b = b[7:]
	for range n {
		name, rest, err := readString8(b, "hello decoder")
		if err != nil {
			return nil, err
		}
		if len(rest) < 5 || rest[0]&^1 != 0 {
			return nil, malformed("hello decoder %q: short or bad flags", name)
		}
		c.Decoders = append(c.Decoders, DecoderInfo{Codec: name, Hardware: rest[0]&1 != 0,
			MaxWidth: int(le.Uint16(rest[1:])), MaxHeight: int(le.Uint16(rest[3:]))})
		b = rest[5:]
	}
	if len(b) < 1 || int(b[0]) > maxCapsDevices {
		return nil, malformed("hello caps: missing or too many input devices")
	}
	n, b = int(b[0]), b[1:]
	for range n {
		name, rest, err := readString8(b, "hello input device")
		if err != nil {
			return nil, err
		}
		c.InputDevices = append(c.InputDevices, name)
		b = rest
	}
	return c, nil
}

// Append implements ControlMessage.
func (m Welcome) Append(dst []byte) []byte {
	dst = append(dst, controlWelcome)
	dst = le.AppendUint16(dst, m.Version)
	dst = le.AppendUint32(dst, uint32(m.Features))
	dst = le.AppendUint16(dst, clampU16(m.Width))
	dst = le.AppendUint16(dst, clampU16(m.Height))
	dst = appendString8(dst, m.Codec)
	if m.Encoder != "" {
		dst = appendString8(dst, m.Encoder)
	}
	return dst
}

// Append implements ControlMessage.
func (m Stats) Append(dst []byte) []byte {
	dst = append(dst, controlStats)
	dst = le.AppendUint64(dst, m.Frames)
	dst = le.AppendUint64(dst, m.Bytes)
	dst = le.AppendUint64(dst, m.Dropped)
	dst = le.AppendUint32(dst, m.EncodeMicros)
	dst = le.AppendUint32(dst, m.BitrateKbps)
	dst = le.AppendUint32(dst, m.FPSx100)
	dst = le.AppendUint32(dst, m.EstimateKbps)
	dst = le.AppendUint32(dst, m.TargetKbps)
	dst = le.AppendUint16(dst, m.TargetFPS)
	dst = le.AppendUint16(dst, clampU16(m.VideoWidth))
	dst = le.AppendUint16(dst, clampU16(m.VideoHeight))
	return append(dst, byte(m.Mode))
}

// statsV1 and statsV11 are the body sizes of Stats in revisions 1.0 and 1.1.
const (
	statsV1  = 36
	statsV11 = statsV1 + 15
)

// Append implements ControlMessage.
func (KeyframeRequest) Append(dst []byte) []byte { return append(dst, controlKeyframe) }

// Append implements ControlMessage.
func (m Resize) Append(dst []byte) []byte {
	dst = append(dst, controlResize)
	dst = le.AppendUint16(dst, clampU16(m.Width))
	return le.AppendUint16(dst, clampU16(m.Height))
}

// Append implements ControlMessage.
func (m Bye) Append(dst []byte) []byte {
	dst = append(dst, controlBye)
	dst = le.AppendUint16(dst, uint16(m.Code))
	r := m.Reason
	if len(r) > MaxReasonBytes {
		r = r[:MaxReasonBytes]
		for !utf8.ValidString(r) {
			r = r[:len(r)-1]
		}
	}
	return append(dst, r...)
}

func readString8(b []byte, what string) (string, []byte, error) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, malformed("%s: short string", what)
	}
	s := b[1 : 1+int(b[0])]
	if !utf8.Valid(s) {
		return "", nil, malformed("%s: string is not UTF-8", what)
	}
	return string(s), b[1+int(b[0]):], nil
}

// DecodeControl parses one message of the "control" channel. Hello and Welcome may carry
// trailing bytes appended by later minor revisions; they are ignored.
func DecodeControl(b []byte) (ControlMessage, error) {
	if len(b) == 0 {
		return nil, malformed("empty control message")
	}
	body := b[1:]
	switch b[0] {
	case controlHello:
		if len(body) < 7 {
			return nil, malformed("hello of %d bytes", len(b))
		}
		m := Hello{Version: le.Uint16(body), Features: Features(le.Uint32(body[2:]))}
		agent, rest, err := readString8(body[6:], "hello agent")
		if err != nil {
			return nil, err
		}
		m.Agent = agent
		if len(rest) > 0 {
			if m.Caps, err = helloTrailer(rest); err != nil {
				return nil, err
			}
		}
		return m, nil
	case controlWelcome:
		if len(body) < 11 {
			return nil, malformed("welcome of %d bytes", len(b))
		}
		m := Welcome{
			Version:  le.Uint16(body),
			Features: Features(le.Uint32(body[2:])),
			Width:    int(le.Uint16(body[6:])),
			Height:   int(le.Uint16(body[8:])),
		}
		c, rest, err := readString8(body[10:], "welcome codec")
		if err != nil {
			return nil, err
		}
		m.Codec = c
		if len(rest) > 0 {
			if m.Encoder, _, err = readString8(rest, "welcome encoder"); err != nil {
				return nil, err
			}
		}
		return m, nil
	case controlStats:
		if len(body) != statsV1 && len(body) < statsV11 {
			return nil, malformed("stats of %d bytes", len(b))
		}
		st := Stats{
			Frames: le.Uint64(body), Bytes: le.Uint64(body[8:]), Dropped: le.Uint64(body[16:]),
			EncodeMicros: le.Uint32(body[24:]), BitrateKbps: le.Uint32(body[28:]), FPSx100: le.Uint32(body[32:]),
		}
		if len(body) >= statsV11 {
			x := body[statsV1:]
			st.EstimateKbps, st.TargetKbps = le.Uint32(x), le.Uint32(x[4:])
			st.TargetFPS = le.Uint16(x[8:])
			st.VideoWidth, st.VideoHeight = int(le.Uint16(x[10:])), int(le.Uint16(x[12:]))
			st.Mode = SceneMode(x[14])
		}
		return st, nil
	case controlKeyframe:
		if len(body) != 0 {
			return nil, malformed("keyframe request of %d bytes", len(b))
		}
		return KeyframeRequest{}, nil
	case controlResize:
		if len(body) != 4 {
			return nil, malformed("resize of %d bytes", len(b))
		}
		m := Resize{Width: int(le.Uint16(body)), Height: int(le.Uint16(body[2:]))}
		if m.Width == 0 || m.Height == 0 {
			return nil, malformed("resize to %dx%d", m.Width, m.Height)
		}
		return m, nil
	case controlBye:
		if len(body) < 2 || len(body)-2 > MaxReasonBytes {
			return nil, malformed("bye of %d bytes", len(b))
		}
		if !utf8.Valid(body[2:]) {
			return nil, malformed("bye reason is not UTF-8")
		}
		return Bye{Code: ByeCode(le.Uint16(body)), Reason: string(body[2:])}, nil
	}
	return nil, malformed("unknown control type %d", b[0])
}

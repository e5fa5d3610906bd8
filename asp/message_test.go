package asp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/input"
)

func TestInputRoundTrip(t *testing.T) {
	events := []input.Event{
		{Kind: input.KeyDown, Keysym: 0x61},
		{Kind: input.KeyUp, Keysym: 0x01000000 + 'ж'},
		{Kind: input.MouseMove, X: 1919, Y: 1079},
		{Kind: input.ButtonDown, Button: input.ButtonLeft, X: 10, Y: 20},
		{Kind: input.ButtonUp, Button: input.ButtonRight, X: 65535, Y: 0},
		{Kind: input.Wheel, DX: -3, DY: 2},
	}
	for _, ev := range events {
		got, err := DecodeInput(AppendInput(nil, ev))
		require.NoError(t, err)
		assert.Equal(t, ev, got)
	}
	// Clamping keeps coordinates on the wire.
	got, err := DecodeInput(AppendInput(nil, input.Event{Kind: input.MouseMove, X: -5, Y: 70000}))
	require.NoError(t, err)
	assert.Equal(t, 0, got.X)
	assert.Equal(t, 65535, got.Y)
}

func TestInputMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {9, 0, 0, 0, 0}, {1, 0x61}, {1, 0, 0, 0, 0}, {4, 0, 1, 0, 1, 0}, {3, 1, 2, 3, 4, 5}} {
		_, err := DecodeInput(b)
		assert.ErrorIs(t, err, ErrMalformed, "% x", b)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	pos := CursorMessage{X: 100, Y: 200, Visible: true, Serial: 7}
	got, err := DecodeCursor(AppendCursor(nil, pos))
	require.NoError(t, err)
	assert.Equal(t, pos, got)

	shape := CursorMessage{X: 1, Y: 2, Serial: 9, Shape: &CursorShape{HotX: 1, HotY: 1, Width: 2, Height: 2, Format: FormatRGBA, Data: make([]byte, 16)}}
	got, err = DecodeCursor(AppendCursor(nil, shape))
	require.NoError(t, err)
	assert.Equal(t, shape, got)

	bad := shape
	bad.Shape = &CursorShape{HotX: 2, HotY: 0, Width: 2, Height: 2, Format: FormatRGBA, Data: make([]byte, 16)}
	_, err = DecodeCursor(AppendCursor(nil, bad))
	assert.ErrorIs(t, err, ErrMalformed)
	bad.Shape = &CursorShape{Width: 2, Height: 2, Format: FormatRGBA, Data: make([]byte, 15)}
	_, err = DecodeCursor(AppendCursor(nil, bad))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestClipboardRoundTrip(t *testing.T) {
	got, err := DecodeClipboard(AppendClipboard(nil, "grüße ✓"))
	require.NoError(t, err)
	assert.Equal(t, "grüße ✓", got)
	_, err = DecodeClipboard([]byte{1, 0xff, 0xfe})
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = DecodeClipboard([]byte{2, 'a'})
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestControlRoundTrip(t *testing.T) {
	msgs := []ControlMessage{
		Hello{Version: ProtocolVersion, Features: FeatureInput | FeatureCursor, Agent: "test/1"},
		Hello{Version: ProtocolVersion, Agent: "caps/1", Caps: &Caps{ScreenWidth: 2560, ScreenHeight: 1440, DPI: 144,
			Decoders:     []DecoderInfo{{Codec: "H264", Hardware: true, MaxWidth: 4096, MaxHeight: 2304}, {Codec: "VP8"}},
			InputDevices: []string{"keyboard", "mouse", "touch"}}},
		Welcome{Version: ProtocolVersion, Features: FeatureClipboardToClient, Codec: "VP8", Width: 640, Height: 480},
		Welcome{Version: ProtocolVersion, Codec: "VP8", Width: 640, Height: 480, Encoder: "libvpx-vp8"},
		Stats{Frames: 1, Bytes: 2, Dropped: 3, EncodeMicros: 4, BitrateKbps: 5, FPSx100: 6},
		Stats{Frames: 1, EstimateKbps: 7, TargetKbps: 8, TargetFPS: 30, VideoWidth: 960, VideoHeight: 540, Mode: 2},
		KeyframeRequest{},
		Resize{Width: 800, Height: 600},
		Bye{Code: ByeDisplayGone, Reason: "X server :9 went away"},
	}
	for _, m := range msgs {
		got, err := DecodeControl(m.Append(nil))
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	// Later minor revisions may append to Hello.
	b := append(Hello{Version: 1, Agent: "x"}.Append(nil), 1, 2, 3)
	got, err := DecodeControl(b)
	require.NoError(t, err)
	assert.Equal(t, Hello{Version: 1, Agent: "x"}, got)
	// A revision 1.0 Stats (36 bytes of body) still decodes.
	old := Stats{Frames: 9, FPSx100: 3000}.Append(nil)[:1+statsV1]
	got, err = DecodeControl(old)
	require.NoError(t, err)
	assert.Equal(t, Stats{Frames: 9, FPSx100: 3000}, got)
	badCaps := append(Hello{Version: 1, Agent: "x"}.Append(nil), capsMagic, 2, 0, 1, 2)
	for _, b := range [][]byte{nil, {0}, {4, 0}, {5, 0, 0, 1, 0}, {1, 1, 0}, {6, 0}, {3, 1}, badCaps} {
		_, err := DecodeControl(b)
		assert.ErrorIs(t, err, ErrMalformed, "% x", b)
	}
}

// The fuzz targets check that decoders never panic, and that whatever decodes re-encodes to
// something that decodes to the same value.

func FuzzDecodeInput(f *testing.F) {
	f.Add(AppendInput(nil, input.Event{Kind: input.KeyDown, Keysym: 0x61}))
	f.Add(AppendInput(nil, input.Event{Kind: input.ButtonDown, Button: 1, X: 5, Y: 6}))
	f.Add(AppendInput(nil, input.Event{Kind: input.Wheel, DY: -1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeInput(b)
		if err != nil {
			return
		}
		again, err := DecodeInput(AppendInput(nil, ev))
		require.NoError(t, err)
		require.Equal(t, ev, again)
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(AppendCursor(nil, CursorMessage{X: 1, Y: 2, Visible: true, Serial: 3}))
	f.Add(AppendCursor(nil, CursorMessage{Shape: &CursorShape{Width: 1, Height: 1, Format: FormatRGBA, Data: []byte{1, 2, 3, 4}}}))
	f.Add(AppendCursor(nil, CursorMessage{Shape: &CursorShape{Width: 1, Height: 1, Format: FormatPNG, Data: []byte{0x89}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeCursor(b)
		if err != nil {
			return
		}
		again, err := DecodeCursor(AppendCursor(nil, m))
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}

func FuzzDecodeClipboard(f *testing.F) {
	f.Add(AppendClipboard(nil, "hello"))
	f.Add([]byte{1, 0xc3})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeClipboard(b)
		if err != nil {
			return
		}
		again, err := DecodeClipboard(AppendClipboard(nil, s))
		require.NoError(t, err)
		require.Equal(t, s, again)
	})
}

func FuzzDecodeControl(f *testing.F) {
	f.Add(Hello{Version: 1, Agent: "a"}.Append(nil))
	f.Add(Hello{Version: 1, Agent: "a", Caps: &Caps{ScreenWidth: 1, DPI: 96, Decoders: []DecoderInfo{{Codec: "VP8", Hardware: true}},
		InputDevices: []string{"mouse"}}}.Append(nil))
	f.Add(Welcome{Version: 1, Codec: "VP8", Width: 1, Height: 1, Encoder: "libvpx-vp8"}.Append(nil))
	f.Add(Welcome{Version: 1, Codec: "VP8", Width: 1, Height: 1}.Append(nil))
	f.Add(Stats{Frames: 1}.Append(nil))
	f.Add(KeyframeRequest{}.Append(nil))
	f.Add(Resize{Width: 1, Height: 1}.Append(nil))
	f.Add(Bye{Code: 1, Reason: "x"}.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeControl(b)
		if err != nil {
			return
		}
		again, err := DecodeControl(m.Append(nil))
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}

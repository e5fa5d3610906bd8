package codec_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

// realPackets encodes a few small frames and returns their packets (a keyframe first).
func realPackets(f *testing.F, c codec.Codec) [][]byte {
	f.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{Codec: c, Width: 64, Height: 48, FrameRate: 30, BitrateKbps: 300, ScreenContent: true})
	require.NoError(f, err)
	defer enc.Close()
	var out [][]byte
	for i := range 3 {
		pkt, err := enc.Encode(desktop(64, 48, i, video), frameTime(i), false)
		require.NoError(f, err)
		out = append(out, pkt.Data)
	}
	return out
}

// fuzzDecode feeds arbitrary bytes to a fresh decoder, after the stream's keyframe so that
// inter-frame parsing is reached too. Any outcome but a crash or a malformed picture is fine.
func fuzzDecode(f *testing.F, c codec.Codec) {
	pkts := realPackets(f, c)
	for _, p := range pkts {
		f.Add(p)
		f.Add(p[:len(p)/2])
		flipped := append([]byte(nil), p...)
		flipped[len(flipped)/3] ^= 0x55
		f.Add(flipped)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f})
	f.Add([]byte{0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00})
	key := pkts[0]
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, err := codec.NewDecoder(c)
		require.NoError(t, err)
		defer dec.Close()
		_, err = dec.Decode(key)
		require.NoError(t, err)
		img, err := dec.Decode(data)
		if err != nil {
			require.ErrorIs(t, err, codec.ErrCorrupt)
			return
		}
		if img != nil {
			w, h := img.Rect.Dx(), img.Rect.Dy()
			require.True(t, w > 0 && h > 0 && w <= codec.MaxDimension && h <= codec.MaxDimension)
			require.GreaterOrEqual(t, len(img.Y), w*h)
		}
	})
}

func FuzzDecodeVP8(f *testing.F)  { fuzzDecode(f, codec.VP8) }
func FuzzDecodeVP9(f *testing.F)  { fuzzDecode(f, codec.VP9) }
func FuzzDecodeH264(f *testing.F) { fuzzDecode(f, codec.H264) }

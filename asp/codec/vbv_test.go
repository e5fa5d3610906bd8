package codec_test

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

func TestCapQuantizer(t *testing.T) {
	// Fits: the quantiser stays, clamped into the range.
	assert.Equal(t, 30, codec.CapQuantizer(30, 8000, 10000, 2, 63))
	assert.Equal(t, 10, codec.CapQuantizer(4, 8000, 10000, 10, 63))
	assert.Equal(t, 30, codec.CapQuantizer(30, 80000, 0, 2, 63), "no cap")
	// Over: each halving needed costs about 8 steps, aiming below the cap.
	q2 := codec.CapQuantizer(30, 20000, 10000, 2, 63)
	assert.Greater(t, q2, 30+8)
	assert.Less(t, q2, 30+16)
	q8 := codec.CapQuantizer(20, 80000, 10000, 2, 63)
	assert.Greater(t, q8, q2)
	// Just over still moves up at least one step; never beyond maxQ.
	assert.Greater(t, codec.CapQuantizer(30, 10001, 10000, 2, 63), 30)
	assert.Equal(t, 63, codec.CapQuantizer(50, 500000, 10000, 2, 63))
	assert.Equal(t, 40, codec.CapQuantizer(30, 500000, 10000, 2, 40))
}

// sceneCut is the picture after the cut: a page of dense small text over the whole
// screen (random dark glyph strokes on white), where the desktop had flat areas and a
// window of regular text; as costly as a web page is for libvpx.
func sceneCut(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = 235
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	seed := uint32(12345)
	for y := 2; y+10 < h; y += 12 { // lines of text
		for x := 2; x+6 < w; x += 6 { // glyphs
			seed = seed*1664525 + 1013904223
			for k := range 5 { // a glyph: a few strokes in a 5×9 cell
				bits := seed >> (k * 6)
				for dy := range 9 {
					if bits>>(uint(dy)%5)&1 == 1 {
						img.Y[(y+dy)*img.YStride+x+k] = 30
					}
				}
			}
		}
	}
	return img
}

// TestSceneCutWithinBudget switches a low-bitrate stream from a desktop to a full-screen
// photo and checks that the frame of the cut stays within the single-frame budget
// (MaxFrameRatio × bitrate / fps) with EncodeCapped, where a plain Encode overshoots it
// several times, and that the stream still decodes to the right pictures afterwards.
func TestSceneCutWithinBudget(t *testing.T) {
	const w, h, fps, kbps, ratio = 640, 360, 15, 2000, 2.0
	budget := int(kbps * 1000 / 8 / fps * ratio)
	for _, c := range []codec.Codec{codec.VP8} {
		t.Run(string(c), func(t *testing.T) {
			sizes := map[bool]int{}
			for _, capped := range []bool{false, true} {
				cfg := codec.EncoderConfig{Codec: c, Width: w, Height: h, FrameRate: fps, BitrateKbps: kbps,
					ScreenContent: true, MaxFrameRatio: ratio}
				enc := newEncoder(t, cfg)
				dec := newDecoder(t, c)
				var decoded *image.YCbCr // the last picture decoded
				encode := func(img *image.YCbCr, i int) codec.Packet {
					var pkt codec.Packet
					var err error
					if ce, ok := enc.(codec.CappedEncoder); ok && capped {
						pkt, err = ce.EncodeCapped(img, frameTime(i), budget)
					} else {
						pkt, err = enc.Encode(img, frameTime(i), false)
					}
					require.NoError(t, err)
					if len(pkt.Data) > 0 {
						got, err := dec.Decode(pkt.Data)
						require.NoError(t, err)
						require.NotNil(t, got)
						decoded = got
					}
					return pkt
				}
				for i := range 15 {
					encode(desktop(w, h, i, still), i)
				}
				cut := sceneCut(w, h)
				pkt := encode(cut, 15)
				sizes[capped] = len(pkt.Data)
				first := psnr(cut, decoded)
				// The picture after the cut stays decodable and does not get worse (no
				// reference mismatch from the trial encodes, which would show as garbage).
				for i := 16; i < 40; i++ {
					encode(cut, i)
				}
				assert.Greater(t, psnr(cut, decoded), max(first-3, 15), "capped=%v: decoded picture after the cut", capped)
			}
			t.Logf("%s: budget %d B, scene cut %d B plain, %d B capped", c, budget, sizes[false], sizes[true])
			assert.Greater(t, sizes[false], budget*3/2, "the plain encoder overshoots (the test's premise)")
			assert.LessOrEqual(t, sizes[true], budget*3/2, "capped frame within 1.5 × budget")
		})
	}
}

package workload

import (
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

func grey(w, h int, y uint8) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = y
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	return img
}

func TestStampRoundTrip(t *testing.T) {
	img := grey(640, 32, 90)
	for _, s := range []Stamp{{0, 0}, {1, 1}, {1<<20 - 1, 255}, {123456, 7}, {0xAAAAA, 0x55}} {
		s.Paint(img)
		got, err := ReadStamp(img)
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	// Frame numbers wrap at 2^20.
	s := Stamp{Frame: 1<<20 + 5}
	s.Paint(img)
	got, err := ReadStamp(img)
	require.NoError(t, err)
	assert.Equal(t, uint32(5), got.Frame)
}

func TestStampRejects(t *testing.T) {
	_, err := ReadStamp(grey(640, 32, 16))
	require.ErrorIs(t, err, ErrNoStamp, "all black has no sync")
	_, err = ReadStamp(grey(640, 32, 128))
	require.ErrorIs(t, err, ErrNoStamp, "grey cells")
	_, err = ReadStamp(grey(256, 32, 16))
	require.ErrorIs(t, err, ErrNoStamp, "too narrow")
	_, err = ReadStamp(nil)
	require.ErrorIs(t, err, ErrNoStamp)

	// One flipped data cell breaks the parity.
	img := grey(640, 32, 90)
	Stamp{Frame: 77, Response: 3}.Paint(img)
	cell := syncCells + 5
	for y := 0; y < StampCell; y++ {
		for x := cell * StampCell; x < (cell+1)*StampCell; x++ {
			img.Y[img.YOffset(x, y)] = 251 - img.Y[img.YOffset(x, y)]
		}
	}
	_, err = ReadStamp(img)
	require.ErrorIs(t, err, ErrNoStamp)
}

func TestFrameDiff(t *testing.T) {
	assert.Equal(t, 1, FrameDiff(5, 6))
	assert.Equal(t, -1, FrameDiff(6, 5))
	assert.Equal(t, 3, FrameDiff(1<<20-1, 2))
	assert.Equal(t, -3, FrameDiff(2, 1<<20-1))
}

// noisy fills img with busy content that costs bits, so a low bitrate really hurts.
func noisy(img *image.YCbCr, rng *rand.Rand, shift int) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Y[y*img.YStride+x] = uint8(((x+shift)*7 ^ y*13) + rng.IntN(40))
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(100 + rng.IntN(56))
		img.Cr[i] = uint8(100 + rng.IntN(56))
	}
}

// TestStampSurvivesCodecs encodes busy frames at a low bitrate with every compiled-in codec
// and reads the stamps back from the decoded pictures.
func TestStampSurvivesCodecs(t *testing.T) {
	cs := codec.Available()
	if len(cs) == 0 {
		t.Fatal("no codec compiled in (cgo with libvpx and OpenH264 is required)")
	}
	const w, h, n = 640, 480, 20
	for _, c := range cs {
		t.Run(string(c), func(t *testing.T) {
			enc, err := codec.NewEncoder(codec.EncoderConfig{Codec: c, Width: w, Height: h, FrameRate: 30, BitrateKbps: 150})
			require.NoError(t, err)
			defer enc.Close()
			dec, err := codec.NewDecoder(c)
			require.NoError(t, err)
			defer dec.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			img := grey(w, h, 0)
			read := 0
			for i := 0; i < n; i++ {
				noisy(img, rng, i*9)
				want := Stamp{Frame: uint32(1000 + i*37), Response: uint8(i * 11)}
				want.Paint(img)
				pkt, err := enc.Encode(img, time.Duration(i)*33*time.Millisecond, i == 0)
				require.NoError(t, err)
				if len(pkt.Data) == 0 {
					continue // rate control dropped the frame
				}
				out, err := dec.Decode(pkt.Data)
				require.NoError(t, err)
				if out == nil {
					continue
				}
				got, err := ReadStamp(out)
				require.NoError(t, err, "frame %d", i)
				assert.Equal(t, want, got)
				read++
			}
			assert.GreaterOrEqual(t, read, n/2, "most frames decoded and read")
		})
	}
}

func FuzzReadStamp(f *testing.F) {
	img := grey(StampRect.Dx(), StampCell, 60)
	Stamp{Frame: 4242, Response: 9}.Paint(img)
	f.Add(img.Y, uint16(StampRect.Dx()))
	f.Add([]byte{0, 255, 0, 255}, uint16(2))
	f.Add(make([]byte, 600*16), uint16(600))
	f.Fuzz(func(t *testing.T, luma []byte, width uint16) {
		w := int(width)
		if w == 0 || w > 4096 || len(luma) < w {
			return
		}
		h := len(luma) / w
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		copy(img.Y, luma)
		s, err := ReadStamp(img)
		if err != nil {
			require.ErrorIs(t, err, ErrNoStamp)
			return
		}
		// Whatever reads as a stamp reads the same after being painted cleanly.
		s.Paint(img)
		again, err := ReadStamp(img)
		require.NoError(t, err)
		require.Equal(t, s, again)
	})
}

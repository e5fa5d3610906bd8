package codec_test

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

var allCodecs = []codec.Codec{codec.VP8, codec.VP9, codec.H264}

func smallConfig(c codec.Codec) codec.EncoderConfig {
	return codec.EncoderConfig{
		Codec:         c,
		Width:         320,
		Height:        240,
		FrameRate:     30,
		BitrateKbps:   1000,
		ScreenContent: true,
	}
}

func frameTime(i int) time.Duration { return time.Duration(i) * time.Second / 30 }

func newEncoder(t testing.TB, cfg codec.EncoderConfig) codec.Encoder {
	t.Helper()
	enc, err := codec.NewEncoder(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, enc.Close()) })
	return enc
}

func newDecoder(t testing.TB, c codec.Codec) codec.Decoder {
	t.Helper()
	dec, err := codec.NewDecoder(c)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, dec.Close()) })
	return dec
}

func TestAvailable(t *testing.T) {
	assert.ElementsMatch(t, allCodecs, codec.Available())
	assert.Equal(t, "video/VP8", codec.VP8.MimeType())
}

func TestRoundTrip(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			enc := newEncoder(t, smallConfig(c))
			dec := newDecoder(t, c)
			decoded := 0
			for i := range 8 {
				src := desktop(320, 240, i, still)
				pkt, err := enc.Encode(src, frameTime(i), false)
				require.NoError(t, err)
				require.NotEmpty(t, pkt.Data, "frame %d dropped", i)
				assert.Equal(t, i == 0, pkt.Keyframe, "frame %d keyframe flag", i)
				assert.Equal(t, frameTime(i), pkt.PTS)
				img, err := dec.Decode(pkt.Data)
				require.NoError(t, err)
				require.NotNil(t, img, "frame %d gave no picture", i)
				require.Equal(t, image.Rect(0, 0, 320, 240), img.Rect)
				require.Equal(t, image.YCbCrSubsampleRatio420, img.SubsampleRatio)
				p := psnr(src, img)
				assert.Greater(t, p, 30.0, "frame %d PSNR", i)
				decoded++
			}
			assert.Equal(t, 8, decoded)
		})
	}
}

func TestKeyframeOnRequest(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			enc := newEncoder(t, smallConfig(c))
			dec := newDecoder(t, c)
			for i := range 6 {
				pkt, err := enc.Encode(desktop(320, 240, i, still), frameTime(i), i == 4)
				require.NoError(t, err)
				require.NotEmpty(t, pkt.Data)
				assert.Equal(t, i == 0 || i == 4, pkt.Keyframe, "frame %d", i)
				img, err := dec.Decode(pkt.Data)
				require.NoError(t, err)
				require.NotNil(t, img)
			}
		})
	}
}

func TestKeyframeOnRequestDecodesAlone(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			enc := newEncoder(t, smallConfig(c))
			var key []byte
			var src *image.YCbCr
			for i := range 5 {
				src = desktop(320, 240, i, still)
				pkt, err := enc.Encode(src, frameTime(i), i == 3)
				require.NoError(t, err)
				if i == 3 {
					key = pkt.Data
					break
				}
			}
			// A fresh decoder joining at the requested keyframe shows the picture.
			img, err := newDecoder(t, c).Decode(key)
			require.NoError(t, err)
			require.NotNil(t, img)
			assert.Greater(t, psnr(src, img), 27.0)
		})
	}
}

func TestKeyframeInterval(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			cfg := smallConfig(c)
			cfg.KeyframeInterval = 4
			enc := newEncoder(t, cfg)
			keys := 0
			for i := range 12 {
				pkt, err := enc.Encode(desktop(320, 240, i, still), frameTime(i), false)
				require.NoError(t, err)
				if pkt.Keyframe {
					keys++
				}
			}
			assert.GreaterOrEqual(t, keys, 3)
		})
	}
}

// averageSize encodes n desktop frames with motion m from frame start and returns the mean
// packet size, leaving out the first skip frames (rate control settling).
func averageSize(t *testing.T, enc codec.Encoder, m motion, start, n, skip int) float64 {
	t.Helper()
	total, count := 0, 0
	for i := start; i < start+n; i++ {
		pkt, err := enc.Encode(desktop(320, 240, i, m), frameTime(i), false)
		require.NoError(t, err)
		if i-start >= skip {
			total += len(pkt.Data)
			count++
		}
	}
	return float64(total) / float64(count)
}

func TestSetBitrate(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			cfg := smallConfig(c)
			cfg.BitrateKbps = 1500
			enc := newEncoder(t, cfg)
			high := averageSize(t, enc, video, 0, 30, 10)
			require.NoError(t, enc.SetBitrate(150))
			assert.Equal(t, 150, enc.Config().BitrateKbps)
			low := averageSize(t, enc, video, 30, 30, 10)
			require.NoError(t, enc.SetBitrate(1500))
			high2 := averageSize(t, enc, video, 60, 30, 10)
			t.Logf("%s: average packet %0.f B at 1500 kbit/s, %.0f B at 150 kbit/s, %.0f B back at 1500", c, high, low, high2)
			assert.Less(t, low*2, high, "lowering the bitrate must shrink packets")
			assert.Greater(t, high2, low*2, "raising the bitrate must grow packets again")
			// At 150 kbit/s and 30 fps the budget is 625 bytes a frame; allow overshoot.
			assert.Less(t, low, 625*3.0)
		})
	}
}

func TestSetFrameRate(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			cfg := smallConfig(c)
			cfg.BitrateKbps = 300
			enc := newEncoder(t, cfg)
			fast := averageSize(t, enc, video, 0, 30, 10)
			// The same bitrate over a third of the frames: each frame gets more bits.
			require.NoError(t, enc.SetFrameRate(10))
			assert.Equal(t, 10.0, enc.Config().FrameRate)
			total := 0
			for i := range 20 {
				pkt, err := enc.Encode(desktop(320, 240, 30+i, video), frameTime(30)+time.Duration(i)*time.Second/10, false)
				require.NoError(t, err)
				if i >= 8 {
					total += len(pkt.Data)
				}
			}
			slow := float64(total) / 12
			t.Logf("%s: average packet %.0f B at 30 fps, %.0f B at 10 fps", c, fast, slow)
			assert.Greater(t, slow, fast*1.5)
			require.ErrorIs(t, enc.SetFrameRate(0), codec.ErrInvalidConfig)
			require.ErrorIs(t, enc.SetFrameRate(math.NaN()), codec.ErrInvalidConfig)
			require.ErrorIs(t, enc.SetBitrate(0), codec.ErrInvalidConfig)
		})
	}
}

func TestSetQuantizerRange(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			cfg := smallConfig(c)
			cfg.BitrateKbps = 5000
			enc := newEncoder(t, cfg)
			qs, ok := enc.(codec.QuantizerSetter)
			require.True(t, ok)
			top := 63
			if c == codec.H264 {
				top = 51
			}
			require.NoError(t, qs.SetQuantizerRange(top-4, top))
			coarse := averageSize(t, enc, video, 0, 12, 4)
			require.NoError(t, qs.SetQuantizerRange(4, 10))
			fine := averageSize(t, enc, video, 12, 12, 4)
			t.Logf("%s: average packet %.0f B at coarse quantisers, %.0f B at fine", c, coarse, fine)
			assert.Greater(t, fine, coarse*2)
			assert.Equal(t, 4, enc.Config().MinQuantizer)
			require.ErrorIs(t, qs.SetQuantizerRange(20, 10), codec.ErrInvalidConfig)
			require.ErrorIs(t, qs.SetQuantizerRange(0, top+1), codec.ErrInvalidConfig)
		})
	}
}

// TestSpeed covers libvpx, whose cpu-used the speed sets (OpenH264 ignores it): two speeds
// code the same pictures differently, both decodably, and SetSpeed switches mid-stream.
func TestSpeed(t *testing.T) {
	for _, c := range []codec.Codec{codec.VP8, codec.VP9} {
		if !slices.Contains(allCodecs, c) {
			continue
		}
		t.Run(string(c), func(t *testing.T) {
			streams := map[int][]byte{}
			for _, speed := range []int{2, 16} {
				cfg := smallConfig(c)
				cfg.Speed = speed
				enc := newEncoder(t, cfg)
				assert.Equal(t, speed, enc.Config().Speed)
				dec, err := codec.NewDecoder(c)
				require.NoError(t, err)
				defer dec.Close()
				for i := range 6 {
					pkt, err := enc.Encode(desktop(cfg.Width, cfg.Height, i, video), frameTime(i), i == 0)
					require.NoError(t, err)
					streams[speed] = append(streams[speed], pkt.Data...)
					if len(pkt.Data) > 0 {
						img, err := dec.Decode(pkt.Data)
						require.NoError(t, err)
						require.NotNil(t, img)
					}
				}
				ss, ok := enc.(codec.SpeedSetter)
				require.True(t, ok)
				require.NoError(t, ss.SetSpeed(8))
				assert.Equal(t, 8, enc.Config().Speed)
				pkt, err := enc.Encode(desktop(cfg.Width, cfg.Height, 6, video), frameTime(6), false)
				require.NoError(t, err)
				if len(pkt.Data) > 0 {
					_, err = dec.Decode(pkt.Data)
					require.NoError(t, err)
				}
				require.ErrorIs(t, ss.SetSpeed(17), codec.ErrInvalidConfig)
				assert.Equal(t, 8, enc.Config().Speed)
			}
			assert.NotEqual(t, streams[2], streams[16], "the speed changes how the encoder codes")
		})
	}
}

// TestMaxFrameRatioLimitsKeyframes covers libvpx only: OpenH264 has no per-frame size cap
// (see EncoderConfig.MaxFrameRatio); it is checked for frame skipping below.
func TestMaxFrameRatioLimitsKeyframes(t *testing.T) {
	for _, c := range []codec.Codec{codec.VP8, codec.VP9} {
		t.Run(string(c), func(t *testing.T) {
			sizes := map[bool]int{}
			for _, limited := range []bool{false, true} {
				cfg := smallConfig(c)
				cfg.BitrateKbps = 200
				if limited {
					cfg.MaxFrameRatio = 2
				}
				enc := newEncoder(t, cfg)
				// Settle on content, then force a keyframe and measure it.
				_ = averageSize(t, enc, video, 0, 10, 0)
				pkt, err := enc.Encode(desktop(320, 240, 10, video), frameTime(10), true)
				require.NoError(t, err)
				sizes[limited] = len(pkt.Data)
			}
			t.Logf("%s: keyframe %d B by default, %d B with MaxFrameRatio 2", c, sizes[false], sizes[true])
			assert.Less(t, sizes[true], sizes[false])
		})
	}
}

func TestMaxFrameRatioH264SkipsFrames(t *testing.T) {
	cfg := smallConfig(codec.H264)
	cfg.BitrateKbps = 200
	cfg.MaxFrameRatio = 2
	enc := newEncoder(t, cfg)
	skipped := 0
	for i := range 12 {
		pkt, err := enc.Encode(desktop(320, 240, i, video), frameTime(i), false)
		require.NoError(t, err)
		if len(pkt.Data) == 0 {
			skipped++
		}
	}
	// The first keyframe is far over 2 frames' budget; the encoder pays it back by skipping.
	assert.Positive(t, skipped)
}

func TestEncodeWrongPicture(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			enc := newEncoder(t, smallConfig(c))
			_, err := enc.Encode(desktop(160, 120, 0, still), 0, false)
			require.ErrorIs(t, err, codec.ErrSizeMismatch)
			_, err = enc.Encode(nil, 0, false)
			require.ErrorIs(t, err, codec.ErrSizeMismatch)
			full := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio444)
			_, err = enc.Encode(full, 0, false)
			require.ErrorIs(t, err, codec.ErrSizeMismatch)
			short := desktop(320, 240, 0, still)
			short.Cr = short.Cr[:len(short.Cr)/2]
			_, err = enc.Encode(short, 0, false)
			require.ErrorIs(t, err, codec.ErrSizeMismatch)
			// A sub-image of the right size at an even origin is fine.
			big := desktop(640, 480, 0, still)
			sub := big.SubImage(image.Rect(100, 60, 420, 300)).(*image.YCbCr)
			pkt, err := enc.Encode(sub, 0, false)
			require.NoError(t, err)
			assert.True(t, pkt.Keyframe)
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, c := range allCodecs {
		base := smallConfig(c)
		for name, mutate := range map[string]func(*codec.EncoderConfig){
			"odd width":      func(cfg *codec.EncoderConfig) { cfg.Width = 321 },
			"odd height":     func(cfg *codec.EncoderConfig) { cfg.Height = 241 },
			"zero size":      func(cfg *codec.EncoderConfig) { cfg.Width, cfg.Height = 0, 0 },
			"negative":       func(cfg *codec.EncoderConfig) { cfg.Width = -2 },
			"huge":           func(cfg *codec.EncoderConfig) { cfg.Width = 1 << 20 },
			"zero bitrate":   func(cfg *codec.EncoderConfig) { cfg.BitrateKbps = 0 },
			"zero fps":       func(cfg *codec.EncoderConfig) { cfg.FrameRate = 0 },
			"NaN fps":        func(cfg *codec.EncoderConfig) { cfg.FrameRate = math.NaN() },
			"keyframe":       func(cfg *codec.EncoderConfig) { cfg.KeyframeInterval = -1 },
			"threads":        func(cfg *codec.EncoderConfig) { cfg.Threads = -1 },
			"quantizer":      func(cfg *codec.EncoderConfig) { cfg.MaxQuantizer = 64 },
			"quantizer swap": func(cfg *codec.EncoderConfig) { cfg.MinQuantizer, cfg.MaxQuantizer = 40, 20 },
			"frame ratio":    func(cfg *codec.EncoderConfig) { cfg.MaxFrameRatio = -1 },
			"speed":          func(cfg *codec.EncoderConfig) { cfg.Speed = 17 },
		} {
			t.Run(string(c)+"/"+name, func(t *testing.T) {
				cfg := base
				mutate(&cfg)
				enc, err := codec.NewEncoder(cfg)
				require.ErrorIs(t, err, codec.ErrInvalidConfig)
				assert.Nil(t, enc)
			})
		}
	}
}

func TestUnknownCodec(t *testing.T) {
	cfg := smallConfig("AV1")
	enc, err := codec.NewEncoder(cfg)
	require.ErrorIs(t, err, codec.ErrUnsupported)
	assert.Nil(t, enc)
	assert.Contains(t, err.Error(), "AV1")
	dec, err := codec.NewDecoder("MPEG2")
	require.ErrorIs(t, err, codec.ErrUnsupported)
	assert.Nil(t, dec)
}

func TestDecodeGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			dec := newDecoder(t, c)
			_, err := dec.Decode(nil)
			require.ErrorIs(t, err, codec.ErrCorrupt)
			for range 20 {
				junk := make([]byte, 16+rng.IntN(2000))
				for i := range junk {
					junk[i] = byte(rng.Uint32())
				}
				img, err := dec.Decode(junk)
				require.ErrorIs(t, err, codec.ErrCorrupt)
				assert.Nil(t, img)
			}
			// The decoder still works on real data after garbage.
			enc := newEncoder(t, smallConfig(c))
			pkt, err := enc.Encode(desktop(320, 240, 0, still), 0, false)
			require.NoError(t, err)
			img, err := dec.Decode(pkt.Data)
			require.NoError(t, err)
			require.NotNil(t, img)
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(string(c), func(t *testing.T) {
			enc, err := codec.NewEncoder(smallConfig(c))
			require.NoError(t, err)
			require.NoError(t, enc.Close())
			require.NoError(t, enc.Close())
			_, err = enc.Encode(desktop(320, 240, 0, still), 0, false)
			require.ErrorIs(t, err, codec.ErrClosed)
			require.ErrorIs(t, enc.SetBitrate(500), codec.ErrClosed)
			require.ErrorIs(t, enc.SetFrameRate(10), codec.ErrClosed)
			dec, err := codec.NewDecoder(c)
			require.NoError(t, err)
			require.NoError(t, dec.Close())
			require.NoError(t, dec.Close())
			_, err = dec.Decode([]byte{0, 0, 0, 1, 0x67})
			require.ErrorIs(t, err, codec.ErrClosed)
		})
	}
}

func TestDecodeRefusesHugeVP8(t *testing.T) {
	enc := newEncoder(t, smallConfig(codec.VP8))
	pkt, err := enc.Encode(desktop(320, 240, 0, still), 0, false)
	require.NoError(t, err)
	require.True(t, pkt.Keyframe)
	huge := append([]byte(nil), pkt.Data...)
	huge[6], huge[7] = 0xff, 0x3f // width 16383 (RFC 6386, 9.1)
	huge[8], huge[9] = 0xff, 0x3f
	img, err := newDecoder(t, codec.VP8).Decode(huge)
	require.ErrorIs(t, err, codec.ErrCorrupt)
	assert.Nil(t, img)
}

// The H.264 stream is constrained baseline (profile_idc 66 with constraint_set1_flag), what
// WebRTC's profile-level-id 42e0xx asks for, in Annex B with the SPS first in a keyframe.
func TestH264ConstrainedBaseline(t *testing.T) {
	enc := newEncoder(t, smallConfig(codec.H264))
	pkt, err := enc.Encode(desktop(320, 240, 0, still), 0, false)
	require.NoError(t, err)
	require.True(t, pkt.Keyframe)
	require.Greater(t, len(pkt.Data), 8)
	assert.Equal(t, []byte{0, 0, 0, 1}, pkt.Data[:4], "Annex B start code")
	assert.Equal(t, byte(7), pkt.Data[4]&0x1f, "first NAL unit is an SPS")
	assert.Equal(t, byte(66), pkt.Data[5], "profile_idc baseline")
	assert.NotZero(t, pkt.Data[6]&0x40, "constraint_set1_flag")
}

// TestSetMaxFrameRatio covers VP8, which sessions use in video mode: a larger ratio set
// mid-stream lets a keyframe grow as one opened with it would, and a stream opened without
// the VBV cannot take one. (VP9 accepts the call, but its keyframe size did not follow.)
func TestSetMaxFrameRatio(t *testing.T) {
	for _, c := range []codec.Codec{codec.VP8} {
		t.Run(string(c), func(t *testing.T) {
			sizes := map[float64]int{}
			for _, ratio := range []float64{2, 8} {
				cfg := smallConfig(c)
				cfg.BitrateKbps = 200
				cfg.MaxFrameRatio = 2
				enc := newEncoder(t, cfg)
				_ = averageSize(t, enc, video, 0, 10, 0)
				fr, ok := enc.(codec.FrameRatioSetter)
				require.True(t, ok)
				require.NoError(t, fr.SetMaxFrameRatio(ratio))
				assert.InDelta(t, ratio, enc.Config().MaxFrameRatio, 1e-9)
				pkt, err := enc.Encode(desktop(320, 240, 10, video), frameTime(10), true)
				require.NoError(t, err)
				sizes[ratio] = len(pkt.Data)
				require.ErrorIs(t, fr.SetMaxFrameRatio(0), codec.ErrInvalidConfig)
				assert.InDelta(t, ratio, enc.Config().MaxFrameRatio, 1e-9, "a refused ratio leaves the old one")
			}
			assert.Greater(t, sizes[8], sizes[2])

			cfg := smallConfig(c)
			enc := newEncoder(t, cfg)
			require.ErrorIs(t, enc.(codec.FrameRatioSetter).SetMaxFrameRatio(4), codec.ErrInvalidConfig)
		})
	}
}

// TestSetScreenContentCodesSceneCut covers VP8 with the single-frame VBV: as screen content
// (libvpx's screen content mode 2) a frame whose every pixel changed is held smaller (or,
// when it overshoots far enough, dropped and the next coded at the coarsest quantiser);
// after SetScreenContent(false) the same cut gets more of its budget.
func TestSetScreenContentCodesSceneCut(t *testing.T) {
	cut := func(i int) *image.YCbCr {
		p := desktop(320, 240, i, still)
		for j := range p.Y {
			p.Y[j] = 255 - p.Y[j]
		}
		return p
	}
	sizes := map[bool]int{}
	for _, screen := range []bool{true, false} {
		cfg := smallConfig(codec.VP8)
		cfg.BitrateKbps = 300
		cfg.MaxFrameRatio = 2
		enc := newEncoder(t, cfg)
		require.NoError(t, enc.(codec.ContentSetter).SetScreenContent(screen))
		assert.Equal(t, screen, enc.Config().ScreenContent)
		for i := range 15 {
			_, err := enc.Encode(desktop(320, 240, i, still), frameTime(i), i == 0)
			require.NoError(t, err)
		}
		pkt, err := enc.Encode(cut(15), frameTime(15), false)
		require.NoError(t, err)
		sizes[screen] = len(pkt.Data)
	}
	t.Logf("scene cut: %d B as screen content, %d B as video", sizes[true], sizes[false])
	assert.Greater(t, sizes[false], sizes[true])
}

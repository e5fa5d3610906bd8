package adapt

import (
	"strings"
	"sync"
	"testing"

	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	swVP8  = EncoderInfo{Name: "libvpx-vp8", Codec: codec.VP8}
	swVP9  = EncoderInfo{Name: "libvpx-vp9", Codec: codec.VP9}
	swH264 = EncoderInfo{Name: "openh264", Codec: codec.H264}
	hwH264 = EncoderInfo{Name: "nvenc-h264", Codec: codec.H264, Hardware: true, MaxSessions: 2, MaxWidth: 4096, MaxHeight: 4096}
)

func TestNegotiationMatrix(t *testing.T) {
	prefer := []codec.Codec{codec.H264, codec.VP9, codec.VP8}
	browser := ClientCaps{Decoders: []DecoderCap{{Codec: codec.VP8}, {Codec: codec.VP9}, {Codec: codec.H264}}}
	vp8Only := ClientCaps{Decoders: []DecoderCap{{Codec: codec.VP8}}}
	hwVP9Client := ClientCaps{Decoders: []DecoderCap{{Codec: codec.VP8}, {Codec: codec.VP9, Hardware: true}, {Codec: codec.H264}}}
	smallH264 := ClientCaps{Decoders: []DecoderCap{{Codec: codec.H264, Hardware: true, MaxWidth: 1280, MaxHeight: 720}, {Codec: codec.VP8}}}

	for _, tc := range []struct {
		name     string
		encoders []EncoderInfo
		client   ClientCaps
		w, h     int
		want     string // encoder name, or "" for no common codec
	}{
		{"software only: preference decides", []EncoderInfo{swVP8, swVP9, swH264}, browser, 1920, 1080, "openh264"},
		{"client decodes VP8 only", []EncoderInfo{swVP8, swVP9, swH264}, vp8Only, 1920, 1080, "libvpx-vp8"},
		{"hardware encoder wins", []EncoderInfo{swVP8, swH264, hwH264}, browser, 1920, 1080, "nvenc-h264"},
		{"hardware decode beats preference", []EncoderInfo{swVP8, swVP9, swH264}, hwVP9Client, 1920, 1080, "libvpx-vp9"},
		{"hardware encode beats hardware decode", []EncoderInfo{swVP9, hwH264}, hwVP9Client, 1920, 1080, "nvenc-h264"},
		{"decoder too small for the screen", []EncoderInfo{swVP8, swH264}, smallH264, 1920, 1080, "libvpx-vp8"},
		{"decoder large enough", []EncoderInfo{swVP8, swH264}, smallH264, 1280, 720, "openh264"},
		{"encoder too small for the screen", []EncoderInfo{hwH264, swVP8}, browser, 5120, 2880, "libvpx-vp8"},
		{"nothing in common", []EncoderInfo{swVP9, swH264}, vp8Only, 1920, 1080, ""},
		{"client with no decoders", []EncoderInfo{swVP8}, ClientCaps{}, 1920, 1080, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry(prefer, tc.encoders...)
			choice, err := r.Choose(tc.client, tc.w, tc.h)
			if tc.want == "" {
				require.ErrorIs(t, err, ErrNoCommonCodec)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, choice.Encoder)
			assert.True(t, strings.HasPrefix(choice.Reasons[0], "chose "+tc.want), choice.Reasons)
			assert.Equal(t, tc.w, choice.Width)
		})
	}
}

func TestEncoderSessionLimit(t *testing.T) {
	r := NewRegistry([]codec.Codec{codec.H264, codec.VP8}, hwH264, swVP8)
	client := ClientCaps{Decoders: []DecoderCap{{Codec: codec.H264}, {Codec: codec.VP8}}}
	a, err := r.Choose(client, 1920, 1080)
	require.NoError(t, err)
	b, err := r.Choose(client, 1920, 1080)
	require.NoError(t, err)
	c, err := r.Choose(client, 1920, 1080)
	require.NoError(t, err)
	assert.Equal(t, "nvenc-h264", a.Encoder)
	assert.Equal(t, "nvenc-h264", b.Encoder)
	assert.Equal(t, "libvpx-vp8", c.Encoder, "the hardware encoder is full")
	assert.Contains(t, strings.Join(c.Reasons, "\n"), "nvenc-h264: all 2 sessions in use")

	a.Release()
	a.Release() // idempotent
	assert.Equal(t, 1, r.InUse("nvenc-h264"))
	d, err := r.Choose(client, 1920, 1080)
	require.NoError(t, err)
	assert.Equal(t, "nvenc-h264", d.Encoder)
}

func TestConcurrentChoicesRespectLimits(t *testing.T) {
	r := NewRegistry(nil, hwH264)
	client := ClientCaps{Decoders: []DecoderCap{{Codec: codec.H264}}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 20 {
		wg.Go(func() {
			if _, err := r.Choose(client, 1920, 1080); err == nil {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 2, granted)
}

func TestParseOffer(t *testing.T) {
	sdp := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103 45\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n" +
		"a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=2\r\n" +
		"a=rtpmap:99 VP9/90000\r\na=fmtp:99 profile-id=0\r\n" +
		"a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=0;profile-level-id=42e01f\r\n" +
		"a=rtpmap:103 H264/90000\r\na=fmtp:103 packetization-mode=1;profile-level-id=42e01f\r\n" +
		"a=rtpmap:45 AV1/90000\r\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
	got, err := ParseOffer(sdp)
	require.NoError(t, err)
	assert.Equal(t, []DecoderCap{{Codec: codec.VP8}, {Codec: codec.VP9}, {Codec: codec.H264}}, got.Decoders)
	assert.True(t, got.Video)
	assert.True(t, got.Data)
	_, err = ParseOffer("garbage\na=rtpmap:\na=rtpmap:1")
	assert.Error(t, err)
}

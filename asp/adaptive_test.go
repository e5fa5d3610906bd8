package asp_test

import (
	"context"
	"encoding/json"
	"image"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
)

// fakeEstimator is a bandwidth estimator the test sets.
type fakeEstimator struct{ bps atomic.Int64 }

func (f *fakeEstimator) GetTargetBitrate() int { return int(f.bps.Load()) }

// movingSource changes the whole screen every frame while moving is set (a video) and
// nothing otherwise; it paces itself at fps.
type movingSource struct {
	w, h   int
	fps    int
	moving atomic.Bool
	mu     sync.Mutex
	img    *image.YCbCr
	n      int
	last   time.Time
}

func newMovingSource(w, h, fps int) *movingSource {
	s := &movingSource{w: w, h: h, fps: fps, img: image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)}
	s.moving.Store(true)
	return s
}

func (s *movingSource) Next(ctx context.Context) (capture.Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		wait := time.Until(s.last.Add(time.Second / time.Duration(s.fps)))
		if s.n == 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return capture.Frame{}, ctx.Err()
		case <-t.C:
		}
		s.last = time.Now()
		if s.n > 0 && !s.moving.Load() {
			continue
		}
		s.n++
		for y := 0; y < s.h; y++ {
			row := s.img.Y[y*s.img.YStride:][:s.w]
			for x := range row {
				row[x] = byte(x + y + 3*s.n)
			}
		}
		var damage []image.Rectangle
		if s.n > 1 {
			damage = []image.Rectangle{s.img.Rect}
		}
		return capture.Frame{Image: s.img, Damage: damage, Captured: s.last, Seq: uint64(s.n)}, nil
	}
}
func (s *movingSource) Size() (int, int) { return s.w, s.h }
func (s *movingSource) Close() error     { return nil }

func sourceServer(t *testing.T, src capture.Source, opts ...asp.Option) (*asp.Server, *prometheus.Registry, string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	open := func(context.Context) (*asp.Desktop, error) { return &asp.Desktop{Source: src}, nil }
	all := append([]asp.Option{asp.WithRegistry(reg), asp.WithSettingEngine(asp.LoopbackOnly),
		asp.WithStatsInterval(100 * time.Millisecond)}, opts...)
	srv, err := asp.NewServer(open, all...)
	require.NoError(t, err)
	return srv, reg, newHTTPServer(t, srv).URL
}

// A falling estimate moves the encoder's target: bitrate at once, then frame rate and size
// down the ladder (the picture the client decodes shrinks); a rising one raises the bitrate.
func TestEstimateMovesEncoderTarget(t *testing.T) {
	needCodec(t)
	est := &fakeEstimator{}
	est.bps.Store(3_000_000)
	src := newMovingSource(640, 480, 20)
	srv, reg, url := sourceServer(t, src, asp.WithEstimator(func() asp.Estimator { return est }),
		asp.WithBandwidth(20, 1500, 20000))
	c := dial(t, url)
	defer c.Close()
	waitFrames(t, c, 3)
	require.Eventually(t, func() bool { return c.Stats().TargetKbps >= 1000 }, 5*time.Second, 20*time.Millisecond,
		"target follows a healthy estimate: %+v", c.Stats())

	// 40 kbit/s: 85% planned, minus the control channel's stats, leaves video about 30
	// kbit/s, the 3/4-size rung at 640x480.
	est.bps.Store(40_000)
	require.Eventually(t, func() bool {
		st := c.Stats()
		return st.TargetKbps <= 40 && st.VideoWidth == 480 && st.VideoHeight == 360 && st.TargetFPS == 15
	}, 5*time.Second, 20*time.Millisecond, "target after the estimate fell: %+v", c.Stats())
	assert.LessOrEqual(t, metricValue(t, reg, "shadowless_asp_bwe_bits_per_second", ""), 40_000.0)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-c.Frames():
			if f.Image.Rect.Dx() == 480 {
				assert.Equal(t, 360, f.Image.Rect.Dy())
				goto scaled
			}
		case <-deadline:
			t.Fatal("no downscaled frame reached the client")
		}
	}
scaled:
	assert.Equal(t, 640, c.Welcome().Width, "the screen size stays (input maps to it)")
	est.bps.Store(5_000_000)
	require.Eventually(t, func() bool { return c.Stats().TargetKbps >= 1000 }, 5*time.Second, 20*time.Millisecond,
		"bitrate rises at once: %+v", c.Stats())
	infos := srv.SessionList()
	require.Len(t, infos, 1)
	assert.Equal(t, int64(5_000_000), infos[0].EstimateBps)
}

// A burst of keyframe requests becomes at most one keyframe per 300 ms, and a still screen
// answers a request too.
func TestKeyframeRequestsAreRateLimited(t *testing.T) {
	needCodec(t)
	src := &stillSource{img: image.NewYCbCr(image.Rect(0, 0, 160, 120), image.YCbCrSubsampleRatio420)}
	_, reg, url := sourceServer(t, src, asp.WithRefine(0))
	c := dial(t, url)
	defer c.Close()
	waitFrames(t, c, 1)
	keys := func() float64 {
		return metricValueLabels(t, &fixture{reg: reg}, "shadowless_asp_frames_total", "kind", "key")
	}
	require.Eventually(t, func() bool { return keys() == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(350 * time.Millisecond)
	start := time.Now()
	for range 30 { // a loss burst: 30 requests in about 150 ms
		require.NoError(t, c.RequestKeyframe())
		time.Sleep(5 * time.Millisecond)
	}
	require.Eventually(t, func() bool {
		return metricValue(t, reg, "shadowless_asp_keyframe_requests_total", "control") == 30
	}, 5*time.Second, 10*time.Millisecond)
	time.Sleep(time.Until(start.Add(700 * time.Millisecond)))
	sent := keys() - 1
	// The first request is served at once (the still screen's picture is encoded again),
	// the rest wait for the interval: one more. Three allows one scheduling hiccup; thirty
	// would be a storm.
	assert.GreaterOrEqual(t, sent, 1.0, "a still screen answers a keyframe request")
	assert.LessOrEqual(t, sent, 3.0, "keyframes sent for 30 requests in 150 ms")
}

// A screen that changes all over at 20 fps is video after about a second; still again, it
// returns to office.
func TestSceneModeFollowsContent(t *testing.T) {
	needCodec(t)
	src := newMovingSource(160, 120, 20)
	_, reg, url := sourceServer(t, src)
	c := dial(t, url)
	defer c.Close()
	require.Eventually(t, func() bool { return c.Stats().Mode == asp.SceneMode(2) }, 6*time.Second, 20*time.Millisecond,
		"video mode: %+v", c.Stats())
	require.Eventually(t, func() bool { return metricValue(t, reg, "shadowless_asp_scene_sessions", "video") == 1 },
		2*time.Second, 20*time.Millisecond)
	src.moving.Store(false)
	require.Eventually(t, func() bool { return c.Stats().Mode == asp.SceneMode(1) }, 8*time.Second, 20*time.Millisecond,
		"back to office: %+v", c.Stats())
	assert.Equal(t, "office", c.Stats().Mode.String())
}

// While the desktop floods the clipboard, cursor updates still arrive at once, and the
// clipboard keeps to the data share of the budget.
func TestCursorGetsThroughClipboardFlood(t *testing.T) {
	needCodec(t)
	f := newFixture(t, asp.WithBandwidth(150, 1000, 1000), asp.WithEstimator(func() asp.Estimator {
		e := &fakeEstimator{}
		e.bps.Store(1_000_000)
		return e
	}))
	c := dial(t, f.http.URL)
	defer c.Close()
	waitFrames(t, c, 2)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait() // the flood stops before the session closes the clipboard
	defer cancel()
	big := strings.Repeat("x", asp.MaxClipboardBytes)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			select {
			case f.clipboard.changes <- big[:len(big)-i%7]:
			case <-ctx.Done():
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // the flood is on
	startBytes := metricValue(t, f.reg, "shadowless_asp_channel_bytes_total", "clipboard")
	start := time.Now()
	var worst time.Duration
	for i := range 20 {
		sent := time.Now()
		f.cursors <- capture.Cursor{X: i, Y: i, Visible: true}
		select {
		case <-c.Cursors():
		case <-time.After(2 * time.Second):
			t.Fatalf("cursor update %d did not arrive", i)
		}
		worst = max(worst, time.Since(sent))
		time.Sleep(50 * time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	clip := metricValue(t, f.reg, "shadowless_asp_channel_bytes_total", "clipboard") - startBytes
	assert.Less(t, worst, 300*time.Millisecond, "slowest cursor update behind the flood")
	// 40% of 1 Mbit/s is 50 kB/s; allow the bucket's burst and a message in flight.
	assert.Less(t, clip/secs, 50_000*1.3+float64(2*asp.MaxClipboardBytes)/secs, "clipboard bytes per second")
	assert.Positive(t, clip, "the clipboard still moves")
}

// Negotiation picks an encoder from the registry for the client's decoders and records the
// choice and why in Welcome and /api/sessions.
func TestNegotiationRecorded(t *testing.T) {
	needCodec(t)
	av := codec.Available()
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	last := av[len(av)-1]
	caps := &asp.Caps{ScreenWidth: 2560, ScreenHeight: 1440, DPI: 144, InputDevices: []string{"keyboard", "touch"},
		Decoders: []asp.DecoderInfo{{Codec: string(last), Hardware: true}}}
	for _, cd := range av[:len(av)-1] {
		caps.Decoders = append(caps.Decoders, asp.DecoderInfo{Codec: string(cd)})
	}
	c, err := client.Dial(ctx, f.http.URL, client.Options{SettingEngine: asp.LoopbackOnly, Caps: caps})
	require.NoError(t, err)
	defer c.Close()
	// A hardware decoder outranks the server's codec preference.
	assert.Equal(t, string(last), c.Welcome().Codec)
	assert.NotEmpty(t, c.Welcome().Encoder)
	res, err := http.Get(f.http.URL + "/api/sessions")
	require.NoError(t, err)
	defer res.Body.Close()
	var list []asp.SessionInfo
	require.NoError(t, json.NewDecoder(res.Body).Decode(&list))
	require.Len(t, list, 1)
	s := list[0]
	assert.Equal(t, string(last), s.Codec)
	assert.Equal(t, c.Welcome().Encoder, s.Encoder)
	assert.True(t, s.HardwareDecode)
	require.NotEmpty(t, s.Reasons)
	assert.Contains(t, s.Reasons[0], "chose "+s.Encoder)
	assert.Equal(t, 144, s.Client.DPI)
	assert.Equal(t, []string{"keyboard", "touch"}, s.Client.InputDevices)
	assert.Equal(t, "office", s.Mode)
	assert.Positive(t, s.TargetKbps)
}

// A client whose UDP is blocked (TCP candidates only) connects over ICE-TCP.
func TestICETCPFallback(t *testing.T) {
	needCodec(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	f := newFixture(t, asp.WithICETCP(ln))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tcpOnly := func(se *webrtc.SettingEngine) {
		asp.LoopbackOnly(se)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	c, err := client.Dial(ctx, f.http.URL, client.Options{SettingEngine: tcpOnly})
	require.NoError(t, err)
	defer c.Close()
	waitFrames(t, c, 3)
	assert.Equal(t, "tcp", c.Network())

	// A client with UDP keeps using UDP.
	u := dial(t, f.http.URL)
	defer u.Close()
	waitFrames(t, u, 2)
	assert.Equal(t, "udp", u.Network())
}

package asp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/input"
)

// recorder is an input.Injector that remembers what it got.
type recorder struct {
	mu     sync.Mutex
	events []input.Event
	closed bool
}

func (r *recorder) Inject(_ context.Context, ev input.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

func (r *recorder) snapshot() []input.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]input.Event(nil), r.events...)
}

// memClipboard is a clipboard.Clipboard in memory.
type memClipboard struct {
	mu      sync.Mutex
	text    string
	changes chan string
	closed  bool
}

func newMemClipboard() *memClipboard { return &memClipboard{changes: make(chan string, 4)} }

func (m *memClipboard) Changes() <-chan string { return m.changes }
func (m *memClipboard) Set(_ context.Context, text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.text = text
	return nil
}
func (m *memClipboard) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.text
}
func (m *memClipboard) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.changes)
	}
	return nil
}

// failingSource is a capture.Source whose display goes away when told.
type failingSource struct {
	capture.Source
	gone chan struct{}
}

func (f *failingSource) Next(ctx context.Context) (capture.Frame, error) {
	select {
	case <-f.gone:
		return capture.Frame{}, errors.New("x11: connection to :99 lost: EOF")
	default:
	}
	return f.Source.Next(ctx)
}

type fixture struct {
	srv       *asp.Server
	http      *httptest.Server
	reg       *prometheus.Registry
	injector  *recorder
	clipboard *memClipboard
	gone      chan struct{}
	cursors   chan capture.Cursor

	mu        sync.Mutex
	opened    int
	synthetic *capture.Synthetic
}

// dropDisplay makes the display of the latest session go away.
func (f *fixture) dropDisplay() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.gone)
}

func needCodec(t *testing.T) codec.Codec {
	t.Helper()
	av := codec.Available()
	if len(av) == 0 {
		t.Fatal("no codec compiled in (cgo with libvpx/openh264 is required)")
	}
	return av[0]
}

func newFixture(t *testing.T, opts ...asp.Option) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry(), gone: make(chan struct{}), cursors: make(chan capture.Cursor, 4)}
	open := func(context.Context) (*asp.Desktop, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.opened++
		if f.opened > 1 {
			f.gone = make(chan struct{}) // each session has its own display
		}
		f.injector = &recorder{}
		f.clipboard = newMemClipboard()
		f.synthetic = capture.NewSynthetic(320, 240, capture.SyntheticOptions{FPS: 30})
		src := &failingSource{Source: f.synthetic, gone: f.gone}
		return &asp.Desktop{Source: src, Injector: f.injector, Clipboard: f.clipboard, Cursors: f.cursors}, nil
	}
	all := append([]asp.Option{asp.WithRegistry(f.reg), asp.WithSettingEngine(asp.LoopbackOnly),
		asp.WithStatsInterval(200 * time.Millisecond)}, opts...)
	srv, err := asp.NewServer(open, all...)
	require.NoError(t, err)
	f.srv = srv
	f.http = httptest.NewServer(srv)
	t.Cleanup(func() {
		f.http.Close()
		require.NoError(t, srv.Close())
	})
	return f
}

func dial(t *testing.T, url string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{SettingEngine: asp.LoopbackOnly})
	require.NoError(t, err)
	return c
}

func waitFrames(t *testing.T, c *client.Conn, n int) []client.Frame {
	t.Helper()
	var out []client.Frame
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case f, ok := <-c.Frames():
			require.True(t, ok, "frames channel closed early: %v", c.Err())
			out = append(out, f)
		case <-timeout:
			t.Fatalf("got %d of %d frames", len(out), n)
		}
	}
	return out
}

func TestSessionSynthetic(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	needCodec(t)
	f := newFixture(t)
	c := dial(t, f.http.URL)
	defer c.Close()

	w := c.Welcome()
	assert.Equal(t, 320, w.Width)
	assert.Equal(t, 240, w.Height)
	assert.Equal(t, uint16(asp.ProtocolVersion), w.Version)
	assert.NotZero(t, w.Features&asp.FeatureInput)

	frames := waitFrames(t, c, 10)
	for _, fr := range frames {
		assert.Equal(t, 320, fr.Image.Rect.Dx())
		assert.Equal(t, 240, fr.Image.Rect.Dy())
		assert.False(t, fr.Received.IsZero())
	}

	// Input reaches the injector in order.
	sent := []input.Event{
		{Kind: input.MouseMove, X: 10, Y: 20},
		{Kind: input.ButtonDown, Button: 1, X: 10, Y: 20},
		{Kind: input.ButtonUp, Button: 1, X: 10, Y: 20},
		{Kind: input.KeyDown, Keysym: 0x01000000 + 'ж'},
		{Kind: input.KeyUp, Keysym: 0x01000000 + 'ж'},
		{Kind: input.Wheel, DY: 2},
	}
	for _, ev := range sent {
		require.NoError(t, c.SendInput(ev))
	}
	require.Eventually(t, func() bool { return len(f.injector.snapshot()) == len(sent) }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, sent, f.injector.snapshot())

	// Clipboard both ways.
	require.NoError(t, c.SetClipboard("from client ✓"))
	require.Eventually(t, func() bool { return f.clipboard.get() == "from client ✓" }, 5*time.Second, 10*time.Millisecond)
	f.clipboard.changes <- "from desktop ✓"
	select {
	case text := <-c.Clipboard():
		assert.Equal(t, "from desktop ✓", text)
	case <-time.After(5 * time.Second):
		t.Fatal("desktop clipboard did not reach the client")
	}

	// Cursor shape and position.
	img := imageNRGBA(4, 4)
	f.cursors <- capture.Cursor{X: 5, Y: 6, Visible: true, Image: img, HotX: 1, HotY: 2, Serial: 42}
	f.cursors <- capture.Cursor{X: 7, Y: 8, Visible: true, Serial: 42}
	var got []asp.CursorMessage
	for len(got) < 2 {
		select {
		case m := <-c.Cursors():
			got = append(got, m)
		case <-time.After(5 * time.Second):
			t.Fatal("cursor updates did not arrive")
		}
	}
	require.NotNil(t, got[0].Shape)
	assert.Equal(t, asp.FormatPNG, got[0].Shape.Format)
	assert.Equal(t, 4, got[0].Shape.Width)
	assert.Equal(t, 1, got[0].Shape.HotX)
	assert.Equal(t, 2, got[0].Shape.HotY)
	assert.Nil(t, got[1].Shape)
	assert.Equal(t, 7, got[1].X)

	// Stats arrive on control.
	require.Eventually(t, func() bool { return c.Stats().Frames > 0 }, 5*time.Second, 20*time.Millisecond)

	// Malformed messages are dropped and counted; the session stays up.
	require.NoError(t, c.Send(asp.ChannelInput, []byte{0xee, 1, 2}))
	require.NoError(t, c.Send(asp.ChannelClipboard, []byte{1, 0xff}))
	require.NoError(t, c.Send(asp.ChannelControl, []byte{}))
	require.NoError(t, c.Send(asp.ChannelCursor, []byte{1}))
	require.Eventually(t, func() bool {
		return metricValue(t, f.reg, "shadowless_asp_malformed_messages_total", "input") == 1 &&
			metricValue(t, f.reg, "shadowless_asp_malformed_messages_total", "clipboard") == 1 &&
			metricValue(t, f.reg, "shadowless_asp_malformed_messages_total", "control") == 1 &&
			metricValue(t, f.reg, "shadowless_asp_malformed_messages_total", "cursor") == 1
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, c.SendInput(input.Event{Kind: input.KeyDown, Keysym: 'q'}))
	require.Eventually(t, func() bool { return len(f.injector.snapshot()) == len(sent)+1 }, 5*time.Second, 10*time.Millisecond)
	waitFrames(t, c, 3)
	assert.Equal(t, 1, f.srv.Sessions())

	// A keyframe request on control is honoured.
	require.NoError(t, c.RequestKeyframe())

	// /metrics shows the counters.
	res, err := http.Get(f.http.URL + "/metrics")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	res.Body.Close()
	for _, name := range []string{"shadowless_asp_sessions 1", "shadowless_asp_frames_total", "shadowless_asp_encode_duration_seconds",
		"shadowless_asp_malformed_messages_total", "shadowless_asp_video_bitrate_bits_per_second"} {
		assert.Contains(t, buf.String(), name)
	}

	// The client leaving frees everything on the server.
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return f.srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
	f.injector.mu.Lock()
	assert.True(t, f.injector.closed, "injector closed")
	f.injector.mu.Unlock()
	assert.True(t, f.clipboard.closed)
	f.http.Close()
	require.NoError(t, f.srv.Close())
}

func TestDisplayGoneEndsSession(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	needCodec(t)
	f := newFixture(t)
	c := dial(t, f.http.URL)
	defer c.Close()
	waitFrames(t, c, 2)
	f.dropDisplay()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session did not end when the display went away")
	}
	var bye *client.ByeError
	require.ErrorAs(t, c.Err(), &bye)
	assert.Equal(t, asp.ByeDisplayGone, bye.Code)
	assert.Contains(t, bye.Reason, "connection to :99 lost")
	require.Eventually(t, func() bool { return f.srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, c.Close())
	f.http.Close()
	require.NoError(t, f.srv.Close())
}

func TestBadSignalling(t *testing.T) {
	f := newFixture(t)
	post := func(ct, body string) (int, string) {
		res, err := http.Post(f.http.URL+"/api/offer", ct, strings.NewReader(body))
		require.NoError(t, err)
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		return res.StatusCode, buf.String()
	}
	cases := []struct {
		ct, body, want string
		code           int
	}{
		{"application/json", "not json", "not JSON", 400},
		{"application/json", `{"type":"answer","sdp":"v=0"}`, `want {\"type\":\"offer\"`, 400},
		{"application/json", `{"type":"offer","sdp":"garbage"}`, "does not parse", 400},
		{"text/plain", `{}`, "content type", 415},
		{"application/json", `{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"}`, "no video section", 400},
	}
	for _, tc := range cases {
		code, body := post(tc.ct, tc.body)
		assert.Equal(t, tc.code, code, body)
		assert.Contains(t, body, `"error"`)
		assert.Contains(t, body, tc.want)
	}
	res, err := http.Get(f.http.URL + "/api/offer")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)

	// An offer without a codec the server has.
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	defer pc.Close()
	_, err = pc.CreateDataChannel("control", nil)
	require.NoError(t, err)
	offer, err := pc.CreateOffer(nil)
	require.NoError(t, err)
	_, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	require.NoError(t, err)
	offer, err = pc.CreateOffer(nil)
	require.NoError(t, err)
	sdp := strings.NewReplacer("VP8", "XX8", "VP9", "XX9", "H264", "XX264", "AV1", "XX1").Replace(offer.SDP)
	body, err := json.Marshal(map[string]string{"type": "offer", "sdp": sdp})
	require.NoError(t, err)
	code, msg := post("application/json", string(body))
	assert.Equal(t, 400, code)
	assert.Contains(t, msg, "no common video codec")
	assert.Equal(t, 0, f.srv.Sessions())
	assert.Equal(t, 7.0, metricValue(t, f.reg, "shadowless_asp_offers_total", "bad_request"))
}

// metricValue returns the value of the counter or gauge name whose (only) label has the
// given value; "" matches a metric without labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			lv := ""
			if len(m.GetLabel()) > 0 {
				lv = m.GetLabel()[0].GetValue()
			}
			if lv != label {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func imageNRGBA(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	return img
}

func newHTTPServer(t testing.TB, srv *asp.Server) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	return hs
}

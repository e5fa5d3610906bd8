package asp_test

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
)

func TestEveryCodecStreams(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	needCodec(t)
	for _, cd := range codec.Available() {
		t.Run(string(cd), func(t *testing.T) {
			f := newFixture(t, asp.WithCodecs(cd))
			c := dial(t, f.http.URL)
			defer c.Close()
			assert.Equal(t, string(cd), c.Welcome().Codec)
			frames := waitFrames(t, c, 5)
			assert.Equal(t, 240, frames[4].Image.Rect.Dy())
			assert.Zero(t, c.Counters().DecodeErrors, "decode errors")
		})
	}
}

func TestCodecChoiceFollowsServerPreferenceAndOffer(t *testing.T) {
	av := codec.Available()
	if len(av) < 2 {
		t.Fatalf("need two codecs compiled in, have %v", av)
	}
	// The server prefers av[0] but the client offers only av[1].
	f := newFixture(t, asp.WithCodecs(av[0], av[1]))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, f.http.URL, client.Options{SettingEngine: asp.LoopbackOnly, Codecs: []codec.Codec{av[1]}})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, string(av[1]), c.Welcome().Codec)
	waitFrames(t, c, 2)
}

func TestResizeReachesClient(t *testing.T) {
	needCodec(t)
	f := newFixture(t)
	c := dial(t, f.http.URL)
	defer c.Close()
	waitFrames(t, c, 2)
	f.mu.Lock()
	f.synthetic.Resize(400, 300)
	f.mu.Unlock()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case fr := <-c.Frames():
			if fr.Image.Rect.Dx() == 400 {
				assert.Equal(t, 300, fr.Image.Rect.Dy())
				require.Eventually(t, func() bool { return c.Welcome().Width == 400 && c.Welcome().Height == 300 },
					5*time.Second, 10*time.Millisecond, "resize message")
				return
			}
		case <-timeout:
			t.Fatal("no frame at the new size")
		}
	}
}

func TestKeyframeRequest(t *testing.T) {
	needCodec(t)
	f := newFixture(t)
	c := dial(t, f.http.URL)
	defer c.Close()
	waitFrames(t, c, 3)
	keys := func() float64 { return metricValueLabels(t, f, "shadowless_asp_frames_total", "kind", "key") }
	before := keys()
	require.NoError(t, c.RequestKeyframe())
	require.Eventually(t, func() bool {
		return metricValue(t, f.reg, "shadowless_asp_keyframe_requests_total", "control") == 1 && keys() > before
	}, 5*time.Second, 10*time.Millisecond)
}

func TestVersionMismatchGetsBye(t *testing.T) {
	needCodec(t)
	f := newFixture(t)
	c := dial(t, f.http.URL)
	defer c.Close()
	require.NoError(t, c.Send(asp.ChannelControl, asp.Hello{Version: 99, Agent: "future"}.Append(nil)))
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no bye")
	}
	var bye *client.ByeError
	require.ErrorAs(t, c.Err(), &bye)
	assert.Equal(t, asp.ByeVersion, bye.Code)
	assert.Contains(t, bye.Reason, "version 99")
}

func TestClipboardPolicyDenies(t *testing.T) {
	needCodec(t)
	policy := func(_ context.Context, _ asp.Direction, text string) error {
		if text == "secret" {
			return asp.ErrClipboardDenied
		}
		return nil
	}
	f := newFixture(t, asp.WithClipboardPolicy(policy))
	c := dial(t, f.http.URL)
	defer c.Close()
	require.NoError(t, c.SetClipboard("secret"))
	require.NoError(t, c.SetClipboard("public"))
	require.Eventually(t, func() bool { return f.clipboard.get() == "public" }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1.0, metricValue(t, f.reg, "shadowless_asp_clipboard_denied_total", "from_client"))

	f.clipboard.changes <- "secret"
	f.clipboard.changes <- "shared"
	select {
	case got := <-c.Clipboard():
		assert.Equal(t, "shared", got, "the denied text never arrives")
	case <-time.After(5 * time.Second):
		t.Fatal("allowed text did not arrive")
	}
	assert.Equal(t, 1.0, metricValue(t, f.reg, "shadowless_asp_clipboard_denied_total", "to_client"))
}

func TestMaxSessions(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	needCodec(t)
	f := newFixture(t, asp.WithMaxSessions(1))
	c := dial(t, f.http.URL)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := client.Dial(ctx, f.http.URL, client.Options{SettingEngine: asp.LoopbackOnly})
	var se *client.SignalError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 503, se.Status)
	assert.Contains(t, se.Message, "full")
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return f.srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
	f.http.Close()
	require.NoError(t, f.srv.Close())
}

// metricValueLabels is metricValue for a metric with several labels: it sums the series
// whose label name has value.
func metricValueLabels(t *testing.T, f *fixture, name, label, value string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// stillSource yields one picture and then nothing: a screen that changed once.
type stillSource struct {
	img  *image.YCbCr
	sent bool
}

func (s *stillSource) Next(ctx context.Context) (capture.Frame, error) {
	if !s.sent {
		s.sent = true
		return capture.Frame{Image: s.img, Captured: time.Now(), Seq: 1}, nil
	}
	<-ctx.Done()
	return capture.Frame{}, ctx.Err()
}
func (s *stillSource) Size() (int, int) { return s.img.Rect.Dx(), s.img.Rect.Dy() }
func (s *stillSource) Close() error     { return nil }

func TestStillScreenIsRefined(t *testing.T) {
	needCodec(t)
	reg := prometheus.NewRegistry()
	open := func(context.Context) (*asp.Desktop, error) {
		return &asp.Desktop{Source: &stillSource{img: image.NewYCbCr(image.Rect(0, 0, 160, 120), image.YCbCrSubsampleRatio420)}}, nil
	}
	srv, err := asp.NewServer(open, asp.WithRegistry(reg), asp.WithSettingEngine(asp.LoopbackOnly),
		asp.WithRefine(50*time.Millisecond))
	require.NoError(t, err)
	hs := newHTTPServer(t, srv)
	c := dial(t, hs.URL)
	defer c.Close()
	frames := waitFrames(t, c, 2) // the change, then one refinement
	assert.Less(t, frames[1].Received.Sub(frames[0].Received), time.Second)
	refined := 0.0
	require.Eventually(t, func() bool {
		f := &fixture{reg: reg}
		refined = metricValueLabels(t, f, "shadowless_asp_frames_total", "kind", "refine")
		return refined == 1
	}, 5*time.Second, 10*time.Millisecond)
	select { // and then nothing: a still screen costs nothing
	case f := <-c.Frames():
		t.Fatalf("unexpected frame %d after the refinement", f.Seq)
	case <-time.After(700 * time.Millisecond):
	}
}

package asp_test

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/internal/xtestapp"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// BenchmarkStream measures frames per second sustained through the whole pipeline on this
// machine, unpaced: synthetic capture (every frame changes, as fast as the encoder takes them) → encode → RTP over loopback WebRTC →
// reassembly → decode in the Go client. One op is one decoded frame. Run e.g. with
//
//	go test ./asp -run '^$' -bench Stream -benchtime 90x
func BenchmarkStream(b *testing.B) {
	for _, size := range []struct{ w, h int }{{1280, 720}, {1920, 1080}} {
		for _, cd := range codec.Available() {
			b.Run(fmt.Sprintf("%s/%dx%d", cd, size.w, size.h), func(b *testing.B) {
				benchStream(b, cd, size.w, size.h)
			})
		}
	}
}

func benchStream(b *testing.B, cd codec.Codec, w, h int) {
	open := func(context.Context) (*asp.Desktop, error) {
		return &asp.Desktop{Source: capture.NewSynthetic(w, h, capture.SyntheticOptions{})}, nil
	}
	srv, err := asp.NewServer(open, asp.WithCodecs(cd), asp.WithSettingEngine(asp.LoopbackOnly),
		asp.WithFrameRate(60), asp.WithBitrate(8000))
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, hs.URL, client.Options{SettingEngine: asp.LoopbackOnly, FrameBuffer: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	<-c.Frames()                      // the first (key)frame is not typical
	for drained := false; !drained; { // nor are frames that queued up meanwhile
		select {
		case <-c.Frames():
		default:
			drained = true
		}
	}
	var bytes int
	var decode time.Duration
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f, ok := <-c.Frames()
		if !ok {
			b.Fatalf("stream ended: %v", c.Err())
		}
		bytes += f.Bytes
		decode += f.Decoded.Sub(f.Received)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	st := c.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(bytes)*8/elapsed.Seconds()/1000, "kbit/s")
	b.ReportMetric(float64(decode.Microseconds())/float64(b.N)/1000, "decode-ms/frame")
	b.ReportMetric(float64(st.EncodeMicros)/1000, "encode-ms/frame")
}

// BenchmarkClickToPhoton measures, per op, the time from sending a click with the Go client
// to the first decoded frame that shows the X application's marker there: input channel,
// XTEST, the application drawing, damage-driven capture, encode, RTP, reassembly, decode.
//
//	go test ./asp -run '^$' -bench ClickToPhoton -benchtime 50x
func BenchmarkClickToPhoton(b *testing.B) {
	testenv.LookPath(b, "Xvfb")
	for _, cd := range codec.Available() {
		b.Run(fmt.Sprintf("%s/1920x1080", cd), func(b *testing.B) { benchClick(b, cd, 1920, 1080) })
	}
}

func benchClick(b *testing.B, cd codec.Codec, w, h int) {
	ctx := context.Background()
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: w, Height: h})
	if err != nil {
		b.Fatal(err)
	}
	defer xs.Close()
	app, err := xtestapp.Start(ctx, xs.Display())
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	srv, err := asp.NewServer(asp.X11Desktop(xs.Display(), capture.X11Options{MaxFPS: 60}), asp.WithCodecs(cd),
		asp.WithSettingEngine(asp.LoopbackOnly), asp.WithFrameRate(60))
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(dctx, hs.URL, client.Options{SettingEngine: asp.LoopbackOnly, FrameBuffer: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	<-c.Frames()
	rnd := rand.New(rand.NewPCG(1, 2))
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := image.Pt(100+rnd.IntN(w-200), 100+rnd.IntN(h-200))
		start := time.Now()
		if err := c.Click(at.X, at.Y, 1); err != nil {
			b.Fatal(err)
		}
		for seen := false; !seen; {
			select {
			case f := <-c.Frames():
				if regionIs(f.Image, image.Rect(at.X-4, at.Y-4, at.X+4, at.Y+4), xtestapp.MarkerColor) {
					total += f.Decoded.Sub(start)
					seen = true
				}
			case <-time.After(10 * time.Second):
				b.Fatalf("click %d at %v never showed", i, at)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "click-to-photon-ms")

}

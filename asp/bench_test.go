package asp_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
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

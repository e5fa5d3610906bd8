package harness

import (
	"context"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// BenchmarkClickToPhoton runs the office-typing and the 3D scenarios on a 640x480 screen
// for three seconds each and reports click-to-photon latency, bitrate and frame rate; the
// scenarios at 1080p are what `make bench` runs through `shadowless bench`.
func BenchmarkClickToPhoton(b *testing.B) {
	testenv.LookPath(b, "Xvfb")
	for _, sc := range []string{"typing", "3d"} {
		b.Run(sc, func(b *testing.B) {
			var res *Result
			for b.Loop() {
				var err error
				res, err = Run(context.Background(), Config{Scenario: sc, Width: 640, Height: 480,
					Duration: 3 * time.Second, Warmup: time.Second, ProbeInterval: 300 * time.Millisecond, SkipQuality: true})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.LatencyMS.P50, "ms-p50")
			b.ReportMetric(res.LatencyMS.P95, "ms-p95")
			b.ReportMetric(res.Bitrate.Avg, "kbit/s")
			b.ReportMetric(res.FPS, "fps")
		})
	}
}

// BenchmarkPair matches 3000 decoded frames to their capture records.
func BenchmarkPair(b *testing.B) {
	base := time.Unix(1000, 0)
	var recs []*captureRecord
	var frames []*clientFrame
	for i := 0; i < 3000; i++ {
		c := base.Add(time.Duration(i) * 16 * time.Millisecond)
		rc := &captureRecord{seq: uint64(i), captured: c, stamped: true}
		rc.stamp.Frame = uint32(i)
		recs = append(recs, rc)
		frames = append(frames, &clientFrame{rtp: rtpTicks(c, base) + 12345, stamp: rc.stamp, stamped: true})
	}
	for b.Loop() {
		if len(pair(recs, frames, base)) != len(frames) {
			b.Fatal("unpaired frames")
		}
	}
}

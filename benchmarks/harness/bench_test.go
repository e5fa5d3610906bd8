package harness

import (
	"context"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/benchmarks/netem"
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

// BenchmarkLossBurst1080p streams the web scenario at 1920x1080 over a 10 Mbit/s link with
// 20 ms of round trip, drops 10% of the packets both ways for one second, and reports how
// long after the burst the decoded picture matched the captured one again (ms_to_whole;
// the goal is under 1000), with the frames broken around it and the keyframes sent.
func BenchmarkLossBurst1080p(b *testing.B) {
	testenv.LookPath(b, "Xvfb")
	var res *Result
	for b.Loop() {
		var err error
		res, err = Run(context.Background(), Config{Scenario: "web", Duration: 8 * time.Second, SkipQuality: true,
			Net:       netem.Spec{RateBps: 10_000_000, Delay: 20 * time.Millisecond},
			LossBurst: LossBurst{At: 3 * time.Second, Length: time.Second, Loss: 0.10}})
		if err != nil {
			b.Fatal(err)
		}
	}
	lb := res.LossBurst
	b.ReportMetric(lb.MS, "ms_to_whole")
	b.ReportMetric(float64(lb.Broken), "broken_frames")
	b.ReportMetric(float64(lb.Keyframes), "keyframes")
	b.ReportMetric(float64(lb.RelayLost), "dropped_packets")
	b.ReportMetric(res.LatencyMS.P95, "ms-p95")
}

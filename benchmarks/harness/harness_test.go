package harness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/benchmarks/netem"
	"github.com/shadowless-dev/shadowless/benchmarks/workload"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestSummarize(t *testing.T) {
	s := summarize([]float64{5, 1, 4, 2, 3})
	assert.Equal(t, Summary{N: 5, Mean: 3, P50: 3, P95: 5, P99: 5, Min: 1, Max: 5}, s)
	var xs []float64
	for i := 1; i <= 100; i++ {
		xs = append(xs, float64(i))
	}
	s = summarize(xs)
	assert.Equal(t, 50.0, s.P50)
	assert.Equal(t, 95.0, s.P95)
	assert.Equal(t, 99.0, s.P99)
	assert.Equal(t, Summary{}, summarize(nil))
}

// TestPair links client frames to capture records by RTP time, including repeated stamps
// and an RTP clock that wraps.
func TestPair(t *testing.T) {
	base := time.Unix(1000, 0)
	var recs []*captureRecord
	var frames []*clientFrame
	offset := uint32(0xffffff00) // wraps within the run
	for i := 0; i < 50; i++ {
		cap := base.Add(time.Duration(i) * 16 * time.Millisecond)
		st := workload.Stamp{Frame: uint32(i / 2)} // every stamp twice, as with idle refreshes
		rc := &captureRecord{seq: uint64(i + 1), captured: cap, stamp: st, stamped: true}
		recs = append(recs, rc)
		if i%7 == 3 {
			continue // lost on the way
		}
		jitter := uint32(i % 2) // rounding differences of the server's clock
		frames = append(frames, &clientFrame{rtp: rtpTicks(cap, base) + offset + jitter, stamp: st, stamped: true})
	}
	// Make some stamps unique so the offset can be found.
	for i := 0; i < 50; i += 10 {
		recs[i].stamp.Frame = 1000 + uint32(i)
		recs[i+1].stamp.Frame = 2000 + uint32(i)
	}
	for _, f := range frames {
		for _, rc := range recs {
			if rtpTicks(rc.captured, base)+offset == f.rtp || rtpTicks(rc.captured, base)+offset+1 == f.rtp {
				f.stamp = rc.stamp
			}
		}
	}
	got := pair(recs, frames, base)
	require.Len(t, got, len(frames))
	for f, rc := range got {
		assert.Equal(t, rc.stamp, f.stamp)
		d := f.rtp - (rtpTicks(rc.captured, base) + offset)
		assert.LessOrEqual(t, d, uint32(1))
	}
	assert.Empty(t, pair(nil, frames, base))

	// With the server's frame observer, records carry their RTP timestamps: exact pairs.
	for i, rc := range recs {
		rc.observed, rc.rtp = true, rtpTicks(rc.captured, base)+offset+uint32(i%2)
	}
	got = pair(recs, frames, base)
	require.Len(t, got, len(frames))
	for f, rc := range got {
		assert.Equal(t, rc.rtp, f.rtp)
	}
}

func TestLatencyTargets(t *testing.T) {
	assert.Equal(t, 50.0, LatencyTarget("fileops"))
	assert.Equal(t, 60.0, LatencyTarget("web"))
	assert.Equal(t, 45.0, LatencyTarget("video-window-30"))
	assert.Equal(t, 70.0, LatencyTarget("3d"))
	assert.True(t, wants60("3d"))
	assert.True(t, wants60("video-60"))
	assert.False(t, wants60("video-24"))
}

func TestReports(t *testing.T) {
	rs := []*Result{
		{Scenario: "fileops", Codec: "H264", Width: 640, Height: 480, DurationS: 3, LatencyMS: Latency{Summary: Summary{N: 3, Mean: 40, P50: 38}, Probes: 3, Answered: 3},
			Bitrate: Bitrate{Avg: 2500}, FPS: 20, VMAF: Score{Mean: 97, Frames: 2},
			Series: Series{Latencies: []float64{30, 38, 52}, Seconds: []SecondBin{{0, 2000, 20}, {1, 3000, 20}}, Quality: []QualityPoint{{0.5, 97, 45, 0.99}, {1.5, 96, 44, 0.98}}}},
		{Scenario: "3d", Codec: "H264", LatencyMS: Latency{Summary: Summary{N: 1, Mean: 80}, Probes: 1, Answered: 1}, FPS: 59.9,
			Series: Series{Latencies: []float64{80}, Seconds: []SecondBin{{0, 1500, 60}}}},
	}
	var b strings.Builder
	require.NoError(t, WriteMarkdown(&b, append(rs, &Result{Scenario: "web", Error: "no video frame decoded"})))
	md := b.String()
	assert.Contains(t, md, "| web | failed: no video frame decoded |")
	assert.Contains(t, md, "| web | ❌ failed |")
	assert.Contains(t, md, "| fileops | ✅ 40.0 ms (target 50) | ❌ 2.50 Mbit/s | n/a (not a 60 fps scene) | ✅ 97.0 |")
	assert.Contains(t, md, "| 3d | ❌ 80.0 ms (target 70) | ✅ 0.00 Mbit/s | ✅ 59.9 | not measured |")
	assert.Contains(t, md, "Average end-to-end latency over the scenarios: ✅ 60.0 ms")

	dir := t.TempDir()
	files, err := WritePlots(dir, rs)
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), "\x89PNG"), f)
	}
	require.NoError(t, WriteJSON(filepath.Join(dir, "r.json"), rs[0]))
}

// TestDelayShowsInLatency runs the harness twice on a small screen, without and with 50 ms
// of round-trip delay added by the emulated network, and checks that the latency grows by
// about that much and that the JSON carries the required fields with sane values.
func TestDelayShowsInLatency(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	cfg := Config{Scenario: "typing", Width: 640, Height: 480, Duration: 2500 * time.Millisecond, Warmup: time.Second,
		ProbeInterval: 250 * time.Millisecond, Seed: 3}
	base, err := Run(ctx, cfg)
	require.NoError(t, err)
	cfg.Net = netem.Spec{Delay: 50 * time.Millisecond}
	cfg.SkipQuality = true
	delayed, err := Run(ctx, cfg)
	require.NoError(t, err)
	require.GreaterOrEqual(t, base.LatencyMS.Answered, 4)
	require.GreaterOrEqual(t, delayed.LatencyMS.Answered, 4)
	// On a shared 2-core machine the app, capture, encode and decode stages vary from probe
	// to probe with the load, so the total is compared at its minimum (the least disturbed
	// probe), and the network stages, which do not depend on the load, at their medians.
	added := delayed.LatencyMS.Min - base.LatencyMS.Min
	median := func(r *Result, f func(ProbeTiming) float64) float64 {
		var xs []float64
		for _, p := range r.Series.Probes {
			xs = append(xs, f(p))
		}
		return summarize(xs).P50
	}
	upNet := func(p ProbeTiming) float64 { return p.Uplink + p.Network }
	up := func(p ProbeTiming) float64 { return p.Uplink }
	netAdded := median(delayed, upNet) - median(base, upNet)
	upAdded := median(delayed, up) - median(base, up)
	t.Logf("latency min %.1f → %.1f ms, p50 %.1f → %.1f ms with 50 ms added round trip (+%.1f); uplink+network +%.1f, uplink +%.1f (medians)",
		base.LatencyMS.Min, delayed.LatencyMS.Min, base.LatencyMS.P50, delayed.LatencyMS.P50, added, netAdded, upAdded)
	assert.InDelta(t, 62.5, added, 27.5, "50 ms of added round trip shows up as +35..+90 ms")
	assert.InDelta(t, 50, netAdded, 10, "and all of it in the uplink and network stages")
	assert.InDelta(t, 25, upAdded, 8, "half of it on the way up")
	assert.Equal(t, "unlimited,50ms,0%", delayed.Net)

	// The stages of each probe are in order and add up to its latency.
	staged := 0
	for _, r := range []*Result{base, delayed} {
		require.Len(t, r.Series.Probes, r.LatencyMS.Answered)
		for _, p := range r.Series.Probes {
			parts := []float64{p.Uplink, p.App, p.Capture, p.Encode, p.Network, p.Decode}
			sum := 0.0
			for _, x := range parts {
				sum += x
			}
			if sum == 0 {
				continue // answer frame not paired
			}
			staged++
			assert.InDelta(t, p.Total, sum, 0.5, "%+v", p)
			for _, x := range parts {
				assert.GreaterOrEqual(t, x, -0.5, "%+v", p)
			}
		}
	}
	assert.Greater(t, staged, 4)

	// The JSON a script reads.
	file := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, WriteJSON(file, base))
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	num := func(path ...string) float64 {
		var v any = m
		for _, p := range path {
			obj, ok := v.(map[string]any)
			require.True(t, ok, "%v", path)
			v, ok = obj[p]
			require.True(t, ok, "missing %v", path)
		}
		f, ok := v.(float64)
		require.True(t, ok, "%v is not a number", path)
		return f
	}
	assert.Equal(t, "typing", m["scenario"])
	p50, p95, p99 := num("latency_ms", "p50"), num("latency_ms", "p95"), num("latency_ms", "p99")
	assert.True(t, p50 > 0 && p50 <= p95 && p95 <= p99 && p99 < 1000, "latency %v %v %v", p50, p95, p99)
	avg, bp95 := num("bitrate_kbps", "avg"), num("bitrate_kbps", "p95")
	assert.True(t, avg > 0 && avg < 50000 && bp95 >= avg*0.5, "bitrate %v %v", avg, bp95)
	fps := num("fps")
	assert.True(t, fps > 1 && fps <= 120, "fps %v", fps)
	vm, vmin := num("vmaf", "mean"), num("vmaf", "min")
	assert.True(t, vm > 50 && vm <= 100 && vmin <= vm, "vmaf %v %v", vm, vmin)
	ps := num("psnr_y", "mean")
	assert.True(t, ps > 20 && ps < 100, "psnr %v", ps)
	assert.Greater(t, num("frames", "drawn"), 5.0)
	assert.Greater(t, num("cpu", "per_frame_ms"), 0.0)
	assert.LessOrEqual(t, base.Frames.Delivered, base.Frames.Drawn+1)
}

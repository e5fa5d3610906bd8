package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shadowless-dev/shadowless/benchmarks/workload"
)

// WriteJSON writes v (a *Result or a slice of them) as indented JSON to file.
func WriteJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("harness: encode results: %w", err)
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("harness: write %s: %w", file, err)
	}
	return nil
}

// Published targets of the product's performance table.
const (
	TargetAvgLatencyMS  = 70.0   // average end-to-end latency over all scenarios
	TargetBandwidthKbps = 2000.0 // average bandwidth
	TargetFPS           = 60.0
	TargetVMAF          = 95.0
)

// LatencyTarget returns the published click-to-photon target of a scenario in ms: file
// operations 50, web browsing 60, video playback operations 45, others the 70 ms average.
func LatencyTarget(scenario string) float64 {
	sc, err := workload.ParseScenario(scenario)
	if err != nil {
		return TargetAvgLatencyMS
	}
	switch sc.Kind {
	case workload.FileOps:
		return 50
	case workload.Web:
		return 60
	case workload.Video:
		return 45
	}
	return TargetAvgLatencyMS
}

// wants60 reports whether a scenario animates continuously at 60 fps, so that the 60 FPS
// target applies to it.
func wants60(scenario string) bool {
	sc, err := workload.ParseScenario(scenario)
	return err == nil && (sc.Kind == workload.ThreeD || (sc.Kind == workload.Video && sc.FPS == 60))
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

// WriteMarkdown writes a summary of results that compares each scenario with the
// published targets.
func WriteMarkdown(w io.Writer, results []*Result) error {
	var b strings.Builder
	b.WriteString("# Shadowless benchmark summary\n\n")
	if len(results) > 0 {
		r0 := results[0]
		net := "loopback, no emulated network"
		if r0.Net != "" {
			net = "emulated network " + r0.Net + " (rate, added round trip, loss)"
		}
		fmt.Fprintf(&b, "Screen %dx%d, %.0f s per scenario, seed %d, %s. Latency is click-to-photon: input sent by the Go client → first decoded frame showing the response (display not included).\n\n",
			r0.Width, r0.Height, r0.DurationS, r0.Seed, net)
	}
	b.WriteString("| scenario | codec | latency mean / p50 / p95 / p99 ms | answered | bitrate avg / p95 kbit/s | fps delivered (drawn) | dropped | VMAF mean / min | PSNR-Y dB | SSIM | CPU ms/frame (cores) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(&b, "| %s | failed: %s |  |  |  |  |  |  |  |  |  |\n", r.Scenario, strings.ReplaceAll(r.Error, "|", "/"))
			continue
		}
		l := r.LatencyMS
		q := "n/a | n/a | n/a"
		if r.VMAF.Frames > 0 {
			q = fmt.Sprintf("%.1f / %.1f | %.1f | %.4f", r.VMAF.Mean, r.VMAF.Min, r.PSNRY.Mean, r.SSIM.Mean)
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f / %.1f / %.1f / %.1f | %d/%d | %.0f / %.0f | %.1f (%.1f) | %d of %d | %s | %.1f (%.2f) |\n",
			r.Scenario, r.Codec, l.Mean, l.P50, l.P95, l.P99, l.Answered, l.Probes, r.Bitrate.Avg, r.Bitrate.P95,
			r.FPS, r.Frames.DrawnFPS, r.Frames.Dropped, r.Frames.Drawn, q, r.CPU.PerFrameMS, r.CPU.Cores)
	}
	b.WriteString("\n## Where the latency goes (mean ms)\n\n")
	b.WriteString("| scenario | uplink | app | capture | encode | network | decode | total |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		d := r.Breakdown
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", r.Scenario, d.Uplink.Mean, d.App.Mean,
			d.Capture.Mean, d.Encode.Mean, d.Network.Mean, d.Decode.Mean, r.LatencyMS.Mean)
	}
	b.WriteString("\nuplink: client → server injects the event; app: the workload draws its answer; capture: until the damage-driven capture has read and converted it; encode: the encoder (server's frame observer); network: packetizing, sending and the way to the client until it has the whole frame; decode: decoding.\n")

	b.WriteString("\n## Frames in the window\n\n| scenario | drawn | captured | delivered | not captured | lost after capture | keyframes (kB) | refinements | RTP packets lost | decode errors |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		f := r.Frames
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d (%.0f) | %d | %d | %d |\n", r.Scenario, f.Drawn, f.Captured, f.Delivered,
			f.NotCaptured, f.LostAfterCapture, f.Keyframes, float64(f.KeyframeBytes)/1000, f.Refines, f.PacketsLost, f.DecodeErrors)
	}
	b.WriteString("\n## Against the published targets\n\n| scenario | latency | bandwidth < 2 Mbit/s | 60 FPS | VMAF > 95 |\n|---|---|---|---|---|\n")
	sum, n := 0.0, 0
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(&b, "| %s | ❌ failed | | | |\n", r.Scenario)
			continue
		}
		t := LatencyTarget(r.Scenario)
		lat := "no answer"
		if r.LatencyMS.Answered > 0 {
			lat = fmt.Sprintf("%s %.1f ms (target %.0f)", mark(r.LatencyMS.Mean <= t), r.LatencyMS.Mean, t)
			sum += r.LatencyMS.Mean
			n++
		}
		fps := "n/a (not a 60 fps scene)"
		if wants60(r.Scenario) {
			fps = fmt.Sprintf("%s %.1f", mark(r.FPS >= TargetFPS*0.98), r.FPS)
		}
		vmaf := "not measured"
		if r.VMAF.Frames > 0 {
			vmaf = fmt.Sprintf("%s %.1f", mark(r.VMAF.Mean > TargetVMAF), r.VMAF.Mean)
		}
		fmt.Fprintf(&b, "| %s | %s | %s %.2f Mbit/s | %s | %s |\n", r.Scenario, lat,
			mark(r.Bitrate.Avg < TargetBandwidthKbps), r.Bitrate.Avg/1000, fps, vmaf)
	}
	if n > 0 {
		avg := sum / float64(n)
		fmt.Fprintf(&b, "\nAverage end-to-end latency over the scenarios: %s %.1f ms (target %.0f ms).\n", mark(avg <= TargetAvgLatencyMS), avg, TargetAvgLatencyMS)
	}
	for _, r := range results {
		if r.QualityNote != "" {
			fmt.Fprintf(&b, "\nQuality sampling (%s; every scenario's JSON has its own note): %s.\n", r.Scenario, r.QualityNote)
			break
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

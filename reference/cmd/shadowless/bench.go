package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jezek/xgb"
	"github.com/spf13/cobra"

	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/benchmarks/harness"
	"github.com/shadowless-dev/shadowless/benchmarks/netem"
	"github.com/shadowless-dev/shadowless/benchmarks/workload"
)

type benchFlags struct {
	duration, warmup time.Duration
	codec            string
	width, height    int
	seed             uint64
	net              string
	lossBurst        string
	bitrate          int
	maxFPS           int
	qualityEvery     int
	noQuality        bool
	jsonFile         string
	plotDir          string
	markdown         string
	out              string
	workloadOnly     string
	display          string
	verbose          bool
	cpuProfile       string
}

// newBenchCmd returns `shadowless bench`: the QA harness (click-to-photon latency,
// bandwidth, frame rate, VMAF/PSNR/SSIM) over real WebRTC on loopback.
func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench [SCENARIO...]",
		Short: "Measure click-to-photon latency, bandwidth, frame rate and picture quality of a scenario",
		Long: `Run a deterministic X11 workload under a fresh Xvfb, stream it with the asp server to the
native Go client over WebRTC on loopback (optionally through an emulated network), send
input probes through the client's input channel and measure:

  click-to-photon latency (input sent -> first decoded frame showing the response),
  p50/p95/p99 and its split into uplink, app, capture, encode, network and decode;
  bitrate (average, p95 of 1 s bins); frames per second delivered and dropped;
  VMAF, PSNR-Y and SSIM of sampled received frames against the captured frames;
  CPU seconds per frame (this process and Xvfb).

Scenarios: ` + strings.Join(workload.Standard, ", ") + ` (video[-window][-24|-30|-60]).
"all" runs the standard set. With several scenarios, --out DIR writes DIR/<scenario>.json,
DIR/results.json, DIR/summary.md and the plots. A line of progress goes to stderr every
second.

--net RATE,DELAY,LOSS emulates a network with a UDP relay on 127.0.0.1: RATE per
direction (tc units: kbit, mbit), DELAY added to the round trip (half each way), LOSS per
direction (e.g. 0.5%), and an optional fourth field the bottleneck queue as a time at RATE
(default 200ms).

--loss-burst LENGTH,LOSS[,AT] drops packets in both directions for LENGTH from AT into the
measurement (default 3s), e.g. 1s,10%, and reports how long after the burst the decoded
picture matched the captured one again (loss_burst in the JSON).

--workload-only SCENARIO --display :N just plays a workload on an existing display until
interrupted (for demos).`,
		Example: `  shadowless bench fileops --duration 20s --json fileops.json --plot plots/
  shadowless bench web --codec VP8 --net 10mbit,20ms,0.5%
  shadowless bench web --duration 10s --net 10mbit,20ms,0% --loss-burst 1s,10%,3s
  shadowless bench all --duration 15s --out bench-results/scenarios
  shadowless bench --workload-only video-60 --display :1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd.Context(), cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.duration, "duration", 15*time.Second, "measurement time per scenario")
	fl.DurationVar(&f.warmup, "warmup", 1500*time.Millisecond, "time before measuring (first keyframe, settling)")
	fl.StringVar(&f.codec, "codec", "", "force a codec: H264, VP8 or VP9 (default: the server's choice)")
	fl.IntVar(&f.width, "width", 1920, "screen width")
	fl.IntVar(&f.height, "height", 1080, "screen height")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the workload content and the input probes")
	fl.StringVar(&f.net, "net", "", "emulated network RATE,DELAY,LOSS, e.g. 10mbit,20ms,0.5%")
	fl.StringVar(&f.lossBurst, "loss-burst", "", "a burst of loss LENGTH,LOSS[,AT], e.g. 1s,10%,3s: reports the time until the picture is whole again")
	fl.IntVar(&f.bitrate, "bitrate", 0, "encoder target in kbit/s (default: the server's)")
	fl.IntVar(&f.maxFPS, "max-fps", 60, "capture frame rate cap")
	fl.IntVar(&f.qualityEvery, "quality-every", 15, "score a window of 3 captured frames every N captured frames")
	fl.BoolVar(&f.noQuality, "no-quality", false, "skip VMAF, PSNR and SSIM")
	fl.StringVar(&f.jsonFile, "json", "", "write the result (an array for several scenarios) as JSON to FILE")
	fl.StringVar(&f.plotDir, "plot", "", "write PNG plots into DIR")
	fl.StringVar(&f.markdown, "markdown", "", "write a Markdown summary against the product targets to FILE")
	fl.StringVar(&f.out, "out", "", "write everything (per-scenario JSON, results.json, summary.md, plots) into DIR")
	fl.StringVar(&f.workloadOnly, "workload-only", "", "only play this scenario on --display until interrupted")
	fl.StringVar(&f.display, "display", "", "X display for --workload-only, e.g. :1")
	fl.BoolVar(&f.verbose, "verbose", false, "debug logs to stderr")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (server, relay, scoring) to FILE for go tool pprof")
	return cmd
}

func runBench(ctx context.Context, cmd *cobra.Command, f benchFlags, args []string) error {
	stderr := cmd.ErrOrStderr()
	log := slog.New(slog.DiscardHandler)
	if !f.verbose {
		// xgb logs a line per connection about the missing ~/.Xauthority (Xvfb needs none).
		xgb.Logger.SetOutput(io.Discard)
	}
	if f.verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if f.workloadOnly != "" {
		if f.display == "" {
			return errors.New("--workload-only needs --display :N")
		}
		sc, err := workload.ParseScenario(f.workloadOnly)
		if err != nil {
			return err
		}
		w, err := workload.Start(ctx, f.display, sc, workload.Options{Seed: f.seed, Logger: log})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "playing %s on %s; Ctrl-C to stop\n", sc.Name, f.display)
		select {
		case <-ctx.Done():
		case <-w.Done():
		}
		_ = w.Close()
		return w.Err()
	}
	if len(args) == 0 {
		return errors.New("name a scenario (or all): " + strings.Join(workload.Standard, ", "))
	}
	if len(args) == 1 && args[0] == "all" {
		args = workload.Standard
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, a := range args {
		if _, err := workload.ParseScenario(a); err != nil {
			return err
		}
	}
	var spec netem.Spec
	if f.net != "" {
		var err error
		if spec, err = netem.ParseSpec(f.net); err != nil {
			return err
		}
	}
	var burst harness.LossBurst
	if f.lossBurst != "" {
		var err error
		if burst, err = harness.ParseLossBurst(f.lossBurst); err != nil {
			return err
		}
	}
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
		if f.plotDir == "" {
			f.plotDir = f.out
		}
		if f.markdown == "" {
			f.markdown = filepath.Join(f.out, "summary.md")
		}
		if f.jsonFile == "" {
			f.jsonFile = filepath.Join(f.out, "results.json")
		}
	}
	var results []*harness.Result
	var failed []string
	for i, sc := range args {
		fmt.Fprintf(stderr, "== [%d/%d] %s: %v at %dx%d", i+1, len(args), sc, f.duration, f.width, f.height)
		if f.net != "" {
			fmt.Fprintf(stderr, " over %s", spec)
		}
		fmt.Fprintln(stderr)
		cfg := harness.Config{Scenario: sc, Duration: f.duration, Warmup: f.warmup, Codec: codec.Codec(strings.ToUpper(f.codec)),
			Width: f.width, Height: f.height, Seed: f.seed, Net: spec, LossBurst: burst, BitrateKbps: f.bitrate, MaxFPS: f.maxFPS,
			QualityEvery: f.qualityEvery, SkipQuality: f.noQuality, Logger: log,
			Progress: func(p harness.Progress) {
				fmt.Fprintf(stderr, "   %s %3.0fs/%.0fs  %5.1f fps  %7.0f kbit/s  probes answered %d  last latency %v\n",
					p.Scenario, p.Elapsed.Seconds(), p.Total.Seconds(), p.FPS, p.Kbps, p.Probes, p.LastLatency.Round(100*time.Microsecond))
			}}
		start := time.Now()
		res, err := harness.Run(ctx, cfg)
		if err != nil {
			if ctx.Err() != nil || len(args) == 1 {
				return fmt.Errorf("%s: %w", sc, err)
			}
			// Go on with the other scenarios; the failure is in the results and the exit code.
			fmt.Fprintf(stderr, "   FAILED: %v\n", err)
			failed = append(failed, sc)
			results = append(results, &harness.Result{Scenario: sc, Error: err.Error(), Width: f.width, Height: f.height,
				Seed: f.seed, DurationS: f.duration.Seconds()})
			continue
		}
		fmt.Fprintf(stderr, "   done in %v: latency p50 %.1f ms p95 %.1f ms, %.0f kbit/s, %.1f fps, VMAF %.1f\n",
			time.Since(start).Round(time.Second), res.LatencyMS.P50, res.LatencyMS.P95, res.Bitrate.Avg, res.FPS, res.VMAF.Mean)
		if lb := res.LossBurst; lb != nil {
			fmt.Fprintf(stderr, "   loss burst %s: %d packets dropped, %d given up by the client, %d/%d frames broken, %d keyframes; whole again %.0f ms after the burst (recovered %v)\n",
				lb.Burst, lb.RelayLost, lb.ClientPacketsLost, lb.Broken, lb.Frames, lb.Keyframes, lb.MS, lb.Recovered)
		}
		results = append(results, res)
		if f.out != "" {
			if err := harness.WriteJSON(filepath.Join(f.out, sc+".json"), res); err != nil {
				return err
			}
		}
	}
	if f.jsonFile != "" {
		var v any = results
		if len(results) == 1 && f.out == "" {
			v = results[0]
		}
		if err := harness.WriteJSON(f.jsonFile, v); err != nil {
			return err
		}
	}
	if f.plotDir != "" {
		files, err := harness.WritePlots(f.plotDir, results)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "plots: %s\n", strings.Join(files, ", "))
	}
	out := cmd.OutOrStdout()
	if f.markdown != "" {
		mf, err := os.Create(f.markdown)
		if err != nil {
			return err
		}
		if err := harness.WriteMarkdown(mf, results); err != nil {
			mf.Close()
			return err
		}
		if err := mf.Close(); err != nil {
			return err
		}
	}
	if err := harness.WriteMarkdown(out, results); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d scenarios failed: %s", len(failed), len(args), strings.Join(failed, ", "))
	}
	return nil
}

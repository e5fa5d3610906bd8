package harness

import (
	"log/slog"
	"time"

	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/benchmarks/netem"
)

// Config describes one benchmark run. The zero value of every field but Scenario has a
// sensible default.
type Config struct {
	// Scenario names the workload (see workload.ParseScenario).
	Scenario string
	// Duration of the measurement (default 15 s), after Warmup (default 1.5 s).
	Duration, Warmup time.Duration
	// Codec forces a codec; empty lets the server choose (its preference order).
	Codec codec.Codec
	// Width and Height of the virtual screen (default 1920x1080).
	Width, Height int
	// Seed makes the workload and the input probes reproducible (default 1).
	Seed uint64
	// Net, when not zero, puts an emulated network between client and server.
	Net netem.Spec
	// LossBurst, when set, drops packets on the emulated network for a while during the
	// measurement (an unlimited path when Net is zero) and measures how long the picture
	// takes to be whole again (Result.LossBurst). The measurement must last until
	// LossBurst.At + Length + 3 s.
	LossBurst LossBurst
	// BitrateKbps is the encoder's target (default: the server's, 4000).
	BitrateKbps int
	// MaxFPS caps the capture rate (default 60).
	MaxFPS int
	// ProbeInterval is the pause between input probes (default 600 ms, with up to 200 ms
	// of seeded jitter so probes do not lock to the animation).
	ProbeInterval time.Duration
	// ProbeTimeout is how long a probe waits for its response (default 3 s).
	ProbeTimeout time.Duration
	// QualityEvery: a window of three consecutive captured frames is scored every
	// QualityEvery captured frames (default 15); the middle frame's scores count.
	QualityEvery int
	// MaxQualityWindows bounds the windows kept (default 64: a 15 s run at 60 fps scores
	// 60 frames, so one run's mean moves by a few tenths of a point, not by whole points;
	// the kept pictures take about 0.6 GB at 1080p); when more would be taken the spacing
	// doubles.
	MaxQualityWindows int
	// SkipQuality turns off VMAF, PSNR and SSIM.
	SkipQuality bool
	// Progress is called about once a second during the measurement.
	Progress func(Progress)
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
}

// Progress is a snapshot of a running measurement.
type Progress struct {
	Scenario    string
	Elapsed     time.Duration
	Total       time.Duration
	FPS         float64 // decoded frames in the last second
	Kbps        float64 // encoded video received in the last second
	Probes      int     // input probes answered so far
	LastLatency time.Duration
}

func (c *Config) defaults() {
	if c.Duration <= 0 {
		c.Duration = 15 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = 1500 * time.Millisecond
	}
	if c.Width <= 0 {
		c.Width = 1920
	}
	if c.Height <= 0 {
		c.Height = 1080
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.MaxFPS <= 0 {
		c.MaxFPS = 60
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = 600 * time.Millisecond
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = 3 * time.Second
	}
	if c.QualityEvery <= 0 {
		c.QualityEvery = 15
	}
	if c.MaxQualityWindows <= 0 {
		c.MaxQualityWindows = 64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
)

type demoFlags struct {
	width, height int
	listen        string
	display       string
	codec         string
	bitrate       int
	fps           int
	json          bool
	verbose       bool
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Stream a Linux desktop to your browser",
		Long: `Start a virtual X display (Xvfb) with a few applications on it, stream it over WebRTC,
and serve the browser client. Open the printed URL: keyboard, mouse, wheel, cursor and
clipboard work while the page has the focus. Prometheus metrics are on /metrics.

With --display, stream an X display that is already running instead of starting one.
Ctrl-C stops everything the demo started.`,
		Example: `  shadowless demo
  shadowless demo --width 1280 --height 720 --codec vp8 --listen 127.0.0.1:9000
  shadowless demo --display :1 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.width, "width", 1920, "screen width of the started display, in pixels")
	fl.IntVar(&f.height, "height", 1080, "screen height of the started display, in pixels")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address for the page, signalling and /metrics")
	fl.StringVar(&f.display, "display", "", "stream this existing X display (e.g. :1) instead of starting Xvfb")
	fl.StringVar(&f.codec, "codec", "", "video codec: h264, vp8 or vp9 (default: the first the browser supports of h264, vp8, vp9)")
	fl.IntVar(&f.bitrate, "bitrate", 4000, "target video bitrate in kbit/s")
	fl.IntVar(&f.fps, "fps", 30, "maximum frame rate")
	fl.BoolVar(&f.json, "json", false, "print the URL and display as one JSON line instead of text")
	fl.BoolVar(&f.verbose, "verbose", false, "log session details")
	return cmd
}

func runDemo(cmd *cobra.Command, f demoFlags) error {
	ctx := cmd.Context()
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	if !f.verbose {
		// xgb logs every connection made without an Xauthority file; Xvfb needs none.
		xgb.Logger = stdlog.New(io.Discard, "", 0)
	}

	opts := []asp.Option{asp.WithLogger(log), asp.WithBitrate(f.bitrate), asp.WithFrameRate(float64(f.fps))}
	if f.codec != "" {
		c, err := parseCodec(f.codec)
		if err != nil {
			return err
		}
		opts = append(opts, asp.WithCodecs(c))
	}

	display := f.display
	if display == "" {
		xs, err := xvfb.Start(ctx, xvfb.Options{Width: f.width, Height: f.height})
		if err != nil {
			return fmt.Errorf("demo: start Xvfb: %w", err)
		}
		defer xs.Close()
		display = xs.Display()
		stop := startDemoApps(ctx, xs, f.width, f.height, log)
		defer stop()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts = append(opts, asp.WithRegistry(reg))

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", f.listen)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w", f.listen, err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if addr.IP.IsLoopback() {
		// A page on this machine reaches the server over loopback; keep WebRTC there too.
		opts = append(opts, asp.WithSettingEngine(asp.LoopbackOnly))
	}
	srv, err := asp.NewServer(asp.X11Desktop(display, capture.X11Options{MaxFPS: f.fps, Logger: log}), opts...)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("demo: %w", err)
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := fmt.Sprintf("http://%s/", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
	out := cmd.OutOrStdout()
	if f.json {
		_ = json.NewEncoder(out).Encode(map[string]string{"url": url, "display": display, "metrics": url + "metrics"})
	} else {
		fmt.Fprintf(out, "Shadowless demo: streaming X display %s\n\n    open %s\n\nMetrics on %smetrics. Ctrl-C stops.\n", display, url, url)
	}
	err = srv.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

func parseCodec(s string) (codec.Codec, error) {
	switch strings.ToLower(s) {
	case "h264", "h.264":
		return codec.H264, nil
	case "vp8":
		return codec.VP8, nil
	case "vp9":
		return codec.VP9, nil
	}
	return "", fmt.Errorf("demo: unknown codec %q (want h264, vp8 or vp9)", s)
}

// startDemoApps puts something worth watching on the display: a background colour, two
// terminals with changing output, a clock and eyes that follow the pointer. Missing
// programs are skipped. The returned func stops them all.
func startDemoApps(ctx context.Context, xs *xvfb.Server, w, h int, log *slog.Logger) func() {
	actx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	run := func(name string, args ...string) {
		if _, err := exec.LookPath(name); err != nil {
			log.Info("demo: program not installed, skipped (scripts/install-deps.sh installs it)", "program", name)
			return
		}
		c := xs.Command(actx, name, args...)
		c.Stdout, c.Stderr = nil, nil
		c.WaitDelay = 2 * time.Second
		if err := c.Start(); err != nil {
			log.Warn("demo: start", "program", name, "error", err)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Wait()
		}()
	}
	_ = xs.Command(actx, "xsetroot", "-solid", "#23405a").Run()
	// DejaVu Sans Mono 10 is about 8x15 pixels a cell: top above, a shell below, both on
	// the left; the clock and the eyes on the right.
	cols := max(60, min(120, (w-260)/8))
	topRows := max(10, (h/2-60)/15)
	shellRows := max(8, (h/2-80)/15)
	run("xterm", "-geometry", fmt.Sprintf("%dx%d+20+20", cols, topRows), "-fa", "DejaVu Sans Mono", "-fs", "10",
		"-title", "top", "-e", "top", "-d", "1")
	run("xterm", "-geometry", fmt.Sprintf("%dx%d+20+%d", cols, shellRows, h/2+20),
		"-fa", "DejaVu Sans Mono", "-fs", "10", "-title", "shell", "-bg", "#101010", "-fg", "#c0ffc0",
		"-e", "sh", "-c", `echo "Point here and type: this shell is yours."; exec sh -i`)
	run("xclock", "-update", "1", "-geometry", "180x180-30+30")
	run("xeyes", "-geometry", "160x110-30+240")
	return func() {
		cancel()
		wg.Wait()
	}
}

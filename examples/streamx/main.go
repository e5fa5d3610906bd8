// Command streamx streams an X display to browsers with the asp library: about a page of
// code to copy into your own program.
//
//	Xvfb :5 -screen 0 1280x720x24 &  DISPLAY=:5 xterm &
//	go run ./examples/streamx --display :5 --listen 127.0.0.1:8080
//
// then open http://127.0.0.1:8080/ in a browser on this machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
)

func main() {
	display := flag.String("display", os.Getenv("DISPLAY"), "X display to stream")
	listen := flag.String("listen", "127.0.0.1:8080", "address for the page, signalling and /metrics")
	readOnly := flag.Bool("read-only-clipboard", false, "never paste the browser's clipboard into the desktop")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, log, *display, *listen, *readOnly); err != nil {
		log.Error("streamx", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, display, listen string, readOnly bool) error {
	if display == "" {
		return errors.New("no display: pass --display or set DISPLAY")
	}
	// The clipboard policy is a plain func: allow or deny each transfer and direction.
	policy := func(_ context.Context, dir asp.Direction, text string) error {
		if readOnly && dir == asp.FromClient {
			return asp.ErrClipboardDenied
		}
		return nil
	}
	srv, err := asp.NewServer(
		// One capture source, XTEST injector and clipboard bridge per browser tab.
		asp.X11Desktop(display, capture.X11Options{MaxFPS: 30}),
		asp.WithLogger(log),
		asp.WithRegistry(prometheus.NewRegistry()), // served on /metrics
		asp.WithClipboardPolicy(policy),
		asp.WithBitrate(3000),
		asp.WithSettingEngine(asp.LoopbackOnly), // WebRTC stays on this machine
	)
	if err != nil {
		return err
	}
	fmt.Printf("streaming %s: open http://%s/\n", display, listen)
	// Serves the page on "/", signalling on /api/offer and metrics on /metrics until ctx
	// ends (Ctrl-C), then closes every session.
	return srv.ListenAndServe(ctx, listen)
}

package harness

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/input"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/benchmarks/netem"
	"github.com/shadowless-dev/shadowless/benchmarks/workload"
)

// clientFrame is what the client saw of one decoded frame.
type clientFrame struct {
	received, decoded time.Time
	rtp               uint32
	bytes             int
	stamp             workload.Stamp
	stamped           bool
	img               *image.YCbCr // kept only for sampled stamps
}

// probe is one input event sent to measure click-to-photon latency.
type probe struct {
	sent     time.Time
	expected uint8 // response counter that shows the answer
	frame    *clientFrame
}

// run holds the state of one benchmark run.
type run struct {
	cfg Config
	sc  workload.Scenario
	rec *recorder

	mu      sync.Mutex
	frames  []*clientFrame
	probes  []*probe
	waiting *probe
	answer  chan struct{}
	// encodeMicros are the server's per-second mean encode times.
	encodeMicros []float64
	// Around a loss burst: the span judged and the frames decoded in it.
	burstWin    [2]time.Time
	burstFrames []burstFrame
}

// Run performs one benchmark: Xvfb, the workload, an asp server and the Go client over
// WebRTC on loopback (through the emulated network when cfg.Net is set), input probes for
// click-to-photon latency, then the analysis and the quality scoring.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	sc, err := workload.ParseScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	if cfg.Codec != "" {
		if _, err := codec.NewDecoder(cfg.Codec); err != nil {
			return nil, fmt.Errorf("harness: codec %s: %w", cfg.Codec, err)
		}
	}
	if b := cfg.LossBurst; !b.IsZero() && b.At+b.Length+recoveryWindow > cfg.Duration {
		return nil, fmt.Errorf("harness: a loss burst at %v of %v needs a measurement of at least %v (have %v)",
			b.At, b.Length, b.At+b.Length+recoveryWindow, cfg.Duration)
	}
	r := &run{cfg: cfg, sc: sc, rec: newRecorder(cfg.QualityEvery, cfg.MaxQualityWindows), answer: make(chan struct{}, 1)}
	return r.run(ctx)
}

func (r *run) run(ctx context.Context) (*Result, error) {
	cfg, log := r.cfg, r.cfg.Logger
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: cfg.Width, Height: cfg.Height})
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	defer xs.Close()
	wctx, stopWorkload := context.WithCancel(ctx)
	defer stopWorkload()
	wl, err := workload.Start(wctx, xs.Display(), r.sc, workload.Options{Seed: cfg.Seed, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	defer wl.Close()

	open := func(ctx context.Context) (*asp.Desktop, error) {
		d, err := asp.X11Desktop(xs.Display(), capture.X11Options{MaxFPS: cfg.MaxFPS, Logger: log})(ctx)
		if err != nil {
			return nil, err
		}
		d.Source = recSource{Source: d.Source, r: r.rec}
		if d.Injector != nil {
			d.Injector = recInjector{Injector: d.Injector, r: r.rec}
		}
		return d, nil
	}
	opts := []asp.Option{asp.WithSettingEngine(asp.LoopbackOnly), asp.WithoutPage(), asp.WithLogger(log),
		asp.WithFrameRate(float64(r.sc.FPS)), asp.WithFrameObserver(r.rec.observe)}
	if cfg.Codec != "" {
		opts = append(opts, asp.WithCodecs(cfg.Codec))
	}
	if cfg.BitrateKbps > 0 {
		opts = append(opts, asp.WithBitrate(cfg.BitrateKbps))
	}
	srv, err := asp.NewServer(open, opts...)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	defer srv.Close()
	var handler http.Handler = srv
	var relay *netem.Relay
	if !cfg.Net.IsZero() || !cfg.LossBurst.IsZero() {
		if relay, err = netem.NewRelay(cfg.Net, cfg.Seed); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		defer relay.Close()
		handler = netem.SignalProxy(srv, relay)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("harness: listen: %w", err)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	copts := client.Options{SettingEngine: asp.LoopbackOnly, FrameBuffer: 32, Logger: log}
	if cfg.Codec != "" {
		copts.Codecs = []codec.Codec{cfg.Codec}
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	conn, err := client.Dial(dctx, "http://"+ln.Addr().String()+"/", copts)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("harness: connect: %w", err)
	}
	defer conn.Close()
	readerDone := make(chan struct{})
	go func() { defer close(readerDone); r.readFrames(conn) }()

	// Warm up: wait for the first decoded frame (a slow emulated link takes a while to
	// carry the first keyframe), then let the encoder and the jitter settle.
	firstBy := time.Now().Add(20 * time.Second)
	for len(r.snapshotFrames()) == 0 {
		if time.Now().After(firstBy) {
			return nil, fmt.Errorf("harness: no video frame decoded in 20 s (%v)", conn.Err())
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return nil, err
		}
	}
	if err := sleep(ctx, cfg.Warmup); err != nil {
		return nil, err
	}
	start := time.Now()
	end := start.Add(cfg.Duration)
	r.rec.setWindow(start, end)
	var burstDone chan burstCounters
	if b := cfg.LossBurst; !b.IsZero() {
		burstDone = r.scheduleBurst(ctx, conn, relay, start)
	}
	stampStart := wl.Stamp()
	cpu0 := readCPU(xs.Pid())
	stats0 := conn.Stats()
	counters0 := conn.Counters()
	var relay0 netem.Stats
	if relay != nil {
		relay0 = relay.Stats()
	}
	if err := r.probeLoop(ctx, conn, start, end); err != nil {
		return nil, err
	}
	cpu1 := readCPU(xs.Pid())
	stats1 := conn.Stats()
	stampEnd := wl.Stamp()
	var relayStats netem.Stats
	if relay != nil {
		relayStats = relay.Stats()
	}
	counters := conn.Counters()
	var bc burstCounters
	if burstDone != nil {
		select {
		case bc = <-burstDone:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	codecName := conn.Welcome().Codec
	if err := wl.Err(); err != nil {
		return nil, fmt.Errorf("harness: workload failed: %w", err)
	}
	responses := wl.Responses()
	_ = conn.Close()
	<-readerDone
	_ = wl.Close()
	_ = hs.Close()
	_ = srv.Close()
	_ = xs.Close()

	res := &Result{Scenario: r.sc.Name, Codec: codecName, Width: cfg.Width, Height: cfg.Height, Seed: cfg.Seed,
		DurationS: cfg.Duration.Seconds()}
	if !cfg.Net.IsZero() {
		res.Net = cfg.Net.String()
		res.Bitrate.WireAvg = float64(relayStats.DownBytes+relayStats.UpBytes-relay0.DownBytes-relay0.UpBytes) * 8 / 1000 / cfg.Duration.Seconds()
	}
	if relay != nil {
		res.Relay = &RelayStats{
			DownPackets: relayStats.DownPackets - relay0.DownPackets, DownLost: relayStats.DownLost - relay0.DownLost,
			DownQueueDrops: relayStats.DownQueueDrops - relay0.DownQueueDrops,
			UpPackets:      relayStats.UpPackets - relay0.UpPackets, UpLost: relayStats.UpLost - relay0.UpLost,
			UpQueueDrops: relayStats.UpQueueDrops - relay0.UpQueueDrops,
		}
	}
	res.Frames.DecodeErrors = counters.DecodeErrors - counters0.DecodeErrors
	res.Frames.ClientDropped = counters.FramesDropped - counters0.FramesDropped
	res.Frames.PacketsLost = counters.PacketsLost - counters0.PacketsLost
	res.Frames.ServerSent, res.Frames.ServerDropped = stats1.Frames-stats0.Frames, stats1.Dropped-stats0.Dropped
	res.Frames.Drawn = workload.FrameDiff(stampStart.Frame, stampEnd.Frame)
	res.Frames.DrawnFPS = float64(res.Frames.Drawn) / cfg.Duration.Seconds()
	res.CPU = cpu1.sub(cpu0, cfg.Duration)
	r.analyze(res, start, end, responses)
	res.Pipeline.FrameKB = r.frameSizes(start, end)
	if burstDone != nil {
		res.LossBurst = r.recovery(bc, relayStats)
	}
	if res.Frames.Delivered > 0 {
		res.CPU.PerFrameMS = (res.CPU.ProcessSeconds + res.CPU.XvfbSeconds) * 1000 / float64(res.Frames.Delivered)
	}
	if !cfg.SkipQuality {
		if err := r.scoreQuality(ctx, res, start); err != nil {
			return nil, err
		}
	} else {
		res.QualityNote = "quality not measured (skipped)"
	}
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r *run) snapshotFrames() []*clientFrame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*clientFrame(nil), r.frames...)
}

// readFrames records every decoded frame and answers the probe that waits for it.
func (r *run) readFrames(conn *client.Conn) {
	w, h := r.cfg.Width&^1, r.cfg.Height&^1
	for f := range conn.Frames() {
		if f.Image != nil && (f.Image.Rect.Dx() != w || f.Image.Rect.Dy() != h) {
			// The server lowered the size; the client shows it enlarged.
			f.Image = upscaleNearest(f.Image, w, h)
		}
		cf := &clientFrame{received: f.Received, decoded: f.Decoded, rtp: f.RTPTimestamp, bytes: f.Bytes}
		if st, err := workload.ReadStamp(f.Image); err == nil {
			cf.stamp, cf.stamped = st, true
			if r.rec.wantsStamp(st.Frame) {
				cf.img = f.Image
			}
		}
		r.mu.Lock()
		win := r.burstWin
		r.mu.Unlock()
		var bf *burstFrame
		if inBurstWindow(win, f.Decoded) {
			bf = &burstFrame{decoded: f.Decoded, stamped: cf.stamped, frame: cf.stamp.Frame,
				th: makeThumb(f.Image, r.cfg.Width&^1, r.cfg.Height&^1)}
		}
		r.mu.Lock()
		if bf != nil {
			r.burstFrames = append(r.burstFrames, *bf)
		}
		r.frames = append(r.frames, cf)
		if p := r.waiting; p != nil && cf.stamped && int8(cf.stamp.Response-p.expected) >= 0 {
			p.frame = cf
			r.waiting = nil
			select {
			case r.answer <- struct{}{}:
			default:
			}
		}
		r.mu.Unlock()
	}
}

// probeEvents returns the input events of probe i for the scenario: the pressing event is
// the one the workload answers, the latency is timed from it.
func (r *run) probeEvents(i int, rng *rand.Rand) (pre []input.Event, press input.Event, post []input.Event) {
	w, h := r.cfg.Width, r.cfg.Height
	click := func(x, y int) ([]input.Event, input.Event, []input.Event) {
		return []input.Event{{Kind: input.MouseMove, X: x, Y: y}},
			input.Event{Kind: input.ButtonDown, Button: input.ButtonLeft, X: x, Y: y},
			[]input.Event{{Kind: input.ButtonUp, Button: input.ButtonLeft, X: x, Y: y}}
	}
	key := func(ks uint32) ([]input.Event, input.Event, []input.Event) {
		return nil, input.Event{Kind: input.KeyDown, Keysym: ks}, []input.Event{{Kind: input.KeyUp, Keysym: ks}}
	}
	letter := uint32('a' + rng.IntN(26))
	switch r.sc.Kind {
	case workload.Typing, workload.ThreeD:
		return key(letter)
	case workload.FileOps:
		// Clicks on rows of the list view.
		return click(w/12+w/5+rng.IntN(w/4), h/10+60+rng.IntN(h/2))
	default: // web and video: clicks and keys in turn
		if i%2 == 0 {
			return click(w/4+rng.IntN(w/2), h/4+rng.IntN(h/2))
		}
		return key(' ')
	}
}

// probeLoop sends input probes one at a time until end and reports progress each second.
func (r *run) probeLoop(ctx context.Context, conn *client.Conn, start, end time.Time) error {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x9b0be))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastLatency time.Duration
	answered := 0
	lastFrames, lastBytes := 0, 0
	progress := func(now time.Time) {
		if st := conn.Stats(); st.EncodeMicros > 0 && now.After(start) {
			r.mu.Lock()
			r.encodeMicros = append(r.encodeMicros, float64(st.EncodeMicros))
			r.mu.Unlock()
		}
		frames := r.snapshotFrames()
		bytes := 0
		for _, f := range frames {
			bytes += f.bytes
		}
		if r.cfg.Progress != nil {
			r.cfg.Progress(Progress{Scenario: r.sc.Name, Elapsed: now.Sub(start).Round(time.Second), Total: r.cfg.Duration,
				FPS: float64(len(frames) - lastFrames), Kbps: float64(bytes-lastBytes) * 8 / 1000, Probes: answered, LastLatency: lastLatency})
		}
		lastFrames, lastBytes = len(frames), bytes
	}
	progress(start)
	next := start
	for i := 0; ; i++ {
		next = next.Add(r.cfg.ProbeInterval + time.Duration(rng.IntN(200))*time.Millisecond)
		for {
			now := time.Now()
			if !now.Before(end) {
				return nil
			}
			target := next
			if end.Before(target) {
				target = end
			}
			wait := target.Sub(now)
			if wait <= 0 {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-conn.Done():
				return fmt.Errorf("harness: session ended: %w", errOr(conn.Err(), errors.New("closed")))
			case now := <-tick.C:
				progress(now)
			case <-time.After(wait):
			}
		}
		pre, press, post := r.probeEvents(i, rng)
		for _, ev := range pre {
			if err := conn.SendInput(ev); err != nil {
				return fmt.Errorf("harness: send input: %w", err)
			}
		}
		p := &probe{expected: uint8(i + 1)}
		r.mu.Lock()
		r.probes = append(r.probes, p)
		r.waiting = p
		p.sent = time.Now()
		r.mu.Unlock()
		if err := conn.SendInput(press); err != nil {
			return fmt.Errorf("harness: send input: %w", err)
		}
		for _, ev := range post {
			if err := conn.SendInput(ev); err != nil {
				return fmt.Errorf("harness: send input: %w", err)
			}
		}
		deadline := time.NewTimer(r.cfg.ProbeTimeout)
	wait:
		for {
			select {
			case <-ctx.Done():
				deadline.Stop()
				return ctx.Err()
			case now := <-tick.C:
				progress(now)
			case <-r.answer:
				r.mu.Lock()
				if p.frame != nil {
					lastLatency = p.frame.decoded.Sub(p.sent)
					answered++
				}
				r.mu.Unlock()
				if p.frame != nil {
					break wait
				}
			case <-deadline.C:
				r.mu.Lock()
				r.waiting = nil
				r.mu.Unlock()
				break wait
			}
		}
		deadline.Stop()
	}
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// frameSizes summarises the sizes (kB) of the frames the server sent between start and end.
func (r *run) frameSizes(start, end time.Time) Summary {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	var kb []float64
	for _, ev := range r.rec.events {
		if !ev.Dropped && !ev.EncodeEnd.Before(start) && ev.EncodeEnd.Before(end) {
			kb = append(kb, float64(ev.Bytes)/1000)
		}
	}
	return summarize(kb)
}

package workload

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Kind is one of the scenario families of the product's performance table.
type Kind string

// The scenario families.
const (
	FileOps Kind = "fileops" // open a folder (list view redraws), drag a window, open a file
	Web     Kind = "web"     // scroll a long text-and-image page, refresh it
	Video   Kind = "video"   // natural-looking motion at 24/30/60 fps, full screen or windowed
	ThreeD  Kind = "3d"      // fast full-screen motion at 60 fps
	Typing  Kind = "typing"  // office typing: text appearing in bursts
)

// Scenario is a parsed scenario name.
type Scenario struct {
	Name     string
	Kind     Kind
	FPS      int  // frame rate the workload animates at
	Windowed bool // video in a window instead of full screen
}

// Standard lists the scenarios `make bench` runs, in order.
var Standard = []string{"fileops", "web", "video-24", "video-window-30", "video-60", "3d", "typing"}

// ErrUnknownScenario is returned by ParseScenario for a name it does not know.
var ErrUnknownScenario = errors.New("workload: unknown scenario")

// ParseScenario reads a scenario name: fileops, web, 3d, typing, or video[-window][-FPS]
// with FPS 24, 30 or 60 (default 30).
func ParseScenario(name string) (Scenario, error) {
	s := Scenario{Name: name, FPS: 60}
	switch name {
	case string(FileOps), string(Web), string(ThreeD), string(Typing):
		s.Kind = Kind(name)
		return s, nil
	}
	rest, ok := strings.CutPrefix(name, string(Video))
	if !ok {
		return Scenario{}, fmt.Errorf("%w: %q (want one of fileops, web, video[-window][-24|-30|-60], 3d, typing)", ErrUnknownScenario, name)
	}
	s.Kind, s.FPS = Video, 30
	if r, ok := strings.CutPrefix(rest, "-window"); ok {
		s.Windowed, rest = true, r
	}
	if rest != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(rest, "-"))
		if err != nil || !strings.HasPrefix(rest, "-") || (n != 24 && n != 30 && n != 60) {
			return Scenario{}, fmt.Errorf("%w: %q (video frame rates are 24, 30 and 60)", ErrUnknownScenario, name)
		}
		s.FPS = n
	}
	return s, nil
}

// Options configures Start. The zero value works.
type Options struct {
	// Seed makes the content (names, text, textures, paths) reproducible (default 1).
	Seed uint64
	// Logger receives debug messages (default: discard).
	Logger *slog.Logger
}

// Response records one reaction to an input event.
type Response struct {
	// Counter is the response counter the stamp showed after the reaction (mod 256).
	Counter uint8
	// Frame is the stamped frame number of the reaction's frame.
	Frame uint32
	// Event is when the workload read the event from the X server.
	Event time.Time
	// Drawn is when the X server had drawn the reaction (after a round trip).
	Drawn time.Time
}

// Workload is a running scenario program.
type Workload struct {
	sc     Scenario
	conn   *xgb.Conn
	d      *drawer
	scene  scene
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	events chan inputEvent

	mu        sync.Mutex
	frame     uint32
	response  uint8
	responses []Response
	err       error
}

// inputEvent is a key or button press the workload reacts to.
type inputEvent struct {
	key    bool
	char   byte // printable ASCII for keys, 0 otherwise
	pos    image.Point
	button byte
	at     time.Time
}

// Start connects to display (":N"), opens a full-screen window and runs the scenario until
// ctx is done or Close is called. Every frame it draws carries a Stamp; each key or button
// press is answered at once with a visible change and a higher response counter.
func Start(ctx context.Context, display string, sc Scenario, opts Options) (*Workload, error) {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if sc.Kind == "" {
		return nil, fmt.Errorf("%w: empty scenario", ErrUnknownScenario)
	}
	if sc.FPS <= 0 {
		sc.FPS = 60
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("workload: connect %s: %w", display, err)
	}
	d, err := newDrawer(conn, rand.New(rand.NewPCG(opts.Seed, 0x5ad0)))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("workload: %w", err)
	}
	if d.w < StampRect.Dx() || d.h < 64 {
		conn.Close()
		return nil, fmt.Errorf("workload: screen %dx%d is smaller than the stamp needs", d.w, d.h)
	}
	var s scene
	switch sc.Kind {
	case FileOps:
		s = &fileOps{}
	case Web:
		s = &webPage{}
	case Video:
		s = &video{windowed: sc.Windowed, fps: sc.FPS}
	case ThreeD:
		s = &threeD{}
	case Typing:
		s = &typing{}
	default:
		conn.Close()
		return nil, fmt.Errorf("%w: kind %q", ErrUnknownScenario, sc.Kind)
	}
	if err := s.setup(d); err != nil {
		conn.Close()
		return nil, fmt.Errorf("workload: set up %s: %w", sc.Name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Workload{sc: sc, conn: conn, d: d, scene: s, log: opts.Logger.With("scenario", sc.Name),
		cancel: cancel, done: make(chan struct{}), events: make(chan inputEvent, 64)}
	w.stamp()
	if err := d.roundTrip(); err != nil {
		cancel()
		conn.Close()
		return nil, fmt.Errorf("workload: first frame: %w", err)
	}
	go w.readEvents()
	go w.run(ctx)
	return w, nil
}

// Scenario returns the scenario being played.
func (w *Workload) Scenario() Scenario { return w.sc }

// Stamp returns the stamp of the last frame drawn.
func (w *Workload) Stamp() Stamp {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stamp{Frame: w.frame, Response: w.response}
}

// Responses returns the reactions to input so far, in order.
func (w *Workload) Responses() []Response {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Response(nil), w.responses...)
}

// Done is closed when the workload stopped.
func (w *Workload) Done() <-chan struct{} { return w.done }

// Err says why the workload stopped early (nil after Close or cancellation).
func (w *Workload) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the workload and closes its X connection (the window goes with it).
func (w *Workload) Close() error {
	w.cancel()
	<-w.done
	return nil
}

func (w *Workload) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.cancel()
}

// readEvents turns X key and button presses into inputEvents for the draw loop.
func (w *Workload) readEvents() {
	for {
		ev, err := w.conn.WaitForEvent()
		if ev == nil && err == nil {
			return // connection closed
		}
		if err != nil {
			w.log.Debug("X error", "error", err)
			continue
		}
		var ie inputEvent
		switch e := ev.(type) {
		case xproto.KeyPressEvent:
			ks := w.d.keysym(e.Detail)
			if ks >= 0xffe1 && ks <= 0xffee {
				continue // modifiers alone change nothing on screen
			}
			ie = inputEvent{key: true, pos: image.Pt(int(e.EventX), int(e.EventY)), at: time.Now()}
			if ks >= 0x20 && ks < 0x7f {
				ie.char = byte(ks)
			}
		case xproto.ButtonPressEvent:
			ie = inputEvent{pos: image.Pt(int(e.EventX), int(e.EventY)), button: byte(e.Detail), at: time.Now()}
		case xproto.MappingNotifyEvent:
			w.d.loadKeymap()
			continue
		default:
			continue
		}
		select {
		case w.events <- ie:
		default:
			w.log.Debug("input event dropped: draw loop behind")
		}
	}
}

// run is the draw loop: one tick per frame period, and an immediate frame for each input.
func (w *Workload) run(ctx context.Context) {
	defer close(w.done)
	defer w.conn.Close()
	period := time.Second / time.Duration(w.sc.FPS)
	t := time.NewTicker(period)
	defer t.Stop()
	tick := 0
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-w.events:
			w.scene.respond(w.d, ev)
			w.mu.Lock()
			w.response++
			w.mu.Unlock()
			f := w.stamp()
			if err := w.d.roundTrip(); err != nil {
				w.fail(fmt.Errorf("workload: draw: %w", err))
				return
			}
			w.mu.Lock()
			w.responses = append(w.responses, Response{Counter: w.response, Frame: f, Event: ev.at, Drawn: time.Now()})
			w.mu.Unlock()
		case <-t.C:
			tick++
			if !w.scene.tick(w.d, tick) {
				continue
			}
			w.stamp()
			if err := w.d.roundTrip(); err != nil {
				w.fail(fmt.Errorf("workload: draw: %w", err))
				return
			}
		}
	}
}

// stamp numbers a new frame and draws its stamp on top of what the scene drew.
func (w *Workload) stamp() uint32 {
	w.mu.Lock()
	w.frame = (w.frame + 1) & (1<<FrameBits - 1)
	s := Stamp{Frame: w.frame, Response: w.response}
	w.mu.Unlock()
	w.d.putStamp(s)
	return s.Frame
}

// scene is one scenario's picture: setup draws the first frame and uploads textures,
// tick advances the animation to tick t (1/FPS s each) and reports whether it drew,
// respond reacts visibly to an input event.
type scene interface {
	setup(d *drawer) error
	tick(d *drawer, t int) bool
	respond(d *drawer, ev inputEvent)
}

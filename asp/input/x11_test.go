package input

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func startX(t *testing.T, w, h int) *xvfb.Server {
	t.Helper()
	testenv.LookPath(t, "Xvfb")
	srv, err := xvfb.Start(context.Background(), xvfb.Options{Width: w, Height: h})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// keysymFor is how a client turns typed text into keysyms.
func keysymFor(r rune) uint32 {
	switch {
	case r == '\n':
		return 0xff0d // Return
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xff:
		return uint32(r)
	default:
		return 0x01000000 + uint32(r)
	}
}

func runeFor(ks uint32) (rune, bool) {
	switch {
	case ks == 0xff0d:
		return '\n', true
	case ks >= 0x20 && ks <= 0x7e, ks >= 0xa0 && ks <= 0xff:
		return rune(ks), true
	case ks >= 0x01000100 && ks <= 0x0110ffff:
		return rune(ks - 0x01000000), true
	}
	return 0, false
}

type click struct {
	button uint8
	x, y   int
	press  bool
}

// recorder is a tiny X client: a full-screen window with the input focus that records the
// text its key presses translate to (through its own copy of the keyboard map, refreshed on
// MappingNotify like Xlib does) and its button events.
type recorder struct {
	c       *xgb.Conn
	win     xproto.Window
	minCode xproto.Keycode
	per     int
	syms    []xproto.Keysym

	mu      sync.Mutex
	text    strings.Builder
	shifted []bool // per recorded rune: was Shift in the state
	clicks  []click
	done    chan struct{}
}

func newRecorder(t *testing.T, display string, w, h int) *recorder {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	require.NoError(t, err)
	r := &recorder{c: c, done: make(chan struct{})}
	t.Cleanup(func() { c.Close(); <-r.done })
	setup := xproto.Setup(c)
	screen := setup.DefaultScreen(c)
	r.minCode = setup.MinKeycode
	r.loadMap()
	r.win, err = xproto.NewWindowId(c)
	require.NoError(t, err)
	require.NoError(t, xproto.CreateWindowChecked(c, screen.RootDepth, r.win, screen.Root, 0, 0, uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{screen.WhitePixel, 1, xproto.EventMaskKeyPress | xproto.EventMaskButtonPress | xproto.EventMaskButtonRelease | xproto.EventMaskStructureNotify}).Check())
	require.NoError(t, xproto.MapWindowChecked(c, r.win).Check())
	mapped := make(chan struct{})
	go r.loop(mapped)
	select {
	case <-mapped:
	case <-time.After(5 * time.Second):
		t.Fatal("window not mapped")
	}
	require.NoError(t, xproto.SetInputFocusChecked(c, xproto.InputFocusPointerRoot, r.win, xproto.TimeCurrentTime).Check())
	return r
}

func (r *recorder) loadMap() {
	setup := xproto.Setup(r.c)
	reply, err := xproto.GetKeyboardMapping(r.c, r.minCode, byte(int(setup.MaxKeycode)-int(r.minCode)+1)).Reply()
	if err != nil {
		return
	}
	r.per, r.syms = int(reply.KeysymsPerKeycode), reply.Keysyms
}

func (r *recorder) loop(mapped chan struct{}) {
	defer close(r.done)
	for {
		ev, xerr := r.c.WaitForEvent()
		if ev == nil && xerr == nil {
			return
		}
		switch e := ev.(type) {
		case xproto.MapNotifyEvent:
			if e.Window == r.win {
				close(mapped)
			}
		case xproto.MappingNotifyEvent:
			r.loadMap()
		case xproto.KeyPressEvent:
			i := (int(e.Detail) - int(r.minCode)) * r.per
			if i < 0 || i+1 >= len(r.syms) {
				continue
			}
			shift := e.State&xproto.ModMaskShift != 0
			ks := r.syms[i]
			if shift && r.syms[i+1] != 0 {
				ks = r.syms[i+1]
			}
			if ru, ok := runeFor(uint32(ks)); ok {
				r.mu.Lock()
				r.text.WriteRune(ru)
				r.shifted = append(r.shifted, shift)
				r.mu.Unlock()
			}
		case xproto.ButtonPressEvent:
			r.mu.Lock()
			r.clicks = append(r.clicks, click{uint8(e.Detail), int(e.EventX), int(e.EventY), true})
			r.mu.Unlock()
		case xproto.ButtonReleaseEvent:
			r.mu.Lock()
			r.clicks = append(r.clicks, click{uint8(e.Detail), int(e.EventX), int(e.EventY), false})
			r.mu.Unlock()
		}
	}
}

func (r *recorder) waitText(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := r.text.String()
		r.mu.Unlock()
		if got == want || time.Now().After(deadline) {
			require.Equal(t, want, got)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func typeText(t *testing.T, inj Injector, s string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range s {
		require.NoError(t, inj.Inject(ctx, Event{Kind: KeyDown, Keysym: keysymFor(r)}))
		require.NoError(t, inj.Inject(ctx, Event{Kind: KeyUp, Keysym: keysymFor(r)}))
	}
}

func openInjector(t *testing.T, display string) *X11Injector {
	t.Helper()
	inj, err := OpenX11(context.Background(), display)
	require.NoError(t, err)
	t.Cleanup(func() { _ = inj.Close() })
	return inj
}

func TestX11TypeText(t *testing.T) {
	srv := startX(t, 320, 240)
	rec := newRecorder(t, srv.Display(), 320, 240)
	inj := openInjector(t, srv.Display())
	kbd, ptr := inj.DeviceIDs()
	assert.NotZero(t, kbd, "XTEST keyboard found through XInput2")
	assert.NotZero(t, ptr, "XTEST pointer found through XInput2")

	text := "Hello, World! ~{x}@ é中€ßÆ 日本語"
	typeText(t, inj, text)
	rec.waitText(t, text)

	rec.mu.Lock()
	shifted := rec.shifted
	rec.mu.Unlock()
	require.Len(t, shifted, utf8.RuneCountInString(text))
	assert.True(t, shifted[0], "'H' typed with Shift")
	assert.False(t, shifted[1], "'e' typed without Shift")
	assert.True(t, shifted[12], "'!' typed with Shift")
}

func TestX11ClientHeldShift(t *testing.T) {
	srv := startX(t, 320, 240)
	rec := newRecorder(t, srv.Display(), 320, 240)
	inj := openInjector(t, srv.Display())
	ctx := context.Background()
	// A browser sends Shift down, then the shifted keysyms, then Shift up.
	require.NoError(t, inj.Inject(ctx, Event{Kind: KeyDown, Keysym: keysymShiftL}))
	typeText(t, inj, "AB!")
	require.NoError(t, inj.Inject(ctx, Event{Kind: KeyUp, Keysym: keysymShiftL}))
	typeText(t, inj, "c")
	rec.waitText(t, "AB!c")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, []bool{true, true, true, false}, rec.shifted)
}

func TestX11ManyDistinctNonASCII(t *testing.T) {
	srv := startX(t, 320, 240)
	rec := newRecorder(t, srv.Display(), 320, 240)
	inj := openInjector(t, srv.Display())
	// More distinct characters than spare keycodes: spares are recycled.
	var b strings.Builder
	for r := rune(0x4e00); r < 0x4e00+40; r++ {
		b.WriteRune(r)
	}
	want := b.String() + b.String()
	typeText(t, inj, want)
	rec.waitText(t, want)
}

func TestX11SparesRestoredOnClose(t *testing.T) {
	srv := startX(t, 320, 240)
	inj, err := OpenX11(context.Background(), srv.Display())
	require.NoError(t, err)
	require.NotEmpty(t, inj.spares)
	typeText(t, inj, "é中")
	code := inj.bound[0x01000000+'中']
	require.NotZero(t, code)
	require.NoError(t, inj.Close())
	require.NoError(t, inj.Close(), "idempotent")
	require.ErrorIs(t, inj.Inject(context.Background(), Event{Kind: MouseMove}), ErrClosed)

	c, err := xgb.NewConnDisplay(srv.Display())
	require.NoError(t, err)
	defer c.Close()
	reply, err := xproto.GetKeyboardMapping(c, code, 1).Reply()
	require.NoError(t, err)
	for _, ks := range reply.Keysyms {
		assert.Zero(t, ks, "spare keycode %d emptied again", code)
	}
}

func TestX11MouseClickAndWheel(t *testing.T) {
	srv := startX(t, 320, 240)
	rec := newRecorder(t, srv.Display(), 320, 240)
	inj := openInjector(t, srv.Display())
	ctx := context.Background()

	require.NoError(t, inj.Inject(ctx, Event{Kind: MouseMove, X: 10, Y: 20}))
	require.NoError(t, inj.Inject(ctx, Event{Kind: ButtonDown, X: 100, Y: 200, Button: ButtonLeft}))
	require.NoError(t, inj.Inject(ctx, Event{Kind: ButtonUp, X: 101, Y: 201, Button: ButtonLeft}))
	require.NoError(t, inj.Inject(ctx, Event{Kind: ButtonDown, X: 300, Y: 5, Button: ButtonRight}))
	require.NoError(t, inj.Inject(ctx, Event{Kind: ButtonUp, X: 300, Y: 5, Button: ButtonRight}))
	require.NoError(t, inj.Inject(ctx, Event{Kind: Wheel, DY: 2}))
	require.NoError(t, inj.Inject(ctx, Event{Kind: Wheel, DY: -1, DX: 1}))

	want := []click{
		{1, 100, 200, true}, {1, 101, 201, false},
		{3, 300, 5, true}, {3, 300, 5, false},
		{5, 300, 5, true}, {5, 300, 5, false}, {5, 300, 5, true}, {5, 300, 5, false},
		{4, 300, 5, true}, {4, 300, 5, false}, {7, 300, 5, true}, {7, 300, 5, false},
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec.mu.Lock()
		got := append([]click(nil), rec.clicks...)
		rec.mu.Unlock()
		if len(got) >= len(want) || time.Now().After(deadline) {
			require.Equal(t, want, got)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Coordinates outside the screen are clamped.
	require.NoError(t, inj.Inject(ctx, Event{Kind: MouseMove, X: -50, Y: 10000}))
	p, err := xproto.QueryPointer(rec.c, rec.win).Reply()
	require.NoError(t, err)
	assert.EqualValues(t, 0, p.RootX)
	assert.EqualValues(t, 239, p.RootY)
}

func TestX11InjectErrors(t *testing.T) {
	srv := startX(t, 320, 240)
	inj := openInjector(t, srv.Display())
	require.Error(t, inj.Inject(context.Background(), Event{Kind: 99}))
	require.Error(t, inj.Inject(context.Background(), Event{Kind: ButtonDown}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, inj.Inject(ctx, Event{Kind: MouseMove}), context.Canceled)
}

func TestNormalize(t *testing.T) {
	assert.EqualValues(t, 0xe9, normalize(0x010000e9))
	assert.EqualValues(t, 'a', normalize(0x01000061))
	assert.EqualValues(t, 0x01004e2d, normalize(0x01004e2d))
	assert.EqualValues(t, 0xff0d, normalize(0xff0d))
}

// Package xtestapp is a tiny X11 application for end-to-end tests of streaming: a window
// covering the screen that draws a coloured block for every key typed (block i at a known
// place, colour from the key's keysym) and a marker wherever a mouse button is pressed
// (wheel steps are only recorded), so a
// test can check in decoded video pixels that typing and clicking reached the desktop. It
// talks X11 through jezek/xgb, with no Xlib.
package xtestapp

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Geometry of what the app draws, in screen pixels.
const (
	BlockSize   = 24 // side of one key block
	BlockGap    = 8  // space between blocks
	BlockOrigin = 16 // x and y of the first block
	MarkerSize  = 16 // side of the click marker, centred on the click
)

// Palette holds the block colours; a key's colour is Palette[keysym % len(Palette)].
var Palette = []color.RGBA{
	{255, 0, 0, 255},   // red
	{0, 255, 0, 255},   // green
	{0, 0, 255, 255},   // blue
	{255, 255, 0, 255}, // yellow
	{255, 0, 255, 255}, // magenta
	{0, 255, 255, 255}, // cyan
	{255, 255, 255, 255},
}

// MarkerColor is the colour of the click marker.
var MarkerColor = color.RGBA{255, 128, 0, 255}

// Background is the colour of the window.
var Background = color.RGBA{0, 0, 0, 255}

// ColorOf returns the colour of the block drawn for keysym.
func ColorOf(keysym uint32) color.RGBA { return Palette[keysym%uint32(len(Palette))] }

// BlockRect returns where block i (0-based) is drawn on a screen width pixels wide.
func BlockRect(i, width int) image.Rectangle {
	perRow := max((width-BlockOrigin)/(BlockSize+BlockGap), 1)
	x := BlockOrigin + (i%perRow)*(BlockSize+BlockGap)
	y := BlockOrigin + (i/perRow)*(BlockSize+BlockGap)
	return image.Rect(x, y, x+BlockSize, y+BlockSize)
}

// App is the running application.
type App struct {
	conn   *xgb.Conn
	win    xproto.Window
	gc     xproto.Gcontext
	width  int
	height int

	mu      sync.Mutex
	keys    []uint32
	clicks  []image.Point
	buttons []uint8
	syms    []xproto.Keysym
	perCode int
	minCode xproto.Keycode
	changed chan struct{}

	done chan struct{}
	err  error
}

// Start opens display, maps the window full-screen, gives it the keyboard focus and
// handles events until Close.
func Start(ctx context.Context, display string) (*App, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("xtestapp: connect %s: %w", display, err)
	}
	a := &App{conn: conn, done: make(chan struct{}), changed: make(chan struct{}, 1)}
	if err := a.setup(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("xtestapp: %w", err)
	}
	go a.loop()
	return a, nil
}

func pixel(c color.RGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }

func (a *App) setup() error {
	setup := xproto.Setup(a.conn)
	screen := setup.DefaultScreen(a.conn)
	a.width, a.height = int(screen.WidthInPixels), int(screen.HeightInPixels)
	win, err := xproto.NewWindowId(a.conn)
	if err != nil {
		return err
	}
	a.win = win
	mask := uint32(xproto.EventMaskKeyPress | xproto.EventMaskButtonPress | xproto.EventMaskExposure)
	if err := xproto.CreateWindowChecked(a.conn, screen.RootDepth, win, screen.Root, 0, 0,
		uint16(a.width), uint16(a.height), 0, xproto.WindowClassInputOutput, screen.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{pixel(Background), 1, mask}).Check(); err != nil {
		return fmt.Errorf("create window: %w", err)
	}
	title := "shadowless-xtestapp"
	xproto.ChangeProperty(a.conn, xproto.PropModeReplace, win, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(title)), []byte(title))
	gc, err := xproto.NewGcontextId(a.conn)
	if err != nil {
		return err
	}
	a.gc = gc
	if err := xproto.CreateGCChecked(a.conn, gc, xproto.Drawable(win), xproto.GcForeground, []uint32{pixel(Background)}).Check(); err != nil {
		return fmt.Errorf("create gc: %w", err)
	}
	a.minCode = setup.MinKeycode
	if err := a.loadKeymap(setup.MaxKeycode); err != nil {
		return err
	}
	if err := xproto.MapWindowChecked(a.conn, win).Check(); err != nil {
		return fmt.Errorf("map window: %w", err)
	}
	if err := xproto.SetInputFocusChecked(a.conn, xproto.InputFocusPointerRoot, win, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("focus: %w", err)
	}
	return nil
}

func (a *App) loadKeymap(maxCode xproto.Keycode) error {
	count := byte(int(maxCode) - int(a.minCode) + 1)
	rep, err := xproto.GetKeyboardMapping(a.conn, a.minCode, count).Reply()
	if err != nil {
		return fmt.Errorf("keyboard mapping: %w", err)
	}
	a.mu.Lock()
	a.syms, a.perCode = rep.Keysyms, int(rep.KeysymsPerKeycode)
	a.mu.Unlock()
	return nil
}

// keysym resolves a key press the way a simple client does: column 1 with Shift when the
// key has a shifted symbol, else column 0.
func (a *App) keysym(code xproto.Keycode, state uint16) uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := int(code) - int(a.minCode)
	if i < 0 || a.perCode == 0 || (i+1)*a.perCode > len(a.syms) {
		return 0
	}
	row := a.syms[i*a.perCode : (i+1)*a.perCode]
	if state&xproto.ModMaskShift != 0 && len(row) > 1 && row[1] != 0 {
		return uint32(row[1])
	}
	return uint32(row[0])
}

func (a *App) fill(c color.RGBA, r image.Rectangle) {
	xproto.ChangeGC(a.conn, a.gc, xproto.GcForeground, []uint32{pixel(c)})
	xproto.PolyFillRectangle(a.conn, xproto.Drawable(a.win), a.gc, []xproto.Rectangle{{
		X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(r.Dx()), Height: uint16(r.Dy()),
	}})
}

func markerRect(p image.Point) image.Rectangle {
	return image.Rect(p.X-MarkerSize/2, p.Y-MarkerSize/2, p.X+MarkerSize/2, p.Y+MarkerSize/2)
}

func (a *App) redraw() {
	a.mu.Lock()
	keys := append([]uint32(nil), a.keys...)
	clicks := append([]image.Point(nil), a.clicks...)
	a.mu.Unlock()
	for i, k := range keys {
		a.fill(ColorOf(k), BlockRect(i, a.width))
	}
	for _, p := range clicks {
		a.fill(MarkerColor, markerRect(p))
	}
	a.conn.Sync()
}

func (a *App) loop() {
	defer close(a.done)
	for {
		ev, err := a.conn.WaitForEvent()
		if ev == nil && err == nil {
			a.err = errors.New("xtestapp: connection closed")
			return
		}
		if err != nil {
			continue
		}
		switch e := ev.(type) {
		case xproto.ExposeEvent:
			if e.Count == 0 {
				a.redraw()
			}
		case xproto.MappingNotifyEvent:
			_ = a.loadKeymap(xproto.Setup(a.conn).MaxKeycode)
		case xproto.KeyPressEvent:
			// Refresh the keymap first: input injection may have bound a spare keycode
			// for a non-Latin keysym just before pressing it.
			_ = a.loadKeymap(xproto.Setup(a.conn).MaxKeycode)
			ks := a.keysym(e.Detail, e.State)
			if ks == 0 || isModifier(ks) {
				continue
			}
			a.mu.Lock()
			i := len(a.keys)
			a.keys = append(a.keys, ks)
			a.mu.Unlock()
			a.fill(ColorOf(ks), BlockRect(i, a.width))
			a.conn.Sync()
			a.notify()
		case xproto.ButtonPressEvent:
			p := image.Pt(int(e.EventX), int(e.EventY))
			a.mu.Lock()
			a.buttons = append(a.buttons, uint8(e.Detail))
			if e.Detail > 3 { // wheel steps are buttons 4-7: recorded, not drawn
				a.mu.Unlock()
				a.notify()
				continue
			}
			a.clicks = append(a.clicks, p)
			a.mu.Unlock()
			a.fill(MarkerColor, markerRect(p))
			a.conn.Sync()
			a.notify()
		}
	}
}

func isModifier(ks uint32) bool { return ks >= 0xffe1 && ks <= 0xffee || ks == 0xfe03 }

func (a *App) notify() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// Changed receives a value (coalesced) after each key or click the app handled.
func (a *App) Changed() <-chan struct{} { return a.changed }

// Keys returns the keysyms typed so far, in order (modifiers excluded).
func (a *App) Keys() []uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]uint32(nil), a.keys...)
}

// Buttons returns the X button numbers pressed so far, in order: 1-3 for clicks, 4 and 5
// for wheel steps up and down, 6 and 7 for left and right.
func (a *App) Buttons() []uint8 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]uint8(nil), a.buttons...)
}

// Clicks returns where buttons 1-3 were pressed, in screen pixels.
func (a *App) Clicks() []image.Point {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]image.Point(nil), a.clicks...)
}

// Close destroys the window and closes the connection.
func (a *App) Close() error {
	xproto.DestroyWindow(a.conn, a.win)
	a.conn.Sync()
	a.conn.Close()
	<-a.done
	return nil
}

package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// ErrNoSpareKeycode is returned when a keysym has no key on the keyboard and every spare
// keycode is held down, so none can be rebound to it.
var ErrNoSpareKeycode = errors.New("input: no spare keycode to bind")

// ErrClosed is returned by Inject after Close.
var ErrClosed = errors.New("input: injector closed")

// Keysyms the injector needs by name.
const (
	keysymShiftL = 0xffe1
	keysymShiftR = 0xffe2
)

type keyPos struct {
	code  xproto.Keycode
	level int // 0 plain, 1 with Shift
}

// X11Injector delivers events to an X display through the XTEST extension, on the XTEST
// slave devices ("Virtual core XTEST keyboard"/"pointer") when XInput2 lists them.
//
// Keys are given as keysyms. A keysym on the keyboard map is sent as its keycode, with Shift
// pressed around it when it sits on the shifted level and Shift is not already held. A keysym
// with no key (non-ASCII text such as 'é' or '中') is bound to a spare keycode (one with no
// symbols) with ChangeKeyboardMapping, then pressed; spare keycodes are reused least recently
// used first, and restored to empty on Close.
type X11Injector struct {
	conn *xgb.Conn
	root xproto.Window

	mu        sync.Mutex
	closed    bool
	width     int
	height    int
	minCode   xproto.Keycode
	perCode   int
	syms      []xproto.Keysym // the keyboard map, perCode per keycode from minCode
	lookup    map[uint32]keyPos
	stale     bool // MappingNotify seen: reload the map before the next key
	spares    []xproto.Keycode
	spareUse  map[xproto.Keycode]uint64
	spareAt   map[xproto.Keycode]time.Time // when each spare was last pressed
	bound     map[uint32]xproto.Keycode    // keysym -> spare keycode bound to it
	boundTo   map[xproto.Keycode]uint32
	tick      uint64
	pressed   map[uint32]xproto.Keycode // keysym held down -> keycode
	buttons   map[uint8]bool
	shiftCode xproto.Keycode
	kbdDev    byte
	ptrDev    byte

	wg sync.WaitGroup
}

// OpenX11 connects to display and prepares XTEST injection.
func OpenX11(ctx context.Context, display string) (*X11Injector, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("input: connect to %s: %w", display, err)
	}
	x := &X11Injector{
		conn:     conn,
		spareUse: map[xproto.Keycode]uint64{},
		spareAt:  map[xproto.Keycode]time.Time{},
		bound:    map[uint32]xproto.Keycode{},
		boundTo:  map[xproto.Keycode]uint32{},
		pressed:  map[uint32]xproto.Keycode{},
		buttons:  map[uint8]bool{},
	}
	if err := x.setup(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("input: %s: %w", display, err)
	}
	x.wg.Add(1)
	go x.eventLoop()
	return x, nil
}

func (x *X11Injector) setup() error {
	c := x.conn
	setup := xproto.Setup(c)
	screen := setup.DefaultScreen(c)
	x.root = screen.Root
	x.width, x.height = int(screen.WidthInPixels), int(screen.HeightInPixels)
	if err := xtest.Init(c); err != nil {
		return fmt.Errorf("XTEST extension: %w", err)
	}
	if _, err := xtest.GetVersion(c, 2, 2).Reply(); err != nil {
		return fmt.Errorf("XTEST version: %w", err)
	}
	// Follow root size changes (RANDR resizes) for clamping.
	if err := xproto.ChangeWindowAttributesChecked(c, x.root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskStructureNotify}).Check(); err != nil {
		return fmt.Errorf("select root events: %w", err)
	}
	if kbd, ptr, err := queryXTestDevices(c); err == nil {
		x.kbdDev, x.ptrDev = byte(kbd), byte(ptr)
	}
	x.minCode = setup.MinKeycode
	if err := x.loadKeymap(setup.MaxKeycode); err != nil {
		return err
	}
	// Spares: keycodes with no symbols at all, found once; only we bind them.
	for i := 0; i*x.perCode < len(x.syms); i++ {
		empty := true
		for _, s := range x.syms[i*x.perCode : (i+1)*x.perCode] {
			empty = empty && s == 0
		}
		// Keycodes below 9 are not real keys in the usual XKB maps; keep away from them.
		if code := xproto.Keycode(int(x.minCode) + i); empty && code >= 9 {
			x.spares = append(x.spares, code)
		}
	}
	x.rebuildLookup()
	if pos, ok := x.lookup[keysymShiftL]; ok {
		x.shiftCode = pos.code
	} else if pos, ok := x.lookup[keysymShiftR]; ok {
		x.shiftCode = pos.code
	}
	return nil
}

// queryXTestDevices finds the XTEST slave devices through XInput2's XIQueryDevice, sent as
// a raw request since xgb has no XInput binding.
func queryXTestDevices(c *xgb.Conn) (keyboard, pointer uint16, err error) {
	const name = "XInputExtension"
	ext, err := xproto.QueryExtension(c, uint16(len(name)), name).Reply()
	if err != nil {
		return 0, 0, err
	}
	if !ext.Present {
		return 0, 0, errors.New("no XInputExtension")
	}
	op := ext.MajorOpcode
	// XIQueryVersion 2.0 (minor opcode 47) must precede XI2 requests.
	ver := []byte{op, 47, 2, 0, 2, 0, 0, 0}
	ck := c.NewCookie(true, true)
	c.NewRequest(ver, ck)
	if _, err := ck.Reply(); err != nil {
		return 0, 0, fmt.Errorf("XIQueryVersion: %w", err)
	}
	// XIQueryDevice (minor opcode 48) for XIAllDevices (0).
	q := []byte{op, 48, 2, 0, 0, 0, 0, 0}
	ck = c.NewCookie(true, true)
	c.NewRequest(q, ck)
	reply, err := ck.Reply()
	if err != nil {
		return 0, 0, fmt.Errorf("XIQueryDevice: %w", err)
	}
	devs, err := parseXIQueryDevice(reply)
	if err != nil {
		return 0, 0, err
	}
	keyboard, pointer = xtestDevices(devs)
	return keyboard, pointer, nil
}

// DeviceIDs returns the XInput device ids used for keys and pointer (0: the core devices).
func (x *X11Injector) DeviceIDs() (keyboard, pointer int) {
	return int(x.kbdDev), int(x.ptrDev)
}

func (x *X11Injector) loadKeymap(maxCode xproto.Keycode) error {
	count := int(maxCode) - int(x.minCode) + 1
	reply, err := xproto.GetKeyboardMapping(x.conn, x.minCode, byte(count)).Reply()
	if err != nil {
		return fmt.Errorf("GetKeyboardMapping: %w", err)
	}
	if reply.KeysymsPerKeycode == 0 {
		return errors.New("GetKeyboardMapping: zero keysyms per keycode")
	}
	x.perCode = int(reply.KeysymsPerKeycode)
	x.syms = reply.Keysyms
	return nil
}

// rebuildLookup maps every keysym on a non-spare key to its keycode and level, preferring
// the plain level and the lowest keycode.
func (x *X11Injector) rebuildLookup() {
	spare := map[xproto.Keycode]bool{}
	for _, s := range x.spares {
		spare[s] = true
	}
	x.lookup = map[uint32]keyPos{}
	for level := 0; level < 2 && level < x.perCode; level++ {
		for i := 0; i*x.perCode < len(x.syms); i++ {
			code := xproto.Keycode(int(x.minCode) + i)
			if spare[code] {
				continue
			}
			ks := uint32(x.syms[i*x.perCode+level])
			if ks == 0 {
				continue
			}
			if _, ok := x.lookup[ks]; !ok {
				x.lookup[ks] = keyPos{code: code, level: level}
			}
		}
	}
}

func (x *X11Injector) eventLoop() {
	defer x.wg.Done()
	for {
		ev, xerr := x.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			return
		}
		switch e := ev.(type) {
		case xproto.ConfigureNotifyEvent:
			if e.Window == x.root {
				x.mu.Lock()
				x.width, x.height = int(e.Width), int(e.Height)
				x.mu.Unlock()
			}
		case xproto.MappingNotifyEvent:
			if e.Request == xproto.MappingKeyboard {
				x.mu.Lock()
				x.stale = true
				x.mu.Unlock()
			}
		}
	}
}

// normalize maps Unicode keysyms of Latin-1 characters to their legacy keysyms, which is
// how keyboard maps list them.
func normalize(ks uint32) uint32 {
	if ks >= 0x01000020 && ks <= 0x010000ff && (ks < 0x0100007f || ks >= 0x010000a0) {
		return ks - 0x01000000
	}
	return ks
}

// Inject delivers one event.
func (x *X11Injector) Inject(ctx context.Context, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	var err error
	switch ev.Kind {
	case KeyDown:
		err = x.keyDown(ctx, normalize(ev.Keysym))
	case KeyUp:
		err = x.keyUp(normalize(ev.Keysym))
	case MouseMove:
		err = x.move(ev.X, ev.Y)
	case ButtonDown, ButtonUp:
		if ev.Button == 0 {
			return fmt.Errorf("input: button 0")
		}
		if err = x.move(ev.X, ev.Y); err == nil {
			err = x.button(ev.Button, ev.Kind == ButtonDown)
		}
	case Wheel:
		err = x.wheel(ev.DX, ev.DY)
	default:
		return fmt.Errorf("input: unknown event kind %d", ev.Kind)
	}
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	return nil
}

func (x *X11Injector) fake(typ byte, detail byte, dev byte, rx, ry int16) error {
	return xtest.FakeInputChecked(x.conn, typ, detail, 0, x.root, rx, ry, dev).Check()
}

func (x *X11Injector) key(code xproto.Keycode, down bool) error {
	typ := byte(xproto.KeyRelease)
	if down {
		typ = xproto.KeyPress
	}
	return x.fake(typ, byte(code), x.kbdDev, 0, 0)
}

func (x *X11Injector) shiftHeld() bool {
	_, l := x.pressed[keysymShiftL]
	_, r := x.pressed[keysymShiftR]
	return l || r
}

func (x *X11Injector) refreshKeymap() error {
	if !x.stale {
		return nil
	}
	x.stale = false
	setup := xproto.Setup(x.conn)
	if err := x.loadKeymap(setup.MaxKeycode); err != nil {
		return err
	}
	x.rebuildLookup()
	return nil
}

func (x *X11Injector) keyDown(ctx context.Context, ks uint32) error {
	if err := x.refreshKeymap(); err != nil {
		return err
	}
	pos, ok := x.lookup[ks]
	if !ok {
		code, err := x.bindSpare(ctx, ks)
		if err != nil {
			return err
		}
		pos = keyPos{code: code}
	}
	if code, ok := x.boundTo[pos.code]; ok && code == ks {
		x.tick++
		x.spareUse[pos.code] = x.tick
		x.spareAt[pos.code] = time.Now()
	}
	needShift := pos.level == 1 && !x.shiftHeld() && x.shiftCode != 0
	if needShift {
		if err := x.key(x.shiftCode, true); err != nil {
			return err
		}
	}
	err := x.key(pos.code, true)
	if needShift {
		if err2 := x.key(x.shiftCode, false); err == nil {
			err = err2
		}
	}
	if err != nil {
		return err
	}
	x.pressed[ks] = pos.code
	return nil
}

func (x *X11Injector) keyUp(ks uint32) error {
	code, ok := x.pressed[ks]
	if !ok {
		// Not pressed through us: release the key it maps to anyway (harmless if up).
		pos, found := x.lookup[ks]
		if !found {
			if pos.code, found = x.bound[ks]; !found {
				return nil
			}
		}
		code = pos.code
	}
	delete(x.pressed, ks)
	return x.key(code, false)
}

// minRebind is how long a spare keycode keeps its keysym after its last press before it may
// be rebound. Clients translate a key event with the keyboard map they fetch after the
// MappingNotify that precedes it; rebinding too soon would let a slow client read the newer
// binding for the older key press. It only slows typing of more distinct unbound characters
// (non-ASCII) than there are spare keycodes (18 on Xvfb) within this time.
const minRebind = 150 * time.Millisecond

// bindSpare puts ks on the least recently used spare keycode that is not held down.
func (x *X11Injector) bindSpare(ctx context.Context, ks uint32) (xproto.Keycode, error) {
	if code, ok := x.bound[ks]; ok {
		return code, nil
	}
	held := map[xproto.Keycode]bool{}
	for _, c := range x.pressed {
		held[c] = true
	}
	var best xproto.Keycode
	found := false
	for _, c := range x.spares {
		if held[c] {
			continue
		}
		if !found || x.spareUse[c] < x.spareUse[best] {
			best, found = c, true
		}
	}
	if !found {
		return 0, ErrNoSpareKeycode
	}
	if wait := time.Until(x.spareAt[best].Add(minRebind)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
	syms := make([]xproto.Keysym, x.perCode)
	for i := range syms {
		syms[i] = xproto.Keysym(ks)
	}
	if err := xproto.ChangeKeyboardMappingChecked(x.conn, 1, best, byte(x.perCode), syms).Check(); err != nil {
		return 0, fmt.Errorf("ChangeKeyboardMapping: %w", err)
	}
	if old, ok := x.boundTo[best]; ok {
		delete(x.bound, old)
	}
	x.bound[ks] = best
	x.boundTo[best] = ks
	x.tick++
	x.spareUse[best] = x.tick
	x.spareAt[best] = time.Now()
	return best, nil
}

func (x *X11Injector) clamp(px, py int) (int16, int16) {
	px = max(0, min(px, x.width-1))
	py = max(0, min(py, x.height-1))
	return int16(px), int16(py)
}

func (x *X11Injector) move(px, py int) error {
	cx, cy := x.clamp(px, py)
	return x.fake(xproto.MotionNotify, 0, x.ptrDev, cx, cy)
}

func (x *X11Injector) button(b uint8, down bool) error {
	typ := byte(xproto.ButtonRelease)
	if down {
		typ = xproto.ButtonPress
	}
	if err := x.fake(typ, b, x.ptrDev, 0, 0); err != nil {
		return err
	}
	if down {
		x.buttons[b] = true
	} else {
		delete(x.buttons, b)
	}
	return nil
}

func (x *X11Injector) wheel(dx, dy int) error {
	click := func(b uint8, n int) error {
		for i := 0; i < n; i++ {
			if err := x.button(b, true); err != nil {
				return err
			}
			if err := x.button(b, false); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch {
	case dy > 0:
		err = click(5, dy)
	case dy < 0:
		err = click(4, -dy)
	}
	if err != nil {
		return err
	}
	switch {
	case dx > 0:
		err = click(7, dx)
	case dx < 0:
		err = click(6, -dx)
	}
	return err
}

// Close releases keys and buttons still held, restores the spare keycodes it bound, and
// closes the connection. It is safe to call more than once.
func (x *X11Injector) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	var errs []error
	for ks, code := range x.pressed {
		errs = append(errs, x.key(code, false))
		delete(x.pressed, ks)
	}
	for b := range x.buttons {
		errs = append(errs, x.button(b, false))
	}
	empty := make([]xproto.Keysym, x.perCode)
	for code := range x.boundTo {
		errs = append(errs, xproto.ChangeKeyboardMappingChecked(x.conn, 1, code, byte(x.perCode), empty).Check())
	}
	x.mu.Unlock()
	x.conn.Close()
	x.wg.Wait()
	// A display that is already gone has nothing left to restore.
	for i, err := range errs {
		if errors.Is(err, io.EOF) {
			errs[i] = nil
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("input: close: %w", err)
	}
	return nil
}

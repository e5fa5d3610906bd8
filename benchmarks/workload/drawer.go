package workload

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// drawer holds the X resources a scene draws with: the full-screen window, one graphics
// context whose colours are switched as needed, the core "fixed" font and pixmaps.
type drawer struct {
	conn  *xgb.Conn
	win   xproto.Window
	gc    *gcState // for the window, clipped: scenes never draw over the stamp
	pgc   *gcState // for pixmaps, unclipped
	stgc  xproto.Gcontext
	font  xproto.Font
	depth byte
	w, h  int
	rng   *rand.Rand

	keyMu   sync.Mutex
	minCode xproto.Keycode
	maxCode xproto.Keycode
	perCode int
	syms    []xproto.Keysym
}

// Text metrics of the "fixed" font (6x13).
const (
	charW    = 6
	charH    = 13
	charBase = 10
)

func pixel(c color.RGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }

func xrect(r image.Rectangle) xproto.Rectangle {
	return xproto.Rectangle{X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(max(r.Dx(), 0)), Height: uint16(max(r.Dy(), 0))}
}

func newDrawer(conn *xgb.Conn, rng *rand.Rand) (*drawer, error) {
	setup := xproto.Setup(conn)
	screen := setup.DefaultScreen(conn)
	d := &drawer{conn: conn, depth: screen.RootDepth, w: int(screen.WidthInPixels), h: int(screen.HeightInPixels), rng: rng,
		minCode: setup.MinKeycode, maxCode: setup.MaxKeycode}
	if d.depth != 24 && d.depth != 32 {
		return nil, fmt.Errorf("screen depth %d: want 24", d.depth)
	}
	var err error
	if d.win, err = xproto.NewWindowId(conn); err != nil {
		return nil, err
	}
	mask := uint32(xproto.EventMaskKeyPress | xproto.EventMaskButtonPress)
	if err := xproto.CreateWindowChecked(conn, screen.RootDepth, d.win, screen.Root, 0, 0,
		uint16(d.w), uint16(d.h), 0, xproto.WindowClassInputOutput, screen.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{0, 1, mask}).Check(); err != nil {
		return nil, fmt.Errorf("create window: %w", err)
	}
	title := "shadowless-workload"
	xproto.ChangeProperty(conn, xproto.PropModeReplace, d.win, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(title)), []byte(title))
	if d.font, err = xproto.NewFontId(conn); err != nil {
		return nil, err
	}
	if err := xproto.OpenFontChecked(conn, d.font, uint16(len("fixed")), "fixed").Check(); err != nil {
		return nil, fmt.Errorf("open font fixed: %w", err)
	}
	for _, g := range []**gcState{&d.gc, &d.pgc} {
		id, err := xproto.NewGcontextId(conn)
		if err != nil {
			return nil, err
		}
		if err := xproto.CreateGCChecked(conn, id, xproto.Drawable(d.win),
			xproto.GcForeground|xproto.GcBackground|xproto.GcFont|xproto.GcGraphicsExposures,
			[]uint32{0, 0, uint32(d.font), 0}).Check(); err != nil {
			return nil, fmt.Errorf("create gc: %w", err)
		}
		*g = &gcState{id: id}
	}
	// Scenes draw with a GC clipped to everything but the stamp, so the stamp only ever
	// changes in one PutImage request and a capture can never see half of one.
	sr := StampRect
	if err := xproto.SetClipRectanglesChecked(conn, xproto.ClipOrderingUnsorted, d.gc.id, 0, 0, []xproto.Rectangle{
		xrect(image.Rect(sr.Max.X, 0, d.w, sr.Max.Y)), xrect(image.Rect(0, sr.Max.Y, d.w, d.h)),
	}).Check(); err != nil {
		return nil, fmt.Errorf("clip gc: %w", err)
	}
	if d.stgc, err = xproto.NewGcontextId(conn); err != nil {
		return nil, err
	}
	if err := xproto.CreateGCChecked(conn, d.stgc, xproto.Drawable(d.win), xproto.GcGraphicsExposures, []uint32{0}).Check(); err != nil {
		return nil, fmt.Errorf("create stamp gc: %w", err)
	}
	// No key auto-repeat: a press whose release comes late (a loaded machine, a slow link)
	// must be answered once, not once per repeat.
	if err := xproto.ChangeKeyboardControlChecked(conn, xproto.KbAutoRepeatMode, []uint32{xproto.AutoRepeatModeOff}).Check(); err != nil {
		return nil, fmt.Errorf("turn key auto-repeat off: %w", err)
	}
	if err := d.loadKeymap(); err != nil {
		return nil, err
	}
	if err := xproto.MapWindowChecked(conn, d.win).Check(); err != nil {
		return nil, fmt.Errorf("map window: %w", err)
	}
	if err := xproto.SetInputFocusChecked(conn, xproto.InputFocusPointerRoot, d.win, xproto.TimeCurrentTime).Check(); err != nil {
		return nil, fmt.Errorf("focus: %w", err)
	}
	return d, nil
}

func (d *drawer) loadKeymap() error {
	count := byte(int(d.maxCode) - int(d.minCode) + 1)
	rep, err := xproto.GetKeyboardMapping(d.conn, d.minCode, count).Reply()
	if err != nil {
		return fmt.Errorf("keyboard mapping: %w", err)
	}
	d.keyMu.Lock()
	d.syms, d.perCode = rep.Keysyms, int(rep.KeysymsPerKeycode)
	d.keyMu.Unlock()
	return nil
}

// keysym returns the unshifted keysym of a keycode (0 if unknown).
func (d *drawer) keysym(code xproto.Keycode) uint32 {
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	i := int(code) - int(d.minCode)
	if i < 0 || d.perCode == 0 || (i+1)*d.perCode > len(d.syms) {
		return 0
	}
	return uint32(d.syms[i*d.perCode])
}

// roundTrip waits until the X server has processed everything sent so far, so frames
// cannot queue up faster than the server draws them.
func (d *drawer) roundTrip() error {
	_, err := xproto.GetInputFocus(d.conn).Reply()
	return err
}

// gcState is a graphics context and the colours last set on it.
type gcState struct {
	id     xproto.Gcontext
	fg, bg uint32
}

// gcFor returns the clipped GC for the window and the unclipped one for pixmaps.
func (d *drawer) gcFor(dst xproto.Drawable) *gcState {
	if dst == xproto.Drawable(d.win) {
		return d.gc
	}
	return d.pgc
}

func (d *drawer) setFG(dst xproto.Drawable, c color.RGBA) xproto.Gcontext {
	g := d.gcFor(dst)
	if p := pixel(c); p != g.fg {
		g.fg = p
		xproto.ChangeGC(d.conn, g.id, xproto.GcForeground, []uint32{p})
	}
	return g.id
}

func (d *drawer) setColors(dst xproto.Drawable, fg, bg color.RGBA) xproto.Gcontext {
	g := d.gcFor(dst)
	pf, pb := pixel(fg), pixel(bg)
	if pf != g.fg || pb != g.bg {
		g.fg, g.bg = pf, pb
		xproto.ChangeGC(d.conn, g.id, xproto.GcForeground|xproto.GcBackground, []uint32{pf, pb})
	}
	return g.id
}

func (d *drawer) fillRects(dst xproto.Drawable, c color.RGBA, rs ...image.Rectangle) {
	if len(rs) == 0 {
		return
	}
	gc := d.setFG(dst, c)
	xr := make([]xproto.Rectangle, 0, len(rs))
	for _, r := range rs {
		if !r.Empty() {
			xr = append(xr, xrect(r))
		}
	}
	for len(xr) > 0 { // stay well under the core request size limit
		n := min(len(xr), 8000)
		xproto.PolyFillRectangle(d.conn, dst, gc, xr[:n])
		xr = xr[n:]
	}
}

func (d *drawer) fillArcs(dst xproto.Drawable, c color.RGBA, arcs []xproto.Arc) {
	if len(arcs) == 0 {
		return
	}
	xproto.PolyFillArc(d.conn, dst, d.setFG(dst, c), arcs)
}

func (d *drawer) fillPoly(dst xproto.Drawable, c color.RGBA, pts []xproto.Point) {
	xproto.FillPoly(d.conn, dst, d.setFG(dst, c), xproto.PolyShapeConvex, xproto.CoordModeOrigin, pts)
}

// text draws s with its top-left corner at (x, y) with ImageText8 (background filled).
func (d *drawer) text(dst xproto.Drawable, fg, bg color.RGBA, x, y int, s string) {
	if len(s) > 255 {
		s = s[:255]
	}
	if s == "" {
		return
	}
	gc := d.setColors(dst, fg, bg)
	xproto.ImageText8(d.conn, byte(len(s)), dst, gc, int16(x), int16(y+charBase), s)
}

// copyArea copies r of src to dst at p.
func (d *drawer) copyArea(src, dst xproto.Drawable, r image.Rectangle, p image.Point) {
	if r.Empty() {
		return
	}
	xproto.CopyArea(d.conn, src, dst, d.gcFor(dst).id, int16(r.Min.X), int16(r.Min.Y), int16(p.X), int16(p.Y), uint16(r.Dx()), uint16(r.Dy()))
}

// pixmap creates a server-side pixmap of the screen's depth.
func (d *drawer) pixmap(w, h int) (xproto.Pixmap, error) {
	p, err := xproto.NewPixmapId(d.conn)
	if err != nil {
		return 0, err
	}
	if err := xproto.CreatePixmapChecked(d.conn, d.depth, p, xproto.Drawable(d.win), uint16(w), uint16(h)).Check(); err != nil {
		return 0, fmt.Errorf("create pixmap %dx%d: %w", w, h, err)
	}
	return p, nil
}

// upload sends img to the pixmap dst at p, in strips that fit the core request size.
func (d *drawer) upload(dst xproto.Drawable, img *image.RGBA, p image.Point) error {
	b := img.Rect
	w := b.Dx()
	rows := max(1, (200<<10)/(w*4))
	buf := make([]byte, 0, rows*w*4)
	for y := b.Min.Y; y < b.Max.Y; y += rows {
		n := min(rows, b.Max.Y-y)
		buf = buf[:0]
		for yy := y; yy < y+n; yy++ {
			row := img.Pix[img.PixOffset(b.Min.X, yy):][:w*4]
			for x := 0; x < w; x++ {
				buf = append(buf, row[4*x+2], row[4*x+1], row[4*x], 0) // BGRX
			}
		}
		xproto.PutImage(d.conn, xproto.ImageFormatZPixmap, dst, d.gcFor(dst).id, uint16(w), uint16(n),
			int16(p.X), int16(p.Y+y-b.Min.Y), 0, d.depth, buf)
	}
	return d.roundTrip()
}

// putStamp draws the stamp in a single request.
func (d *drawer) putStamp(s Stamp) {
	w, h := StampRect.Dx(), StampRect.Dy()
	buf := make([]byte, w*h*4)
	bits := s.Bits()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if bits[x/StampCell] {
				copy(buf[(y*w+x)*4:], []byte{255, 255, 255, 0})
			}
		}
	}
	xproto.PutImage(d.conn, xproto.ImageFormatZPixmap, xproto.Drawable(d.win), d.stgc, uint16(w), uint16(h),
		int16(StampRect.Min.X), int16(StampRect.Min.Y), 0, d.depth, buf)
}

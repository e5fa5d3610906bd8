package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
	"golang.org/x/sys/unix"

	"github.com/shadowless-dev/shadowless/asp/yuv"
)

// ErrDisplayClosed is wrapped by the errors of an X11 source whose X server went away or
// whose connection was closed.
var ErrDisplayClosed = errors.New("capture: X display closed")

// ErrUnsupportedFormat is returned by OpenX11 when the screen's pixel format is not 24/32-bit
// little-endian BGRX, the only one the capture path converts.
var ErrUnsupportedFormat = errors.New("capture: unsupported X pixel format")

// X11Options configures OpenX11. The zero value is usable.
type X11Options struct {
	// MaxFPS caps the frame rate; damage arriving faster is coalesced into the next frame
	// (default 30).
	MaxFPS int
	// RefreshInterval is how often an idle screen still produces a full frame (empty Damage),
	// so a receiver that lost data recovers (default 2 s; negative disables).
	RefreshInterval time.Duration
	// CursorInterval is how often the pointer position is polled; a Cursor is sent only when
	// it moved (default 20 ms).
	CursorInterval time.Duration
	// DisableSHM forces plain GetImage even when MIT-SHM is available (for comparison and
	// for servers on another machine or IPC namespace).
	DisableSHM bool
	// MaxRects bounds how many separate rectangles one frame grabs before falling back to
	// their bounding box (default 16).
	MaxRects int
	// Logger receives debug messages (default slog.Default()).
	Logger *slog.Logger
}

func (o *X11Options) defaults() {
	if o.MaxFPS <= 0 {
		o.MaxFPS = 30
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = 2 * time.Second
	}
	if o.CursorInterval <= 0 {
		o.CursorInterval = 20 * time.Millisecond
	}
	if o.MaxRects <= 0 {
		o.MaxRects = 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// X11Source captures the root window of an X display. It is a Source: Next returns a frame
// when the DAMAGE extension reports changes (only the damaged rectangles are read and
// converted), a full frame after a RANDR resize, and a full refresh frame on an idle screen
// every RefreshInterval. Cursor shape (XFIXES) and position (polled) arrive on Cursors.
type X11Source struct {
	display string
	opts    X11Options
	log     *slog.Logger
	conn    *xgb.Conn
	root    xproto.Window
	haveRR  bool
	// convert is yuv.BGRAToI420: src's first pixel is dst.Rect.Min.
	convert func(dst *image.YCbCr, src []byte, srcStride int, r image.Rectangle)

	// Capture state, owned by Next (nextMu).
	nextMu    sync.Mutex
	width     int
	height    int
	img       *image.YCbCr
	seg       *shmSegment // nil: plain GetImage
	useSHM    bool
	dmg       damage.Damage
	region    xfixes.Region
	seq       uint64
	lastFrame time.Time
	pace      Pacer     // spaces frames to MaxFPS
	grabStart time.Time // when the grab of the frame being read began

	// Set by the event loop.
	mu      sync.Mutex
	damaged bool
	resized bool
	wake    chan struct{} // cap 1: something for Next to look at
	shape   chan struct{} // cap 1: cursor shape changed
	lost    chan struct{} // closed when the connection to the server is gone
	sizeW   int           // size announced by RANDR (0: ask the server)
	sizeH   int

	cursors   chan Cursor
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// OpenX11 connects to display (":N"), checks the extensions and pixel format, and starts
// watching for damage, cursor changes and resizes. DAMAGE and XFIXES are required; MIT-SHM
// and RANDR are used when present.
func OpenX11(ctx context.Context, display string, opts X11Options) (*X11Source, error) {
	opts.defaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("capture: connect to %s: %w", display, err)
	}
	s := &X11Source{
		display: display,
		opts:    opts,
		log:     opts.Logger.With("display", display),
		conn:    conn,
		convert: yuv.BGRAToI420,
		wake:    make(chan struct{}, 1),
		shape:   make(chan struct{}, 1),
		lost:    make(chan struct{}),
		cursors: make(chan Cursor, 1),
		done:    make(chan struct{}),
	}
	if err := s.setup(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("capture: %s: %w", display, err)
	}
	s.wg.Add(2)
	go s.eventLoop()
	go s.cursorLoop()
	return s, nil
}

func (s *X11Source) setup() error {
	c := s.conn
	setup := xproto.Setup(c)
	screen := setup.DefaultScreen(c)
	s.root = screen.Root
	s.width, s.height = int(screen.WidthInPixels), int(screen.HeightInPixels)

	if err := checkFormat(setup, screen); err != nil {
		return err
	}
	if err := xfixes.Init(c); err != nil {
		return fmt.Errorf("XFIXES extension: %w", err)
	}
	if _, err := xfixes.QueryVersion(c, 5, 0).Reply(); err != nil {
		return fmt.Errorf("XFIXES version: %w", err)
	}
	if err := damage.Init(c); err != nil {
		return fmt.Errorf("DAMAGE extension: %w", err)
	}
	if _, err := damage.QueryVersion(c, 1, 1).Reply(); err != nil {
		return fmt.Errorf("DAMAGE version: %w", err)
	}
	if err := randr.Init(c); err == nil {
		if _, err := randr.QueryVersion(c, 1, 2).Reply(); err == nil {
			if err := randr.SelectInputChecked(c, s.root, randr.NotifyMaskScreenChange).Check(); err == nil {
				s.haveRR = true
			}
		}
	}
	if !s.haveRR {
		s.log.Debug("capture: RANDR unavailable; resizes will not be followed")
	}
	if !s.opts.DisableSHM {
		if err := shm.Init(c); err == nil {
			if _, err := shm.QueryVersion(c).Reply(); err == nil {
				s.useSHM = true
			}
		}
	}

	var err error
	if s.dmg, err = damage.NewDamageId(c); err != nil {
		return err
	}
	if err := damage.CreateChecked(c, s.dmg, xproto.Drawable(s.root), damage.ReportLevelNonEmpty).Check(); err != nil {
		return fmt.Errorf("DAMAGE create: %w", err)
	}
	if s.region, err = xfixes.NewRegionId(c); err != nil {
		return err
	}
	if err := xfixes.CreateRegionChecked(c, s.region, nil).Check(); err != nil {
		return fmt.Errorf("XFIXES region: %w", err)
	}
	if err := xfixes.SelectCursorInputChecked(c, s.root, xfixes.CursorNotifyMaskDisplayCursor).Check(); err != nil {
		return fmt.Errorf("XFIXES cursor input: %w", err)
	}
	return s.allocate()
}

// checkFormat accepts the layouts convert handles: 32 bits per pixel, little-endian,
// red/green/blue masks of BGRX.
func checkFormat(setup *xproto.SetupInfo, screen *xproto.ScreenInfo) error {
	if setup.ImageByteOrder != xproto.ImageOrderLSBFirst {
		return fmt.Errorf("%w: big-endian image byte order", ErrUnsupportedFormat)
	}
	bpp := 0
	for _, f := range setup.PixmapFormats {
		if f.Depth == screen.RootDepth {
			bpp = int(f.BitsPerPixel)
		}
	}
	if bpp != 32 {
		return fmt.Errorf("%w: depth %d with %d bits per pixel (want 24 or 32 at 32 bpp)", ErrUnsupportedFormat, screen.RootDepth, bpp)
	}
	for _, d := range screen.AllowedDepths {
		for _, v := range d.Visuals {
			if v.VisualId == screen.RootVisual {
				if v.RedMask != 0xff0000 || v.GreenMask != 0xff00 || v.BlueMask != 0xff {
					return fmt.Errorf("%w: visual masks %#x/%#x/%#x", ErrUnsupportedFormat, v.RedMask, v.GreenMask, v.BlueMask)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("%w: root visual not found", ErrUnsupportedFormat)
}

// allocate (re)creates the picture and the shared-memory segment for the current size.
func (s *X11Source) allocate() error {
	s.img = image.NewYCbCr(image.Rect(0, 0, s.width, s.height), image.YCbCrSubsampleRatio420)
	if s.seg != nil {
		s.seg.release(s.conn)
		s.seg = nil
	}
	if !s.useSHM {
		return nil
	}
	seg, err := newSHMSegment(s.conn, s.width*s.height*4)
	if err != nil {
		// A server in another IPC namespace, or limits: plain GetImage still works.
		s.log.Debug("capture: MIT-SHM unusable, falling back to GetImage", "err", err)
		s.useSHM = false
		return nil
	}
	s.seg = seg
	return nil
}

// UsesSHM reports whether frames are read through MIT-SHM (false: plain GetImage).
func (s *X11Source) UsesSHM() bool {
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	return s.seg != nil
}

// Size returns the current screen size, as of the last frame.
func (s *X11Source) Size() (width, height int) {
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	return s.width, s.height
}

// Cursors delivers pointer moves and cursor shape changes. Moves that the receiver is too
// slow for are coalesced (the newest position wins; a pending shape is kept). The channel
// is closed by Close.
func (s *X11Source) Cursors() <-chan Cursor { return s.cursors }

// Next blocks until the screen changed, was resized, or a refresh is due, then returns the
// frame. Frames keep to MaxFPS on average; one may come up to half an interval early
// (see Pacer).
func (s *X11Source) Next(ctx context.Context) (Frame, error) {
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	for {
		if at := s.pace.Earliest(s.interval()); !at.IsZero() {
			if err := s.sleep(ctx, time.Until(at)); err != nil {
				return Frame{}, err
			}
		} else if err := s.sleep(ctx, 0); err != nil {
			return Frame{}, err
		}
		s.grabStart = time.Now()
		s.mu.Lock()
		damaged, resized := s.damaged, s.resized
		s.damaged, s.resized = false, false
		s.mu.Unlock()

		if resized {
			if err := s.resize(); err != nil {
				return Frame{}, s.wrap(err)
			}
			return s.full()
		}
		if s.seq == 0 {
			return s.full()
		}
		if damaged {
			rects, err := s.takeDamage()
			if err != nil {
				return Frame{}, s.wrap(err)
			}
			if len(rects) > 0 {
				return s.partial(rects)
			}
		}
		if s.opts.RefreshInterval > 0 && time.Until(s.lastFrame.Add(s.opts.RefreshInterval)) <= 0 {
			return s.full()
		}
		if err := s.wait(ctx); err != nil {
			return Frame{}, err
		}
	}
}

// interval is the least average time between frames (1/MaxFPS).
func (s *X11Source) interval() time.Duration { return time.Second / time.Duration(s.opts.MaxFPS) }

// wait blocks until the event loop has something for Next or a refresh is due.
func (s *X11Source) wait(ctx context.Context) error {
	var refresh <-chan time.Time
	if s.opts.RefreshInterval > 0 {
		t := time.NewTimer(time.Until(s.lastFrame.Add(s.opts.RefreshInterval)))
		defer t.Stop()
		refresh = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return fmt.Errorf("capture: %s: source closed: %w", s.display, ErrDisplayClosed)
	case <-s.lost:
		return s.wrap(io.EOF)
	case <-s.wake:
	case <-refresh:
	}
	return nil
}

func (s *X11Source) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-s.done:
		return fmt.Errorf("capture: %s: source closed: %w", s.display, ErrDisplayClosed)
	case <-s.lost:
		return s.wrap(io.EOF)
	default:
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return fmt.Errorf("capture: %s: source closed: %w", s.display, ErrDisplayClosed)
	case <-s.lost:
		return s.wrap(io.EOF)
	case <-t.C:
		return nil
	}
}

// wrap turns errors caused by a vanished server into ErrDisplayClosed.
func (s *X11Source) wrap(err error) error {
	select {
	case <-s.lost:
		return fmt.Errorf("capture: %s: %w (%v)", s.display, ErrDisplayClosed, err)
	case <-s.done:
		return fmt.Errorf("capture: %s: %w (%v)", s.display, ErrDisplayClosed, err)
	default:
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("capture: %s: %w (%v)", s.display, ErrDisplayClosed, err)
	}
	return fmt.Errorf("capture: %s: %w", s.display, err)
}

// takeDamage moves the accumulated damage into our region and returns its rectangles,
// coalesced for grabbing.
func (s *X11Source) takeDamage() ([]image.Rectangle, error) {
	damage.Subtract(s.conn, s.dmg, 0, s.region)
	reply, err := xfixes.FetchRegion(s.conn, s.region).Reply()
	if err != nil {
		return nil, err
	}
	rects := make([]image.Rectangle, 0, len(reply.Rectangles))
	for _, r := range reply.Rectangles {
		rects = append(rects, image.Rect(int(r.X), int(r.Y), int(r.X)+int(r.Width), int(r.Y)+int(r.Height)))
	}
	return coalesce(rects, s.img.Rect, s.opts.MaxRects), nil
}

// full grabs and converts the whole screen; the frame's Damage is empty.
func (s *X11Source) full() (Frame, error) {
	// Forget pending damage: everything is read now.
	damage.Subtract(s.conn, s.dmg, 0, 0)
	if err := s.grab(s.img.Rect); err != nil {
		return Frame{}, s.wrap(err)
	}
	return s.frame(nil), nil
}

func (s *X11Source) partial(rects []image.Rectangle) (Frame, error) {
	for _, r := range rects {
		if err := s.grab(r); err != nil {
			return Frame{}, s.wrap(err)
		}
	}
	return s.frame(rects), nil
}

func (s *X11Source) frame(damage []image.Rectangle) Frame {
	now := time.Now()
	s.seq++
	s.lastFrame = now
	s.pace.Took(s.grabStart, s.interval())
	return Frame{Image: s.img, Damage: damage, Captured: now, Seq: s.seq}
}

// grab reads r from the root window and converts it into s.img.
func (s *X11Source) grab(r image.Rectangle) error {
	if r.Empty() {
		return nil
	}
	x, y, w, h := int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy())
	if s.seg != nil {
		_, err := shm.GetImage(s.conn, xproto.Drawable(s.root), x, y, w, h, 0xffffffff,
			xproto.ImageFormatZPixmap, s.seg.seg, 0).Reply()
		if err != nil {
			return fmt.Errorf("MIT-SHM GetImage %v: %w", r, err)
		}
		s.convert(sub(s.img, r), s.seg.data, int(w)*4, r)
		return nil
	}
	reply, err := xproto.GetImage(s.conn, xproto.ImageFormatZPixmap, xproto.Drawable(s.root), x, y, w, h, 0xffffffff).Reply()
	if err != nil {
		return fmt.Errorf("GetImage %v: %w", r, err)
	}
	if len(reply.Data) < int(w)*int(h)*4 {
		return fmt.Errorf("GetImage %v: short reply of %d bytes", r, len(reply.Data))
	}
	s.convert(sub(s.img, r), reply.Data, int(w)*4, r)
	return nil
}

// sub returns the part of img at r (r has even corners), sharing its planes, so that a
// grab of just r (packed rows of r.Dx() pixels) converts in place: the converter takes its
// source's first pixel to be the destination's Rect.Min.
func sub(img *image.YCbCr, r image.Rectangle) *image.YCbCr {
	return img.SubImage(r).(*image.YCbCr)
}

// resize follows a RANDR screen change: new size, new picture, new segment.
func (s *X11Source) resize() error {
	s.mu.Lock()
	w, h := s.sizeW, s.sizeH
	s.mu.Unlock()
	if w <= 0 || h <= 0 {
		geom, err := xproto.GetGeometry(s.conn, xproto.Drawable(s.root)).Reply()
		if err != nil {
			return err
		}
		w, h = int(geom.Width), int(geom.Height)
	}
	if w == s.width && h == s.height {
		return nil
	}
	s.log.Debug("capture: screen resized", "width", w, "height", h)
	s.width, s.height = w, h
	return s.allocate()
}

func (s *X11Source) notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// eventLoop reads X events; it never waits for replies (that could deadlock xgb's reader).
func (s *X11Source) eventLoop() {
	defer s.wg.Done()
	for {
		ev, xerr := s.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			select {
			case <-s.done:
			default:
				s.log.Debug("capture: X connection lost")
			}
			close(s.lost)
			return
		}
		if xerr != nil {
			s.log.Debug("capture: X error", "err", xerr)
			continue
		}
		switch e := ev.(type) {
		case damage.NotifyEvent:
			s.mu.Lock()
			s.damaged = true
			s.mu.Unlock()
			s.notify(s.wake)
		case randr.ScreenChangeNotifyEvent:
			s.mu.Lock()
			s.resized = true
			w, h := int(e.Width), int(e.Height)
			if e.Rotation&(randr.RotationRotate90|randr.RotationRotate270) != 0 {
				w, h = h, w
			}
			s.sizeW, s.sizeH = w, h
			s.mu.Unlock()
			s.notify(s.wake)
		case xfixes.CursorNotifyEvent:
			s.notify(s.shape)
		}
	}
}

// cursorLoop polls the pointer position and fetches cursor images on shape changes.
func (s *X11Source) cursorLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(s.opts.CursorInterval)
	defer tick.Stop()
	var (
		cur     Cursor // last known state
		known   bool
		pending *Cursor
		fetch   = true // initial shape
	)
	for {
		if fetch {
			fetch = false
			if c, ok := s.cursorImage(); ok {
				cur.Image, cur.HotX, cur.HotY, cur.Serial, cur.Visible = c.Image, c.HotX, c.HotY, c.Serial, c.Visible
				if !known {
					cur.X, cur.Y = c.X, c.Y
					known = true
				}
				p := cur
				pending = &p
			}
		}
		var out chan<- Cursor
		var next Cursor
		if pending != nil {
			out, next = s.cursors, *pending
		}
		select {
		case <-s.done:
			return
		case <-s.lost:
			return
		case out <- next:
			pending = nil
			cur.Image = nil
		case <-s.shape:
			fetch = true
		case <-tick.C:
			reply, err := xproto.QueryPointer(s.conn, s.root).Reply()
			if err != nil {
				continue
			}
			x, y := int(reply.RootX), int(reply.RootY)
			if known && x == cur.X && y == cur.Y {
				continue
			}
			cur.X, cur.Y, known = x, y, true
			if pending != nil {
				pending.X, pending.Y = x, y // keep a pending image
			} else {
				p := cur
				p.Image = nil
				pending = &p
			}
		}
	}
}

// cursorImage fetches the current cursor through XFIXES.
func (s *X11Source) cursorImage() (Cursor, bool) {
	reply, err := xfixes.GetCursorImage(s.conn).Reply()
	if err != nil {
		return Cursor{}, false
	}
	img, visible := cursorToNRGBA(int(reply.Width), int(reply.Height), reply.CursorImage)
	return Cursor{
		X: int(reply.X), Y: int(reply.Y), Visible: visible, Image: img,
		HotX: int(reply.Xhot), HotY: int(reply.Yhot), Serial: reply.CursorSerial,
	}, true
}

// cursorToNRGBA converts XFIXES premultiplied ARGB pixels to straight-alpha RGBA and reports
// whether any pixel is not fully transparent.
func cursorToNRGBA(w, h int, argb []uint32) (*image.NRGBA, bool) {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	visible := false
	for i := 0; i < w*h && i < len(argb); i++ {
		p := argb[i]
		a := p >> 24
		if a == 0 {
			continue
		}
		visible = true
		unp := func(c uint32) uint8 {
			v := (c*255 + a/2) / a
			return uint8(min(v, 255))
		}
		o := img.Pix[i*4 : i*4+4 : i*4+4]
		o[0], o[1], o[2], o[3] = unp((p>>16)&0xff), unp((p>>8)&0xff), unp(p&0xff), uint8(a)
	}
	return img, visible
}

// Close stops the source, releases the shared memory and X resources, closes the
// connection and the Cursors channel. It is safe to call more than once.
func (s *X11Source) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.nextMu.Lock()
		if s.seg != nil {
			s.seg.release(s.conn)
			s.seg = nil
		}
		damage.Destroy(s.conn, s.dmg)
		xfixes.DestroyRegion(s.conn, s.region)
		s.conn.Close()
		s.nextMu.Unlock()
		s.wg.Wait()
		close(s.cursors)
	})
	return nil
}

// shmSegment is a System V shared-memory segment attached both here and in the X server.
type shmSegment struct {
	id   int
	seg  shm.Seg
	data []byte
}

func newSHMSegment(c *xgb.Conn, size int) (*shmSegment, error) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return nil, fmt.Errorf("shmget: %w", err)
	}
	data, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return nil, fmt.Errorf("shmat: %w", err)
	}
	seg, err := shm.NewSegId(c)
	if err == nil {
		err = shm.AttachChecked(c, seg, uint32(id), false).Check()
	}
	// Mark for removal now: the kernel frees it when both sides have detached, even if we
	// crash.
	_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	if err != nil {
		_ = unix.SysvShmDetach(data)
		return nil, fmt.Errorf("MIT-SHM attach: %w", err)
	}
	return &shmSegment{id: id, seg: seg, data: data}, nil
}

func (g *shmSegment) release(c *xgb.Conn) {
	shm.Detach(c, g.seg)
	_ = unix.SysvShmDetach(g.data)
}

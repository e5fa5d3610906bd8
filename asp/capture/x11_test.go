package capture

import (
	"context"
	"image"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func startX(t testing.TB, w, h int) *xvfb.Server {
	t.Helper()
	testenv.LookPath(t, "Xvfb")
	srv, err := xvfb.Start(context.Background(), xvfb.Options{Width: w, Height: h})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// painter draws on the root window from a second client, like an application would.
type painter struct {
	c    *xgb.Conn
	root xproto.Window
	gc   xproto.Gcontext
}

func newPainter(t testing.TB, display string) *painter {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	root := xproto.Setup(c).DefaultScreen(c).Root
	gc, err := xproto.NewGcontextId(c)
	require.NoError(t, err)
	require.NoError(t, xproto.CreateGCChecked(c, gc, xproto.Drawable(root), 0, nil).Check())
	return &painter{c: c, root: root, gc: gc}
}

func (p *painter) fill(t testing.TB, r image.Rectangle, rgb uint32) {
	t.Helper()
	require.NoError(t, xproto.ChangeGCChecked(p.c, p.gc, xproto.GcForeground, []uint32{rgb}).Check())
	require.NoError(t, xproto.PolyFillRectangleChecked(p.c, xproto.Drawable(p.root), p.gc, []xproto.Rectangle{{
		X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(r.Dx()), Height: uint16(r.Dy()),
	}}).Check())
}

// lumaOf converts one colour through the source's own converter, so the tests hold for any
// BT.601 range the converter picks.
func lumaOf(s *X11Source, rgb uint32) uint8 {
	img := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	px := []byte{byte(rgb), byte(rgb >> 8), byte(rgb >> 16), 0xff}
	src := append(append(append(append([]byte{}, px...), px...), px...), px...)
	s.convert(img, src, 8, img.Rect)
	return img.Y[0]
}

func openX(t *testing.T, display string, opts X11Options) *X11Source {
	t.Helper()
	s, err := OpenX11(context.Background(), display, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// nextCovering reads frames until one's damage covers want (or is full).
func nextCovering(t *testing.T, s Source, want image.Rectangle) Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		f, err := s.Next(ctx)
		require.NoError(t, err)
		if len(f.Damage) == 0 {
			return f
		}
		for _, d := range f.Damage {
			if want.In(d) {
				return f
			}
		}
	}
}

func TestX11FirstFrameThenDamage(t *testing.T) {
	srv := startX(t, 640, 480)
	p := newPainter(t, srv.Display())
	p.fill(t, image.Rect(0, 0, 640, 480), 0x000000)

	s := openX(t, srv.Display(), X11Options{RefreshInterval: -1})
	require.True(t, s.UsesSHM(), "Xvfb on this machine offers MIT-SHM")
	w, h := s.Size()
	assert.Equal(t, 640, w)
	assert.Equal(t, 480, h)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := s.Next(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, f.Seq)
	assert.Empty(t, f.Damage, "first frame is full")
	assert.Equal(t, image.Rect(0, 0, 640, 480), f.Image.Rect)
	assert.WithinDuration(t, time.Now(), f.Captured, 5*time.Second)
	black := lumaOf(s, 0)
	assert.Equal(t, black, f.Image.YCbCrAt(320, 240).Y)

	red := image.Rect(101, 51, 151, 81) // odd corner: damage must be aligned to even
	p.fill(t, red, 0xff0000)
	f = nextCovering(t, s, red)
	assert.Greater(t, f.Seq, uint64(1))
	require.NotEmpty(t, f.Damage)
	var total int
	for _, d := range f.Damage {
		assert.Zero(t, d.Min.X%2, "aligned %v", d)
		assert.Zero(t, d.Min.Y%2, "aligned %v", d)
		total += d.Dx() * d.Dy()
	}
	assert.Less(t, total, 640*480/10, "only the damaged area is reported: %v", f.Damage)
	wantRed := lumaOf(s, 0xff0000)
	assert.Equal(t, wantRed, f.Image.YCbCrAt(101, 51).Y)
	assert.Equal(t, wantRed, f.Image.YCbCrAt(150, 80).Y)
	assert.Equal(t, black, f.Image.YCbCrAt(151, 81).Y, "outside the rectangle untouched")
	assert.Equal(t, black, f.Image.YCbCrAt(100, 50).Y)

	// Two far-apart changes in one frame.
	a, b := image.Rect(10, 10, 20, 20), image.Rect(600, 440, 630, 470)
	p.fill(t, a, 0xffffff)
	p.fill(t, b, 0x00ff00)
	time.Sleep(50 * time.Millisecond) // let both land in one frame
	f = nextCovering(t, s, b)
	white, green := lumaOf(s, 0xffffff), lumaOf(s, 0x00ff00)
	assert.Equal(t, white, f.Image.YCbCrAt(15, 15).Y)
	assert.Equal(t, green, f.Image.YCbCrAt(610, 450).Y)
	assert.Equal(t, wantRed, f.Image.YCbCrAt(120, 60).Y, "earlier content kept in the persistent picture")
}

func TestX11IdleRefresh(t *testing.T) {
	srv := startX(t, 320, 240)
	s := openX(t, srv.Display(), X11Options{RefreshInterval: 150 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := s.Next(ctx)
	require.NoError(t, err)
	start := time.Now()
	f, err := s.Next(ctx)
	require.NoError(t, err)
	assert.Empty(t, f.Damage, "refresh frames are full")
	assert.EqualValues(t, first.Seq+1, f.Seq)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "idle screen waits for the refresh")
}

func TestX11NextHonoursContext(t *testing.T) {
	srv := startX(t, 320, 240)
	s := openX(t, srv.Display(), X11Options{RefreshInterval: -1})
	_, err := s.Next(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = s.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestX11MaxFPS(t *testing.T) {
	srv := startX(t, 320, 240)
	p := newPainter(t, srv.Display())
	s := openX(t, srv.Display(), X11Options{MaxFPS: 10, RefreshInterval: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop := make(chan struct{})
	drawn := make(chan struct{})
	go func() { // damage continuously
		defer close(drawn)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			xproto.PolyFillRectangle(p.c, xproto.Drawable(p.root), p.gc, []xproto.Rectangle{{X: int16(i % 300), Y: 10, Width: 4, Height: 4}})
			xproto.GetInputFocus(p.c).Reply()
		}
	}()
	defer func() { close(stop); <-drawn }()
	// Frames keep to 10 per second on average; one may come half an interval early.
	var first, last time.Time
	const n = 6
	for i := 0; i < n; i++ {
		f, err := s.Next(ctx)
		require.NoError(t, err)
		if i > 0 {
			assert.GreaterOrEqual(t, f.Captured.Sub(last), 45*time.Millisecond, "no frame more than half an interval early")
		} else {
			first = f.Captured
		}
		last = f.Captured
	}
	assert.GreaterOrEqual(t, last.Sub(first), (n-1)*100*time.Millisecond-55*time.Millisecond, "frames at most MaxFPS on average")
}

func TestX11SHMAndGetImageAgree(t *testing.T) {
	srv := startX(t, 320, 240)
	p := newPainter(t, srv.Display())
	for i := 0; i < 8; i++ {
		p.fill(t, image.Rect(i*40, i*30, i*40+40, 240), uint32(0x203040*i+0x10))
	}
	a := openX(t, srv.Display(), X11Options{})
	b := openX(t, srv.Display(), X11Options{DisableSHM: true})
	require.False(t, b.UsesSHM())
	ctx := context.Background()
	fa, err := a.Next(ctx)
	require.NoError(t, err)
	fb, err := b.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, fa.Image.Y, fb.Image.Y)
	assert.Equal(t, fa.Image.Cb, fb.Image.Cb)
	assert.Equal(t, fa.Image.Cr, fb.Image.Cr)
}

func TestX11Resize(t *testing.T) {
	srv := startX(t, 640, 480)
	s := openX(t, srv.Display(), X11Options{RefreshInterval: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.Next(ctx)
	require.NoError(t, err)

	p := newPainter(t, srv.Display())
	require.NoError(t, randr.Init(p.c))
	_, err = randr.QueryVersion(p.c, 1, 2).Reply()
	require.NoError(t, err)
	// Like `xrandr --fb 320x240`: switch the CRTC off (its mode no longer fits), then shrink.
	res, err := randr.GetScreenResources(p.c, p.root).Reply()
	require.NoError(t, err)
	for _, crtc := range res.Crtcs {
		_, err := randr.SetCrtcConfig(p.c, crtc, 0, res.ConfigTimestamp, 0, 0, 0, randr.RotationRotate0, nil).Reply()
		require.NoError(t, err)
	}
	require.NoError(t, randr.SetScreenSizeChecked(p.c, p.root, 320, 240, 80, 60).Check())

	for {
		f, err := s.Next(ctx)
		require.NoError(t, err)
		if f.Image.Rect.Dx() == 320 {
			assert.Equal(t, image.Rect(0, 0, 320, 240), f.Image.Rect)
			assert.Empty(t, f.Damage, "a resize produces a full frame")
			break
		}
	}
	w, h := s.Size()
	assert.Equal(t, 320, w)
	assert.Equal(t, 240, h)

	// Damage keeps working at the new size.
	r := image.Rect(300, 220, 310, 230)
	p.fill(t, r, 0xffffff)
	f := nextCovering(t, s, r)
	assert.Equal(t, lumaOf(s, 0xffffff), f.Image.YCbCrAt(305, 225).Y)
}

func TestX11DisplayGoesAway(t *testing.T) {
	srv := startX(t, 320, 240)
	s := openX(t, srv.Display(), X11Options{RefreshInterval: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.Next(ctx)
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	_, err = s.Next(ctx)
	require.ErrorIs(t, err, ErrDisplayClosed)
}

func TestX11NextAfterClose(t *testing.T) {
	srv := startX(t, 320, 240)
	s := openX(t, srv.Display(), X11Options{})
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err := s.Next(context.Background())
	require.ErrorIs(t, err, ErrDisplayClosed)
	drained := make(chan struct{})
	go func() {
		for range s.Cursors() { // at most a buffered Cursor, then closed
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("Cursors not closed by Close")
	}
}

func TestX11Cursor(t *testing.T) {
	srv := startX(t, 320, 240)
	s := openX(t, srv.Display(), X11Options{CursorInterval: 5 * time.Millisecond})
	timeout := time.After(10 * time.Second)

	var first Cursor
	select {
	case first = <-s.Cursors():
	case <-timeout:
		t.Fatal("no initial cursor")
	}
	require.NotNil(t, first.Image, "the first Cursor carries the shape")
	assert.True(t, first.Visible)
	assert.Positive(t, first.Image.Rect.Dx())
	assert.Less(t, first.HotX, first.Image.Rect.Dx())

	p := newPainter(t, srv.Display())
	require.NoError(t, xproto.WarpPointerChecked(p.c, 0, p.root, 0, 0, 0, 0, 123, 77).Check())
	for {
		select {
		case c := <-s.Cursors():
			if c.X == 123 && c.Y == 77 {
				assert.Nil(t, c.Image, "a move alone carries no image")
				return
			}
		case <-timeout:
			t.Fatal("pointer move not reported")
		}
	}
}

// shmExists reports whether System V segment id is still listed by the kernel.
func shmExists(t *testing.T, id int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		testenv.Unavailable(t, "no /proc/sysvipc/shm: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 1 && f[1] == strconv.Itoa(id) {
			return true
		}
	}
	return false
}

func TestX11CloseReleasesSHM(t *testing.T) {
	srv := startX(t, 320, 240)
	s := openX(t, srv.Display(), X11Options{})
	require.NotNil(t, s.seg)
	id := s.seg.id
	require.True(t, shmExists(t, id), "segment attached while open")
	require.NoError(t, s.Close())
	// The server detaches asynchronously; the segment was marked for removal at attach.
	require.Eventually(t, func() bool { return !shmExists(t, id) }, 5*time.Second, 10*time.Millisecond,
		"segment %d freed after Close while the X server keeps running", id)
}

func TestCursorToNRGBA(t *testing.T) {
	// premultiplied: half-transparent white is 0x80808080; opaque red 0xffff0000; clear 0.
	img, visible := cursorToNRGBA(3, 1, []uint32{0x80808080, 0xffff0000, 0})
	assert.True(t, visible)
	assert.Equal(t, []uint8{255, 255, 255, 0x80, 255, 0, 0, 255, 0, 0, 0, 0}, img.Pix)
	_, visible = cursorToNRGBA(1, 1, []uint32{0})
	assert.False(t, visible)
}

package asp_test

import (
	"context"
	"image"
	"image/color"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/res"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/clipboard"
	"github.com/shadowless-dev/shadowless/asp/input"
	"github.com/shadowless-dev/shadowless/asp/internal/xtestapp"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// rgbAt returns the colour of the decoded picture at p.
func rgbAt(img *image.YCbCr, p image.Point) color.RGBA {
	c := img.YCbCrAt(p.X, p.Y)
	r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	return color.RGBA{r, g, b, 255}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return max(int(x)-int(y), int(y)-int(x)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// regionIs reports whether the centre part of r has colour want in img.
func regionIs(img *image.YCbCr, r image.Rectangle, want color.RGBA) bool {
	c := image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
	for _, d := range []image.Point{{0, 0}, {-4, -4}, {4, 4}, {-4, 4}, {4, -4}} {
		if !near(rgbAt(img, c.Add(d)), want, 48) {
			return false
		}
	}
	return true
}

// xClients counts the clients connected to the X server (X-Resource extension).
func xClients(t *testing.T, display string) int {
	t.Helper()
	conn, err := xgb.NewConnDisplay(display)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, res.Init(conn))
	rep, err := res.QueryClients(conn).Reply()
	require.NoError(t, err)
	return int(rep.NumClients) - 1 // not counting this connection
}

// waitPicture reads frames until ok accepts one, and returns it with the time it arrived.
func waitPicture(t *testing.T, c *client.Conn, what string, ok func(*image.YCbCr) bool) client.Frame {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, open := <-c.Frames():
			require.True(t, open, "frames ended: %v", c.Err())
			if ok(f.Image) {
				return f
			}
		case <-timeout:
			t.Fatalf("no decoded frame showed %s", what)
		}
	}
}

func TestEndToEndX11(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	needCodec(t)
	ctx := context.Background()
	const W, H = 640, 480
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: W, Height: H})
	require.NoError(t, err)
	defer xs.Close()
	app, err := xtestapp.Start(ctx, xs.Display())
	require.NoError(t, err)
	defer app.Close()
	before := xClients(t, xs.Display())

	srv, err := asp.NewServer(asp.X11Desktop(xs.Display(), capture.X11Options{MaxFPS: 30}),
		asp.WithSettingEngine(asp.LoopbackOnly))
	require.NoError(t, err)
	hs := newHTTPServer(t, srv)
	c := dial(t, hs.URL)
	defer c.Close()
	assert.Equal(t, W, c.Welcome().Width)
	assert.Equal(t, H, c.Welcome().Height)
	assert.Equal(t, before+3, xClients(t, xs.Display()), "capture, input and clipboard connections")
	waitFrames(t, c, 1)

	// Typing: every character becomes a block of its colour, checked in decoded pixels.
	text := "ab1Zж"
	start := time.Now()
	require.NoError(t, c.Type(text))
	require.Eventually(t, func() bool { return len(app.Keys()) == len([]rune(text)) }, 5*time.Second, 10*time.Millisecond,
		"the X application got %x", app.Keys())
	var want []uint32
	for _, r := range text {
		ks := uint32(r)
		if r > 0xff {
			ks = 0x01000000 + uint32(r)
		}
		want = append(want, ks)
	}
	assert.Equal(t, want, app.Keys())
	f := waitPicture(t, c, "the typed text", func(img *image.YCbCr) bool {
		for i, ks := range want {
			if !regionIs(img, xtestapp.BlockRect(i, W), xtestapp.ColorOf(ks)) {
				return false
			}
		}
		return true
	})
	t.Logf("typed %d characters: visible in decoded video after %v", len(want), f.Received.Sub(start).Round(time.Millisecond))

	// A click at (x, y) lands at (x, y).
	at := image.Pt(400, 300)
	start = time.Now()
	require.NoError(t, c.Click(at.X, at.Y, 1))
	require.Eventually(t, func() bool { return len(app.Clicks()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, at, app.Clicks()[0])
	f = waitPicture(t, c, "the click marker", func(img *image.YCbCr) bool {
		return regionIs(img, image.Rect(at.X-4, at.Y-4, at.X+4, at.Y+4), xtestapp.MarkerColor)
	})
	t.Logf("click visible in decoded video after %v", f.Received.Sub(start).Round(time.Millisecond))
	assert.False(t, regionIs(f.Image, image.Rect(at.X+20, at.Y+20, at.X+28, at.Y+28), xtestapp.MarkerColor), "marker only where clicked")

	// Wheel steps arrive as X buttons 5 (down) and 6 (left).
	require.NoError(t, c.SendInput(input.Event{Kind: input.Wheel, DY: 2}))
	require.NoError(t, c.SendInput(input.Event{Kind: input.Wheel, DX: -1}))
	require.Eventually(t, func() bool { return len(app.Buttons()) == 4 }, 5*time.Second, 10*time.Millisecond, "buttons %v", app.Buttons())
	assert.Equal(t, []uint8{1, 5, 5, 6}, app.Buttons())

	// Clipboard both ways, with another X client as the application.
	peer, err := clipboard.OpenX11(ctx, xs.Display())
	require.NoError(t, err)
	require.NoError(t, peer.Set(ctx, "copied on the desktop ✓"))
	select {
	case got := <-c.Clipboard():
		assert.Equal(t, "copied on the desktop ✓", got)
	case <-time.After(10 * time.Second):
		t.Fatal("desktop clipboard did not reach the client")
	}
	require.NoError(t, c.SetClipboard("copied on the client ✓"))
	waitClipboard(t, peer, "copied on the client ✓")
	require.NoError(t, peer.Close())

	// The client leaving releases the X connections the session held.
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return xClients(t, xs.Display()) == before }, 5*time.Second, 20*time.Millisecond)
	hs.Close()
	require.NoError(t, srv.Close())
}

func TestX11ServerGoesAway(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	needCodec(t)
	ctx := context.Background()
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: 320, Height: 240})
	require.NoError(t, err)
	defer xs.Close()
	srv, err := asp.NewServer(asp.X11Desktop(xs.Display(), capture.X11Options{MaxFPS: 30}),
		asp.WithSettingEngine(asp.LoopbackOnly))
	require.NoError(t, err)
	hs := newHTTPServer(t, srv)
	c := dial(t, hs.URL)
	defer c.Close()
	waitFrames(t, c, 1)
	require.NoError(t, xs.Close())
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("session did not end when the X server went away")
	}
	var bye *client.ByeError
	require.ErrorAs(t, c.Err(), &bye)
	assert.Equal(t, asp.ByeDisplayGone, bye.Code)
	assert.Contains(t, bye.Reason, "display went away")
	require.Eventually(t, func() bool { return srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, c.Close())
	hs.Close()
	require.NoError(t, srv.Close())
}

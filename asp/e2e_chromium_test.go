package asp_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/clipboard"
	"github.com/shadowless-dev/shadowless/asp/internal/xtestapp"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// newBrowser starts headless Chromium with a fresh profile; WebRTC may use loopback.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := testenv.LookPath(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 600),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

func TestEndToEndChromium(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	needCodec(t)
	bctx := newBrowser(t)
	ctx := context.Background()
	const W, H = 640, 480
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: W, Height: H})
	require.NoError(t, err)
	defer xs.Close()
	app, err := xtestapp.Start(ctx, xs.Display())
	require.NoError(t, err)
	defer app.Close()

	srv, err := asp.NewServer(asp.X11Desktop(xs.Display(), capture.X11Options{MaxFPS: 30}),
		asp.WithSettingEngine(asp.LoopbackOnly))
	require.NoError(t, err)
	hs := newHTTPServer(t, srv)

	tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(hs.URL+"/")))

	// The page connects and the video element decodes frames.
	type welcomeJS struct {
		Codec  string `json:"codec"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	}
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`window.shadowless && window.shadowless.connected && window.shadowless.welcome !== null`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)
	welcome, err := chromedp.Run(tctx, chromedp.Evaluate[welcomeJS](`shadowless.welcome`))
	require.NoError(t, err)
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.framesDecoded() > 0 && document.getElementById('video').videoWidth > 0`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)
	assert.Equal(t, W, welcome.Width)
	assert.Equal(t, H, welcome.Height)
	videoSize, err := chromedp.Run(tctx, chromedp.Evaluate[[]int](`[document.getElementById('video').videoWidth, document.getElementById('video').videoHeight]`))
	require.NoError(t, err)
	assert.Equal(t, []int{W, H}, videoSize)

	// A click in the middle of the (letterboxed) video lands in the middle of the screen.
	require.NoError(t, chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#video"))))
	require.Eventually(t, func() bool { return len(app.Clicks()) == 1 }, 10*time.Second, 20*time.Millisecond)
	got := app.Clicks()[0]
	assert.InDelta(t, W/2, got.X, 2, "click x %v", got)
	assert.InDelta(t, H/2, got.Y, 2, "click y %v", got)

	// Keys typed into the page reach the X application, non-ASCII included.
	require.NoError(t, chromedp.Do(tctx, chromedp.KeyEvent("ab1Zé")))
	want := []uint32{'a', 'b', '1', 'Z', 0xe9}
	require.Eventually(t, func() bool { return len(app.Keys()) >= len(want) }, 10*time.Second, 20*time.Millisecond,
		"the X application got %x", app.Keys())
	assert.Equal(t, want, app.Keys())

	// And the typed blocks show up in the browser's video too: the frame counter moves on.
	before, err := chromedp.Run(tctx, chromedp.Evaluate[int](`shadowless.framesDecoded()`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tctx, chromedp.KeyEvent("x")))
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.framesDecoded() > `+strconv.Itoa(before),
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)

	// The remote cursor shape becomes the CSS cursor of the video.
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.cursor !== null && shadowless.cursorShape !== null && shadowless.cursorShape.width > 0 &&
		document.getElementById('video').style.cursor.startsWith('url("data:image/png;base64,')`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		dbg, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify(shadowless.cursor) + " css=" + document.getElementById('video').style.cursor.slice(0, 60)`))
		t.Fatalf("cursor shape not shown: %v; page state %s", err, dbg)
	}

	// Clipboard both ways: an X application copies, the page gets it; the page pastes, an X
	// application sees it.
	peer, err := clipboard.OpenX11(ctx, xs.Display())
	require.NoError(t, err)
	defer peer.Close()
	require.NoError(t, peer.Set(ctx, "from X ✓"))
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.clipboard === "from X ✓"`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "desktop clipboard reached the page")
	_, err = chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => {
		const dt = new DataTransfer();
		dt.setData('text/plain', 'from the browser ✓');
		document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt}));
		return true;
	})()`))
	require.NoError(t, err)
	waitClipboard(t, peer, "from the browser ✓")
}

// waitClipboard waits until an X application sees want on the clipboard.
func waitClipboard(t *testing.T, cb *clipboard.X11, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got, ok := <-cb.Changes():
			require.True(t, ok)
			if got == want {
				return
			}
		case <-timeout:
			t.Fatalf("the X clipboard never became %q", want)
		}
	}
}

func TestBrowserReconnects(t *testing.T) {
	needCodec(t)
	bctx := newBrowser(t)
	f := newFixture(t)
	tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(f.http.URL+"/")))
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.shadowless && shadowless.connected && shadowless.framesDecoded() > 0`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)

	// The session ends under the page (its display goes away): the page shows why, and
	// comes back with a new offer.
	f.dropDisplay()
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.bye !== null && shadowless.bye.code === 1`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "bye shown")
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.connects >= 2 && shadowless.connected && shadowless.welcome !== null`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "reconnected")
	require.Eventually(t, func() bool { return f.srv.Sessions() == 1 }, 10*time.Second, 20*time.Millisecond)
	before, err := chromedp.Run(tctx, chromedp.Evaluate[int](`shadowless.framesDecoded()`))
	require.NoError(t, err)
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.framesDecoded() > `+strconv.Itoa(before),
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "video flows again")
}

package asp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/clipboard"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/internal/xtestapp"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// newBrowser starts headless Chromium with a fresh profile; WebRTC may use loopback.
func newBrowser(t testing.TB) context.Context {
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

	// Off-centre, with the letterbox bars computed here from the element's box: screen
	// (80, 40) must be where the page says.
	box, err := chromedp.Run(tctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById('video').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
	require.NoError(t, err)
	scale := min(box[2]/W, box[3]/H)
	px := box[0] + (box[2]-W*scale)/2 + 80.5*scale
	py := box[1] + (box[3]-H*scale)/2 + 40.5*scale
	require.NoError(t, chromedp.Do(tctx, chromedp.MouseClickXY(px, py)))
	require.Eventually(t, func() bool { return len(app.Clicks()) == 2 }, 10*time.Second, 20*time.Millisecond)
	got = app.Clicks()[1]
	assert.InDelta(t, 80, got.X, 1, "click x %v (box %v)", got, box)
	assert.InDelta(t, 40, got.Y, 1, "click y %v (box %v)", got, box)

	// The wheel scrolls: 100 px down is two steps (X button 5).
	_, err = chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => {
		const v = document.getElementById('video'), r = v.getBoundingClientRect();
		v.dispatchEvent(new WheelEvent('wheel', {deltaY: 100, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
		return true;
	})()`))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(app.Buttons()) == 4 }, 10*time.Second, 20*time.Millisecond, "buttons %v", app.Buttons())
	assert.Equal(t, []uint8{1, 1, 5, 5}, app.Buttons())

	// Keys typed into the page reach the X application, non-ASCII included.
	require.NoError(t, chromedp.Do(tctx, chromedp.KeyEvent("ab1Zéж")))
	want := []uint32{'a', 'b', '1', 'Z', 0xe9, 0x01000000 + 'ж'}
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

func TestBrowserDecodesEveryCodec(t *testing.T) {
	needCodec(t)
	bctx := newBrowser(t)
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank"))) // starts the browser
	for _, cd := range codec.Available() {
		t.Run(string(cd), func(t *testing.T) {
			f := newFixture(t, asp.WithCodecs(cd))
			tab, closeTab := chromedp.NewContext(bctx) // a fresh tab per codec
			defer closeTab()
			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(f.http.URL+"/")))
			tctx, cancel := context.WithTimeout(tab, 30*time.Second)
			defer cancel()
			_, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.shadowless && shadowless.welcome !== null && shadowless.framesDecoded() > 2`,
				chromedp.WithPollingTimeout(20*time.Second)))
			require.NoError(t, err)
			got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`shadowless.welcome.codec`))
			require.NoError(t, err)
			assert.Equal(t, string(cd), got)

			// A hidden remote cursor hides the local one; a shape comes back as a CSS cursor.
			f.cursors <- capture.Cursor{X: 1, Y: 1, Visible: true, Image: imageNRGBA(8, 8), HotX: 3, HotY: 4, Serial: 7}
			_, err = chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('video').style.cursor.endsWith(' 3 4, default')`,
				chromedp.WithPollingTimeout(5*time.Second)))
			require.NoError(t, err, "cursor shape with hotspot")
			f.cursors <- capture.Cursor{X: 2, Y: 2, Visible: false, Serial: 7}
			_, err = chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('video').style.cursor === 'none'`,
				chromedp.WithPollingTimeout(5*time.Second)))
			require.NoError(t, err, "hidden cursor")
		})
	}
}

func TestBrowserRetriesUntilServerReturns(t *testing.T) {
	needCodec(t)
	bctx := newBrowser(t)
	open := func(context.Context) (*asp.Desktop, error) {
		return &asp.Desktop{Source: capture.NewSynthetic(320, 240, capture.SyntheticOptions{FPS: 30})}, nil
	}
	newServer := func() *asp.Server {
		srv, err := asp.NewServer(open, asp.WithSettingEngine(asp.LoopbackOnly))
		require.NoError(t, err)
		return srv
	}
	var current atomic.Pointer[asp.Server]
	first := newServer()
	current.Store(first)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) }))
	defer hs.Close()

	tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(hs.URL+"/")))
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.shadowless && shadowless.connected && shadowless.framesDecoded() > 0`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)

	// The server goes away (its sessions close, new offers get 503): the page keeps trying.
	require.NoError(t, first.Close())
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.connects >= 3 && !shadowless.connected && /503|full or shutting down/.test(shadowless.error || '')`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		state, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify({c: shadowless.connects, e: shadowless.error, ok: shadowless.connected})`))
		t.Fatalf("page did not retry: %v (%s)", err, state)
	}
	// A server is back: the page connects and video flows again.
	second := newServer()
	defer second.Close()
	current.Store(second)
	_, err = chromedp.Run(tctx, chromedp.Poll[bool](`shadowless.connected && shadowless.welcome !== null && shadowless.framesDecoded() > 0`,
		chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err)
	assert.Equal(t, 1, second.Sessions())
}

package asp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/internal/xtestapp"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// clickProbe clicks the video at screen pixel (x, y) through the page's own mouse handlers
// and resolves with the milliseconds until a presented video frame shows the X
// application's marker (orange) there: the browser's click-to-photon, jitter buffer
// included.
const clickProbe = `(async (x, y) => {
	const v = document.getElementById('video');
	const c = document.createElement('canvas');
	c.width = v.videoWidth; c.height = v.videoHeight;
	const g = c.getContext('2d', {willReadFrequently: true});
	const r = v.getBoundingClientRect();
	const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
	const cx = r.left + (r.width - v.videoWidth * s) / 2 + (x + 0.5) * s;
	const cy = r.top + (r.height - v.videoHeight * s) / 2 + (y + 0.5) * s;
	const t0 = performance.now();
	return await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('marker never shown')), 10000);
		const check = () => {
			g.drawImage(v, 0, 0);
			const d = g.getImageData(x, y, 1, 1).data;
			if (d[0] > 200 && d[1] > 80 && d[1] < 176 && d[2] < 70) { clearTimeout(timer); resolve(performance.now() - t0); return; }
			v.requestVideoFrameCallback(check);
		};
		v.requestVideoFrameCallback(check);
		for (const type of ['mousedown', 'mouseup']) {
			v.dispatchEvent(new MouseEvent(type, {clientX: cx, clientY: cy, button: 0, bubbles: true, cancelable: true}));
		}
	});
})`

// BenchmarkBrowserClickToPhoton is BenchmarkClickToPhoton seen from headless Chromium: from
// the page's mousedown to the first presented video frame that shows the result.
//
//	go test ./asp -run '^$' -bench BrowserClickToPhoton -benchtime 30x
func BenchmarkBrowserClickToPhoton(b *testing.B) {
	testenv.LookPath(b, "Xvfb")
	for _, cd := range codec.Available() {
		b.Run(fmt.Sprintf("%s/1280x720", cd), func(b *testing.B) { benchBrowserClick(b, cd, 1280, 720) })
	}
}

func benchBrowserClick(b *testing.B, cd codec.Codec, w, h int) {
	bctx := newBrowser(b)
	ctx := context.Background()
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: w, Height: h})
	if err != nil {
		b.Fatal(err)
	}
	defer xs.Close()
	app, err := xtestapp.Start(ctx, xs.Display())
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	srv, err := asp.NewServer(asp.X11Desktop(xs.Display(), capture.X11Options{MaxFPS: 60}), asp.WithCodecs(cd),
		asp.WithSettingEngine(asp.LoopbackOnly), asp.WithFrameRate(60))
	if err != nil {
		b.Fatal(err)
	}
	hs := newHTTPServer(b, srv)
	tctx, cancel := context.WithTimeout(bctx, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(hs.URL+"/")); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.shadowless && shadowless.connected && shadowless.framesDecoded() > 0`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	total := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, y := 100+rnd.IntN(w-200), 100+rnd.IntN(h-200)
		ms, err := chromedp.Run(tctx, chromedp.Evaluate[float64](fmt.Sprintf("%s(%d, %d)", clickProbe, x, y), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatalf("click %d at (%d, %d): %v", i, x, y, err)
		}
		total += ms
	}
	b.StopTimer()
	b.ReportMetric(total/float64(b.N), "click-to-photon-ms")
}

package workload_test

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/input"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/asp/yuv"
	"github.com/shadowless-dev/shadowless/benchmarks/workload"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestParseScenario(t *testing.T) {
	for name, want := range map[string]workload.Scenario{
		"fileops":         {Name: "fileops", Kind: workload.FileOps, FPS: 60},
		"3d":              {Name: "3d", Kind: workload.ThreeD, FPS: 60},
		"video":           {Name: "video", Kind: workload.Video, FPS: 30},
		"video-24":        {Name: "video-24", Kind: workload.Video, FPS: 24},
		"video-window-60": {Name: "video-window-60", Kind: workload.Video, FPS: 60, Windowed: true},
		"video-window":    {Name: "video-window", Kind: workload.Video, FPS: 30, Windowed: true},
	} {
		got, err := workload.ParseScenario(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
	for _, bad := range []string{"", "video-25", "video-window-", "videos", "web-60", "3D"} {
		_, err := workload.ParseScenario(bad)
		require.ErrorIs(t, err, workload.ErrUnknownScenario, bad)
	}
	for _, name := range workload.Standard {
		_, err := workload.ParseScenario(name)
		require.NoError(t, err, name)
	}
}

// snapshot writes the frame as PNG when WORKLOAD_SNAPSHOTS names a directory (to look at).
func snapshot(t *testing.T, name string, img *image.YCbCr) {
	dir := os.Getenv("WORKLOAD_SNAPSHOTS")
	if dir == "" {
		return
	}
	rgba := image.NewRGBA(img.Rect)
	yuv.I420ToRGBA(rgba, img)
	f, err := os.Create(filepath.Join(dir, name+".png"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, png.Encode(f, rgba))
}

// TestWorkloads runs every scenario on a small screen: frames carry increasing stamps, and
// a click and a key sent through XTEST each raise the response counter in the picture.
func TestWorkloads(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	ctx := context.Background()
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: 640, Height: 480})
	require.NoError(t, err)
	defer xs.Close()
	inj, err := input.OpenX11(ctx, xs.Display())
	require.NoError(t, err)
	defer inj.Close()

	for _, name := range []string{"fileops", "web", "video-window-30", "video-60", "3d", "typing"} {
		t.Run(name, func(t *testing.T) {
			sc, err := workload.ParseScenario(name)
			require.NoError(t, err)
			w, err := workload.Start(ctx, xs.Display(), sc, workload.Options{Seed: 7})
			require.NoError(t, err)
			defer w.Close()
			src, err := capture.OpenX11(ctx, xs.Display(), capture.X11Options{MaxFPS: 60, RefreshInterval: -1})
			require.NoError(t, err)
			defer src.Close()

			next := func() workload.Stamp {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				f, err := src.Next(cctx)
				require.NoError(t, err)
				s, err := workload.ReadStamp(f.Image)
				require.NoError(t, err)
				return s
			}
			first := next()
			var last workload.Stamp
			deadline := time.Now().Add(2500 * time.Millisecond)
			frames := 0
			for time.Now().Before(deadline) {
				s := next()
				require.GreaterOrEqual(t, workload.FrameDiff(last.Frame, s.Frame), 0, "stamps never go back")
				last = s
				frames++
			}
			assert.Greater(t, workload.FrameDiff(first.Frame, last.Frame), 3, "the scenario animates by itself")
			assert.Equal(t, uint8(0), last.Response)

			// A click, then a key: each is answered with the next response counter.
			for i, evs := range [][]input.Event{
				{{Kind: input.MouseMove, X: 300, Y: 250}, {Kind: input.ButtonDown, Button: 1, X: 300, Y: 250}, {Kind: input.ButtonUp, Button: 1, X: 300, Y: 250}},
				{{Kind: input.KeyDown, Keysym: 'k'}, {Kind: input.KeyUp, Keysym: 'k'}},
			} {
				sent := time.Now()
				for _, ev := range evs {
					require.NoError(t, inj.Inject(ctx, ev))
				}
				for {
					s := next()
					if s.Response == uint8(i+1) {
						break
					}
					require.Less(t, time.Since(sent), 3*time.Second, "no response %d seen", i+1)
				}
			}
			rs := w.Responses()
			require.Len(t, rs, 2)
			assert.Equal(t, uint8(2), rs[1].Counter)
			assert.False(t, rs[1].Drawn.Before(rs[1].Event))
			assert.Equal(t, uint8(2), w.Stamp().Response)
			require.NoError(t, w.Err())

			f, err := src.Next(ctx)
			require.NoError(t, err)
			snapshot(t, name, f.Image)
			t.Logf("%s: %d captured frames in 2.5 s, stamp %v", name, frames, w.Stamp())
		})
	}
}

// TestWorkloadStopsWithContext checks that cancelling the context ends the program.
func TestWorkloadStopsWithContext(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	xs, err := xvfb.Start(context.Background(), xvfb.Options{Width: 640, Height: 480})
	require.NoError(t, err)
	defer xs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := workload.Start(ctx, xs.Display(), workload.Scenario{Name: "typing", Kind: workload.Typing}, workload.Options{})
	require.NoError(t, err)
	cancel()
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("workload did not stop")
	}
	require.NoError(t, w.Err())
}

package quality

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// libvmafOutput is the part of libvmaf's JSON output the tests read.
type libvmafOutput struct {
	Version string `json:"version"`
	Frames  []struct {
		FrameNum int                `json:"frameNum"`
		Metrics  map[string]float64 `json:"metrics"`
	} `json:"frames"`
	Pooled map[string]map[string]float64 `json:"pooled_metrics"`
}

type fixture struct {
	name          string
	ref, dis      string
	json          string
	width, height int
	depth         int
}

var fixtures = []fixture{
	{"160x90", "ref_160x90.yuv", "dis_160x90.yuv", "libvmaf_160x90.json", 160, 90, 8},
	{"160x90_identical", "ref_160x90.yuv", "ref_160x90.yuv", "libvmaf_160x90_identical.json", 160, 90, 8},
	{"576x324_10bit", "ref_576x324_10bit.yuv", "dis_576x324_10bit.yuv", "libvmaf_576x324_10bit.json", 576, 324, 10},
}

func loadLibvmaf(t testing.TB, name string) libvmafOutput {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var out libvmafOutput
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func openYUV(t testing.TB, name string, w, h, d int) *YUVReader {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	r, err := NewYUVReader(f, w, h, d)
	require.NoError(t, err)
	return r
}

func runFixture(t testing.TB, fx fixture) (*Result, libvmafOutput) {
	t.Helper()
	want := loadLibvmaf(t, fx.json)
	_, psnr := want.Frames[0].Metrics[MetricPSNRY]
	_, ssim := want.Frames[0].Metrics[MetricSSIM]
	res, err := Compare(context.Background(), openYUV(t, fx.ref, fx.width, fx.height, fx.depth),
		openYUV(t, fx.dis, fx.width, fx.height, fx.depth), Options{PSNR: psnr, SSIM: ssim})
	require.NoError(t, err)
	return res, want
}

// TestMatchesLibvmaf checks every frame and every metric against libvmaf's own output:
// VMAF within 0.05, each feature within 1e-4.
func TestMatchesLibvmaf(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			res, want := runFixture(t, fx)
			require.Len(t, res.Frames, len(want.Frames))
			maxErr := map[string]float64{}
			for i, wf := range want.Frames {
				require.Equal(t, i, wf.FrameNum)
				require.Len(t, res.Frames[i].Values, len(wf.Metrics), "metric count of frame %d", i)
				for k, name := range res.Names {
					w, ok := wf.Metrics[name]
					require.True(t, ok, "libvmaf has no %s", name)
					got := res.Frames[i].Values[k]
					tol := 1e-4
					if name == MetricVMAF {
						tol = 0.05
					}
					d := math.Abs(got - w)
					maxErr[name] = math.Max(maxErr[name], d)
					if d > tol {
						t.Errorf("frame %d %s: got %.6f, libvmaf %.6f (diff %.2g)", i, name, got, w, d)
					}
				}
			}
			for _, name := range res.Names {
				t.Logf("%-40s max |diff| %.3g", name, maxErr[name])
			}
		})
	}
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

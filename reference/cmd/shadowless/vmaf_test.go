package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const vmafTestdata = "../../../benchmarks/quality/testdata"

func runVMAFCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newVMAFCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

type vmafJSON struct {
	Version string `json:"version"`
	FPS     float64
	Frames  []struct {
		FrameNum int                `json:"frameNum"`
		Metrics  map[string]float64 `json:"metrics"`
	} `json:"frames"`
	Pooled    map[string]map[string]float64 `json:"pooled_metrics"`
	Aggregate map[string]float64            `json:"aggregate_metrics"`
}

func readVMAFJSON(t *testing.T, path string) vmafJSON {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var v vmafJSON
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// The command, given libvmaf's flags, writes libvmaf's JSON with libvmaf's numbers.
func TestVMAFCommandMatchesLibvmaf(t *testing.T) {
	outPath := filepath.Join(t.TempDir(), "scores.json")
	_, stderr, err := runVMAFCmd(t,
		"--reference", filepath.Join(vmafTestdata, "ref_576x324_10bit.yuv"),
		"--distorted", filepath.Join(vmafTestdata, "dis_576x324_10bit.yuv"),
		"-w", "576", "-h", "324", "--pixel_format", "420", "--bitdepth", "10",
		"--model", "version=vmaf_v0.6.1", "--feature", "psnr", "--feature", "float_ssim",
		"--json", "--output", outPath)
	require.NoError(t, err)
	assert.Contains(t, stderr, "vmaf_v0.6.1: 82.56")
	got := readVMAFJSON(t, outPath)
	want := readVMAFJSON(t, filepath.Join(vmafTestdata, "libvmaf_576x324_10bit.json"))
	assert.Equal(t, want.Version, got.Version)
	assert.Positive(t, got.FPS)
	require.Len(t, got.Frames, len(want.Frames))
	for i := range want.Frames {
		require.Equal(t, want.Frames[i].FrameNum, got.Frames[i].FrameNum)
		require.Len(t, got.Frames[i].Metrics, len(want.Frames[i].Metrics))
		for name, w := range want.Frames[i].Metrics {
			g, ok := got.Frames[i].Metrics[name]
			require.True(t, ok, "missing %s", name)
			tol := 2e-6
			if name == "vmaf" {
				tol = 0.05
			}
			assert.LessOrEqual(t, math.Abs(g-w), tol, "frame %d %s: %f vs %f", i, name, g, w)
		}
	}
	require.Len(t, got.Pooled, len(want.Pooled))
	for name, w := range want.Pooled {
		assert.InDelta(t, w["mean"], got.Pooled[name]["mean"], 0.05, name)
		assert.InDelta(t, w["harmonic_mean"], got.Pooled[name]["harmonic_mean"], 0.05, name)
	}
	assert.Empty(t, got.Aggregate)
}

// -q with --json and no --output prints only the report, on standard output.
func TestVMAFCommandQuietJSONToStdout(t *testing.T) {
	stdout, stderr, err := runVMAFCmd(t,
		"-r", filepath.Join(vmafTestdata, "ref_160x90.yuv"),
		"-d", filepath.Join(vmafTestdata, "ref_160x90.yuv"),
		"-w", "160", "-h", "90", "-p", "420", "-b", "8", "-q", "--json", "--frame_cnt", "5", "--threads", "2")
	require.NoError(t, err)
	assert.Empty(t, stderr)
	var v vmafJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	require.Len(t, v.Frames, 5)
	want := readVMAFJSON(t, filepath.Join(vmafTestdata, "libvmaf_160x90_identical.json"))
	for i := 0; i < 4; i++ { // the 5th frame's motion2 looks one frame ahead, cut here
		assert.InDelta(t, want.Frames[i].Metrics["vmaf"], v.Frames[i].Metrics["vmaf"], 0.05)
	}
}

func TestVMAFCommandXMLAndHelp(t *testing.T) {
	stdout, _, err := runVMAFCmd(t,
		"-r", filepath.Join(vmafTestdata, "ref_160x90.yuv"),
		"-d", filepath.Join(vmafTestdata, "dis_160x90.yuv"),
		"-w", "160", "-h", "90", "-q", "--xml", "--frame_cnt", "2")
	require.NoError(t, err)
	assert.Contains(t, stdout, `<VMAF version="3.2.0">`)
	assert.Contains(t, stdout, `<frame frameNum="1" integer_adm2=`)

	stdout, _, err = runVMAFCmd(t, "--help")
	require.NoError(t, err)
	assert.Contains(t, stdout, "--height")
	assert.Contains(t, stdout, "-h, --height")
}

func TestVMAFCommandRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(vmafTestdata, "ref_160x90.yuv")
	short := filepath.Join(dir, "short.yuv")
	require.NoError(t, os.WriteFile(short, make([]byte, 160*90*3/2*2+10), 0o644))
	twoFrames := filepath.Join(dir, "two.yuv")
	require.NoError(t, os.WriteFile(twoFrames, make([]byte, 160*90*3/2*2), 0o644))
	base := []string{"-w", "160", "-h", "90", "-q"}
	cases := map[string]struct {
		args []string
		msg  string
	}{
		"file size":      {append([]string{"-r", ref, "-d", short}, base...), "not a whole number"},
		"frame count":    {append([]string{"-r", ref, "-d", twoFrames}, base...), "differ"},
		"missing file":   {append([]string{"-r", ref, "-d", filepath.Join(dir, "nope.yuv")}, base...), "no such file"},
		"no reference":   {append([]string{"-d", ref}, base...), "--reference is required"},
		"odd size":       {[]string{"-r", ref, "-d", ref, "-w", "161", "-h", "90"}, "even"},
		"no size":        {[]string{"-r", ref, "-d", ref}, "--width and --height"},
		"unknown flag":   {append([]string{"-r", ref, "-d", ref, "--bogus"}, base...), "unknown flag"},
		"unknown model":  {append([]string{"-r", ref, "-d", ref, "--model", "version=vmaf_4k_v0.6.1"}, base...), "unknown model"},
		"model path":     {append([]string{"-r", ref, "-d", ref, "--model", "path=x.json"}, base...), "not supported"},
		"pixel format":   {append([]string{"-r", ref, "-d", ref, "-p", "444"}, base...), "pixel_format"},
		"bit depth":      {append([]string{"-r", ref, "-d", ref, "-b", "12"}, base...), "bitdepth"},
		"feature":        {append([]string{"-r", ref, "-d", ref, "--feature", "ciede"}, base...), "ciede"},
		"json and xml":   {append([]string{"-r", ref, "-d", ref, "--json", "--xml"}, base...), "exclusive"},
		"extra argument": {append([]string{"-r", ref, "-d", ref, "stray"}, base...), "unknown command"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := runVMAFCmd(t, c.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}

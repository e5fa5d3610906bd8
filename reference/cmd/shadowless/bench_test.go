package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func runBenchCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newBenchCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestBenchCmdRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuchscenario"},
		{"typing", "--net", "fast"},
		{"typing", "--codec", "AV2"},
		{"--workload-only", "typing"},
		{"--workload-only", "nosuch", "--display", ":99"},
	} {
		_, _, err := runBenchCmd(t, args...)
		require.Error(t, err, "%v", args)
	}
}

// TestBenchCmdRun runs one short scenario end to end and checks the files it writes.
func TestBenchCmdRun(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	dir := t.TempDir()
	js := filepath.Join(dir, "typing.json")
	out, errOut, err := runBenchCmd(t, "typing", "--width", "640", "--height", "480", "--duration", "2s", "--warmup", "1s",
		"--no-quality", "--json", js, "--plot", dir, "--markdown", filepath.Join(dir, "summary.md"))
	require.NoError(t, err, errOut)
	assert.Contains(t, out, "| typing |")
	assert.Contains(t, errOut, "typing   1s/2s")
	raw, err := os.ReadFile(js)
	require.NoError(t, err)
	var res map[string]any
	require.NoError(t, json.Unmarshal(raw, &res))
	assert.Equal(t, "typing", res["scenario"])
	for _, f := range []string{"latency-cdf.png", "bitrate.png", "vmaf.png", "fps.png", "breakdown.png", "summary.md"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
}

// TestBenchCmdWorkloadOnly plays a workload on an existing display until interrupted.
func TestBenchCmdWorkloadOnly(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	xs, err := xvfb.Start(context.Background(), xvfb.Options{Width: 640, Height: 480})
	require.NoError(t, err)
	defer xs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	cmd := newBenchCmd()
	var errOut bytes.Buffer
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"--workload-only", "3d", "--display", xs.Display()})
	start := time.Now()
	require.NoError(t, cmd.ExecuteContext(ctx))
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "played until interrupted")
	assert.Contains(t, errOut.String(), "playing 3d on "+xs.Display())
}

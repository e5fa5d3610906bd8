package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestDemoStreamsAndStops(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	testenv.LookPath(t, "xterm")
	runDemoTest(t, "--width", "640", "--height", "480")
}

func TestDemoStreamsExistingDisplay(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	xs, err := xvfb.Start(context.Background(), xvfb.Options{Width: 640, Height: 480})
	require.NoError(t, err)
	defer xs.Close()
	runDemoTest(t, "--display", xs.Display(), "--codec", "vp8")
	select {
	case <-xs.Done():
		t.Fatal("the demo stopped an X server it did not start")
	default:
	}
}

// runDemoTest runs `shadowless demo` with args, watches it with the Go client, checks
// /metrics, and stops it as Ctrl-C would.
func runDemoTest(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"demo", "--listen", "127.0.0.1:0", "--json"}, args...))
	cmd.SetOut(pw)
	cmd.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	var info struct{ URL, Display, Metrics string }
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(line), &info))
	assert.NotEmpty(t, info.Display)

	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	defer dcancel()
	c, err := client.Dial(dctx, info.URL, client.Options{SettingEngine: asp.LoopbackOnly})
	require.NoError(t, err)
	assert.Equal(t, 640, c.Welcome().Width)
	select {
	case f := <-c.Frames():
		assert.Equal(t, 640, f.Image.Rect.Dx())
	case <-time.After(10 * time.Second):
		t.Fatal("no frame from the demo")
	}
	res, err := http.Get(info.Metrics)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Contains(t, string(body), "shadowless_asp_sessions 1")
	require.NoError(t, c.Close())

	cancel() // Ctrl-C
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
	pw.Close()
}

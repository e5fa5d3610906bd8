package main

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestStreamX(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	xs, err := xvfb.Start(ctx, xvfb.Options{Width: 320, Height: 240})
	require.NoError(t, err)
	defer xs.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	done := make(chan error, 1)
	go func() { done <- run(ctx, slog.New(slog.DiscardHandler), xs.Display(), addr, true) }()
	var c *client.Conn
	require.Eventually(t, func() bool {
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		defer dcancel()
		c, err = client.Dial(dctx, "http://"+addr, client.Options{SettingEngine: asp.LoopbackOnly})
		return err == nil
	}, 15*time.Second, 100*time.Millisecond)
	select {
	case f := <-c.Frames():
		require.Equal(t, 320, f.Image.Rect.Dx())
	case <-time.After(10 * time.Second):
		t.Fatal("no frame")
	}
	require.NoError(t, c.Close())
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("streamx did not stop")
	}
}

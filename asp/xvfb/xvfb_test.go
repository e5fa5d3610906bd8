package xvfb_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestStartConnectClose(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := xvfb.Start(ctx, xvfb.Options{Width: 640, Height: 480})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, strings.HasPrefix(s.Display(), ":"), s.Display())

	c, err := xgb.NewConnDisplay(s.Display())
	require.NoError(t, err)
	screen := xproto.Setup(c).DefaultScreen(c)
	assert.EqualValues(t, 640, screen.WidthInPixels)
	assert.EqualValues(t, 480, screen.HeightInPixels)
	assert.EqualValues(t, 24, screen.RootDepth)
	ext, err := xproto.QueryExtension(c, uint16(len("MIT-SHM")), "MIT-SHM").Reply()
	require.NoError(t, err)
	assert.True(t, ext.Present, "MIT-SHM must be enabled")
	c.Close()

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	_, err = os.Stat(s.SocketPath())
	assert.True(t, os.IsNotExist(err), "socket removed after Close: %v", err)
}

func TestTwoServersGetDistinctDisplays(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	ctx := context.Background()
	a, err := xvfb.Start(ctx, xvfb.Options{Width: 320, Height: 240})
	require.NoError(t, err)
	defer a.Close()
	b, err := xvfb.Start(ctx, xvfb.Options{Width: 320, Height: 240})
	require.NoError(t, err)
	defer b.Close()
	assert.NotEqual(t, a.Display(), b.Display())
}

func TestCommandSetsDisplay(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	testenv.LookPath(t, "xdpyinfo")
	ctx := context.Background()
	s, err := xvfb.Start(ctx, xvfb.Options{Width: 800, Height: 600, Depth: 24})
	require.NoError(t, err)
	defer s.Close()

	out, err := s.Command(ctx, "xdpyinfo").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "800x600 pixels")
	assert.Contains(t, string(out), "MIT-SHM")
}

func TestStartMissingProgram(t *testing.T) {
	_, err := xvfb.Start(context.Background(), xvfb.Options{Program: "no-such-xvfb-program"})
	require.ErrorIs(t, err, xvfb.ErrNotFound)
}

func TestStartCancelled(t *testing.T) {
	testenv.LookPath(t, "Xvfb")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := xvfb.Start(ctx, xvfb.Options{Width: 320, Height: 240})
	require.ErrorIs(t, err, context.Canceled)
}

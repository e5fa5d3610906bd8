package asp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/direct"
	"github.com/shadowless-dev/shadowless/asp/input"
)

// A native client runs a whole session over the direct transport: on UDP, and over TCP
// when its UDP is blocked.
func TestDirectSession(t *testing.T) {
	needCodec(t)
	cert, err := direct.GenerateCertificate("shadowless-test", time.Hour)
	require.NoError(t, err)
	l, err := direct.Listen(context.Background(), direct.ServerConfig{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Certificate: cert})
	require.NoError(t, err)
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.NoError(t, f.srv.ServeDirect(ctx, l))
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		require.NoError(t, l.Close())
	})
	for _, tc := range []struct {
		name      string
		noUDP     bool
		transport string
	}{{"udp", false, "direct-udp"}, {"tcp", true, "direct-tcp"}} {
		t.Run(tc.name, func(t *testing.T) {
			dctx, dcancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer dcancel()
			c, err := client.DialDirect(dctx, direct.ClientConfig{Addr: l.Addr(), ServerFingerprint: l.Fingerprint(),
				DisableUDP: tc.noUDP}, client.Options{})
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tc.transport, c.Network())
			assert.NotEmpty(t, c.Welcome().Encoder)
			assert.Equal(t, 320, c.Welcome().Width)
			frames := waitFrames(t, c, 5)
			assert.Equal(t, 240, frames[4].Image.Rect.Dy())
			assert.Zero(t, c.Counters().DecodeErrors)
			require.NoError(t, c.SendInput(input.Event{Kind: input.KeyDown, Keysym: 'a'}))
			require.Eventually(t, func() bool {
				f.mu.Lock()
				rec := f.injector
				f.mu.Unlock()
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return len(rec.events) == 1 && rec.events[0].Keysym == 'a'
			}, 5*time.Second, 10*time.Millisecond)
			require.Eventually(t, func() bool { return c.Stats().Frames > 0 && c.Stats().TargetKbps > 0 },
				5*time.Second, 10*time.Millisecond, "stats over control")
			list := f.srv.SessionList()
			require.Len(t, list, 1)
			assert.Equal(t, c.Welcome().Encoder, list[0].Encoder)
			require.NoError(t, c.Close())
			require.Eventually(t, func() bool { return f.srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
		})
	}
}

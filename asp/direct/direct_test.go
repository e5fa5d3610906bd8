package direct

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCert is generated once per test binary (ECDSA key generation is cheap, but the
// tests share it to keep the fingerprints stable within a run).
var testCert = sync.OnceValue(func() tls.Certificate {
	c, err := GenerateCertificate("direct.test", time.Hour)
	if err != nil {
		panic(err)
	}
	return c
})

func listen(t testing.TB, cfg ServerConfig) *Listener {
	t.Helper()
	if len(cfg.Certificate.Certificate) == 0 {
		cfg.Certificate = testCert()
	}
	l, err := Listen(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	return l
}

func bothAddrs() ServerConfig { return ServerConfig{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0"} }

// connect dials l with cfg (Addr and fingerprint filled in when empty) and returns both
// ends; both are closed at cleanup.
func connect(t testing.TB, l *Listener, cfg ClientConfig) (client, server *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if cfg.Addr == "" {
		cfg.Addr = l.Addr()
	}
	if cfg.ServerFingerprint.IsZero() && cfg.RootCAs == nil {
		cfg.ServerFingerprint = l.Fingerprint()
	}
	client, err := Dial(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server, err = l.Accept(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Close() })
	return client, server
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// The four ASP channels plus video, on UDP: labels, options, both directions, empty
// messages.
func TestUDPChannelsRoundTrip(t *testing.T) {
	l := listen(t, bothAddrs())
	require.Equal(t, l.UDPAddr().(*net.UDPAddr).Port, l.TCPAddr().(*net.TCPAddr).Port, "same port number for both")
	client, server := connect(t, l, ClientConfig{})
	assert.Equal(t, TransportUDP, client.Transport())
	assert.Equal(t, TransportUDP, server.Transport())
	ctx := ctxT(t, 10*time.Second)

	labels := []string{"input", "cursor", "clipboard", "control"}
	var mine []*Channel
	for _, label := range labels {
		ch, err := client.OpenChannel(ctx, label, Reliable())
		require.NoError(t, err)
		mine = append(mine, ch)
	}
	for i, label := range labels {
		ch, err := server.AcceptChannel(ctx)
		require.NoError(t, err)
		assert.Equal(t, label, ch.Label())
		assert.True(t, ch.Options().Ordered)
		assert.Equal(t, mine[i].StreamID(), ch.StreamID())
		assert.Zero(t, ch.StreamID()%2, "client streams are even")
		// echo everything back on the same channel
		go func() {
			for {
				msg, err := ch.Recv(context.Background())
				if err != nil {
					return
				}
				if ch.Send(msg) != nil {
					return
				}
			}
		}()
	}
	video, err := server.OpenChannel(ctx, "video", Video())
	require.NoError(t, err)
	assert.Equal(t, uint16(1), video.StreamID()%2, "server streams are odd")
	cv, err := client.AcceptChannel(ctx)
	require.NoError(t, err)
	assert.Equal(t, "video", cv.Label())
	assert.False(t, cv.Options().Ordered)
	require.NotNil(t, cv.Options().MaxRetransmits)
	assert.Equal(t, 1, *cv.Options().MaxRetransmits)

	for i, ch := range mine {
		for j := range 20 {
			msg := []byte{byte(i), byte(j), 'x'}
			require.NoError(t, ch.Send(msg))
		}
		require.NoError(t, ch.Send(nil))
	}
	for i, ch := range mine {
		for j := range 20 {
			got, err := ch.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, []byte{byte(i), byte(j), 'x'}, got, "channel %s keeps order and boundaries", ch.Label())
		}
		got, err := ch.Recv(ctx)
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.NotNil(t, got)
	}
	require.NoError(t, video.Send([]byte("frame")))
	got, err := cv.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "frame", string(got))
	st := client.Stats()
	assert.Positive(t, st.BytesSent)
	assert.Positive(t, st.BytesReceived)
}

func TestTCPFallbackWhenServerHasNoUDP(t *testing.T) {
	l := listen(t, ServerConfig{TCPAddr: "127.0.0.1:0"})
	assert.Nil(t, l.UDPAddr())
	start := time.Now()
	// Nothing listens on the UDP port: the kernel answers "port unreachable".
	client, server := connect(t, l, ClientConfig{UDPTimeout: 3 * time.Second})
	assert.Less(t, time.Since(start), 3*time.Second, "a refused UDP port falls back without waiting for the timeout")
	assert.Equal(t, TransportTCP, client.Transport())
	assert.Equal(t, TransportTCP, server.Transport())
	echoOnce(t, client, server)
}

func TestTCPFallbackWhenUDPIsBlackholed(t *testing.T) {
	l := listen(t, bothAddrs())
	// A UDP socket that reads and never answers: like a firewall dropping UDP.
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer hole.Close()
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := hole.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	start := time.Now()
	client, _ := connect(t, l, ClientConfig{UDPAddr: hole.LocalAddr().String(), UDPTimeout: 400 * time.Millisecond})
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)
	assert.Equal(t, TransportTCP, client.Transport())
	assert.Positive(t, got.Load(), "the client tried UDP first")
	_ = hole.Close()
	<-done
}

func TestTCPOnly(t *testing.T) {
	l := listen(t, bothAddrs())
	client, server := connect(t, l, ClientConfig{DisableUDP: true})
	assert.Equal(t, TransportTCP, client.Transport())
	echoOnce(t, client, server)
}

func echoOnce(t *testing.T, client, server *Conn) {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	ch, err := client.OpenChannel(ctx, "control", Reliable())
	require.NoError(t, err)
	sch, err := server.AcceptChannel(ctx)
	require.NoError(t, err)
	require.NoError(t, ch.Send([]byte("hello")))
	got, err := sch.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))
	require.NoError(t, sch.Send([]byte("welcome")))
	got, err = ch.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "welcome", string(got))
}

func TestFingerprintMismatch(t *testing.T) {
	l := listen(t, bothAddrs())
	other, err := GenerateCertificate("other", time.Hour)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
	}{
		{"udp", ClientConfig{DisableTCP: true}},
		{"tcp", ClientConfig{DisableUDP: true}},
		{"udp then no fallback", ClientConfig{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Addr = l.Addr()
			cfg.ServerFingerprint = CertificateFingerprint(other)
			c, err := Dial(ctxT(t, 10*time.Second), cfg)
			require.ErrorIs(t, err, ErrFingerprint)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), l.Fingerprint().String(), "the error names the certificate seen")
		})
	}
	_, err = l.Accept(ctxT(t, 300*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded, "no connection came out of the failed dials")
}

func TestRootCAsInsteadOfFingerprint(t *testing.T) {
	l := listen(t, bothAddrs())
	pool := x509.NewCertPool()
	pool.AddCert(testCert().Leaf)
	for _, tcp := range []bool{false, true} {
		client, server := connect(t, l, ClientConfig{RootCAs: pool, ServerName: "direct.test", DisableUDP: tcp})
		echoOnce(t, client, server)
	}
	_, err := Dial(ctxT(t, 10*time.Second), ClientConfig{Addr: l.Addr(), RootCAs: pool, ServerName: "wrong.name", DisableUDP: true})
	require.Error(t, err)
}

func TestFingerprintParse(t *testing.T) {
	f := CertificateFingerprint(testCert())
	require.False(t, f.IsZero())
	g, err := ParseFingerprint(f.String())
	require.NoError(t, err)
	assert.Equal(t, f, g)
	g, err = ParseFingerprint(string(bytes.ToLower([]byte(f.String()))))
	require.NoError(t, err)
	assert.Equal(t, f, g)
	_, err = ParseFingerprint("AB:CD")
	require.Error(t, err)
	_, err = ParseFingerprint("zz")
	require.Error(t, err)
	assert.True(t, CertificateFingerprint(tls.Certificate{}).IsZero())
}

func TestLargeMessage(t *testing.T) {
	l := listen(t, bothAddrs())
	for _, tcp := range []bool{false, true} {
		client, server := connect(t, l, ClientConfig{DisableUDP: tcp})
		ctx := ctxT(t, 20*time.Second)
		// Reliable: a partially reliable channel may rightly give a frame up when the test
		// host stalls for a retransmission timeout.
		ch, err := server.OpenChannel(ctx, "video", ChannelOptions{})
		require.NoError(t, err)
		cch, err := client.AcceptChannel(ctx)
		require.NoError(t, err)
		frame := make([]byte, 300<<10) // a 300 KB keyframe
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range frame {
			frame[i] = byte(rng.Uint32())
		}
		require.NoError(t, ch.Send(frame))
		small := []byte("next frame")
		require.NoError(t, ch.Send(small))
		got, err := cch.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, sha256.Sum256(frame), sha256.Sum256(got), "keyframe intact on %s", client.Transport())
		got, err = cch.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, small, got)

		err = ch.Send(make([]byte, MaxMessageSize+1))
		require.ErrorIs(t, err, ErrTooLarge)
	}
}

// lossyConn drops a share of the datagrams it receives once enabled (what the client
// loses of the server's video; its acknowledgements get through).
type lossyConn struct {
	net.PacketConn
	mu        sync.Mutex
	rng       *rand.Rand
	loss      atomic.Uint32 // percent
	dropped   atomic.Int64
	packets   atomic.Int64
	blackhole atomic.Bool // drop everything, both ways
}

func (c *lossyConn) drop() bool {
	c.packets.Add(1)
	p := c.loss.Load()
	if p == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rng.Uint32N(100) < p {
		c.dropped.Add(1)
		return true
	}
	return false
}

func (c *lossyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(p)
		if err != nil || (!c.blackhole.Load() && !c.drop()) {
			return n, a, err
		}
	}
}

func (c *lossyConn) WriteTo(p []byte, a net.Addr) (int, error) {
	if c.blackhole.Load() {
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, a)
}

// A partially reliable channel under loss drops whole messages but never delivers a
// corrupt or partial one, and keeps working when the loss ends.
func TestPartialReliabilityUnderLoss(t *testing.T) {
	l := listen(t, bothAddrs())
	var lossy *lossyConn
	client, server := connect(t, l, ClientConfig{DisableTCP: true, WrapPacketConn: func(pc net.PacketConn) net.PacketConn {
		lossy = &lossyConn{PacketConn: pc, rng: rand.New(rand.NewPCG(7, 9))}
		return lossy
	}})
	ctx := ctxT(t, 30*time.Second)
	ch, err := server.OpenChannel(ctx, "video", Video())
	require.NoError(t, err)
	cch, err := client.AcceptChannel(ctx)
	require.NoError(t, err)

	type result struct {
		seqs      []uint32 // as received
		decodable []uint32 // what VideoReorder passed on
		requests  int      // keyframe requests
		stats     VideoStats
		corrupt   int
	}
	results := make(chan result, 1)
	rctx, stopReceiving := context.WithCancel(ctx)
	defer stopReceiving()
	go func() {
		var r result
		reorder := NewVideoReorder(DefaultReorderWindow)
		for {
			msg, err := cch.Recv(rctx)
			if err != nil {
				break
			}
			f, ok := frameOK(msg)
			if !ok {
				r.corrupt++
				continue
			}
			r.seqs = append(r.seqs, f.Seq)
			ready, kf := reorder.Push(f)
			for _, g := range ready {
				r.decodable = append(r.decodable, g.Seq)
			}
			if kf {
				r.requests++
			}
		}
		r.stats = reorder.Stats()
		results <- r
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	// A video sender: a frame every 4 ms.
	sendFrames := func(first, n uint32) (sent []uint32) {
		for i := first; i < first+n; i++ {
			require.NoError(t, ch.Send(makeFrame(i, 6000+rng.IntN(8000), rng)))
			sent = append(sent, i)
			time.Sleep(4 * time.Millisecond)
		}
		return sent
	}
	drain := func() {
		for ch.BufferedAmount() > 0 {
			require.NoError(t, ctx.Err(), "the channel never drained")
			time.Sleep(10 * time.Millisecond)
		}
	}
	const warm, lossyFrames, after = 40, 200, 20 // frame 240 (first after the loss) is a keyframe
	sendFrames(0, warm)                          // open the congestion window
	drain()
	lossy.loss.Store(10)
	sentLossy := sendFrames(warm, lossyFrames)
	drain() // every lossy frame is delivered or given up
	lossy.loss.Store(0)
	sentAfter := sendFrames(warm+lossyFrames, after)
	drain()
	time.Sleep(200 * time.Millisecond) // all acknowledged: the receiver has it in memory
	stopReceiving()
	r := <-results
	assert.Zero(t, r.corrupt, "no corrupt message delivered")
	assert.Positive(t, lossy.dropped.Load())
	seen := map[uint32]bool{}
	for _, s := range r.seqs {
		assert.False(t, seen[s], "frame %d delivered twice", s)
		seen[s] = true
	}
	lossyGot := 0
	for _, s := range sentLossy {
		if seen[s] {
			lossyGot++
		}
	}
	t.Logf("%d of %d datagrams dropped; %d of %d frames sent under loss delivered", lossy.dropped.Load(), lossy.packets.Load(), lossyGot, len(sentLossy))
	assert.Less(t, lossyGot, len(sentLossy), "some frames were given up")
	assert.Greater(t, lossyGot, len(sentLossy)/4, "most frames made it through the loss")
	afterGot := 0
	for _, s := range sentAfter {
		if seen[s] {
			afterGot++
		}
	}
	// All of them unless the test host stalls for a retransmission timeout.
	assert.GreaterOrEqual(t, afterGot, len(sentAfter)*3/4, "frames after the loss ended")

	// What VideoReorder made of it: an increasing sequence, gaps noticed, keyframes asked for,
	// everything after the loss (it starts with a keyframe) decodable.
	t.Logf("reorder: %+v, %d keyframe requests", r.stats, r.requests)
	for i := 1; i < len(r.decodable); i++ {
		require.True(t, seqBefore(r.decodable[i-1], r.decodable[i]), "decodable frames in order")
	}
	assert.Positive(t, r.stats.Lost)
	assert.Positive(t, r.requests)
	decodableAfter := 0
	for _, s := range r.decodable {
		if s >= warm+lossyFrames {
			decodableAfter++
		}
	}
	assert.GreaterOrEqual(t, decodableAfter, len(sentAfter)*3/4, "after the loss (it starts with a keyframe) frames are decodable again")
}

// makeFrame builds a video frame whose bitstream is sha256(body) | body; every 25th
// frame and the first after the lossy phase are keyframes.
func makeFrame(seq uint32, size int, rng *rand.Rand) []byte {
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(body)
	key := seq%25 == 0 || seq == 240
	return AppendVideoFrame(nil, VideoFrame{Seq: seq, Keyframe: key, Data: append(sum[:], body...)})
}

func frameOK(msg []byte) (VideoFrame, bool) {
	f, err := DecodeVideoFrame(msg)
	if err != nil || len(f.Data) < 32 {
		return f, false
	}
	sum := sha256.Sum256(f.Data[32:])
	return f, bytes.Equal(sum[:], f.Data[:32])
}

func TestBackpressure(t *testing.T) {
	l := listen(t, bothAddrs())
	client, server := connect(t, l, ClientConfig{})
	ctx := ctxT(t, 20*time.Second)
	ch, err := client.OpenChannel(ctx, "file", Reliable())
	require.NoError(t, err)
	sch, err := server.AcceptChannel(ctx)
	require.NoError(t, err)

	const threshold = 64 << 10
	low := make(chan struct{}, 1)
	var armed atomic.Bool
	ch.SetBufferedAmountLowThreshold(threshold)
	ch.OnBufferedAmountLow(func() {
		if !armed.Load() {
			return // an early dip while the test was still queueing
		}
		select {
		case low <- struct{}{}:
		default:
		}
	})
	msg := make([]byte, 32<<10)
	const n = 64 // 2 MiB queued at once
	for range n {
		require.NoError(t, ch.Send(msg))
	}
	armed.Store(true)
	// Still above the threshold after arming, so the fall below it is still to come.
	require.Greater(t, ch.BufferedAmount(), uint64(threshold), "Send queues without blocking")
	total := 0
	for total < n*len(msg) {
		got, err := sch.Recv(ctx)
		require.NoError(t, err)
		total += len(got)
	}
	select {
	case <-low:
	case <-ctx.Done():
		t.Fatal("OnBufferedAmountLow never fired")
	}
	assert.LessOrEqual(t, ch.BufferedAmount(), uint64(threshold))
}

func TestRecvContext(t *testing.T) {
	l := listen(t, bothAddrs())
	client, server := connect(t, l, ClientConfig{})
	ctx := ctxT(t, 10*time.Second)
	ch, err := client.OpenChannel(ctx, "control", Reliable())
	require.NoError(t, err)
	sch, err := server.AcceptChannel(ctx)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = sch.Recv(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, ch.Send([]byte("after")))
	got, err := sch.Recv(ctx)
	require.NoError(t, err, "the channel works after a cancelled Recv")
	assert.Equal(t, "after", string(got))
	_, err = server.AcceptChannel(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l := listen(t, bothAddrs())
	for _, tcp := range []bool{false, true} {
		client, server := connect(t, l, ClientConfig{DisableUDP: tcp})
		ctx := ctxT(t, 10*time.Second)
		a, err := client.OpenChannel(ctx, "clipboard", Reliable())
		require.NoError(t, err)
		sa, err := server.AcceptChannel(ctx)
		require.NoError(t, err)
		b, err := client.OpenChannel(ctx, "control", Reliable())
		require.NoError(t, err)
		sb, err := server.AcceptChannel(ctx)
		require.NoError(t, err)

		// Closing a channel: the peer reads what was sent, then ErrClosed.
		require.NoError(t, a.Send([]byte("last")))
		require.NoError(t, a.Close())
		got, err := sa.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "last", string(got))
		_, err = sa.Recv(ctx)
		require.ErrorIs(t, err, ErrClosed)
		require.ErrorIs(t, a.Send([]byte("x")), ErrClosed)
		require.ErrorIs(t, sa.Send([]byte("x")), ErrClosed, "the peer's side is closed too")
		require.NoError(t, sa.Close())

		// Closing the connection: the peer notices, everything fails with ErrClosed.
		require.NoError(t, client.Close())
		select {
		case <-server.Done():
		case <-ctx.Done():
			t.Fatalf("%s: server did not notice the close", server.Transport())
		}
		_, err = sb.Recv(ctx)
		require.ErrorIs(t, err, ErrClosed)
		_, err = b.Recv(ctx)
		require.ErrorIs(t, err, ErrClosed)
		_, err = server.AcceptChannel(ctx)
		require.ErrorIs(t, err, ErrClosed)
		_, err = client.OpenChannel(ctx, "x", Reliable())
		require.ErrorIs(t, err, ErrClosed)
		require.NoError(t, server.Close())
	}
	require.NoError(t, l.Close())
	_, err := l.Accept(context.Background())
	require.ErrorIs(t, err, ErrClosed)
}

func TestConfigErrors(t *testing.T) {
	_, err := Listen(context.Background(), ServerConfig{UDPAddr: "127.0.0.1:0"})
	require.Error(t, err, "no certificate")
	_, err = Listen(context.Background(), ServerConfig{Certificate: testCert()})
	require.Error(t, err, "no address")
	_, err = Dial(context.Background(), ClientConfig{Addr: "127.0.0.1:1"})
	require.Error(t, err, "nothing to verify the server with")
	l := listen(t, bothAddrs())
	client, _ := connect(t, l, ClientConfig{})
	ctx := ctxT(t, 5*time.Second)
	one := 1
	d := time.Second
	_, err = client.OpenChannel(ctx, "", Reliable())
	require.Error(t, err)
	_, err = client.OpenChannel(ctx, "x", ChannelOptions{MaxRetransmits: &one, MaxLifetime: &d})
	require.Error(t, err)
}

func TestDialUnreachable(t *testing.T) {
	// A TCP port with nothing behind it (listen, note the port, close).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = Dial(ctxT(t, 10*time.Second), ClientConfig{Addr: addr, ServerFingerprint: CertificateFingerprint(testCert()), UDPTimeout: 300 * time.Millisecond})
	require.ErrorIs(t, err, ErrUnreachable)
	require.False(t, errors.Is(err, ErrFingerprint))
}

// A small message on one channel is not held back behind a backlog of large messages on
// another (I-DATA interleaving): the cursor moves while a keyframe is on its way.
func TestNoHeadOfLineBlocking(t *testing.T) {
	l := listen(t, bothAddrs())
	for _, tcp := range []bool{false, true} {
		client, server := connect(t, l, ClientConfig{DisableUDP: tcp})
		ctx := ctxT(t, 20*time.Second)
		// Reliable (unordered): on a starved test host a partially reliable channel may
		// rightly give frames up, and this test is about scheduling, not loss.
		video, err := server.OpenChannel(ctx, "video", ChannelOptions{})
		require.NoError(t, err)
		cursor, err := server.OpenChannel(ctx, "cursor", Reliable())
		require.NoError(t, err)
		cv, err := client.AcceptChannel(ctx)
		require.NoError(t, err)
		cc, err := client.AcceptChannel(ctx)
		require.NoError(t, err)
		require.Equal(t, "video", cv.Label(), "accepted in opening order")
		require.Equal(t, "cursor", cc.Label())

		const frames = 4
		for range frames {
			require.NoError(t, video.Send(make([]byte, 1<<20)))
		}
		require.NoError(t, cursor.Send([]byte("moved")))
		var order []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range frames {
				if _, err := cv.Recv(ctx); err != nil {
					return
				}
				mu.Lock()
				order = append(order, "video")
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := cc.Recv(ctx); err == nil {
				mu.Lock()
				order = append(order, "cursor")
				mu.Unlock()
			}
		}()
		wg.Wait()
		t.Logf("%s: %v server %+v client %+v video buffered %d", client.Transport(), order, server.Stats(), client.Stats(), video.BufferedAmount())
		require.Len(t, order, frames+1)
		assert.Contains(t, order[:2], "cursor", "%s: the cursor message waited behind the video backlog: %v", client.Transport(), order)
	}
}

// Misbehaving peers: a TLS client without the ALPN protocol, a silent TCP client, too
// many handshakes at once, a channel opened on the other side's stream ids.
func TestServerRejects(t *testing.T) {
	l := listen(t, ServerConfig{TCPAddr: "127.0.0.1:0", HandshakeTimeout: time.Second, MaxHandshakes: 1})
	closedByServer := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}

	// No ALPN: the TLS handshake completes, then the server hangs up.
	tc, err := tls.Dial("tcp", l.Addr(), &tls.Config{InsecureSkipVerify: true})
	require.NoError(t, err)
	assert.True(t, closedByServer(tc), "a TLS client without ALPN is dropped")
	_ = tc.Close()

	// A silent client holds the only handshake slot until the handshake timeout.
	silent, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer silent.Close()
	for len(l.hs) == 0 { // wait until the server has taken it into its handshake
		time.Sleep(time.Millisecond)
	}
	second, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer second.Close()
	start := time.Now()
	assert.True(t, closedByServer(second), "a connection beyond MaxHandshakes is closed")
	assert.Less(t, time.Since(start), 800*time.Millisecond, "at once, not after the handshake timeout")
	assert.True(t, closedByServer(silent), "a silent client is dropped after the handshake timeout")

	_, err = l.Accept(ctxT(t, 100*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestWrongParityStreamIsReset(t *testing.T) {
	l := listen(t, bothAddrs())
	client, server := connect(t, l, ClientConfig{})
	client.mu.Lock()
	client.nextID = 1 // a server's id
	client.mu.Unlock()
	_, err := client.OpenChannel(ctxT(t, 5*time.Second), "input", Reliable())
	require.ErrorIs(t, err, ErrClosed, "the server resets the stream instead of acknowledging")
	_, err = server.AcceptChannel(ctxT(t, 100*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	client.mu.Lock()
	client.nextID = 2
	client.mu.Unlock()
	echoOnce(t, client, server) // the connection is still fine

	// The last ids: the client's is 65534, then it has none left.
	client.mu.Lock()
	client.nextID = maxStreamID
	client.mu.Unlock()
	ch, err := client.OpenChannel(ctxT(t, 5*time.Second), "last", Reliable())
	require.NoError(t, err)
	assert.Equal(t, uint16(maxStreamID), ch.StreamID())
	_, err = client.OpenChannel(ctxT(t, 5*time.Second), "one more", Reliable())
	require.ErrorContains(t, err, "out of stream ids")
}

// A quiet connection stays up on heartbeats; a peer that vanishes (the network drops
// everything, nobody closes anything) is noticed on both sides after the idle timeout.
func TestIdleTimeout(t *testing.T) {
	// Keep-alives every 50 ms against a 1.5 s idle limit: a healthy peer on two loaded cores
	// can miss a few hundred milliseconds of keep-alives, and must still not be dropped.
	live := Liveness{KeepAlive: 50 * time.Millisecond, IdleTimeout: 1500 * time.Millisecond}
	cfg := bothAddrs()
	cfg.Liveness = live
	l := listen(t, cfg)
	var lossy *lossyConn
	client, server := connect(t, l, ClientConfig{DisableTCP: true, Liveness: live, WrapPacketConn: func(pc net.PacketConn) net.PacketConn {
		lossy = &lossyConn{PacketConn: pc, rng: rand.New(rand.NewPCG(1, 1))}
		return lossy
	}})
	select {
	case <-client.Done():
		t.Fatal("a quiet but healthy connection timed out")
	case <-server.Done():
		t.Fatal("a quiet but healthy connection timed out")
	case <-time.After(2 * live.IdleTimeout):
	}
	lossy.blackhole.Store(true)
	start := time.Now()
	for _, c := range []*Conn{client, server} {
		select {
		case <-c.Done():
		case <-time.After(10 * live.IdleTimeout):
			t.Fatal("the vanished peer was not noticed")
		}
	}
	assert.GreaterOrEqual(t, time.Since(start), live.IdleTimeout-live.KeepAlive)
	_, err := client.OpenChannel(ctxT(t, time.Second), "control", Reliable())
	require.ErrorIs(t, err, ErrClosed)
}

// Many channels in use at once from both sides: every message arrives, in order per
// ordered channel, on its own channel.
func TestConcurrentChannels(t *testing.T) {
	l := listen(t, bothAddrs())
	for _, tcp := range []bool{false, true} {
		client, server := connect(t, l, ClientConfig{DisableUDP: tcp})
		ctx := ctxT(t, 30*time.Second)
		const channels, messages = 6, 200
		type pair struct{ a, b *Channel }
		pairs := make([]pair, channels)
		for i := range pairs {
			opener, acceptor := client, server
			if i%2 == 1 {
				opener, acceptor = server, client
			}
			a, err := opener.OpenChannel(ctx, "ch", Reliable())
			require.NoError(t, err)
			b, err := acceptor.AcceptChannel(ctx)
			require.NoError(t, err)
			require.Equal(t, a.StreamID(), b.StreamID())
			pairs[i] = pair{a, b}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4*channels)
		for i, p := range pairs {
			for dir, ends := range [][2]*Channel{{p.a, p.b}, {p.b, p.a}} {
				tag := byte(i*2 + dir)
				wg.Add(2)
				go func() {
					defer wg.Done()
					for j := range messages {
						msg := binary.BigEndian.AppendUint32([]byte{tag}, uint32(j))
						msg = append(msg, make([]byte, j*10)...)
						if err := ends[0].Send(msg); err != nil {
							errs <- err
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					for j := range messages {
						msg, err := ends[1].Recv(ctx)
						if err != nil {
							errs <- err
							return
						}
						if len(msg) != 5+j*10 || msg[0] != tag || binary.BigEndian.Uint32(msg[1:]) != uint32(j) {
							errs <- fmt.Errorf("channel %d: message %d wrong (%d bytes, tag %d)", tag, j, len(msg), msg[0])
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// syncBuffer is a bytes.Buffer for concurrent log writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A healthy connection logs nothing at warning level, heartbeats included.
func TestNoWarningsOnHealthyConnection(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	live := Liveness{KeepAlive: 20 * time.Millisecond}
	cfg := bothAddrs()
	cfg.Logger, cfg.Liveness = log, live
	l := listen(t, cfg)
	for _, tcp := range []bool{false, true} {
		client, server := connect(t, l, ClientConfig{DisableUDP: tcp, Logger: log, Liveness: live})
		echoOnce(t, client, server)
		time.Sleep(300 * time.Millisecond) // some heartbeats each way
		require.NoError(t, client.Close())
		require.NoError(t, server.Close())
	}
	assert.Empty(t, logs.String())
}

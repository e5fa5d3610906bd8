package direct

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var transports = []struct {
	name string
	cfg  ClientConfig
}{
	{TransportUDP, ClientConfig{DisableTCP: true}},
	{TransportTCP, ClientConfig{DisableUDP: true}},
}

func benchPair(b *testing.B, cfg ClientConfig) (sender, receiver *Channel) {
	l := listen(b, bothAddrs())
	client, server := connect(b, l, cfg)
	ctx := ctxT(b, time.Minute)
	ch, err := client.OpenChannel(ctx, "file", Reliable())
	require.NoError(b, err)
	sch, err := server.AcceptChannel(ctx)
	require.NoError(b, err)
	return ch, sch
}

// BenchmarkThroughput: a reliable ordered channel over loopback, 16 KiB messages, the
// sender keeping at most 1 MiB queued (as the scheduler would). MB/s is the goodput.
func BenchmarkThroughput(b *testing.B) {
	const size = 16 << 10
	const highWater = 1 << 20
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			ch, sch := benchPair(b, tr.cfg)
			low := make(chan struct{}, 1)
			ch.SetBufferedAmountLowThreshold(highWater / 2)
			ch.OnBufferedAmountLow(func() {
				select {
				case low <- struct{}{}:
				default:
				}
			})
			ctx := ctxT(b, 5*time.Minute)
			done := make(chan error, 1)
			go func() {
				total := 0
				for total < b.N*size {
					msg, err := sch.Recv(ctx)
					if err != nil {
						done <- err
						return
					}
					total += len(msg)
				}
				done <- nil
			}()
			msg := make([]byte, size)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				for ch.BufferedAmount() > highWater {
					select {
					case <-low:
					case <-time.After(50 * time.Millisecond):
					}
				}
				require.NoError(b, ch.Send(msg))
			}
			require.NoError(b, <-done)
		})
	}
}

// BenchmarkRoundTrip: a 64-byte message to the peer and back on a reliable channel;
// µs/rtt is the round-trip latency.
func BenchmarkRoundTrip(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			ch, sch := benchPair(b, tr.cfg)
			ctx := ctxT(b, 5*time.Minute)
			go func() {
				for {
					msg, err := sch.Recv(ctx)
					if err != nil || sch.Send(msg) != nil {
						return
					}
				}
			}()
			msg := make([]byte, 64)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				require.NoError(b, ch.Send(msg))
				_, err := ch.Recv(ctx)
				require.NoError(b, err)
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/rtt")
		})
	}
}

// BenchmarkThroughputBaselineTLS is the yardstick for BenchmarkThroughput/tcp: the same
// 16 KiB writes straight into a TLS 1.3 connection over loopback, without SCTP or framing.
func BenchmarkThroughputBaselineTLS(b *testing.B) {
	const size = 16 << 10
	cert := testCert()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	require.NoError(b, err)
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		total := 0
		for total < b.N*size {
			n, err := c.Read(buf)
			if err != nil {
				done <- err
				return
			}
			total += n
		}
		done <- nil
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	require.NoError(b, err)
	defer c.Close()
	msg := make([]byte, size)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		_, err := c.Write(msg)
		require.NoError(b, err)
	}
	require.NoError(b, <-done)
}

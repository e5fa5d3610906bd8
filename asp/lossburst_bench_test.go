package asp_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/codec"
)

// burstLoss drops a share of the video packets (first copies and retransmissions alike)
// while it is on.
type burstLoss struct {
	interceptor.NoOp
	mu      sync.Mutex
	on      bool
	rate    float64
	rng     *rand.Rand
	dropped int
}

func (l *burstLoss) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

func (l *burstLoss) set(on bool) {
	l.mu.Lock()
	l.on = on
	l.mu.Unlock()
}

func (l *burstLoss) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		l.mu.Lock()
		drop := l.on && l.rng.Float64() < l.rate
		if drop {
			l.dropped++
		}
		l.mu.Unlock()
		if drop {
			return len(payload), nil
		}
		return w.Write(h, payload, a)
	})
}

// BenchmarkLossBurstRecovery measures how long after a 1 s burst of 10% packet loss the
// picture is whole again: 0 when NACK repaired everything by the burst's end, otherwise
// the time from the burst's end to the first keyframe sent after the last loss the client
// noticed (a frame given up, a resync or a decode error). NACK repairs most of the burst; what it cannot goes through a rate-limited
// keyframe. Reported as ms_to_whole (0: whole when the burst ended).
func BenchmarkLossBurstRecovery(b *testing.B) {
	if len(codec.Available()) == 0 {
		b.Fatal("no codec compiled in")
	}
	var kmu sync.Mutex
	var keys []time.Time
	observe := func(ev asp.FrameEvent) {
		if ev.Keyframe && !ev.Dropped {
			kmu.Lock()
			keys = append(keys, ev.Sent)
			kmu.Unlock()
		}
	}
	loss := &burstLoss{rate: 0.10, rng: rand.New(rand.NewPCG(1, 2))}
	src := newMovingSource(1280, 720, 30)
	open := func(context.Context) (*asp.Desktop, error) { return &asp.Desktop{Source: src}, nil }
	srv, err := asp.NewServer(open, asp.WithSettingEngine(asp.LoopbackOnly), asp.WithFrameObserver(observe),
		asp.WithInterceptors(func(r *interceptor.Registry) { r.Add(loss) }))
	require.NoError(b, err)
	url := newHTTPServer(b, srv).URL
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{SettingEngine: asp.LoopbackOnly, FrameBuffer: 256})
	require.NoError(b, err)
	defer c.Close()
	go func() { // keep the frame channel drained
		for range c.Frames() {
		}
	}()
	total, given := 0.0, 0.0
	for range b.N {
		time.Sleep(time.Second) // settle
		lossCount := func() uint64 {
			k := c.Counters()
			return k.PacketsLost + k.Resyncs + k.DecodeErrors
		}
		before := lossCount()
		loss.set(true)
		time.Sleep(time.Second)
		loss.set(false)
		end := time.Now()
		last, lastChange := lossCount(), end
		for time.Since(end) < 3*time.Second {
			if n := lossCount(); n != last {
				last, lastChange = n, time.Now()
			}
			time.Sleep(5 * time.Millisecond)
		}
		whole := time.Duration(0)
		if lastChange.After(end) {
			// The client gave up on something after the burst: the picture is whole
			// again with the first keyframe sent after that.
			kmu.Lock()
			for _, k := range keys {
				if k.After(lastChange.Add(-50 * time.Millisecond)) {
					whole = k.Sub(end)
					break
				}
			}
			kmu.Unlock()
			if whole == 0 {
				b.Fatalf("no keyframe after the last loss %v after the burst", lastChange.Sub(end))
			}
		}
		total += float64(whole.Milliseconds())
		given += float64(lossCount() - before)
	}
	b.ReportMetric(total/float64(b.N), "ms_to_whole")
	// Packets, resyncs and decode errors the client gave up on per burst: NACK did not
	// repair them in time (0: NACK repaired everything).
	b.ReportMetric(given/float64(b.N), "losses/burst")
	loss.mu.Lock()
	b.ReportMetric(float64(loss.dropped)/float64(b.N), "dropped_packets/burst")
	loss.mu.Unlock()
	b.ReportMetric(0, "ns/op")
}

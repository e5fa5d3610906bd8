package asp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/client"
)

// lossy loses the first copy of every tenth video packet on its way out, as a network
// would: only a retransmission (NACK) can complete the frame.
type lossy struct {
	interceptor.NoOp
	mu      sync.Mutex
	seen    map[uint16]bool
	sent    int
	dropped int
}

func (l *lossy) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

func (l *lossy) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		l.mu.Lock()
		l.sent++
		// The stream's first packets go through: a client that never saw the first
		// keyframe asks for another (PLI), which is not what this test is about.
		drop := l.sent > 20 && h.SequenceNumber%10 == 0 && !l.seen[h.SequenceNumber]
		l.seen[h.SequenceNumber] = true
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

// Lost packets come back through NACK.
func TestNACKRecoversLoss(t *testing.T) {
	needCodec(t)
	loss := &lossy{seen: map[uint16]bool{}}
	f := newFixture(t, asp.WithInterceptors(func(r *interceptor.Registry) { r.Add(loss) }))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, f.http.URL, client.Options{SettingEngine: asp.LoopbackOnly, FrameBuffer: 256})
	require.NoError(t, err)
	defer c.Close()
	var last client.Frame
	for i := 0; i < 45; i++ {
		select {
		case last = <-c.Frames():
		case <-time.After(5 * time.Second):
			t.Fatalf("frame %d did not come: %+v", i, c.Counters())
		}
	}
	loss.mu.Lock()
	dropped := loss.dropped
	loss.mu.Unlock()
	require.Positive(t, dropped, "the network lost packets")
	// Without NACK every dropped packet would be lost for good. On a loaded machine a
	// retransmission can come too late now and then; most must make it.
	cnt := c.Counters()
	assert.Less(t, cnt.PacketsLost*4, uint64(dropped), "recovered only %d of %d lost packets (%+v)",
		uint64(dropped)-min(cnt.PacketsLost, uint64(dropped)), dropped, cnt)
	assert.GreaterOrEqual(t, last.Seq, uint64(45))
}

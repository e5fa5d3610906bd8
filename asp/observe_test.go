package asp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp"
)

// TestFrameObserver checks that the observer sees every frame the client decodes, with
// the same RTP timestamp and size, and encode times in order.
func TestFrameObserver(t *testing.T) {
	needCodec(t)
	var mu sync.Mutex
	byTS := map[uint32]asp.FrameEvent{}
	var first *asp.FrameEvent
	f := newFixture(t, asp.WithFrameObserver(func(ev asp.FrameEvent) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = &ev
		}
		if !ev.Dropped {
			byTS[ev.RTPTimestamp] = ev
		}
	}))
	c := dial(t, f.http.URL)
	defer c.Close()
	frames := waitFrames(t, c, 8)
	// The observer runs after the last packet went out, so it may trail the client a little.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		_, ok := byTS[frames[len(frames)-1].RTPTimestamp]
		return ok
	}, 5*time.Second, 5*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, first)
	assert.True(t, first.Keyframe, "a session starts with a keyframe")
	for _, fr := range frames {
		ev, ok := byTS[fr.RTPTimestamp]
		require.True(t, ok, "frame with RTP timestamp %d was observed", fr.RTPTimestamp)
		assert.Equal(t, fr.Bytes, ev.Bytes)
		assert.False(t, ev.EncodeStart.Before(ev.Captured))
		assert.False(t, ev.EncodeEnd.Before(ev.EncodeStart))
		assert.False(t, ev.Sent.Before(ev.EncodeEnd))
		if !ev.Refine {
			assert.NotZero(t, ev.CaptureSeq)
		}
	}
}

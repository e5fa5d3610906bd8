package adapt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	chInput = iota
	chCursor
	chClipboard
	chFile
	chUSB
)

func testScheduler(t *testing.T) *Scheduler {
	t.Helper()
	s, err := NewScheduler(
		ChannelConfig{Name: "input", Class: Realtime},
		ChannelConfig{Name: "cursor", Class: Realtime},
		ChannelConfig{Name: "clipboard", Class: Shared, Weight: 1, MaxQueued: 1 << 30},
		ChannelConfig{Name: "file", Class: Shared, Weight: 2, MaxQueued: 1 << 30},
		ChannelConfig{Name: "usb", Class: Shared, Weight: 5, MaxQueued: 1 << 30},
	)
	require.NoError(t, err)
	return s
}

// fill keeps the shared channels backlogged (well beyond a round's quantum) with messages
// of the given size.
func fill(t *testing.T, s *Scheduler, size int) {
	t.Helper()
	for _, ch := range []int{chClipboard, chFile, chUSB} {
		for s.Queued(ch) < 64<<10 {
			require.NoError(t, s.Enqueue(ch, make([]byte, size)))
		}
	}
}

func TestSharesHoldUnderSaturation(t *testing.T) {
	for _, size := range []int{100, 1200, 16 << 10} {
		s := testScheduler(t)
		now := time.Unix(0, 0)
		s.SetDataRate(8_000_000, now) // 1 MB/s for the shared class
		for range 2000 {
			now = now.Add(time.Millisecond)
			fill(t, s, size)
			for {
				if _, _, ok := s.Dequeue(now); !ok {
					break
				}
			}
		}
		total := float64(s.Sent(chClipboard) + s.Sent(chFile) + s.Sent(chUSB))
		require.Positive(t, total)
		for ch, weight := range map[int]float64{chClipboard: 1, chFile: 2, chUSB: 5} {
			share := float64(s.Sent(ch)) / total
			want := weight / 8
			assert.InEpsilon(t, want, share, 0.10, "size %d channel %d: share %.3f, want %.3f", size, ch, share, want)
		}
		// The budget held: about 1 MB/s for 2 s, plus one burst.
		assert.InDelta(t, 2_000_000, total, 2_000_000*0.05+float64(size)+50_000, "size %d", size)
	}
}

func TestRealtimeGoesFirstEvenWhenBudgetIsSpent(t *testing.T) {
	s := testScheduler(t)
	now := time.Unix(0, 0)
	s.SetDataRate(80_000, now)
	fill(t, s, 1200)
	// Spend the budget.
	for {
		if _, _, ok := s.Dequeue(now); !ok {
			break
		}
	}
	require.NoError(t, s.Enqueue(chCursor, []byte("c1")))
	require.NoError(t, s.Enqueue(chInput, []byte("k1")))
	require.NoError(t, s.Enqueue(chInput, []byte("k2")))
	var order []string
	for range 3 {
		ch, msg, ok := s.Dequeue(now)
		require.True(t, ok, "realtime traffic is never held by the budget")
		assert.Contains(t, []int{chInput, chCursor}, ch)
		order = append(order, string(msg))
	}
	assert.Equal(t, []string{"k1", "k2", "c1"}, order, "input before cursor, each in order")
	_, _, ok := s.Dequeue(now)
	assert.False(t, ok, "shared channels wait for budget")

	// Interleaved with saturated shared channels, every realtime message is the next one out.
	now = now.Add(time.Second)
	for i := range 100 {
		fill(t, s, 1200)
		require.NoError(t, s.Enqueue(chInput, []byte{byte(i)}))
		ch, msg, ok := s.Dequeue(now)
		require.True(t, ok)
		assert.Equal(t, chInput, ch)
		assert.Equal(t, []byte{byte(i)}, msg)
		s.Dequeue(now)
	}
}

func TestBackpressure(t *testing.T) {
	s, err := NewScheduler(ChannelConfig{Name: "input", Class: Realtime}, ChannelConfig{Name: "clipboard", Class: Shared, Weight: 1})
	require.NoError(t, err)
	const chClipboard = 1
	for range DefaultMaxQueued / 1024 {
		require.NoError(t, s.Enqueue(chClipboard, make([]byte, 1024)))
	}
	err = s.Enqueue(chClipboard, []byte{1})
	require.ErrorIs(t, err, ErrBackpressure)
	assert.Contains(t, err.Error(), "clipboard")
	assert.Equal(t, DefaultMaxQueued, s.Queued(chClipboard), "a refused message is not queued")

	now := time.Unix(0, 0)
	s.SetDataRate(8_000_000, now)
	_, _, ok := s.Dequeue(now)
	require.True(t, ok)
	require.NoError(t, s.Enqueue(chClipboard, []byte{1}), "room again once a message left")

	require.ErrorIs(t, s.Enqueue(9, nil), ErrNoChannel)
}

func TestSchedulerConfigErrors(t *testing.T) {
	_, err := NewScheduler(ChannelConfig{Name: "x", Class: 7})
	require.Error(t, err)
	_, err = NewScheduler(ChannelConfig{Name: "x", Class: Shared})
	require.ErrorContains(t, err, "positive weight")
	_, err = NewScheduler(ChannelConfig{Name: "x", Class: Realtime, MaxQueued: -1})
	require.Error(t, err)
}

func TestSentRateAndBudgetSplit(t *testing.T) {
	s := testScheduler(t)
	now := time.Unix(0, 0)
	s.SetDataRate(1_000_000, now) // 125 kB/s
	for range 3000 {
		now = now.Add(time.Millisecond)
		fill(t, s, 1000)
		for {
			if _, _, ok := s.Dequeue(now); !ok {
				break
			}
		}
	}
	rate := s.SentRate(now)
	assert.InEpsilon(t, 1_000_000, rate, 0.1)

	video, data := DefaultBudget.Split(5_000_000, rate)
	assert.EqualValues(t, 2_000_000, data)
	assert.InEpsilon(t, 4_000_000, video, 0.1, "video gets what the channels leave")
	video, _ = DefaultBudget.Split(200_000, 5_000_000)
	assert.EqualValues(t, 150_000, video, "never below the floor")
}

func TestDequeueRealtimeLeavesShared(t *testing.T) {
	s, err := NewScheduler(ChannelConfig{Name: "input", Class: Realtime}, ChannelConfig{Name: "clipboard", Class: Shared, Weight: 1})
	require.NoError(t, err)
	now := time.Unix(0, 0)
	s.SetDataRate(1_000_000, now)
	require.NoError(t, s.Enqueue(1, make([]byte, 100)))
	require.NoError(t, s.Enqueue(0, []byte{1}))
	ch, _, ok := s.DequeueRealtime(now)
	require.True(t, ok)
	assert.Equal(t, 0, ch)
	_, _, ok = s.DequeueRealtime(now)
	assert.False(t, ok, "the shared message waits")
	assert.True(t, s.Backlogged())
	ch, _, ok = s.Dequeue(now)
	require.True(t, ok)
	assert.Equal(t, 1, ch)
	assert.False(t, s.Backlogged())
}

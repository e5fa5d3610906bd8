package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatcher: concurrent requests are carried by fewer calls, each caller gets its own
// result or error, and a caller whose context ends is not sent.
func TestBatcher(t *testing.T) {
	var calls atomic.Int32
	gate := make(chan struct{})
	b := &batcher[int, int]{
		size: func(int) int { return 1 },
		call: func(_ context.Context, reqs []int) ([]int, []error, error) {
			if calls.Add(1) == 1 {
				<-gate // hold the first call so the others queue up
			}
			res := make([]int, len(reqs))
			errs := make([]error, len(reqs))
			for i, q := range reqs {
				if q < 0 {
					return nil, nil, errors.New("whole batch failed")
				}
				res[i] = q * 10
				if q%7 == 0 {
					errs[i] = errors.New("seven")
				}
			}
			return res, errs, nil
		},
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := b.do(ctx, 1)
		assert.NoError(t, err)
		assert.Equal(t, 10, r)
	}()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	const n = 40
	for i := 2; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := b.do(ctx, i)
			if i%7 == 0 {
				assert.EqualError(t, err, "seven")
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, i*10, r)
		}(i)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := b.do(cctx, 1000)
	assert.ErrorIs(t, err, context.Canceled)
	time.Sleep(20 * time.Millisecond) // let the others queue behind the held call
	close(gate)
	wg.Wait()
	assert.Less(t, calls.Load(), int32(n/2), "requests were not batched")
	_, err = b.do(ctx, -1)
	assert.EqualError(t, err, "whole batch failed")
}

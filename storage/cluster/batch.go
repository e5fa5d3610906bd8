package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/storagepb"
	"github.com/shadowless-dev/shadowless/storage/storagepb/storagepbconnect"
)

// Batch limits: the writes one WriteBatch call may carry.
const (
	maxBatchWrites = 64
	maxBatchBytes  = 4 << 20
)

// writeBatcher sends the writes waiting for one chunk server as WriteBatch calls: the first
// waiting caller becomes the leader and sends everything queued, then the next leader
// sends what queued meanwhile. Under load one call carries many writes; alone, a write
// goes out at once.
type writeBatcher struct {
	client storagepbconnect.ChunkServiceClient

	mu      sync.Mutex
	queue   []*pendingWrite
	leading bool
}

type pendingWrite struct {
	ctx  context.Context
	req  *storagepb.WriteRequest
	err  error
	done chan struct{}
}

func (b *writeBatcher) write(ctx context.Context, req *storagepb.WriteRequest) error {
	p := &pendingWrite{ctx: ctx, req: req, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.leading {
		b.mu.Unlock()
		select {
		case <-p.done:
			return p.err
		case <-ctx.Done():
			// The write may still be sent; the caller treats it as failed (not acknowledged).
			return ctx.Err()
		}
	}
	b.leading = true
	for {
		batch, rest := takeBatch(b.queue)
		b.queue = rest
		b.mu.Unlock()
		b.send(batch)
		b.mu.Lock()
		select {
		case <-p.done:
			if len(b.queue) > 0 {
				// Hand the rest to a new leader so this caller can return.
				go b.lead()
			} else {
				b.leading = false
			}
			b.mu.Unlock()
			return p.err
		default:
		}
	}
}

// lead sends queued batches until the queue is empty. Called with leading set.
func (b *writeBatcher) lead() {
	b.mu.Lock()
	for len(b.queue) > 0 {
		batch, rest := takeBatch(b.queue)
		b.queue = rest
		b.mu.Unlock()
		b.send(batch)
		b.mu.Lock()
	}
	b.leading = false
	b.mu.Unlock()
}

func takeBatch(q []*pendingWrite) (batch, rest []*pendingWrite) {
	bytes := 0
	n := 0
	for n < len(q) && n < maxBatchWrites && (n == 0 || bytes+len(q[n].req.Data) <= maxBatchBytes) {
		bytes += len(q[n].req.Data)
		n++
	}
	return q[:n:n], q[n:]
}

func (b *writeBatcher) send(batch []*pendingWrite) {
	req := &storagepb.WriteBatchRequest{}
	ctx := context.Background()
	var cancel context.CancelFunc = func() {}
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			close(p.done)
			continue
		}
		live = append(live, p)
		req.Writes = append(req.Writes, p.req)
	}
	if len(live) == 0 {
		return
	}
	// The batch carries the earliest deadline of its writes.
	for _, p := range live {
		if d, ok := p.ctx.Deadline(); ok {
			if cur, has := ctx.Deadline(); !has || d.Before(cur) {
				cancel()
				ctx, cancel = context.WithDeadline(context.Background(), d)
			}
		}
	}
	defer cancel()
	resp, err := b.client.WriteBatch(ctx, connect.NewRequest(req))
	for i, p := range live {
		switch {
		case err != nil:
			p.err = err
		case i >= len(resp.Msg.Results):
			p.err = connect.NewError(connect.CodeInternal, errors.New("write batch: missing result"))
		case resp.Msg.Results[i].Code != 0:
			r := resp.Msg.Results[i]
			p.err = connect.NewError(connect.Code(r.Code), fmt.Errorf("%s", r.Message))
		}
		close(p.done)
	}
}

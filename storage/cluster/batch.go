package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/storagepb"
	"github.com/shadowless-dev/shadowless/storage/storagepb/storagepbconnect"
)

// Batch limits: the requests one batch call may carry.
const (
	maxBatchItems = 64
	maxBatchBytes = 4 << 20
)

// batcher sends the requests waiting for one chunk server as one batch call: the first
// waiting caller becomes the leader and sends everything queued, then hands what queued
// meanwhile to the next leader. Under load one call carries many requests; alone, a
// request goes out at once.
type batcher[Q, R any] struct {
	// call sends a batch and returns one result or error per request, or an error for all.
	call func(ctx context.Context, reqs []Q) ([]R, []error, error)
	// size is a request's payload size, for maxBatchBytes.
	size func(Q) int

	mu      sync.Mutex
	queue   []*pending[Q, R]
	leading bool
}

type pending[Q, R any] struct {
	ctx  context.Context
	req  Q
	res  R
	err  error
	done chan struct{}
}

func (b *batcher[Q, R]) do(ctx context.Context, req Q) (R, error) {
	p := &pending[Q, R]{ctx: ctx, req: req, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.leading {
		b.mu.Unlock()
		select {
		case <-p.done:
			return p.res, p.err
		case <-ctx.Done():
			// The request may still be sent; the caller treats it as failed.
			var zero R
			return zero, ctx.Err()
		}
	}
	b.leading = true
	for {
		batch := b.take()
		b.mu.Unlock()
		b.send(batch)
		b.mu.Lock()
		select {
		case <-p.done:
			if len(b.queue) > 0 {
				go b.lead() // hand the rest to a new leader so this caller can return
			} else {
				b.leading = false
			}
			b.mu.Unlock()
			return p.res, p.err
		default:
		}
	}
}

// lead sends queued batches until the queue is empty. Called with leading set.
func (b *batcher[Q, R]) lead() {
	b.mu.Lock()
	for len(b.queue) > 0 {
		batch := b.take()
		b.mu.Unlock()
		b.send(batch)
		b.mu.Lock()
	}
	b.leading = false
	b.mu.Unlock()
}

// take removes the next batch from the queue. Called with mu held.
func (b *batcher[Q, R]) take() []*pending[Q, R] {
	bytes, n := 0, 0
	for n < len(b.queue) && n < maxBatchItems && (n == 0 || bytes+b.size(b.queue[n].req) <= maxBatchBytes) {
		bytes += b.size(b.queue[n].req)
		n++
	}
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	return batch
}

func (b *batcher[Q, R]) send(batch []*pending[Q, R]) {
	var live []*pending[Q, R]
	var reqs []Q
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			close(p.done)
			continue
		}
		live = append(live, p)
		reqs = append(reqs, p.req)
	}
	if len(live) == 0 {
		return
	}
	// The batch carries the earliest deadline of its requests.
	ctx, cancel := context.WithCancel(context.Background())
	for _, p := range live {
		if d, ok := p.ctx.Deadline(); ok {
			if cur, has := ctx.Deadline(); !has || d.Before(cur) {
				cancel()
				ctx, cancel = context.WithDeadline(context.Background(), d)
			}
		}
	}
	defer cancel()
	res, errs, err := b.call(ctx, reqs)
	for i, p := range live {
		switch {
		case err != nil:
			p.err = err
		case i >= len(res) || i >= len(errs):
			p.err = connect.NewError(connect.CodeInternal, errors.New("batch: missing result"))
		default:
			p.res, p.err = res[i], errs[i]
		}
		close(p.done)
	}
}

func resultError(code uint32, msg string) error {
	if code == 0 {
		return nil
	}
	return connect.NewError(connect.Code(code), fmt.Errorf("%s", msg))
}

// nodeBatchers are the batchers of one chunk server.
type nodeBatchers struct {
	writes batcher[chunkWrite, struct{}]
	reads  batcher[*storagepb.ReadRequest, *storagepb.ReadResult]
}

// newNodeBatchers returns the batchers of the chunk server at addr: writes go over the
// raw data plane (hc, HTTP/1.1), reads over Connect (c).
func newNodeBatchers(c storagepbconnect.ChunkServiceClient, hc *http.Client, addr string) *nodeBatchers {
	nb := &nodeBatchers{}
	base := baseURL(addr)
	nb.writes.size = func(q chunkWrite) int { return len(q.Data) }
	nb.writes.call = func(ctx context.Context, reqs []chunkWrite) ([]struct{}, []error, error) {
		errs, err := postWrites(ctx, hc, base, reqs)
		if err != nil {
			return nil, nil, err
		}
		return make([]struct{}, len(errs)), errs, nil
	}
	nb.reads.size = func(q *storagepb.ReadRequest) int { return int(q.Length) }
	nb.reads.call = func(ctx context.Context, reqs []*storagepb.ReadRequest) ([]*storagepb.ReadResult, []error, error) {
		resp, err := c.ReadBatch(ctx, connect.NewRequest(&storagepb.ReadBatchRequest{Reads: reqs}))
		if err != nil {
			return nil, nil, err
		}
		errs := make([]error, len(resp.Msg.Results))
		for i, r := range resp.Msg.Results {
			errs[i] = resultError(r.Code, r.Message)
		}
		return resp.Msg.Results, errs, nil
	}
	return nb
}

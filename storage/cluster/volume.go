package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage"
	"github.com/shadowless-dev/shadowless/storage/chunk"
	"github.com/shadowless-dev/shadowless/storage/meta"
	"github.com/shadowless-dev/shadowless/storage/storagepb"
)

const blockSize = chunk.BlockSize

// Volume is a replicated volume as a storage.BlockDevice: reads and writes at any offset and
// length, split over chunks, each write durable on every replica of its chunk's current
// placement before it returns. It is safe for concurrent use; operations on one chunk are
// ordered by a per-chunk lock (writes exclusive, reads shared), which makes every block a
// linearizable register.
type Volume struct {
	m         *Manager
	id        uint64
	name      string
	chunkSize int64
	size      atomic.Int64
	deleted   atomic.Bool
	// parent is the volume a snapshot was taken of (0 for a volume). Snapshots are
	// read-only; their chunks that the volume has not changed since are read from it.
	parent uint64
	// keyVolume is the volume whose data key seals this one's blocks (itself, or for a
	// snapshot its volume); it is part of every block's additional data.
	keyVolume uint64
	// cmu guards bc, the volume's block cipher, made from its data key on first use and
	// dropped when the volume is deleted.
	cmu sync.Mutex
	bc  *blockCipher
	// snapGen grows with every snapshot taken of the volume; a chunk handle remembers the
	// generation at which it last found no snapshot sharing it.
	snapGen atomic.Uint64

	// quiesce is held shared by I/O and exclusively by snapshot and restore.
	quiesce sync.RWMutex

	mu     sync.Mutex
	chunks map[uint64]*chunkHandle

	repairs sync.WaitGroup
}

var _ storage.BlockDevice = (*Volume)(nil)

type chunkHandle struct {
	mu      sync.RWMutex
	loaded  bool
	placed  bool
	p       meta.Placement
	version uint64
	// unsharedGen is the volume's snapGen when no snapshot shared the chunk any more.
	unsharedGen uint64
}

func newVolume(m *Manager, v meta.Volume) *Volume {
	kv := v.KeyVolume
	if kv == 0 {
		kv = v.ID
	}
	vol := &Volume{m: m, id: v.ID, name: v.Name, chunkSize: v.ChunkSize, parent: v.Parent, keyVolume: kv, chunks: map[uint64]*chunkHandle{}}
	vol.size.Store(v.Size)
	vol.snapGen.Store(1)
	return vol
}

// Name is the volume's name.
func (v *Volume) Name() string { return v.name }

// ID is the volume's metadata id.
func (v *Volume) ID() uint64 { return v.id }

// ReadOnly reports whether the volume is a snapshot (which refuses writes).
func (v *Volume) ReadOnly() bool { return v.parent != 0 }

// ChunkSize is the number of bytes per chunk.
func (v *Volume) ChunkSize() int64 { return v.chunkSize }

// Size implements storage.BlockDevice.
func (v *Volume) Size() int64 { return v.size.Load() }

// cipher returns the volume's block cipher, unwrapping its data key on first use.
func (v *Volume) cipher() (*blockCipher, error) {
	v.cmu.Lock()
	defer v.cmu.Unlock()
	if v.deleted.Load() {
		return nil, fmt.Errorf("%w: %s was deleted", ErrNoVolume, v.name)
	}
	if v.bc != nil {
		return v.bc, nil
	}
	key, err := v.m.meta.DataKey(v.id)
	if err != nil {
		return nil, fmt.Errorf("cluster: data key of %s: %w", v.name, err)
	}
	defer clear(key)
	bc, err := newBlockCipher(key, v.keyVolume)
	if err != nil {
		return nil, err
	}
	v.bc = bc
	return bc, nil
}

// forget marks the volume deleted and drops its cipher.
func (v *Volume) forget() {
	v.cmu.Lock()
	v.deleted.Store(true)
	v.bc = nil
	v.cmu.Unlock()
}

// WaitRepairs waits for read-triggered repairs started so far to finish.
func (v *Volume) WaitRepairs() { v.repairs.Wait() }

func (v *Volume) handle(idx uint64) *chunkHandle {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, ok := v.chunks[idx]
	if !ok {
		h = &chunkHandle{}
		v.chunks[idx] = h
	}
	return h
}

func (v *Volume) check(off, n int64) error {
	if v.deleted.Load() {
		return fmt.Errorf("%w: %s was deleted", ErrNoVolume, v.name)
	}
	if off < 0 || n < 0 || off+n > v.Size() {
		return fmt.Errorf("%w: %d+%d of %d", storage.ErrOutOfRange, off, n, v.Size())
	}
	return nil
}

// span calls fn for each chunk piece of [off, off+n).
func (v *Volume) span(off, n int64, fn func(idx uint64, coff int64, pos, length int64) error) error {
	pos := int64(0)
	for pos < n {
		abs := off + pos
		idx := uint64(abs / v.chunkSize)
		coff := abs % v.chunkSize
		length := min(n-pos, v.chunkSize-coff)
		if err := fn(idx, coff, pos, length); err != nil {
			return err
		}
		pos += length
	}
	return nil
}

// ErrReadOnly is returned for writes to a snapshot.
var ErrReadOnly = errors.New("cluster: snapshots are read-only")

// ReadAt implements storage.BlockDevice.
func (v *Volume) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := v.check(off, int64(len(p))); err != nil {
		return 0, err
	}
	v.quiesce.RLock()
	defer v.quiesce.RUnlock()
	return v.readAt(ctx, p, off)
}

// readAt is ReadAt without the quiesce lock (for callers that hold it exclusively).
func (v *Volume) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	err := v.span(off, int64(len(p)), func(idx uint64, coff, pos, length int64) error {
		start := coff &^ (blockSize - 1)
		end := (coff + length + blockSize - 1) &^ (blockSize - 1)
		if v.parent != 0 {
			buf, shared, err := v.readShared(ctx, idx, start, end-start)
			if err != nil {
				return err
			}
			if shared {
				copy(p[pos:pos+length], buf[coff-start:])
				return nil
			}
		}
		h, err := v.rlockLoaded(ctx, idx)
		if err != nil {
			return err
		}
		defer h.mu.RUnlock()
		buf, err := v.readLocked(ctx, h, idx, start, end-start)
		if err != nil {
			return err
		}
		copy(p[pos:pos+length], buf[coff-start:])
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// readShared reads a snapshot's chunk from its volume when the snapshot still shares it
// (the volume has not changed the chunk since). The volume copies a shared chunk to the
// snapshot, under the chunk's exclusive lock, before changing it; holding the volume's
// chunk shared while checking and reading keeps the two consistent. No lock of the
// snapshot is held meanwhile, so the order is always volume chunk, then snapshot chunk.
func (v *Volume) readShared(ctx context.Context, idx uint64, start, n int64) ([]byte, bool, error) {
	pv, err := v.m.volumeByID(v.parent)
	if err != nil {
		return nil, false, fmt.Errorf("%w: parent of %s: %w", ErrNoVolume, v.name, err)
	}
	ph, err := pv.rlockLoaded(ctx, idx)
	if err != nil {
		return nil, false, err
	}
	defer ph.mu.RUnlock()
	ids, err := v.m.meta.SharedWith(v.parent, idx)
	if err != nil || !slices.Contains(ids, v.id) {
		return nil, false, err
	}
	buf, err := pv.readLocked(ctx, ph, idx, start, n)
	return buf, err == nil, err
}

// preserveLocked gives every snapshot that still shares a chunk its own copy, before the
// volume changes the chunk. Called with h.mu held exclusively.
func (v *Volume) preserveLocked(ctx context.Context, h *chunkHandle, idx uint64, force bool) error {
	gen := v.snapGen.Load()
	if v.parent != 0 || !h.placed || (!force && h.unsharedGen == gen) {
		return nil
	}
	ids, err := v.m.meta.SharedWith(v.id, idx)
	if err != nil {
		return err
	}
	for _, sid := range ids {
		snap, err := v.m.volumeByID(sid)
		if errors.Is(err, meta.ErrNotFound) {
			if err := v.m.meta.Unshare(v.id, idx, sid); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		dh, err := snap.lockLoaded(ctx, idx)
		if err != nil {
			return err
		}
		err = v.m.copyChunk(ctx, v, h, snap, dh, idx)
		dh.mu.Unlock()
		if err != nil {
			return fmt.Errorf("cluster: copy %s chunk %d to snapshot %s before changing it: %w", v.name, idx, snap.name, err)
		}
		if err := v.m.meta.Unshare(v.id, idx, sid); err != nil {
			return err
		}
	}
	h.unsharedGen = gen
	return nil
}

// rlockLoaded returns the chunk's handle read-locked and loaded.
func (v *Volume) rlockLoaded(ctx context.Context, idx uint64) (*chunkHandle, error) {
	h := v.handle(idx)
	for {
		h.mu.RLock()
		if h.loaded {
			return h, nil
		}
		h.mu.RUnlock()
		h.mu.Lock()
		err := v.ensureLoaded(ctx, h, idx)
		h.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// lockLoaded returns the chunk's handle write-locked and loaded.
func (v *Volume) lockLoaded(ctx context.Context, idx uint64) (*chunkHandle, error) {
	h := v.handle(idx)
	h.mu.Lock()
	if err := v.ensureLoaded(ctx, h, idx); err != nil {
		h.mu.Unlock()
		return nil, err
	}
	return h, nil
}

// readLocked reads an aligned range of a chunk from the first replica that returns it at
// the current version with good checksums and blocks that authenticate, and opens it;
// replicas that fail are repaired in the background. Called with h.mu held (shared or
// exclusive).
func (v *Volume) readLocked(ctx context.Context, h *chunkHandle, idx uint64, start, n int64) ([]byte, error) {
	if !h.placed {
		return make([]byte, n), nil
	}
	bc, err := v.cipher()
	if err != nil {
		return nil, err
	}
	plain := make([]byte, n)
	nodes := rotate(h.p.Nodes, int(idx))
	var bad []string
	var errs []error
	for _, node := range nodes {
		b, err := v.m.batchers(node)
		if err == nil {
			rctx, cancel := v.m.rpcCtx(ctx)
			var res *storagepb.ReadResult
			res, err = b.reads.do(rctx, &storagepb.ReadRequest{Chunk: v.ref(idx), Offset: uint32(start), Length: uint32(n)})
			cancel()
			if err == nil && res.Version != h.version {
				err = fmt.Errorf("replica at version %d, chunk at %d", res.Version, h.version)
			}
			if err == nil && int64(len(res.Data)) != sealedLen(n) {
				err = fmt.Errorf("replica returned %d bytes for %d", len(res.Data), sealedLen(n))
			}
			if err == nil {
				err = bc.open(plain, res.Data, idx, uint32(start/blockSize))
			}
			if err == nil {
				if len(bad) > 0 {
					v.repairLater(idx, bad)
				}
				return plain, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, ErrDecrypt) {
			v.m.markDown(node, err)
		}
		bad = append(bad, node)
		errs = append(errs, replicaError{node, err})
	}
	return nil, fmt.Errorf("cluster: read %s chunk %d: no replica answered: %w", v.name, idx, errors.Join(errs...))
}

func rotate(nodes []string, k int) []string {
	if len(nodes) == 0 {
		return nil
	}
	k %= len(nodes)
	return append(slices.Clone(nodes[k:]), nodes[:k]...)
}

func (v *Volume) ref(idx uint64) *storagepb.ChunkRef {
	return &storagepb.ChunkRef{Volume: v.id, Index: idx}
}

// repairLater fixes replicas found bad by a read, once the read has released the chunk.
func (v *Volume) repairLater(idx uint64, bad []string) {
	v.repairs.Add(1)
	go func() {
		defer v.repairs.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 4*v.m.cfg.RPCTimeout)
		defer cancel()
		h := v.handle(idx)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.loaded || !h.placed {
			return
		}
		var still []string
		for _, b := range bad {
			if slices.Contains(h.p.Nodes, b) {
				still = append(still, b)
			}
		}
		if len(still) == 0 {
			return
		}
		if err := v.fix(ctx, h, idx, still); err != nil {
			v.m.log.Warn("read repair failed", "volume", v.name, "chunk", idx, "err", err)
			v.m.repairsFailed.Add(1)
		}
	}()
}

// ensureLoaded learns a chunk's placement and current version (the highest among its
// replicas) and brings every replica to it: an unreachable replica is replaced, a stale one
// gets a fresh copy. Called with h.mu held exclusively.
func (v *Volume) ensureLoaded(ctx context.Context, h *chunkHandle, idx uint64) error {
	if h.loaded {
		return nil
	}
	p, ok, err := v.m.meta.Placement(v.id, idx)
	if err != nil {
		return err
	}
	if !ok {
		h.placed, h.version, h.loaded = false, 0, true
		return nil
	}
	type stat struct {
		version uint64
		err     error
	}
	stats := make([]stat, len(p.Nodes))
	var wg sync.WaitGroup
	for i, node := range p.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := v.m.nodeClient(node)
			if err != nil {
				stats[i].err = err
				return
			}
			rctx, cancel := v.m.rpcCtx(ctx)
			defer cancel()
			resp, err := c.Stat(rctx, connect.NewRequest(&storagepb.StatRequest{Chunk: v.ref(idx)}))
			if err != nil {
				stats[i].err = err
				return
			}
			stats[i].version = resp.Msg.Version
		}()
	}
	wg.Wait()
	var cur uint64
	reachable := 0
	for _, s := range stats {
		if s.err == nil {
			reachable++
			cur = max(cur, s.version)
		}
	}
	if reachable == 0 {
		return fmt.Errorf("cluster: %s chunk %d: no replica reachable: %w", v.name, idx, stats[0].err)
	}
	h.p, h.placed, h.version = p, true, cur
	var unreachable, stale []string
	for i, s := range stats {
		switch {
		case s.err != nil:
			v.m.markDown(p.Nodes[i], s.err)
			unreachable = append(unreachable, p.Nodes[i])
		case s.version != cur:
			stale = append(stale, p.Nodes[i])
		}
	}
	if len(unreachable)+len(stale) > 0 {
		// Serve from the replicas at the current version even if the repair cannot finish
		// now (reads check versions; writes need the full set and will fail clearly).
		if err := v.fix(ctx, h, idx, append(unreachable, stale...)); err != nil {
			v.m.log.Warn("chunk degraded, repair failed", "volume", v.name, "chunk", idx, "err", err)
			v.m.repairsFailed.Add(1)
		}
	}
	h.loaded = true
	return nil
}

// fetchGood reads a whole chunk at the current version from one of the given replicas.
func (v *Volume) fetchGood(ctx context.Context, h *chunkHandle, idx uint64, from []string) ([]byte, []byte, error) {
	var errs []error
	for _, node := range from {
		c, err := v.m.nodeClient(node)
		if err == nil {
			rctx, cancel := v.m.rpcCtx(ctx)
			var resp *connect.Response[storagepb.FetchResponse]
			resp, err = c.Fetch(rctx, connect.NewRequest(&storagepb.FetchRequest{Chunk: v.ref(idx), Size: uint32(v.chunkSize)}))
			cancel()
			if err == nil && resp.Msg.Version != h.version {
				err = fmt.Errorf("source at version %d, chunk at %d", resp.Msg.Version, h.version)
			}
			if err == nil {
				return resp.Msg.Data, resp.Msg.Present, nil
			}
		}
		errs = append(errs, replicaError{node, err})
	}
	return nil, nil, fmt.Errorf("cluster: %s chunk %d: no good source: %w", v.name, idx, errors.Join(errs...))
}

func (v *Volume) install(ctx context.Context, node string, idx uint64, data, present []byte, version, epoch uint64) error {
	c, err := v.m.nodeClient(node)
	if err != nil {
		return err
	}
	rctx, cancel := v.m.rpcCtx(ctx)
	defer cancel()
	_, err = c.Install(rctx, connect.NewRequest(&storagepb.InstallRequest{Chunk: v.ref(idx), Data: data, Present: present, Version: version, Epoch: epoch}))
	if err != nil {
		v.m.markDown(node, err)
		return replicaError{node, err}
	}
	return nil
}

// fix brings the replicas in bad back to the chunk's current version: each reachable one
// gets a fresh copy from a good replica, each that cannot take it is replaced by a new node
// (epoch bump) which gets the copy. Called with h.mu held exclusively.
func (v *Volume) fix(ctx context.Context, h *chunkHandle, idx uint64, bad []string) error {
	var good []string
	for _, n := range h.p.Nodes {
		if !slices.Contains(bad, n) {
			good = append(good, n)
		}
	}
	data, present, err := v.fetchGood(ctx, h, idx, good)
	if err != nil {
		return err
	}
	var failed []string
	for _, b := range bad {
		if err := v.install(ctx, b, idx, data, present, h.version, h.p.Epoch); err != nil {
			failed = append(failed, b)
			continue
		}
		v.m.repairsDone.Add(1)
		v.m.repairBytes.Add(uint64(len(data)))
	}
	if len(failed) == 0 {
		return nil
	}
	return v.replaceWith(ctx, h, idx, failed, data, present)
}

// replaceWith swaps failed replicas for new nodes and installs the chunk on them.
func (v *Volume) replaceWith(ctx context.Context, h *chunkHandle, idx uint64, failed []string, data, present []byte) error {
	for attempt := 0; attempt < 3; attempt++ {
		np, err := v.m.meta.Replace(v.id, idx, failed, h.p.Epoch)
		if err != nil {
			return fmt.Errorf("cluster: replace %v for %s chunk %d: %w", failed, v.name, idx, err)
		}
		var fresh []string
		for _, n := range np.Nodes {
			if !slices.Contains(h.p.Nodes, n) {
				fresh = append(fresh, n)
			}
		}
		v.m.log.Info("replica replaced", "volume", v.name, "chunk", idx, "failed", failed, "new", fresh, "epoch", np.Epoch)
		h.p = np
		failed = nil
		for _, n := range fresh {
			if err := v.install(ctx, n, idx, data, present, h.version, np.Epoch); err != nil {
				failed = append(failed, n)
				continue
			}
			v.m.repairsDone.Add(1)
			v.m.repairBytes.Add(uint64(len(data)))
		}
		if len(failed) == 0 {
			return nil
		}
	}
	return fmt.Errorf("cluster: %s chunk %d: new replicas %v failed too", v.name, idx, failed)
}

// replicate runs op on every replica of a write-locked chunk at version h.version+1. It
// succeeds only when every replica of the (possibly new) placement holds the change
// durably: replicas that fail are replaced and rebuilt from one that succeeded.
func (v *Volume) replicate(ctx context.Context, h *chunkHandle, idx uint64, op func(ctx context.Context, node string, version, epoch uint64) error) error {
	if !h.placed {
		p, err := v.m.meta.Place(v.id, idx)
		if err != nil {
			return fmt.Errorf("%w: place %s chunk %d: %w", ErrWriteFailed, v.name, idx, err)
		}
		h.p, h.placed, h.version = p, true, 0
	}
	next := h.version + 1
	errs := make([]error, len(h.p.Nodes))
	var wg sync.WaitGroup
	for i, node := range h.p.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := v.m.rpcCtx(ctx)
			errs[i] = op(rctx, node, next, h.p.Epoch)
			cancel()
		}()
	}
	wg.Wait()
	var ok, failed []string
	for i, err := range errs {
		if err != nil {
			v.m.markDown(h.p.Nodes[i], err)
			failed = append(failed, h.p.Nodes[i])
		} else {
			ok = append(ok, h.p.Nodes[i])
		}
	}
	if len(failed) == 0 {
		h.version = next
		return nil
	}
	if len(ok) == 0 || ctx.Err() != nil {
		h.loaded = false // replicas may or may not hold it: learn again before the next use
		return fmt.Errorf("%w: %s chunk %d: %w", ErrWriteFailed, v.name, idx, errors.Join(errs...))
	}
	h.version = next
	data, present, err := v.fetchGood(ctx, h, idx, ok)
	if err == nil {
		err = v.replaceWith(ctx, h, idx, failed, data, present)
	}
	if err != nil {
		h.loaded = false
		return fmt.Errorf("%w: %s chunk %d: %w", ErrWriteFailed, v.name, idx, err)
	}
	return nil
}

// WriteAt implements storage.BlockDevice.
func (v *Volume) WriteAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := v.check(off, int64(len(p))); err != nil {
		return 0, err
	}
	if v.parent != 0 {
		return 0, fmt.Errorf("%w: %s", ErrReadOnly, v.name)
	}
	v.quiesce.RLock()
	defer v.quiesce.RUnlock()
	err := v.span(off, int64(len(p)), func(idx uint64, coff, pos, length int64) error {
		return v.writeChunk(ctx, idx, coff, p[pos:pos+length])
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (v *Volume) writeChunk(ctx context.Context, idx uint64, coff int64, data []byte) error {
	h, err := v.lockLoaded(ctx, idx)
	if err != nil {
		return err
	}
	defer h.mu.Unlock()
	start := coff &^ (blockSize - 1)
	end := (coff + int64(len(data)) + blockSize - 1) &^ (blockSize - 1)
	buf := data
	if start != coff || end != coff+int64(len(data)) {
		// Read-modify-write of the partial blocks at either end.
		buf = make([]byte, end-start)
		if start != coff {
			head, err := v.readLocked(ctx, h, idx, start, blockSize)
			if err != nil {
				return err
			}
			copy(buf, head)
		}
		if end != coff+int64(len(data)) && (end-blockSize != start || start == coff) {
			tail, err := v.readLocked(ctx, h, idx, end-blockSize, blockSize)
			if err != nil {
				return err
			}
			copy(buf[end-blockSize-start:], tail)
		}
		copy(buf[coff-start:], data)
	}
	if err := v.preserveLocked(ctx, h, idx, false); err != nil {
		return err
	}
	// The blocks are sealed once, each with its CRC32C; the same frames go to every replica,
	// which checks the CRCs and stores the frames as they are.
	bc, err := v.cipher()
	if err != nil {
		return err
	}
	// Chunk servers in this process can append the frames straight from this buffer
	// when it sits at the page phase their records will have (see chunk.Store.FramePhase).
	phase := -1
	if h.placed && len(buf) >= minInPlace {
		phase = v.m.framePhase(h.p.Nodes, int(framedLen(int64(len(buf)))))
	}
	frames, recycle := v.m.sealedBuf(int(framedLen(int64(len(buf)))), phase)
	if err := bc.seal(frames, buf, idx, uint32(start/blockSize), frameSize); err != nil {
		return err
	}
	w := newChunkWrite(v.id, idx, uint32(start), frames, 0, 0)
	var abandoned atomic.Bool
	err = v.replicate(ctx, h, idx, func(ctx context.Context, node string, version, epoch uint64) error {
		b, err := v.m.batchers(node)
		if err != nil {
			return err
		}
		w := w
		w.Version, w.Epoch = version, epoch
		_, err = b.writes.do(ctx, w)
		if err != nil {
			abandoned.Store(true)
		}
		return err
	})
	// A replica that failed may still be reading the buffer (an in-process chunk server
	// whose caller gave up); only a buffer every replica is done with is reused.
	if !abandoned.Load() {
		recycle()
	}
	return err
}

// minPooledSeal is the smallest sealed write whose buffer is recycled.
const minPooledSeal = 64 * frameSize

// minInPlace is the smallest write for which the manager asks in-process chunk servers
// where to place its frames in memory (chunk stores write records of 128 KiB or more
// direct).
const minInPlace = 32 * blockSize

// sealedBuf returns a buffer of n bytes for a write's sealed blocks, its first byte at
// phase modulo 4096 in memory when phase is not negative, and a function that gives it
// back for reuse.
func (m *Manager) sealedBuf(n int, phase int) ([]byte, func()) {
	const page = 4096
	if n < minPooledSeal {
		if phase < 0 {
			return make([]byte, n), func() {}
		}
		return chunk.AtPhase(make([]byte, n+page), n, phase), func() {}
	}
	p, _ := m.sealedBufs.Get().(*[]byte)
	if p == nil || cap(*p) < n+page {
		b := make([]byte, n+page)
		p = &b
	}
	if phase < 0 {
		return (*p)[:n], func() { m.sealedBufs.Put(p) }
	}
	return chunk.AtPhase((*p)[:cap(*p)], n, phase), func() { m.sealedBufs.Put(p) }
}

// framePhase asks the in-process chunk servers holding nodes where a write's frames of n
// bytes should sit in memory (-1: any node is remote, or they disagree).
func (m *Manager) framePhase(nodes []string, n int) int {
	addrs := make([]string, 0, len(nodes))
	m.mu.Lock()
	for _, id := range nodes {
		a, ok := m.addrs[id]
		if !ok {
			m.mu.Unlock()
			return -1
		}
		addrs = append(addrs, a)
	}
	m.mu.Unlock()
	return m.local.framePhase(addrs, n)
}

// Flush implements storage.BlockDevice. Every acknowledged write is already durable on all
// replicas, so there is nothing to wait for.
func (v *Volume) Flush(ctx context.Context) error {
	if v.deleted.Load() {
		return fmt.Errorf("%w: %s was deleted", ErrNoVolume, v.name)
	}
	return ctx.Err()
}

// Trim implements storage.BlockDevice: whole blocks are trimmed (their space is reclaimed
// at the next GC), partial blocks at the edges are zeroed.
func (v *Volume) Trim(ctx context.Context, off, length int64) error {
	return v.WriteZeroes(ctx, off, length)
}

// WriteZeroes implements storage.BlockDevice.
func (v *Volume) WriteZeroes(ctx context.Context, off, length int64) error {
	if err := v.check(off, length); err != nil {
		return err
	}
	if v.parent != 0 {
		return fmt.Errorf("%w: %s", ErrReadOnly, v.name)
	}
	v.quiesce.RLock()
	defer v.quiesce.RUnlock()
	return v.span(off, length, func(idx uint64, coff, _, n int64) error {
		start := (coff + blockSize - 1) &^ (blockSize - 1)
		end := (coff + n) &^ (blockSize - 1)
		if start >= end {
			return v.writeChunk(ctx, idx, coff, make([]byte, n))
		}
		if coff < start {
			if err := v.writeChunk(ctx, idx, coff, make([]byte, start-coff)); err != nil {
				return err
			}
		}
		if err := v.trimChunk(ctx, idx, start, end-start); err != nil {
			return err
		}
		if coff+n > end {
			return v.writeChunk(ctx, idx, end, make([]byte, coff+n-end))
		}
		return nil
	})
}

func (v *Volume) trimChunk(ctx context.Context, idx uint64, start, n int64) error {
	h, err := v.lockLoaded(ctx, idx)
	if err != nil {
		return err
	}
	defer h.mu.Unlock()
	if !h.placed {
		return nil // never written: already zeroes
	}
	if err := v.preserveLocked(ctx, h, idx, false); err != nil {
		return err
	}
	return v.replicate(ctx, h, idx, func(ctx context.Context, node string, version, epoch uint64) error {
		c, err := v.m.nodeClient(node)
		if err != nil {
			return err
		}
		_, err = c.Trim(ctx, connect.NewRequest(&storagepb.TrimRequest{Chunk: v.ref(idx), Offset: uint32(start), Length: uint32(n), Version: version, Epoch: epoch}))
		return err
	})
}

// repairChunk replaces the chunk's replicas on down nodes (background repair).
func (v *Volume) repairChunk(ctx context.Context, idx uint64, down map[string]bool) error {
	h, err := v.lockLoaded(ctx, idx)
	if err != nil {
		return err
	}
	defer h.mu.Unlock()
	if !h.placed {
		return nil
	}
	var failed []string
	for _, n := range h.p.Nodes {
		if down[n] {
			failed = append(failed, n)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	var good []string
	for _, n := range h.p.Nodes {
		if !down[n] {
			good = append(good, n)
		}
	}
	data, present, err := v.fetchGood(ctx, h, idx, good)
	if err != nil {
		return err
	}
	return v.replaceWith(ctx, h, idx, failed, data, present)
}

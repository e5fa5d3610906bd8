package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/storage/chunk"
	"github.com/shadowless-dev/shadowless/storage/meta"
)

// TestStopChunkServerDuringWrites stops a chunk server while writers are busy: no
// acknowledged write is lost, failed writes fail with ErrWriteFailed, and the chunks are
// re-placed onto the spare node.
func TestStopChunkServerDuringWrites(t *testing.T) {
	t.Run("in-process", func(t *testing.T) { testStopChunkServerDuringWrites(t, false) })
	t.Run("network", func(t *testing.T) { testStopChunkServerDuringWrites(t, true) })
}

func testStopChunkServerDuringWrites(t *testing.T, network bool) {
	ctx := context.Background()
	l := startLocalOver(t, t.TempDir(), 4, network)
	defer l.Close()
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)

	const writers, perWriter = 4, 40
	var mu sync.Mutex
	acked := map[int64][]byte{} // block offset -> last acknowledged content
	var failures []error
	var wg sync.WaitGroup
	started := make(chan struct{}, writers*perWriter)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				// Each writer owns its blocks, so the last ack per block is well defined.
				off := int64((w*perWriter+i)%(int(vol.Size())/4096/writers)*writers+w) * 4096
				data := bytes.Repeat([]byte(fmt.Sprintf("w%d-i%d;", w, i)), 4096)[:4096]
				_, err := vol.WriteAt(ctx, data, off)
				mu.Lock()
				if err == nil {
					acked[off] = data
				} else {
					failures = append(failures, err)
				}
				mu.Unlock()
				started <- struct{}{}
			}
		}(w)
	}
	for i := 0; i < writers*perWriter/4; i++ {
		<-started
	}
	victim := l.Servers[1].ID()
	require.NoError(t, l.StopNode(2))
	wg.Wait()
	for _, err := range failures {
		assert.ErrorIs(t, err, ErrWriteFailed)
	}
	t.Logf("%d writes acknowledged, %d failed", len(acked), len(failures))
	require.NotEmpty(t, acked)

	for off, want := range acked {
		got := make([]byte, 4096)
		_, err := vol.ReadAt(ctx, got, off)
		require.NoError(t, err)
		assert.Equal(t, want, got, "acknowledged write at %d lost", off)
	}
	// Every chunk ends up on three live nodes, the stopped one replaced.
	require.Eventually(t, func() bool {
		ps, err := l.Manager.Meta().Placements(vol.ID())
		require.NoError(t, err)
		for _, p := range ps {
			for _, n := range p.Nodes {
				if n == victim {
					return false
				}
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond)
	ps, err := l.Manager.Meta().Placements(vol.ID())
	require.NoError(t, err)
	for _, p := range ps {
		assert.Len(t, p.Nodes, 3)
		assert.NotContains(t, p.Nodes, victim)
	}
	// The replicas agree after re-placement.
	res, err := l.Manager.Scrub(ctx, "default")
	require.NoError(t, err)
	assert.Zero(t, res.Mismatches)
	st, err := l.Manager.Status(ctx)
	require.NoError(t, err)
	assert.Positive(t, st.RepairsDone)
}

// TestWritesFailClearlyWithoutSpareNode: with three nodes and one down, a write cannot
// reach three replicas and must fail (not be acknowledged), while reads go on.
func TestWritesFailClearlyWithoutSpareNode(t *testing.T) {
	ctx := context.Background()
	l, vol := startDefault(t)
	data := randBytes(7, 8192)
	_, err := vol.WriteAt(ctx, data, 0)
	require.NoError(t, err)
	require.NoError(t, l.StopNode(3))
	_, err = vol.WriteAt(ctx, randBytes(8, 4096), 0)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrWriteFailed)
	assert.ErrorIs(t, err, meta.ErrNotEnoughNodes)
	got := make([]byte, 4096)
	_, err = vol.ReadAt(ctx, got, 4096)
	require.NoError(t, err)
	assert.Equal(t, data[4096:], got, "the unacknowledged write did not touch other blocks")
}

func corruptBlock(t *testing.T, cs *ChunkServer, id chunk.ID) {
	t.Helper()
	// Find the frame on disk through the store's index and damage it in place.
	path, off, ok := cs.Store().BlockLocation(id, 0)
	require.True(t, ok)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off+17)
	require.NoError(t, err)
	b[0] ^= 0x5a
	_, err = f.WriteAt(b, off+17)
	require.NoError(t, err)
}

// TestCorruptReplicaReadRepair damages one replica's bytes: reads still return the right
// data and the damaged replica is repaired.
func TestCorruptReplicaReadRepair(t *testing.T) {
	ctx := context.Background()
	l, vol := startDefault(t)
	data := randBytes(21, testChunk)
	_, err := vol.WriteAt(ctx, data, 0)
	require.NoError(t, err)
	p, ok, err := l.Manager.Meta().Placement(vol.ID(), 0)
	require.NoError(t, err)
	require.True(t, ok)
	// The replica read first for chunk 0 is p.Nodes[0].
	var victim *ChunkServer
	for _, cs := range l.Servers {
		if cs.ID() == p.Nodes[0] {
			victim = cs
		}
	}
	require.NotNil(t, victim)
	corruptBlock(t, victim, chunkID(vol.ID(), 0))
	_, err = victim.Store().Read(ctx, chunkID(vol.ID(), 0), 0, make([]byte, sealedSize))
	require.ErrorIs(t, err, chunk.ErrCorrupt)

	got := make([]byte, testChunk)
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got))
	vol.WaitRepairs()
	fixed, err := replicaPlain(ctx, vol, victim, 0)
	require.NoError(t, err, "replica not repaired")
	assert.True(t, bytes.Equal(data, fixed))
}

// TestScrubRepairsCorruptReplica: scrub finds a damaged replica that no read touched.
func TestScrubRepairsCorruptReplica(t *testing.T) {
	ctx := context.Background()
	l, vol := startDefault(t)
	data := randBytes(22, 2*testChunk)
	_, err := vol.WriteAt(ctx, data, 0)
	require.NoError(t, err)
	corruptBlock(t, l.Servers[2], chunkID(vol.ID(), 1))
	res, err := l.Manager.Scrub(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), res.Chunks)
	assert.Equal(t, uint64(1), res.Mismatches)
	assert.Equal(t, uint64(1), res.Repaired)
	got, err := replicaPlain(ctx, vol, l.Servers[2], 1)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data[testChunk:], got))
	res, err = l.Manager.Scrub(ctx, "default")
	require.NoError(t, err)
	assert.Zero(t, res.Mismatches)
}

// TestStaleReplicaNeverServes: a node that was down while a chunk moved on comes back with
// old data; it is no longer in the placement and its old version never serves.
func TestStaleReplicaNeverServes(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 4)
	defer l.Close()
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	_, err = vol.WriteAt(ctx, bytes.Repeat([]byte("old!"), 1024), 0)
	require.NoError(t, err)
	p, _, err := l.Manager.Meta().Placement(vol.ID(), 0)
	require.NoError(t, err)
	var idx int
	for i, cs := range l.Servers {
		if cs.ID() == p.Nodes[0] {
			idx = i + 1
		}
	}
	require.NoError(t, l.StopNode(idx))
	newData := bytes.Repeat([]byte("new!"), 1024)
	_, err = vol.WriteAt(ctx, newData, 0)
	require.NoError(t, err)
	_, err = l.StartNode(ctx, idx)
	require.NoError(t, err)
	np, _, err := l.Manager.Meta().Placement(vol.ID(), 0)
	require.NoError(t, err)
	assert.Greater(t, np.Epoch, p.Epoch)
	assert.NotContains(t, np.Nodes, p.Nodes[0])
	for i := 0; i < 5; i++ {
		got := make([]byte, 4096)
		_, err = vol.ReadAt(ctx, got, 0)
		require.NoError(t, err)
		assert.Equal(t, newData, got)
	}
	// The returning node's copy is older than the placement, and the sweep drops it.
	info, ok := l.Servers[idx-1].Store().Stat(chunkID(vol.ID(), 0))
	require.True(t, ok)
	assert.Less(t, info.Epoch, np.Epoch)
	require.Eventually(t, func() bool {
		n, err := l.Manager.SweepOrphans(ctx)
		return err == nil && n > 0
	}, 15*time.Second, 100*time.Millisecond)
	_, ok = l.Servers[idx-1].Store().Stat(chunkID(vol.ID(), 0))
	assert.False(t, ok, "orphan replica not dropped")
	got := make([]byte, 4096)
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.Equal(t, newData, got)
}

// TestDeleteWhileNodeDown: a node down during a delete keeps ciphertext it can no longer
// decrypt (the key is gone), and the sweep drops it when the node is back.
func TestDeleteWhileNodeDown(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 3)
	defer l.Close()
	vol, err := l.Manager.CreateVolume(ctx, "doomed", 1<<20, testChunk)
	require.NoError(t, err)
	_, err = vol.WriteAt(ctx, randBytes(31, 8192), 0)
	require.NoError(t, err)
	require.NoError(t, l.StopNode(3))
	_, err = l.Manager.DeleteVolume(ctx, "doomed")
	require.NoError(t, err)
	cs, err := l.StartNode(ctx, 3)
	require.NoError(t, err)
	require.NotEmpty(t, cs.Store().List(vol.ID()), "the down node still holds the chunks")
	// The node holds only sealed blocks, and the one key that opens them is gone.
	sealed := make([]byte, 2*sealedSize)
	_, err = cs.Store().Read(ctx, chunkID(vol.ID(), 0), 0, sealed)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(sealed, randBytes(31, 8192)[:64]), "plaintext on a chunk server")
	_, err = l.Manager.Meta().DataKey(vol.ID())
	require.ErrorIs(t, err, meta.ErrNotFound, "nobody can unwrap the key any more")
	require.Eventually(t, func() bool {
		_, err := l.Manager.SweepOrphans(ctx)
		return err == nil && len(cs.Store().List(vol.ID())) == 0
	}, 15*time.Second, 100*time.Millisecond)
}

// TestDamagedLogOnRestart: a chunk server whose log is damaged in the middle (as after a
// power loss tore unsynced records) still starts, drops the affected chunks, and the
// cluster serves the right data and rebuilds its replicas.
func TestDamagedLogOnRestart(t *testing.T) {
	ctx := context.Background()
	l, vol := startDefault(t)
	data := randBytes(51, 4*testChunk)
	for i := int64(0); i < 4; i++ {
		_, err := vol.WriteAt(ctx, data[i*testChunk:(i+1)*testChunk], i*testChunk)
		require.NoError(t, err)
	}
	path, off, ok := l.Servers[0].Store().BlockLocation(chunkID(vol.ID(), 1), 0)
	require.True(t, ok)
	require.NoError(t, l.StopNode(1))
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff, 0xff, 0xff}, off-chunk.HeaderSize+8) // chunk 1's record header
	require.NoError(t, err)
	require.NoError(t, f.Close())
	cs, err := l.StartNode(ctx, 1)
	require.NoError(t, err, "a damaged replica must still start")
	require.Len(t, cs.Store().Recovery().Damaged, 1)
	_, ok = cs.Store().Stat(chunkID(vol.ID(), 1))
	require.False(t, ok)

	got := make([]byte, len(data))
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
	vol.WaitRepairs()
	res, err := l.Manager.Scrub(ctx, "default")
	require.NoError(t, err)
	t.Logf("scrub after restart: %+v", res)
	res, err = l.Manager.Scrub(ctx, "default")
	require.NoError(t, err)
	assert.Zero(t, res.Mismatches, "replicas still disagree after repair")
	for i := uint64(0); i < 4; i++ {
		// With three nodes every chunk has a replica on the damaged node: all are back.
		info, ok := cs.Store().Stat(chunkID(vol.ID(), i))
		require.True(t, ok, "chunk %d not rebuilt on the damaged node", i)
		b, err := replicaPlain(ctx, vol, cs, i)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data[int64(i)*testChunk:int64(i+1)*testChunk], b), "chunk %d on the damaged node (version %d)", i, info.Version)
	}
}

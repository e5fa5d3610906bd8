package cluster

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/storage"
	"github.com/shadowless-dev/shadowless/storage/meta"
)

const testChunk = 64 << 10

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startLocal(t testing.TB, dir string, nodes int) *Local {
	t.Helper()
	return startLocalOver(t, dir, nodes, false)
}

// startDefault starts a three-node test cluster, closed when the test ends, and opens its
// default volume.
func startDefault(t testing.TB) (*Local, *Volume) {
	t.Helper()
	l := startLocal(t, t.TempDir(), 3)
	t.Cleanup(func() { l.Close() })
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	return l, vol
}

// startLocalOver starts a test cluster whose manager reaches the chunk servers in-process
// or, with network, over loopback TCP.
func startLocalOver(t testing.TB, dir string, nodes int, network bool) *Local {
	t.Helper()
	// Heartbeats every 100 ms, but a node counts as gone only after 5 s of silence: on two
	// loaded cores (the race pass, CI) a heartbeat goroutine can starve for two seconds, and
	// a healthy node taken for dead fails writes with "not enough healthy nodes".
	l, err := StartLocal(context.Background(), LocalConfig{
		Dir: dir, Nodes: nodes, DefaultVolumeSize: 1 << 20, ChunkSize: testChunk,
		HeartbeatTimeout: 5 * time.Second, Heartbeat: 100 * time.Millisecond,
		RepairInterval: 200 * time.Millisecond, Logger: quietLogger(), Network: network,
	})
	require.NoError(t, err)
	for _, cs := range l.Servers {
		require.Equal(t, !network, l.Manager.local.get(cs.Addr()) != nil, "in-process handler registered")
	}
	return l
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestVolumeReadWriteAcrossChunksAndRestart runs with the chunk servers reached in-process
// (the embedded default) and over loopback TCP (as separate machines).
func TestVolumeReadWriteAcrossChunksAndRestart(t *testing.T) {
	t.Run("in-process", func(t *testing.T) { testVolumeReadWriteAcrossChunksAndRestart(t, false) })
	t.Run("network", func(t *testing.T) { testVolumeReadWriteAcrossChunksAndRestart(t, true) })
}

func testVolumeReadWriteAcrossChunksAndRestart(t *testing.T, network bool) {
	ctx := context.Background()
	dir := t.TempDir()
	l := startLocalOver(t, dir, 3, network)
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	var _ storage.BlockDevice = vol
	model := make([]byte, vol.Size())
	write := func(off int64, b []byte) {
		_, err := vol.WriteAt(ctx, b, off)
		require.NoError(t, err)
		copy(model[off:], b)
	}
	write(100, randBytes(1, 5000))                // unaligned, two blocks
	write(testChunk-3000, randBytes(2, 9000))     // spans chunks 0 and 1
	write(3*testChunk, randBytes(3, 2*testChunk)) // whole chunks
	write(3*testChunk+4096, randBytes(4, 4096))   // aligned overwrite
	write(vol.Size()-10, randBytes(5, 10))        // last bytes
	require.NoError(t, vol.WriteZeroes(ctx, 3*testChunk+1000, 20000))
	clear(model[3*testChunk+1000 : 3*testChunk+21000])
	require.NoError(t, vol.Trim(ctx, 4*testChunk, testChunk))
	clear(model[4*testChunk : 5*testChunk])
	require.NoError(t, vol.Flush(ctx))

	got := make([]byte, vol.Size())
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(model, got), "volume differs from model")

	_, err = vol.ReadAt(ctx, make([]byte, 2), vol.Size()-1)
	assert.ErrorIs(t, err, storage.ErrOutOfRange)
	_, err = vol.WriteAt(ctx, make([]byte, 1), -1)
	assert.ErrorIs(t, err, storage.ErrOutOfRange)

	// Every chunk has three replicas on distinct nodes, all at the same version.
	ps, err := l.Manager.Meta().Placements(vol.ID())
	require.NoError(t, err)
	require.NotEmpty(t, ps)
	for _, p := range ps {
		assert.Len(t, p.Nodes, 3)
		var versions []uint64
		for _, cs := range l.Servers {
			if info, ok := cs.Store().Stat(chunkID(vol.ID(), p.Index)); ok {
				versions = append(versions, info.Version)
			}
		}
		require.Len(t, versions, 3)
		assert.Equal(t, versions[0], versions[1])
		assert.Equal(t, versions[0], versions[2])
	}

	// Plaintext never reaches any node's disk.
	assertNotOnDisk(t, dir, model[3*testChunk+21000:3*testChunk+21000+64])

	require.NoError(t, l.Close())
	l2 := startLocalOver(t, dir, 3, network)
	defer l2.Close()
	vol2, err := l2.Manager.OpenVolume("default")
	require.NoError(t, err)
	got2 := make([]byte, vol2.Size())
	_, err = vol2.ReadAt(ctx, got2, 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(model, got2), "volume differs after restart")
}

func assertNotOnDisk(t *testing.T, dir string, needle []byte) {
	t.Helper()
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		assert.False(t, bytes.Contains(b, needle), "found bytes in %s", path)
		return nil
	})
	require.NoError(t, err)
}

func TestResizeSnapshotRestoreBackupDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := startLocal(t, dir, 3)
	defer l.Close()
	m := l.Manager
	vol, err := m.OpenVolume("default")
	require.NoError(t, err)
	v1 := randBytes(10, 3*testChunk)
	_, err = vol.WriteAt(ctx, v1, 0)
	require.NoError(t, err)

	// Online expansion: the open device grows.
	_, err = m.ResizeVolume(ctx, "default", 2<<20)
	require.NoError(t, err)
	assert.Equal(t, int64(2<<20), vol.Size())
	_, err = vol.WriteAt(ctx, []byte("tail"), (2<<20)-4)
	require.NoError(t, err)
	_, err = m.ResizeVolume(ctx, "default", 1<<20)
	assert.ErrorIs(t, err, meta.ErrShrink)

	_, err = m.Snapshot(ctx, "default", "s1")
	require.NoError(t, err)
	v2 := randBytes(11, testChunk)
	_, err = vol.WriteAt(ctx, v2, testChunk/2)
	require.NoError(t, err)
	_, err = vol.WriteAt(ctx, []byte("later"), 10*testChunk)
	require.NoError(t, err)

	snap, err := m.OpenVolume("default@s1")
	require.NoError(t, err)
	got := make([]byte, 3*testChunk)
	_, err = snap.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(v1, got), "snapshot changed with its volume")

	bdir := filepath.Join(t.TempDir(), "backup")
	n, _, err := m.Backup(ctx, "default", bdir)
	require.NoError(t, err)
	assert.Positive(t, n)
	assertNotOnDisk(t, bdir, v2[:64])

	_, err = m.Restore(ctx, "default", "s1")
	require.NoError(t, err)
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(v1, got), "restore did not bring back the snapshot")
	five := make([]byte, 5)
	_, err = vol.ReadAt(ctx, five, 10*testChunk)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 5), five, "a chunk written after the snapshot must be gone")

	// Restore the backup as a new volume: it holds the state at backup time.
	_, err = m.RestoreBackup(ctx, bdir, "copy")
	require.NoError(t, err)
	cp, err := m.OpenVolume("copy")
	require.NoError(t, err)
	want := append([]byte(nil), v1...)
	copy(want[testChunk/2:], v2)
	_, err = cp.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got))
	_, err = cp.ReadAt(ctx, five, 10*testChunk)
	require.NoError(t, err)
	assert.Equal(t, []byte("later"), five)

	// Crypto-erase: delete the volume; its key is gone everywhere and nobody reads it.
	wrapped, err := l.meta.WrappedKey(vol.ID())
	require.NoError(t, err)
	key, err := m.Meta().DataKey(vol.ID())
	require.NoError(t, err)
	// The sealed form of the volume's first block, as every replica stores it.
	sealed := make([]byte, sealedSize)
	_, err = l.Servers[0].Store().Read(ctx, chunkID(vol.ID(), 0), 0, sealed)
	require.NoError(t, err)
	require.False(t, isZero(sealed), "block 0 was written")
	removed, err := m.DeleteVolume(ctx, "default")
	require.NoError(t, err)
	assert.Len(t, removed, 2, "the snapshot dies with its volume")
	_, err = vol.ReadAt(ctx, got, 0)
	assert.ErrorIs(t, err, ErrNoVolume)
	_, err = m.Meta().DataKey(vol.ID())
	assert.ErrorIs(t, err, meta.ErrNotFound)
	for _, cs := range l.Servers {
		b := make([]byte, sealedSize)
		_, err := cs.Store().Read(ctx, chunkID(vol.ID(), 0), 0, b)
		require.NoError(t, err)
		assert.True(t, isZero(b), "node %s still holds the deleted volume's block", cs.ID())
		assert.Empty(t, cs.Store().List(vol.ID()))
	}
	assertNotOnDisk(t, dir, wrapped)
	assertNotOnDisk(t, dir, key)
	assertNotOnDisk(t, dir, v1[:64])
	assertNotOnDisk(t, dir, sealed[:64])                    // nonce and ciphertext, gone after GC
	assertNotOnDisk(t, dir, sealed[sealedSize-tagSize-64:]) // ciphertext tail and tag
	// The backup survives the volume.
	_, err = cp.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got))
}

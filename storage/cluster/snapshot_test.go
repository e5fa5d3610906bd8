package cluster

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCopyOnWriteSnapshots: taking a snapshot copies nothing; the volume copies a chunk to
// the snapshot the first time it changes it; snapshots read their frozen contents, are
// read-only, can be backed up, restored from and deleted independently.
func TestCopyOnWriteSnapshots(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 3)
	defer l.Close()
	m := l.Manager
	vol, err := m.OpenVolume("default")
	require.NoError(t, err)
	v1 := randBytes(40, 4*testChunk)
	_, err = vol.WriteAt(ctx, v1, 0)
	require.NoError(t, err)

	sm1, err := m.Snapshot(ctx, "default", "s1")
	require.NoError(t, err)
	ps, err := m.Meta().Placements(sm1.ID)
	require.NoError(t, err)
	assert.Empty(t, ps, "taking a snapshot copied data")

	// Change chunk 1 only: exactly that chunk is copied to the snapshot first.
	v2 := randBytes(41, 100)
	_, err = vol.WriteAt(ctx, v2, testChunk+10)
	require.NoError(t, err)
	ps, err = m.Meta().Placements(sm1.ID)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, uint64(1), ps[0].Index)
	_, err = vol.WriteAt(ctx, randBytes(42, 100), testChunk+500) // already copied: no second copy
	require.NoError(t, err)
	require.NoError(t, vol.Trim(ctx, 3*testChunk, testChunk)) // a trim is a change too

	s1, err := m.OpenVolume("default@s1")
	require.NoError(t, err)
	got := make([]byte, 4*testChunk)
	_, err = s1.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(v1, got), "snapshot s1 does not read its frozen contents")
	_, err = s1.WriteAt(ctx, []byte("x"), 0)
	assert.ErrorIs(t, err, ErrReadOnly)
	assert.ErrorIs(t, s1.WriteZeroes(ctx, 0, 4096), ErrReadOnly)

	// A second snapshot shares chunk 1 in its new state.
	now := make([]byte, 4*testChunk)
	_, err = vol.ReadAt(ctx, now, 0)
	require.NoError(t, err)
	_, err = m.Snapshot(ctx, "default", "s2")
	require.NoError(t, err)
	_, err = vol.WriteAt(ctx, randBytes(43, 3*testChunk), testChunk/2)
	require.NoError(t, err)
	s2, err := m.OpenVolume("default@s2")
	require.NoError(t, err)
	_, err = s2.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(now, got), "snapshot s2 wrong")
	_, err = s1.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(v1, got), "snapshot s1 changed by later writes")

	// Back up a snapshot and restore the backup as a volume.
	bdir := filepath.Join(t.TempDir(), "b")
	_, _, err = m.Backup(ctx, "default@s1", bdir)
	require.NoError(t, err)
	_, err = m.RestoreBackup(ctx, bdir, "from-s1")
	require.NoError(t, err)
	fs1, err := m.OpenVolume("from-s1")
	require.NoError(t, err)
	_, err = fs1.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(v1, got), "backup of a snapshot wrong")

	// Delete s1; s2 and the volume are untouched. Restore s2.
	_, err = m.DeleteVolume(ctx, "default@s1")
	require.NoError(t, err)
	_, err = m.Restore(ctx, "default", "s2")
	require.NoError(t, err)
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(now, got), "restore from s2 wrong")
	_, err = s2.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(now, got), "s2 changed by the restore")
	res, err := m.Scrub(ctx, "")
	require.NoError(t, err)
	assert.Zero(t, res.Mismatches)
}

// TestSnapshotDuringWrites takes snapshots while writers are busy: each snapshot must be a
// point in time, so every block of it holds some value its writer wrote (never a torn or
// mixed block), and a block a writer had finished before the snapshot is at least that new.
func TestSnapshotDuringWrites(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 3)
	defer l.Close()
	m := l.Manager
	vol, err := m.OpenVolume("default")
	require.NoError(t, err)
	const writers, rounds = 4, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := make([]int, writers) // last round each writer finished
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 1; r <= rounds; r++ {
				_, err := vol.WriteAt(ctx, bytes.Repeat([]byte{byte(w*32 + r)}, 4096), int64(w)*testChunk)
				assert.NoError(t, err)
				mu.Lock()
				done[w] = r
				mu.Unlock()
			}
		}(w)
	}
	type snapAt struct {
		name string
		min  []int
	}
	var snaps []snapAt
	for i := 0; i < 3; i++ {
		mu.Lock()
		before := append([]int(nil), done...)
		mu.Unlock()
		name := string(rune('a' + i))
		_, err := m.Snapshot(ctx, "default", name)
		require.NoError(t, err)
		snaps = append(snaps, snapAt{name, before})
	}
	wg.Wait()
	for _, sn := range snaps {
		s, err := m.OpenVolume("default@" + sn.name)
		require.NoError(t, err)
		for w := 0; w < writers; w++ {
			got := make([]byte, 4096)
			_, err := s.ReadAt(ctx, got, int64(w)*testChunk)
			require.NoError(t, err)
			if got[0] == 0 {
				assert.Zero(t, sn.min[w], "snapshot %s lost writer %d's finished write", sn.name, w)
				continue
			}
			assert.Equal(t, bytes.Repeat(got[:1], 4096), got, "torn block")
			r := int(got[0]) - w*32
			assert.GreaterOrEqual(t, r, sn.min[w], "snapshot %s older than a finished write", sn.name)
			assert.LessOrEqual(t, r, rounds)
		}
	}
}

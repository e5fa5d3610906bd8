package files

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testCollectGarbage(t *testing.T, s *Service) {
	ctx := context.Background()
	upload(t, s, "alice", "/live", "live")
	upload(t, s, "bob", "/trashed", "in the trash")
	_, err := s.Delete(ctx, "bob", "/trashed")
	require.NoError(t, err)
	// A crash between writing a blob and recording it leaves an orphan.
	w, err := s.store.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write([]byte("orphan"))
	require.NoError(t, err)
	require.NoError(t, w.Commit())

	n, err := s.CollectGarbage(ctx, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n, "a young blob may belong to an upload about to commit")
	n, err = s.CollectGarbage(ctx, -time.Second)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = s.store.Open(ctx, w.ID())
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "live", content(t, s, "alice", "/live"))
	items, err := s.Trash(ctx, "bob")
	require.NoError(t, err)
	_, err = s.Restore(ctx, "bob", items[0].ID, "")
	require.NoError(t, err)
	assert.Equal(t, "in the trash", content(t, s, "bob", "/trashed"))
}

func TestCollectGarbageDirStore(t *testing.T) {
	testCollectGarbage(t, newService(t))
}

func TestCollectGarbageVolumeStore(t *testing.T) {
	db := openBolt(t, filepath.Join(t.TempDir(), "files.db"))
	defer db.Close()
	st, err := NewVolumeStore(db, blockdevtest.NewMemory(4<<20))
	require.NoError(t, err)
	s, err := NewService(db, st)
	require.NoError(t, err)
	testCollectGarbage(t, s)
	assert.Equal(t, int64(4<<20-2*64<<10), st.FreeBytes())
}

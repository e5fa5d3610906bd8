package files

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func openBolt(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	return db
}

func putBlob(t *testing.T, st ContentStore, data []byte) string {
	t.Helper()
	w, err := st.Create(context.Background())
	require.NoError(t, err)
	// Odd-sized writes cross buffer and extent boundaries.
	for rest := data; len(rest) > 0; {
		k := min(len(rest), 12345)
		_, err := w.Write(rest[:k])
		require.NoError(t, err)
		rest = rest[k:]
	}
	require.NoError(t, w.Commit())
	return w.ID()
}

func readBlob(t *testing.T, st ContentStore, id string) []byte {
	t.Helper()
	c, err := st.Open(context.Background(), id)
	require.NoError(t, err)
	defer c.Close()
	b, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
	require.NoError(t, err)
	return b
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) ^ seed
	}
	return b
}

func TestVolumeStore(t *testing.T) {
	ctx := context.Background()
	dev := blockdevtest.NewMemory(16 << 20)
	dbPath := filepath.Join(t.TempDir(), "meta.db")
	db := openBolt(t, dbPath)
	st, err := NewVolumeStore(db, dev)
	require.NoError(t, err)
	assert.Equal(t, int64(16<<20), st.FreeBytes())

	small := putBlob(t, st, []byte("tiny"))
	big := pattern(5<<20+777, 1)
	bigID := putBlob(t, st, big)
	empty := putBlob(t, st, nil)
	assert.Equal(t, int64(16<<20-64<<10-(5<<20+64<<10)), st.FreeBytes(), "only what the blobs need stays allocated")
	assert.Equal(t, []byte("tiny"), readBlob(t, st, small))
	assert.True(t, bytes.Equal(big, readBlob(t, st, bigID)))
	assert.Empty(t, readBlob(t, st, empty))
	c, err := st.Open(ctx, bigID)
	require.NoError(t, err)
	buf := make([]byte, 100)
	n, err := c.ReadAt(buf, int64(len(big))-50)
	assert.Equal(t, 50, n)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, big[len(big)-50:], buf[:50])
	require.NoError(t, c.Close())

	// An aborted blob gives its space back.
	before := st.FreeBytes()
	w, err := st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 3<<20))
	require.NoError(t, err)
	require.NoError(t, w.Abort())
	assert.Equal(t, before, st.FreeBytes())

	// Reopening rebuilds the free space from the committed blobs.
	require.NoError(t, db.Close())
	db = openBolt(t, dbPath)
	defer db.Close()
	st, err = NewVolumeStore(db, dev)
	require.NoError(t, err)
	assert.Equal(t, before, st.FreeBytes())
	assert.True(t, bytes.Equal(big, readBlob(t, st, bigID)))

	// A blob deleted while being read stays readable until closed, then is trimmed.
	c, err = st.Open(ctx, bigID)
	require.NoError(t, err)
	require.NoError(t, st.Delete(ctx, bigID))
	_, err = st.Open(ctx, bigID)
	require.ErrorIs(t, err, ErrNotFound)
	other := putBlob(t, st, pattern(8<<20, 2)) // must not land on the open blob's space
	got, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, got), "an open blob's bytes are not reused")
	require.NoError(t, c.Close())
	_, trims, _ := dev.Counts()
	assert.Positive(t, trims)
	require.NoError(t, st.Delete(ctx, other))

	// Full device: ErrNoSpace, and nothing is leaked.
	free := st.FreeBytes()
	w, err = st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 17<<20))
	require.ErrorIs(t, err, ErrNoSpace)
	require.Error(t, w.Commit())
	assert.Equal(t, free, st.FreeBytes())
	require.NoError(t, st.Delete(ctx, "no-such-blob"))
}

// TestServiceOnVolume runs the file center on a block device, as on a replicated volume.
func TestServiceOnVolume(t *testing.T) {
	ctx := context.Background()
	db := openBolt(t, filepath.Join(t.TempDir(), "files.db"))
	defer db.Close()
	st, err := NewVolumeStore(db, blockdevtest.NewMemory(8<<20))
	require.NoError(t, err)
	s, err := NewService(db, st)
	require.NoError(t, err)
	upload(t, s, "alice", "/a.txt", strings.Repeat("volume!", 1000))
	require.NoError(t, s.Copy(ctx, "alice", "/a.txt", "/b.txt", false))
	assert.Equal(t, strings.Repeat("volume!", 1000), content(t, s, "alice", "/b.txt"))
	item, err := s.Delete(ctx, "alice", "/a.txt")
	require.NoError(t, err)
	require.NoError(t, s.PurgeTrash(ctx, "alice", item.ID))
	// A file larger than the device: the store's own limit, reported as such.
	_, err = s.Upload(ctx, "alice", "/huge", bytes.NewReader(make([]byte, 9<<20)), 9<<20)
	require.ErrorIs(t, err, ErrNoSpace)
	assert.Equal(t, strings.Repeat("volume!", 1000), content(t, s, "alice", "/b.txt"))
	assert.Equal(t, int64(8<<20-64<<10), st.FreeBytes(), "only b.txt's extent is in use")
}

// TestVolumeStoreOpenDeleteRace opens and deletes blobs concurrently while new blobs take
// freed space: a reader that got a blob always reads that blob's bytes.
func TestVolumeStoreOpenDeleteRace(t *testing.T) {
	db := openBolt(t, filepath.Join(t.TempDir(), "meta.db"))
	defer db.Close()
	st, err := NewVolumeStore(db, blockdevtest.NewMemory(4<<20))
	require.NoError(t, err)
	ctx := context.Background()
	for round := range 20 {
		data := pattern(100<<10, byte(round))
		id := putBlob(t, st, data)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := st.Open(ctx, id)
			if err != nil {
				assert.ErrorIs(t, err, ErrNotFound)
				return
			}
			defer c.Close()
			got, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
			assert.NoError(t, err)
			assert.True(t, bytes.Equal(data, got), "round %d: reader saw foreign bytes", round)
		}()
		require.NoError(t, st.Delete(ctx, id))
		filler := putBlob(t, st, pattern(100<<10, 0xee)) // may reuse the freed extents
		<-done
		require.NoError(t, st.Delete(ctx, filler))
	}
	assert.Equal(t, int64(4<<20), st.FreeBytes())
}

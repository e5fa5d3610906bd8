package chunk

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAIOSyncer runs concurrent fsyncs through native AIO on several files, checks that
// an fsync on a closed file fails instead of reporting success, and that fsyncs asked
// for after close still work (directly).
func TestAIOSyncer(t *testing.T) {
	a := newAIOSyncer()
	if a == nil {
		t.Log("native AIO unavailable here: fsync falls back to the system call")
	}
	dir := t.TempDir()
	files := make([]*os.File, 3)
	for i := range files {
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))))
		require.NoError(t, err)
		defer f.Close()
		files[i] = f
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*20)
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for k := 0; k < 20; k++ {
				buf[0] = byte(k + i)
				if _, err := f.WriteAt(buf, int64(k)*int64(len(buf))); err != nil {
					errs <- err
					return
				}
				errs <- a.fsync(f)
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 60, n)
	if a != nil {
		a.mu.Lock()
		assert.Empty(t, a.waiting, "every submitted fsync was completed")
		assert.False(t, a.off, "fsync through AIO is supported on this file system")
		a.mu.Unlock()
	}

	closed, err := os.Create(filepath.Join(dir, "closed"))
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	assert.Error(t, a.fsync(closed), "an fsync that did not happen must not succeed")

	a.close()
	a.close() // idempotent
	assert.NoError(t, a.fsync(files[0]), "after close fsync runs directly")
}

// TestStoreSyncsThroughAIO checks that a store's appends use the AIO syncer where the
// kernel offers it, and that the store's data is durable in the sense the reopen sees it.
func TestStoreSyncsThroughAIO(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 1<<20)
	if probe := newAIOSyncer(); probe != nil {
		probe.close()
		s.mu.RLock()
		assert.NotNil(t, s.aio)
		assert.Same(t, s.aio, s.active.aio)
		s.mu.RUnlock()
	}
	id := ID{Volume: 1, Index: 2}
	data := make([]byte, 8*BlockSize)
	for i := range data {
		data[i] = byte(i * 13)
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, s.Write(ctx, ID{Volume: 1, Index: uint64(10 + w)}, 0, data, 1, 1))
		}()
	}
	wg.Wait()
	require.NoError(t, s.Write(ctx, id, 0, data, 1, 1))
	require.NoError(t, s.Close())

	s2 := openT(t, dir, 1<<20)
	got := make([]byte, len(data))
	_, err := s2.Read(ctx, id, 0, got)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.Len(t, s2.List(1), 9)
}

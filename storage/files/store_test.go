package files

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := NewDirStore(dir)
	require.NoError(t, err)
	id := putBlob(t, st, []byte("kept"))
	w, err := st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write([]byte("half-written"))
	require.NoError(t, err)
	// A crash now leaves a temporary file behind; reopening removes it.
	left, err := os.ReadDir(filepath.Join(dir, "tmp"))
	require.NoError(t, err)
	require.Len(t, left, 1)
	st, err = NewDirStore(dir)
	require.NoError(t, err)
	left, err = os.ReadDir(filepath.Join(dir, "tmp"))
	require.NoError(t, err)
	assert.Empty(t, left)
	assert.Equal(t, []byte("kept"), readBlob(t, st, id))

	// Ids that are not ours never reach the file system.
	for _, bad := range []string{"../../etc/passwd", "", "zz" + id[2:], id + "0"} {
		_, err := st.Open(ctx, bad)
		require.ErrorIs(t, err, ErrNotFound, bad)
	}
	require.NoError(t, st.Delete(ctx, id))
	_, err = st.Open(ctx, id)
	require.ErrorIs(t, err, ErrNotFound)
}

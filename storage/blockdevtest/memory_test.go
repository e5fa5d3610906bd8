package blockdevtest

import (
	"bytes"
	"context"
	"testing"

	"github.com/shadowless-dev/shadowless/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryReadWriteTrim(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(3*pageSize + 100)
	data := bytes.Repeat([]byte{0xab}, pageSize+10)
	_, err := m.WriteAt(ctx, data, pageSize-5)
	require.NoError(t, err)
	got := make([]byte, len(data)+10)
	_, err = m.ReadAt(ctx, got, pageSize-10)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 5), got[:5])
	assert.Equal(t, data, got[5:len(data)+5])
	assert.Equal(t, make([]byte, 5), got[len(data)+5:])
	assert.Equal(t, 3, m.AllocatedPages())

	require.NoError(t, m.Trim(ctx, pageSize, 2*pageSize))
	assert.Equal(t, 1, m.AllocatedPages())
	require.NoError(t, m.WriteZeroes(ctx, 0, pageSize))
	_, err = m.ReadAt(ctx, got, pageSize-10)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, len(got)), got)

	_, err = m.ReadAt(ctx, make([]byte, 2), m.Size()-1)
	require.ErrorIs(t, err, storage.ErrOutOfRange)
	_, err = m.WriteAt(ctx, []byte{1}, -1)
	require.ErrorIs(t, err, storage.ErrOutOfRange)
	require.ErrorIs(t, m.Trim(ctx, 0, m.Size()+1), storage.ErrOutOfRange)
	require.NoError(t, m.Flush(ctx))
	f, tr, z := m.Counts()
	assert.Equal(t, [3]int{1, 1, 1}, [3]int{f, tr, z})
}

package cluster

import (
	"bytes"
	"errors"
	"hash/crc32"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

// FuzzDecodeWriteBatch: any body either fails as a whole with errWire or decodes into
// writes that encode back to exactly the same bytes, each flagged Corrupt exactly when its
// payload does not match its CRC.
func FuzzDecodeWriteBatch(f *testing.F) {
	ws := sampleWrites()
	body := appendWriteBatch(nil, ws)
	f.Add(body)
	f.Add(body[:writeHeaderSize])
	f.Add(appendWriteBatch(nil, ws[:1]))
	f.Add(appendWriteBatch(nil, []chunkWrite{newChunkWrite(1, 1, 0, nil, 0, 0)}))
	bad := bytes.Clone(body)
	bad[len(bad)-1] ^= 0xff
	f.Add(bad)
	f.Add([]byte{})
	f.Add([]byte("1WLS"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeWriteBatch(b)
		if err != nil {
			require.ErrorIs(t, err, errWire)
			require.Nil(t, got)
			return
		}
		require.NotEmpty(t, got)
		require.LessOrEqual(t, len(got), maxBatchItems)
		for _, w := range got {
			require.Equal(t, int(w.Length), len(w.Data))
			require.LessOrEqual(t, w.Length, uint32(chunk.MaxRecordLength))
			require.Equal(t, crc32.Checksum(w.Data, castagnoli) != w.CRC, w.Corrupt)
		}
		require.Equal(t, b, appendWriteBatch(nil, got))
	})
}

// FuzzDecodeWriteResults: any response either fails with errWire or yields exactly n
// outcomes with valid Connect codes that encode back to the same bytes.
func FuzzDecodeWriteResults(f *testing.F) {
	f.Add(appendWriteResults(nil, []error{nil, errPayloadChecksum, chunk.ErrStaleVersion}), 3)
	f.Add(appendWriteResults(nil, []error{nil}), 1)
	f.Add(appendWriteResults(nil, nil), 0)
	f.Add([]byte("1RLS\x01\x00\x00\x00\x05\x00\x00\x00\x02\x00\x00\x00hi"), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > maxBatchItems {
			return
		}
		errs, err := decodeWriteResults(b, n)
		if err != nil {
			require.ErrorIs(t, err, errWire)
			return
		}
		require.Len(t, errs, n)
		for _, e := range errs {
			if e != nil {
				var ce *connect.Error
				require.True(t, errors.As(e, &ce))
				require.NotZero(t, ce.Code())
			}
		}
		require.Equal(t, b, appendWriteResults(nil, errs))
	})
}

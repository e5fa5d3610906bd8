package cluster

import (
	"bytes"
	"errors"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

// FuzzDecodeBatchHeader: any header section either fails with errWire or decodes into
// descriptors that encode back to exactly the same bytes, within the batch limits.
func FuzzDecodeBatchHeader(f *testing.F) {
	hs := headers(sampleWrites())
	f.Add(appendBatchHeader(nil, hs))
	f.Add(appendBatchHeader(nil, hs[:1]))
	f.Add(appendBatchHeader(nil, make([]writeHeader, maxBatchItems)))
	f.Add(appendBatchHeader(nil, nil))
	f.Add([]byte{})
	f.Add([]byte("1WLS\x01\x00\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeBatchHeader(b)
		if err != nil {
			require.ErrorIs(t, err, errWire)
			require.Nil(t, got)
			return
		}
		require.NotEmpty(t, got)
		require.LessOrEqual(t, len(got), maxBatchItems)
		require.LessOrEqual(t, payloadBytes(got), int64(maxWritesPayload))
		require.Equal(t, b, appendBatchHeader(nil, got))
		// The streaming reader agrees with the pure decoder.
		viaReader, err := readBatchHeader(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, got, viaReader)
	})
}

// FuzzDecodeWriteResults: any response either fails with errWire or yields exactly n
// outcomes with valid Connect codes that encode back to the same bytes.
func FuzzDecodeWriteResults(f *testing.F) {
	f.Add(appendWriteResults(nil, []error{nil, chunk.ErrPayloadChecksum, chunk.ErrStaleVersion}), 3)
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

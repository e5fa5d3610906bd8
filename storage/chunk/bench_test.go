package chunk

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkWrite4KiBConcurrent measures the store alone: 32 writers appending 4 KiB
// records, sharing fsyncs through group commit.
func BenchmarkWrite4KiBConcurrent(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	require.NoError(b, err)
	defer s.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.SetBytes(BlockSize)
	b.ResetTimer()
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			buf := make([]byte, BlockSize)
			for next.Add(1) <= int64(b.N) {
				id := ID{Volume: 1, Index: uint64(r.IntN(64))}
				if err := s.Write(context.Background(), id, uint32(r.IntN(1024))*BlockSize, buf, 1, 1); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}

// BenchmarkWrite1MiB measures the store alone: one writer appending 1 MiB records.
func BenchmarkWrite1MiB(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	require.NoError(b, err)
	defer s.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Write(context.Background(), ID{Volume: 1, Index: uint64(i % 64)}, 0, buf, uint64(i+1), 1); err != nil {
			b.Fatal(err)
		}
	}
}

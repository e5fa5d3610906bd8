package chunk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openT(t testing.TB, dir string, seg int64) *Store {
	t.Helper()
	s, err := Open(dir, Options{SegmentSize: seg})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func pattern(tag string, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += len(tag) {
		copy(b[i:], tag)
	}
	return b
}

func rawFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		all = append(all, b...)
	}
	return all
}

func TestWriteReadReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	id := ID{Volume: 1, Index: 7}
	data := pattern("hello-chunk!", 3*BlockSize)
	require.NoError(t, s.Write(ctx, id, BlockSize, data, 1, 1))
	got := make([]byte, 5*BlockSize)
	v, err := s.Read(ctx, id, 0, got)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v)
	assert.Equal(t, make([]byte, BlockSize), got[:BlockSize])
	assert.Equal(t, data, got[BlockSize:4*BlockSize])
	assert.Equal(t, make([]byte, BlockSize), got[4*BlockSize:])
	require.NoError(t, s.Trim(ctx, id, 2*BlockSize, BlockSize, 2, 1))
	require.NoError(t, s.Close())

	s2 := openT(t, dir, 0)
	got2 := make([]byte, 5*BlockSize)
	v, err = s2.Read(ctx, id, 0, got2)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), v)
	want := append(make([]byte, BlockSize), data...)
	want = append(want, make([]byte, BlockSize)...)
	copy(want[2*BlockSize:3*BlockSize], make([]byte, BlockSize))
	assert.Equal(t, want, got2)
	info, ok := s2.Stat(id)
	require.True(t, ok)
	assert.Equal(t, 2, info.Blocks)
	assert.Equal(t, 2, s2.Recovery().Records)
	// The store keeps the bytes it is given as they are (the cluster hands it sealed
	// blocks; encryption is not the store's business).
	assert.True(t, bytes.Contains(rawFiles(t, dir), []byte("hello-chunk!")))
}

func TestFencing(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir(), 0)
	id := ID{Volume: 1}
	require.NoError(t, s.Write(ctx, id, 0, pattern("a", BlockSize), 5, 3))
	assert.ErrorIs(t, s.Write(ctx, id, 0, pattern("b", BlockSize), 6, 2), ErrStaleEpoch)
	assert.ErrorIs(t, s.Write(ctx, id, 0, pattern("b", BlockSize), 4, 3), ErrStaleVersion)
	assert.ErrorIs(t, s.Write(ctx, id, 1, pattern("b", BlockSize), 6, 3), ErrRange)
	require.NoError(t, s.Write(ctx, id, 0, pattern("c", BlockSize), 5, 3), "a retried write at the same version is accepted")
}

// TestGCRemovesOldBytes writes a pattern, overwrites it, collects garbage and then searches
// the raw files for the old bytes as they were stored (ciphertext): they must be gone.
func TestGCRemovesOldBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 1<<20)
	id := ID{Volume: 1, Index: 0}
	old := pattern("OLD-SECRET-PATTERN", 8*BlockSize)
	require.NoError(t, s.Write(ctx, id, 0, old, 1, 1))
	// Capture the stored form of the old blocks.
	s.mu.RLock()
	l := s.index[id].blocks[3]
	s.mu.RUnlock()
	oldFrame := make([]byte, FrameSize)
	_, err := l.seg.f.ReadAt(oldFrame, l.off)
	require.NoError(t, err)
	require.True(t, bytes.Contains(rawFiles(t, dir), oldFrame[:BlockSize]))

	// Other chunks stay live across the GC; one is dropped.
	keep := pattern("KEEP", 4*BlockSize)
	require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: 1}, 0, keep, 1, 1))
	require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: 2}, 0, pattern("GONE", BlockSize), 1, 1))
	require.NoError(t, s.DropChunk(ctx, ID{Volume: 1, Index: 2}))
	newData := pattern("new", 8*BlockSize)
	require.NoError(t, s.Write(ctx, id, 0, newData, 2, 1))
	assert.Greater(t, s.Garbage(), int64(8*FrameSize))

	st, err := s.GC(ctx)
	require.NoError(t, err)
	assert.Less(t, st.BytesAfter, st.BytesBefore)
	assert.False(t, bytes.Contains(rawFiles(t, dir), oldFrame[:BlockSize]), "old ciphertext still on disk after GC")

	check := func(s *Store) {
		got := make([]byte, 8*BlockSize)
		v, err := s.Read(ctx, id, 0, got)
		require.NoError(t, err)
		assert.Equal(t, newData, got)
		assert.Equal(t, uint64(2), v)
		got = make([]byte, 4*BlockSize)
		_, err = s.Read(ctx, ID{Volume: 1, Index: 1}, 0, got)
		require.NoError(t, err)
		assert.Equal(t, keep, got)
		_, ok := s.Stat(ID{Volume: 1, Index: 2})
		assert.False(t, ok)
	}
	check(s)
	require.NoError(t, s.Close())
	check(openT(t, dir, 1<<20))
}

// TestGCDoesNotBlockWrites keeps writers busy while GC runs and checks every last value.
func TestGCDoesNotBlockWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 256<<10)
	const chunks, rounds = 4, 30
	for c := 0; c < chunks; c++ {
		require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: uint64(c)}, 0, pattern("init", 4*BlockSize), 1, 1))
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	var gcs int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			_, err := s.GC(ctx)
			assert.NoError(t, err)
			gcs++
		}
	}()
	var ww sync.WaitGroup
	for c := 0; c < chunks; c++ {
		ww.Add(1)
		go func(c int) {
			defer ww.Done()
			id := ID{Volume: 1, Index: uint64(c)}
			for r := 0; r < rounds; r++ {
				assert.NoError(t, s.Write(ctx, id, uint32(r%4)*BlockSize, pattern(fmt.Sprintf("c%d-r%d|", c, r), BlockSize), uint64(r+2), 1))
				got := make([]byte, BlockSize)
				_, err := s.Read(ctx, id, uint32(r%4)*BlockSize, got)
				assert.NoError(t, err)
				assert.Equal(t, pattern(fmt.Sprintf("c%d-r%d|", c, r), BlockSize), got)
			}
		}(c)
	}
	ww.Wait()
	close(done)
	wg.Wait()
	assert.Positive(t, gcs)
	_, err := s.GC(ctx)
	require.NoError(t, err)
	verify := func(s *Store) {
		for c := 0; c < chunks; c++ {
			got := make([]byte, 4*BlockSize)
			_, err := s.Read(ctx, ID{Volume: 1, Index: uint64(c)}, 0, got)
			require.NoError(t, err)
			for b := 0; b < 4; b++ {
				last := b + 4*((rounds-1-b)/4)
				assert.Equal(t, pattern(fmt.Sprintf("c%d-r%d|", c, last), BlockSize), got[b*BlockSize:(b+1)*BlockSize])
			}
		}
	}
	verify(s)
	require.NoError(t, s.Close())
	verify(openT(t, dir, 256<<10))
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	require.NoError(t, err)
	var best string
	var bestSize int64 = -1
	for _, p := range m {
		st, err := os.Stat(p)
		require.NoError(t, err)
		if st.Size() > bestSize {
			best, bestSize = p, st.Size()
		}
	}
	return best
}

func TestRecoveryTornTail(t *testing.T) {
	ctx := context.Background()
	id := ID{Volume: 1}
	for _, tc := range []struct {
		name string
		tear func(t *testing.T, path string, size int64)
	}{
		{"cut mid-body", func(t *testing.T, path string, size int64) {
			require.NoError(t, os.Truncate(path, size-FrameSize/2))
		}},
		{"cut mid-header", func(t *testing.T, path string, size int64) {
			require.NoError(t, os.Truncate(path, size-2*FrameSize-HeaderSize+10))
		}},
		{"last block never written", func(t *testing.T, path string, size int64) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt(make([]byte, FrameSize), size-FrameSize)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		{"partial record appended", func(t *testing.T, path string, size int64) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			rec := AppendHeader(nil, Header{Type: RecordData, ID: id, Length: 4 * BlockSize, Version: 9, Epoch: 1, Seq: 1 << 40})
			_, err = f.Write(append(rec, make([]byte, 100)...))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, 0)
			durable := pattern("durable", 2*BlockSize)
			require.NoError(t, s.Write(ctx, id, 0, durable, 1, 1))
			require.NoError(t, s.Write(ctx, id, 2*BlockSize, pattern("torn", 2*BlockSize), 2, 1))
			require.NoError(t, s.Close())
			path := lastSegment(t, dir)
			st, err := os.Stat(path)
			require.NoError(t, err)
			tc.tear(t, path, st.Size())

			s2 := openT(t, dir, 0)
			assert.Positive(t, s2.Recovery().TruncatedBytes)
			got := make([]byte, 2*BlockSize)
			v, err := s2.Read(ctx, id, 0, got)
			require.NoError(t, err)
			assert.Equal(t, durable, got)
			if tc.name != "partial record appended" {
				assert.Equal(t, uint64(1), v, "the torn record's version is gone with it")
			}
			// The store keeps working after recovery.
			require.NoError(t, s2.Write(ctx, id, 0, pattern("after", BlockSize), 3, 1))
			require.NoError(t, s2.Close())
			s3 := openT(t, dir, 0)
			assert.Zero(t, s3.Recovery().TruncatedBytes)
		})
	}
}

func TestRecoveryMiddleCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	for i := 0; i < 3; i++ {
		require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: uint64(i)}, 0, pattern("x", BlockSize), 1, 1))
	}
	require.NoError(t, s.Close())
	path := lastSegment(t, dir)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff, 0xff}, HeaderSize+FrameSize+20) // second record's header
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = Open(dir, Options{})
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Equal(t, int64(HeaderSize+FrameSize), ce.Offset)
	assert.Contains(t, err.Error(), path)
}

func TestBitRotDetected(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	id := ID{Volume: 1}
	require.NoError(t, s.Write(ctx, id, 0, pattern("rot", 2*BlockSize), 1, 1))
	require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: 1}, 0, pattern("ok", BlockSize), 1, 1))
	s.mu.RLock()
	l := s.index[id].blocks[1]
	s.mu.RUnlock()
	_, err := l.seg.f.WriteAt([]byte{'!'}, l.off+100)
	require.NoError(t, err)
	got := make([]byte, 2*BlockSize)
	_, err = s.Read(ctx, id, 0, got)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.ErrorIs(t, err, ErrBlockChecksum)
	_, err = s.Read(ctx, id, 0, got[:BlockSize])
	assert.NoError(t, err, "the intact block still reads")
	_, _, err = s.Digest(ctx, id, 4*BlockSize)
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestUnitSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const unit = 12 + BlockSize + 16 // what the cluster stores: nonce, ciphertext, tag
	s, err := Open(dir, Options{UnitSize: unit})
	require.NoError(t, err)
	id := ID{Volume: 1}
	data := pattern("sealed", 3*unit)
	require.NoError(t, s.Write(ctx, id, BlockSize, data, 1, 1))
	assert.ErrorIs(t, s.Write(ctx, id, 0, make([]byte, BlockSize), 2, 1), ErrRange, "a payload of a plain block is not a whole unit")
	got := make([]byte, 4*unit)
	_, err = s.Read(ctx, id, 0, got)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, unit), got[:unit], "a block never written reads as a zero unit")
	assert.Equal(t, data, got[unit:])
	_, err = s.Read(ctx, id, 0, make([]byte, BlockSize))
	assert.ErrorIs(t, err, ErrRange)
	info, ok := s.Stat(id)
	require.True(t, ok)
	assert.Equal(t, 3, info.Blocks)
	require.NoError(t, s.Close())

	_, err = Open(dir, Options{})
	assert.ErrorIs(t, err, ErrUnit, "a log of sealed units does not open as plain blocks")
	_, err = Open(dir, Options{UnitSize: MaxUnit + 1})
	assert.Error(t, err)
	s2, err := Open(dir, Options{UnitSize: unit})
	require.NoError(t, err)
	defer s2.Close()
	got2 := make([]byte, 4*unit)
	_, err = s2.Read(ctx, id, 0, got2)
	require.NoError(t, err)
	assert.Equal(t, got, got2)
	_, err = s2.GC(ctx)
	require.NoError(t, err)
	got3 := make([]byte, 4*unit)
	_, err = s2.Read(ctx, id, 0, got3)
	require.NoError(t, err)
	assert.Equal(t, got, got3, "GC copies frames of any unit verbatim")
}

func TestGroupCommitConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 128<<10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				assert.NoError(t, s.Write(ctx, ID{Volume: 1, Index: uint64(g)}, uint32(i)*BlockSize, pattern(fmt.Sprintf("g%di%d.", g, i), BlockSize), uint64(i+1), 1))
			}
		}(g)
	}
	wg.Wait()
	require.NoError(t, s.Close())
	s2 := openT(t, dir, 128<<10)
	for g := 0; g < 8; g++ {
		got := make([]byte, 10*BlockSize)
		v, err := s2.Read(ctx, ID{Volume: 1, Index: uint64(g)}, 0, got)
		require.NoError(t, err)
		assert.Equal(t, uint64(10), v)
		for i := 0; i < 10; i++ {
			assert.Equal(t, pattern(fmt.Sprintf("g%di%d.", g, i), BlockSize), got[i*BlockSize:(i+1)*BlockSize])
		}
	}
}

func TestInstallVersionLast(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	id := ID{Volume: 1, Index: 3}
	require.NoError(t, s.Write(ctx, id, 0, pattern("stale", BlockSize), 2, 1))
	require.NoError(t, s.DropChunk(ctx, id))
	require.NoError(t, s.Write(ctx, id, BlockSize, pattern("copied", BlockSize), 0, 2))
	info, _ := s.Stat(id)
	assert.Equal(t, uint64(0), info.Version, "an unfinished copy claims no version")
	require.NoError(t, s.SetVersion(ctx, id, 7, 2))
	_, err := s.GC(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	s2 := openT(t, dir, 0)
	info, ok := s2.Stat(id)
	require.True(t, ok)
	assert.Equal(t, Info{ID: id, Version: 7, Epoch: 2, Blocks: 1}, info)
	got := make([]byte, 2*BlockSize)
	_, err = s2.Read(ctx, id, 0, got)
	require.NoError(t, err)
	assert.Equal(t, append(make([]byte, BlockSize), pattern("copied", BlockSize)...), got)
}

func TestClosedStore(t *testing.T) {
	s := openT(t, t.TempDir(), 0)
	require.NoError(t, s.Close())
	err := s.Write(context.Background(), ID{Volume: 1}, 0, make([]byte, BlockSize), 1, 1)
	assert.True(t, errors.Is(err, ErrClosed), "got %v", err)
}

func TestWriteMany(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: 9}, 0, pattern("v5", BlockSize), 5, 2))
	ops := []WriteOp{
		{ID: ID{Volume: 1, Index: 1}, Offset: 0, Data: pattern("one", 2*BlockSize), Version: 1, Epoch: 1},
		{ID: ID{Volume: 1, Index: 2}, Offset: 3, Data: pattern("bad", BlockSize), Version: 1, Epoch: 1},
		{ID: ID{Volume: 2, Index: 1}, Offset: 0, Data: pattern("part", BlockSize-8), Version: 1, Epoch: 1},
		{ID: ID{Volume: 1, Index: 9}, Offset: 0, Data: pattern("stale", BlockSize), Version: 6, Epoch: 1},
		{ID: ID{Volume: 1, Index: 3}, Offset: BlockSize, Data: pattern("three", BlockSize), Version: 4, Epoch: 1},
	}
	errs := s.WriteMany(ctx, ops)
	require.Len(t, errs, 5)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], ErrRange)
	assert.ErrorIs(t, errs[2], ErrRange, "not a whole block")
	assert.ErrorIs(t, errs[3], ErrStaleEpoch)
	assert.NoError(t, errs[4])
	require.NoError(t, s.Close())
	s2 := openT(t, dir, 0)
	for _, i := range []int{0, 4} {
		got := make([]byte, len(ops[i].Data))
		v, err := s2.Read(ctx, ops[i].ID, ops[i].Offset, got)
		require.NoError(t, err)
		assert.Equal(t, ops[i].Data, got)
		assert.Equal(t, ops[i].Version, v)
	}
	got := make([]byte, BlockSize)
	_, err := s2.Read(ctx, ID{Volume: 1, Index: 9}, 0, got)
	require.NoError(t, err)
	assert.Equal(t, pattern("v5", BlockSize), got, "a refused write left no trace")
}

// TestRecoveryDropDamaged: with DropDamaged, a damaged record in the middle truncates its
// segment there and drops the chunks written after it, instead of failing Open; chunks
// written before it are intact, and the next open finds a clean log.
func TestRecoveryDropDamaged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	for i := 0; i < 4; i++ {
		require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: uint64(i)}, 0, pattern(fmt.Sprintf("c%d", i), BlockSize), 1, 1))
	}
	// A later write to chunk 0 lands after the damage too.
	require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: 0}, BlockSize, pattern("late", BlockSize), 2, 1))
	require.NoError(t, s.Close())
	path := lastSegment(t, dir)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff, 0xff}, 2*(HeaderSize+FrameSize)+30) // third record's header
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, ErrCorrupt, "without DropDamaged, Open refuses")

	s2, err := Open(dir, Options{DropDamaged: true})
	require.NoError(t, err)
	rec := s2.Recovery()
	require.Len(t, rec.Damaged, 1)
	assert.Equal(t, int64(2*(HeaderSize+FrameSize)), rec.Damaged[0].Offset)
	// Chunk 3 (after the damage) is cut off; chunk 0 kept an early record but lost its late
	// one, so it is dropped whole rather than left claiming a version it does not hold.
	assert.Equal(t, []ID{{Volume: 1, Index: 0}}, rec.DroppedChunks)
	check := func(s *Store) {
		got := make([]byte, BlockSize)
		_, err := s.Read(ctx, ID{Volume: 1, Index: 1}, 0, got)
		require.NoError(t, err)
		assert.Equal(t, pattern("c1", BlockSize), got, "a chunk written before the damage is intact")
		for _, idx := range []uint64{0, 2, 3} {
			_, ok := s.Stat(ID{Volume: 1, Index: idx})
			assert.False(t, ok, "chunk %d should be gone (lost or newer than the damage)", idx)
		}
	}
	check(s2)
	require.NoError(t, s2.Close())
	s3, err := Open(dir, Options{DropDamaged: true})
	require.NoError(t, err)
	defer s3.Close()
	assert.Empty(t, s3.Recovery().Damaged, "the log is clean after recovery")
	check(s3)
}

// TestRecoveryDropDamagedAcrossSegments: chunks whose newer records sit in later segments
// are dropped too; chunks entirely older than the damage are kept.
func TestRecoveryDropDamagedAcrossSegments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	recSize := int64(HeaderSize + FrameSize)
	s := openT(t, dir, 3*recSize) // three records per segment
	for i := 0; i < 6; i++ {
		require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: uint64(i)}, 0, pattern(fmt.Sprintf("c%d", i), BlockSize), 1, 1))
	}
	require.NoError(t, s.Close())
	segs, err := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(segs), 2)
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0) // the oldest segment: chunks 0, 1, 2
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff}, recSize+20) // chunk 1's header
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s2, err := Open(dir, Options{DropDamaged: true, SegmentSize: 3 * recSize})
	require.NoError(t, err)
	defer s2.Close()
	_, ok := s2.Stat(ID{Volume: 1, Index: 0})
	assert.True(t, ok, "chunk 0 predates the damage")
	for i := 1; i < 6; i++ {
		_, ok := s2.Stat(ID{Volume: 1, Index: uint64(i)})
		assert.False(t, ok, "chunk %d is newer than the damage and must be dropped", i)
	}
}

// TestWriteManyStreamed streams the payloads of several writes from one reader, as a chunk
// server does from a request body: refused writes still consume their bytes, a payload
// that does not match its CRC fails alone and leaves nothing behind, and a reader cut short
// fails the write it cuts and every later streamed one.
func TestWriteManyStreamed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	require.NoError(t, s.Write(ctx, ID{Volume: 1, Index: 9}, 0, pattern("v5", BlockSize), 5, 2))
	big := pattern("streamed-big|", 3*streamBlocks*BlockSize+2*BlockSize) // several pieces, last one short
	small := pattern("small", BlockSize)
	stale := pattern("stale", BlockSize)
	damaged := pattern("damaged", 2*BlockSize)
	last := pattern("last", BlockSize)
	crc := func(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
	src := bytes.NewReader(bytes.Join([][]byte{big, stale, damaged, small}, nil))
	ops := []WriteOp{
		{ID: ID{Volume: 1, Index: 1}, Src: src, Length: uint32(len(big)), Version: 1, Epoch: 1, CheckCRC: true, CRC: crc(big)},
		{ID: ID{Volume: 1, Index: 9}, Src: src, Length: uint32(len(stale)), Version: 6, Epoch: 1},
		{ID: ID{Volume: 1, Index: 2}, Src: src, Length: uint32(len(damaged)), Version: 1, Epoch: 1, CheckCRC: true, CRC: crc(damaged) ^ 1},
		{ID: ID{Volume: 1, Index: 3}, Offset: BlockSize, Src: src, Length: uint32(len(small)), Version: 2, Epoch: 1, CheckCRC: true, CRC: crc(small)},
		{ID: ID{Volume: 1, Index: 4}, Data: last, Version: 1, Epoch: 1, CheckCRC: true, CRC: crc(last)},
	}
	errs := s.WriteMany(ctx, ops)
	require.Len(t, errs, 5)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], ErrStaleEpoch)
	assert.ErrorIs(t, errs[2], ErrPayloadChecksum)
	assert.ErrorIs(t, errs[2], ErrCorrupt)
	assert.NoError(t, errs[3])
	assert.NoError(t, errs[4])
	assert.Zero(t, src.Len(), "every payload byte consumed")
	_, ok := s.Stat(ID{Volume: 1, Index: 2})
	assert.False(t, ok, "a damaged payload leaves no record")

	require.NoError(t, s.Close())
	s2 := openT(t, dir, 0)
	for _, c := range []struct {
		id   ID
		off  uint32
		want []byte
	}{{ID{Volume: 1, Index: 1}, 0, big}, {ID{Volume: 1, Index: 3}, BlockSize, small}, {ID{Volume: 1, Index: 4}, 0, last}, {ID{Volume: 1, Index: 9}, 0, pattern("v5", BlockSize)}} {
		got := make([]byte, len(c.want))
		_, err := s2.Read(ctx, c.id, c.off, got)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "chunk %s", c.id)
	}

	// A reader cut short: the write it cuts and the later streamed ones fail; the others land.
	cut := bytes.NewReader(bytes.Join([][]byte{small, small[:BlockSize/2]}, nil))
	errs = s2.WriteMany(ctx, []WriteOp{
		{ID: ID{Volume: 1, Index: 5}, Src: cut, Length: BlockSize, Version: 1, Epoch: 1},
		{ID: ID{Volume: 1, Index: 6}, Src: cut, Length: BlockSize, Version: 1, Epoch: 1},
		{ID: ID{Volume: 1, Index: 7}, Src: cut, Length: BlockSize, Version: 1, Epoch: 1},
		{ID: ID{Volume: 1, Index: 8}, Data: small, Version: 1, Epoch: 1},
	})
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], io.ErrUnexpectedEOF)
	assert.ErrorIs(t, errs[2], io.ErrUnexpectedEOF)
	assert.NoError(t, errs[3])
	for idx, want := range map[uint64]bool{5: true, 6: false, 7: false, 8: true} {
		_, ok := s2.Stat(ID{Volume: 1, Index: idx})
		assert.Equal(t, want, ok, "chunk %d", idx)
	}
}

// TestWriteManyFramed: payloads that arrive as frames (unit and CRC32C per block) are
// checked frame by frame and stored as they are, streamed or not; a damaged frame fails
// its write alone (the rest of its payload is still consumed), and the payload CRC of a
// framed write covers the frames' checksums.
func TestWriteManyFramed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 0)
	frames := func(units []byte) []byte {
		var out []byte
		for i := 0; i < len(units); i += BlockSize {
			out = append(out, units[i:i+BlockSize]...)
			out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(units[i:i+BlockSize], castagnoli))
		}
		return out
	}
	trailers := func(fr []byte) uint32 {
		crc := uint32(0)
		for i := 0; i < len(fr); i += FrameSize {
			crc = crc32.Update(crc, castagnoli, fr[i+BlockSize:i+FrameSize])
		}
		return crc
	}
	big := pattern("framed-big|", (2*streamBlocks+3)*BlockSize)
	bigF := frames(big)
	bad := frames(pattern("bad", 2*BlockSize))
	bad[FrameSize+7] ^= 1
	small := pattern("small", BlockSize)
	smallF := frames(small)
	src := bytes.NewReader(bytes.Join([][]byte{bigF, bad, smallF}, nil))
	ops := []WriteOp{
		{ID: ID{Volume: 1, Index: 1}, Src: src, Length: uint32(len(bigF)), Version: 1, Epoch: 1, Framed: true, CheckCRC: true, CRC: trailers(bigF)},
		{ID: ID{Volume: 1, Index: 2}, Src: src, Length: uint32(len(bad)), Version: 1, Epoch: 1, Framed: true},
		{ID: ID{Volume: 1, Index: 3}, Offset: BlockSize, Src: src, Length: uint32(len(smallF)), Version: 1, Epoch: 1, Framed: true, CheckCRC: true, CRC: trailers(smallF) ^ 1},
		{ID: ID{Volume: 1, Index: 4}, Offset: BlockSize, Data: smallF, Version: 1, Epoch: 1, Framed: true, CheckCRC: true, CRC: trailers(smallF)},
		{ID: ID{Volume: 1, Index: 5}, Data: smallF[:BlockSize], Version: 1, Epoch: 1, Framed: true},
	}
	errs := s.WriteMany(ctx, ops)
	require.Len(t, errs, 5)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], ErrPayloadChecksum, "a damaged frame")
	assert.ErrorIs(t, errs[2], ErrPayloadChecksum, "the payload CRC over the frame checksums")
	assert.NoError(t, errs[3])
	assert.ErrorIs(t, errs[4], ErrRange, "not whole frames")
	assert.Zero(t, src.Len(), "every streamed payload consumed")
	require.NoError(t, s.Close())
	s2 := openT(t, dir, 0)
	got := make([]byte, len(big))
	_, err := s2.Read(ctx, ID{Volume: 1, Index: 1}, 0, got)
	require.NoError(t, err)
	assert.Equal(t, big, got)
	got = make([]byte, BlockSize)
	_, err = s2.Read(ctx, ID{Volume: 1, Index: 4}, BlockSize, got)
	require.NoError(t, err)
	assert.Equal(t, small, got)
	for _, idx := range []uint64{2, 3, 5} {
		_, ok := s2.Stat(ID{Volume: 1, Index: idx})
		assert.False(t, ok, "chunk %d stored", idx)
	}
}

package chunk

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLargeWritesDirect mixes large appends (written partly with direct I/O) with small ones
// that leave the segment at unaligned offsets, across segment rolls, and checks every
// write reads back at once, after reopening, and after GC.
func TestLargeWritesDirect(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const seg = 3 << 20
	s := openT(t, dir, seg)
	direct := false
	if f := openDirect(filepath.Join(dir, "store.id")); f != nil {
		f.Close()
		direct = true
		s.mu.RLock()
		assert.NotNil(t, s.active.df, "the file system takes O_DIRECT, so the active segment should use it")
		s.mu.RUnlock()
	}

	type write struct {
		id   ID
		off  uint32
		data []byte
	}
	var all []write
	version := uint64(0)
	sizes := []int{1 << 20, BlockSize, 256 << 10, 3 * BlockSize, 1 << 20, 1 << 20, 33 * BlockSize, 512 << 10, BlockSize}
	for round := 0; round < 3; round++ {
		for i, n := range sizes {
			version++
			w := write{ID{Volume: 1, Index: uint64(i)}, uint32(round%2) * BlockSize, pattern(fmt.Sprintf("r%d-w%d-", round, i), n)}
			if i%3 == 2 {
				// Two records in one WriteMany append.
				w2 := write{ID{Volume: 1, Index: uint64(100 + i)}, 0, pattern(fmt.Sprintf("many%d-%d", round, i), 300<<10)}
				for _, err := range s.WriteMany(ctx, []WriteOp{
					{ID: w.id, Offset: w.off, Data: w.data, Version: version, Epoch: 1},
					{ID: w2.id, Offset: w2.off, Data: w2.data, Version: version, Epoch: 1},
				}) {
					require.NoError(t, err)
				}
				all = append(all, w, w2)
			} else {
				require.NoError(t, s.Write(ctx, w.id, w.off, w.data, version, 1))
				all = append(all, w)
			}
			got := make([]byte, n)
			_, err := s.Read(ctx, w.id, w.off, got)
			require.NoError(t, err)
			require.Equal(t, w.data, got, "read right after the write")
		}
	}
	check := func(s *Store, when string) {
		t.Helper()
		// Later writes to the same chunk overwrite earlier ones: compare with a model.
		model := map[ID][]byte{}
		for _, w := range all {
			b := model[w.id]
			if need := int(w.off) + len(w.data); len(b) < need {
				b = append(b, make([]byte, need-len(b))...)
			}
			copy(b[w.off:], w.data)
			model[w.id] = b
		}
		for id, want := range model {
			got := make([]byte, len(want))
			_, err := s.Read(ctx, id, 0, got)
			require.NoError(t, err, when)
			require.Equal(t, want, got, "chunk %s %s", id, when)
		}
	}
	check(s, "before reopening")
	if direct {
		s.mu.RLock()
		var n int64
		for _, seg := range s.segs {
			n += seg.directBytes
		}
		s.mu.RUnlock()
		assert.Greater(t, n, int64(4<<20), "large appends should bypass the page cache")
	}
	require.Greater(t, s.Stats().Segments, 2, "the writes should span several segments")
	require.NoError(t, s.Close())

	s2 := openT(t, dir, seg)
	assert.Zero(t, s2.Recovery().TruncatedBytes)
	assert.Empty(t, s2.Recovery().Damaged)
	check(s2, "after reopening")
	_, err := s2.GC(ctx)
	require.NoError(t, err)
	check(s2, "after GC")
	require.NoError(t, s2.Close())
	check(openT(t, dir, seg), "after GC and reopening")
}

// TestAlignedBuf checks the buffer layout direct appends rely on.
func TestAlignedBuf(t *testing.T) {
	var pool sync.Pool
	for _, phase := range []int64{0, 1, 64, 4095, 4096 + 17} {
		for _, n := range []int{1, 4096, 1 << 20} {
			b, put := alignedBuf(&pool, n, phase)
			require.Len(t, b, n)
			require.Equal(t, n, cap(b))
			head := int((directAlign - phase%directAlign) % directAlign)
			if head < n {
				assert.Zero(t, uintptr(unsafe.Pointer(&b[head]))%directAlign, "phase %d n %d", phase, n)
			}
			put()
		}
	}
}

// TestLargeWritesConcurrent runs large writers in parallel: an append whose buffer was laid
// out for another offset than the one it lands on falls back to a buffered write, and
// either way every write reads back, before and after reopening.
func TestLargeWritesConcurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir, 4<<20)
	const writers, each = 4, 6
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				n := (40 + 13*i + w) * BlockSize
				data := pattern(fmt.Sprintf("w%d-i%d|", w, i), n)
				if err := s.Write(ctx, ID{Volume: 1, Index: uint64(w*each + i)}, 0, data, 1, 1); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	check := func(s *Store) {
		t.Helper()
		for w := 0; w < writers; w++ {
			for i := 0; i < each; i++ {
				want := pattern(fmt.Sprintf("w%d-i%d|", w, i), (40+13*i+w)*BlockSize)
				got := make([]byte, len(want))
				_, err := s.Read(ctx, ID{Volume: 1, Index: uint64(w*each + i)}, 0, got)
				require.NoError(t, err)
				require.Equal(t, want, got, "writer %d write %d", w, i)
			}
		}
	}
	check(s)
	require.NoError(t, s.Close())
	s2 := openT(t, dir, 4<<20)
	assert.Zero(t, s2.Recovery().TruncatedBytes)
	check(s2)
}

// framesAt returns the frames of units laid out in memory at the given page phase.
func framesAt(units []byte, phase int) []byte {
	n := len(units) / BlockSize * FrameSize
	raw := make([]byte, n+2*directAlign)
	addr := int(uintptr(unsafe.Pointer(&raw[0])) % directAlign)
	start := ((phase-addr)%directAlign + directAlign) % directAlign
	fr := raw[start : start+n : start+n]
	for i := 0; i < len(units)/BlockSize; i++ {
		putFrame(fr[i*FrameSize:(i+1)*FrameSize], units[i*BlockSize:(i+1)*BlockSize])
	}
	return fr
}

// TestFramedWriteInPlace appends large Framed writes whose payload sits at the phase of
// its record in the file (FramePhase: written direct from the caller's buffer, no copy)
// and at other phases (copied), between small writes that move the phase around, and
// checks they read back before and after reopening and after GC, that in-place writes went
// direct, and that a frame with a bad checksum is refused without appending anything.
func TestFramedWriteInPlace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const seg = 4 << 20
	s := openT(t, dir, seg)
	direct := false
	if f := openDirect(filepath.Join(dir, "store.id")); f != nil {
		f.Close()
		direct = true
	}
	directBytes := func(s *Store) int64 {
		s.mu.RLock()
		defer s.mu.RUnlock()
		var n int64
		for _, sg := range s.segs {
			n += sg.directBytes
		}
		return n
	}
	model := map[ID][]byte{}
	version := uint64(0)
	for i := 0; i < 12; i++ {
		id := ID{Volume: 3, Index: uint64(i % 4)}
		units := pattern(fmt.Sprintf("in-place %d;", i), (64+i*8)*BlockSize)
		phase := s.FramePhase(len(units) / BlockSize * FrameSize)
		if i%3 == 2 {
			phase = (phase + 64) % directAlign // not where the record will sit: copied
		}
		before, inPlace := directBytes(s), s.inPlace.Load()
		version++
		errs := s.WriteMany(ctx, []WriteOp{{ID: id, Offset: 0, Data: framesAt(units, phase), Version: version, Epoch: 1, Framed: true}})
		require.NoError(t, errs[0], "write %d", i)
		if i%3 != 2 {
			assert.Equal(t, inPlace+1, s.inPlace.Load(), "write %d at its phase should not be copied", i)
			if direct {
				assert.Greater(t, directBytes(s), before, "write %d at its phase should go direct", i)
			}
		} else {
			assert.Equal(t, inPlace, s.inPlace.Load(), "write %d at another phase is copied", i)
		}
		model[id] = units
		// A small write moves the segment's end to another phase.
		small := pattern(fmt.Sprintf("small %d;", i), (i%3+1)*BlockSize)
		version++
		require.NoError(t, s.Write(ctx, ID{Volume: 4, Index: uint64(i)}, 0, small, version, 1))
		model[ID{Volume: 4, Index: uint64(i)}] = small
	}

	bad := framesAt(pattern("bad", 64*BlockSize), s.FramePhase(64*FrameSize))
	bad[5*FrameSize+17] ^= 1
	total := s.Stats().TotalBytes
	errs := s.WriteMany(ctx, []WriteOp{{ID: ID{Volume: 5}, Data: bad, Version: 1, Epoch: 1, Framed: true}})
	require.ErrorIs(t, errs[0], ErrPayloadChecksum)
	assert.Equal(t, total, s.Stats().TotalBytes, "a refused write appends nothing")

	check := func(s *Store, when string) {
		for id, want := range model {
			got := make([]byte, len(want))
			_, err := s.Read(ctx, id, 0, got)
			require.NoError(t, err, when)
			require.Equal(t, want, got, "chunk %s %s", id, when)
		}
	}
	check(s, "before reopening")
	require.NoError(t, s.Close())
	s2 := openT(t, dir, seg)
	assert.Zero(t, s2.Recovery().TruncatedBytes)
	assert.Empty(t, s2.Recovery().Damaged)
	check(s2, "after reopening")
	_, err := s2.GC(ctx)
	require.NoError(t, err)
	check(s2, "after GC")
}

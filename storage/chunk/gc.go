package chunk

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// GCStats says what a garbage collection did.
type GCStats struct {
	SegmentsRemoved int
	BytesBefore     int64
	BytesAfter      int64
	BlocksMoved     int
}

// Garbage returns the bytes GC would reclaim now (approximately).
func (s *Store) Garbage() int64 {
	st := s.Stats()
	return st.TotalBytes - st.LiveBytes
}

type move struct {
	id     ID
	block  uint32
	old    *segment
	oldOff int64
	newOff int64
}

// GC compacts the store: it seals the active segment, copies the live blocks of every
// sealed segment into one new segment (ciphertext verbatim: no key is needed, and the
// volume's nonces stay unique) and deletes the old segments, so overwritten, trimmed and
// dropped bytes are physically gone from the disk. Writes go on during GC: they land in the
// fresh active segment; GC holds the store lock only to seal the segment and to swap index
// entries that still point at the blocks it copied.
func (s *Store) GC(ctx context.Context) (GCStats, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	// Rolling waits for the append in progress: afterwards no append writes to a sealed
	// segment.
	s.amu.Lock()
	s.mu.Lock()
	if s.broken != nil {
		s.mu.Unlock()
		s.amu.Unlock()
		return GCStats{}, s.broken
	}
	if err := s.roll(); err != nil {
		s.mu.Unlock()
		s.amu.Unlock()
		return GCStats{}, err
	}
	var sealed []*segment
	for _, seg := range s.segs {
		if seg != s.active {
			sealed = append(sealed, seg)
		}
	}
	sort.Slice(sealed, func(i, j int) bool { return sealed[i].id < sealed[j].id })
	outID := s.nextSeg
	s.nextSeg++
	stats := GCStats{BytesBefore: s.total}
	// Chunk versions survive in RecordVersion records at sequence 0, which any later drop
	// of the chunk overrides.
	type ver struct {
		id             ID
		version, epoch uint64
	}
	var versions []ver
	for id, st := range s.index {
		versions = append(versions, ver{id, st.version, st.epoch})
	}
	s.mu.Unlock()
	s.amu.Unlock()

	// Make every sealed segment durable now: writers still waiting for their fsync are
	// released by it, and no fsync may be in flight when a segment is closed below.
	for _, seg := range sealed {
		if err := seg.f.Sync(); err != nil {
			return stats, fmt.Errorf("chunk: gc sync: %w", err)
		}
		seg.markSynced(seg.size)
	}
	tmpPath := filepath.Join(s.dir, segName(outID)+gcSuffix)
	f, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return stats, fmt.Errorf("chunk: gc: %w", err)
	}
	fail := func(err error) (GCStats, error) {
		f.Close()
		os.Remove(tmpPath)
		return stats, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var outOff int64
	var moves []move
	for _, seg := range sealed {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		m, err := s.compactSegment(seg, w, &outOff)
		if err != nil {
			return fail(err)
		}
		moves = append(moves, m...)
	}
	for _, v := range versions {
		h := Header{Type: RecordVersion, ID: v.id, Version: v.version, Epoch: v.epoch}
		if _, err := w.Write(AppendHeader(nil, h)); err != nil {
			return fail(fmt.Errorf("chunk: gc write: %w", err))
		}
		outOff += HeaderSize
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("chunk: gc write: %w", err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("chunk: gc sync: %w", err))
	}
	outPath := filepath.Join(s.dir, segName(outID))
	if err := os.Rename(tmpPath, outPath); err != nil {
		return fail(fmt.Errorf("chunk: gc: %w", err))
	}
	if err := syncDir(s.dir); err != nil {
		return stats, err
	}
	out := &segment{id: outID, path: outPath, f: f, size: outOff, synced: outOff}
	out.cond = sync.NewCond(&out.smu)

	// Swap index entries in batches, so writers wait at most one batch for the lock.
	const swapBatch = 4096
	for i := 0; i < len(moves); i += swapBatch {
		s.mu.Lock()
		for _, m := range moves[i:min(i+swapBatch, len(moves))] {
			st := s.index[m.id]
			if st == nil {
				continue
			}
			if l, ok := st.blocks[m.block]; ok && l.seg == m.old && l.off == m.oldOff {
				st.blocks[m.block] = loc{seg: out, off: m.newOff, seq: l.seq}
				stats.BlocksMoved++
			}
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.segs[outID] = out
	for _, seg := range sealed {
		delete(s.segs, seg.id)
		s.total -= seg.size
	}
	s.total += outOff
	stats.BytesAfter = s.total
	s.mu.Unlock()

	// Oldest first: data is always deleted before the records that made it dead.
	for _, seg := range sealed {
		seg.waitSyncs()
		seg.rw.Lock()
		seg.closed = true
		seg.f.Close()
		seg.rw.Unlock()
		if err := os.Remove(seg.path); err != nil {
			return stats, fmt.Errorf("chunk: gc remove: %w", err)
		}
		stats.SegmentsRemoved++
	}
	if err := syncDir(s.dir); err != nil {
		return stats, err
	}
	s.log.Debug("chunk: gc done", "dir", s.dir, "before", stats.BytesBefore, "after", stats.BytesAfter, "moved", stats.BlocksMoved)
	return stats, nil
}

// compactSegment copies the live blocks of one sealed segment to w.
func (s *Store) compactSegment(seg *segment, w *bufio.Writer, outOff *int64) ([]move, error) {
	var moves []move
	var hb [HeaderSize]byte
	var body []byte
	size := seg.size
	for pos := int64(0); pos < size; {
		if _, err := seg.f.ReadAt(hb[:], pos); err != nil {
			return nil, fmt.Errorf("chunk: gc read %s: %w", seg.path, err)
		}
		h, err := DecodeHeader(hb[:])
		if err != nil {
			return nil, &CorruptionError{Segment: seg.path, Offset: pos, Err: err}
		}
		recEnd := pos + HeaderSize + h.BodySize()
		if h.Type != RecordData {
			pos = recEnd
			continue
		}
		n := h.Blocks()
		first := h.Offset / BlockSize
		fs := h.FrameSize()
		live := make([]bool, n)
		any := false
		s.mu.RLock()
		if st := s.index[h.ID]; st != nil {
			for i := uint32(0); i < n; i++ {
				l, ok := st.blocks[first+i]
				live[i] = ok && l.seg == seg && l.off == pos+HeaderSize+int64(i)*fs
				any = any || live[i]
			}
		}
		s.mu.RUnlock()
		if any {
			if int64(cap(body)) < h.BodySize() {
				body = make([]byte, h.BodySize())
			}
			body = body[:h.BodySize()]
			if _, err := seg.f.ReadAt(body, pos+HeaderSize); err != nil {
				return nil, fmt.Errorf("chunk: gc read %s: %w", seg.path, err)
			}
			for i := uint32(0); i < n; {
				if !live[i] {
					i++
					continue
				}
				j := i + 1
				for j < n && live[j] {
					j++
				}
				run := h
				run.Offset = (first + i) * BlockSize
				run.Length = (j - i) * BlockSize
				if _, err := w.Write(AppendHeader(nil, run)); err != nil {
					return nil, fmt.Errorf("chunk: gc write: %w", err)
				}
				*outOff += HeaderSize
				for k := i; k < j; k++ {
					if _, err := w.Write(body[int64(k)*fs : int64(k+1)*fs]); err != nil {
						return nil, fmt.Errorf("chunk: gc write: %w", err)
					}
					moves = append(moves, move{id: h.ID, block: first + k, old: seg, oldOff: pos + HeaderSize + int64(k)*fs, newOff: *outOff})
					*outOff += fs
				}
				i = j
			}
		}
		pos = recEnd
	}
	return moves, nil
}

// markSynced records that the segment is durable up to n and wakes its waiting writers.
func (seg *segment) markSynced(n int64) {
	seg.smu.Lock()
	if n > seg.synced {
		seg.synced = n
	}
	seg.cond.Broadcast()
	seg.smu.Unlock()
}

// waitSyncs waits until no fsync of the segment is in flight.
func (seg *segment) waitSyncs() {
	seg.smu.Lock()
	for seg.syncing > 0 {
		seg.cond.Wait()
	}
	seg.smu.Unlock()
}

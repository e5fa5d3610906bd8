package chunk

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"syscall"
	"unsafe"
)

// Large appends are written mostly with direct I/O: the kernel DMAs the page-aligned middle
// of the record straight from the caller's buffer instead of copying it into the page cache
// (for a replicated write the page-cache copy, done once per replica, cost more CPU than
// everything else on the write path). The unaligned head and tail of the record go through
// the page cache as before. Durability is unchanged: the append returns only after the
// segment's fsync, which covers both the direct-written blocks and the file size.
const (
	directAlign = 4096
	// directMin is the smallest record written with direct I/O; smaller ones (4 KiB
	// writes, trims, version records) are cheaper through the page cache.
	directMin = 128 << 10
)

// alignedBuf returns a buffer of n bytes from pool whose first byte sits at phase modulo
// directAlign in memory, so that rec[(directAlign-phase)%directAlign:] is page-aligned: a
// record to be appended at a file offset of that phase can then be written direct. put
// returns the buffer to the pool.
func alignedBuf(pool *sync.Pool, n int, phase int64) (buf []byte, put func()) {
	bp, _ := pool.Get().(*[]byte)
	if bp == nil || cap(*bp) < n+2*directAlign {
		b := make([]byte, n+2*directAlign)
		bp = &b
	}
	return AtPhase((*bp)[:cap(*bp)], n, int(phase)), func() { pool.Put(bp) }
}

// AtPhase returns n bytes of raw, which must hold n+4096 bytes at least, starting at an
// address at phase modulo 4096 in memory: a record appended at a file offset of that
// phase can then have its page-aligned middle written with direct I/O from it.
func AtPhase(raw []byte, n, phase int) []byte {
	addr := int(uintptr(unsafe.Pointer(&raw[0])) % directAlign)
	start := ((phase-addr)%directAlign + directAlign) % directAlign
	return raw[start : start+n : start+n]
}

// writeRecords writes rec at off of the segment and returns how many bytes went direct.
// Called with Store.amu held (which orders appends and guards df against a roll).
func (seg *segment) writeRecords(rec []byte, off int64) (int64, error) {
	if seg.df != nil && len(rec) >= directMin {
		head := int((directAlign - off%directAlign) % directAlign)
		mid := (len(rec) - head) &^ (directAlign - 1)
		if mid > 0 && uintptr(unsafe.Pointer(&rec[head]))%directAlign == 0 {
			return seg.writeSplit(rec[:head], rec[head:head+mid], rec[head+mid:], off)
		}
	}
	_, err := seg.f.WriteAt(rec, off)
	return 0, err
}

// writeDirect writes page-aligned bytes at a page-aligned offset with direct I/O (or
// through the page cache once the file system has refused direct I/O) and returns how
// many bytes went direct. Called with Store.amu held.
func (seg *segment) writeDirect(p []byte, off int64) (int64, error) {
	if seg.df == nil {
		_, err := seg.f.WriteAt(p, off)
		return 0, err
	}
	_, err := seg.df.WriteAt(p, off)
	if errors.Is(err, syscall.EINVAL) {
		// The file system wants a larger alignment: stop writing direct.
		seg.df.Close()
		seg.df = nil
		_, err = seg.f.WriteAt(p, off)
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	return int64(len(p)), nil
}

// closeDirect closes the segment's direct-I/O handle (when it is sealed or the store
// closes). Called with Store.mu held.
func (seg *segment) closeDirect() {
	if seg.df != nil {
		seg.df.Close()
		seg.df = nil
	}
}

// FramePhase is where, modulo the direct-I/O alignment, the frames of a data record with
// payload bytes of frames would begin in the active segment if it were appended next. A
// caller in the same process that lays out a Framed payload at that phase in memory (its
// first byte at an address congruent to FramePhase modulo 4096) lets WriteMany write the
// page-aligned middle of the record with direct I/O straight from the caller's buffer,
// without copying it into a record first. Any other phase is correct too, only copied.
func (s *Store) FramePhase(payload int) int {
	return int((s.nextOffset(HeaderSize+payload) + HeaderSize) % directAlign)
}

// writeFramedInPlace appends a lone large Framed write whose payload sits at the phase its
// record will have in the file (see FramePhase) without copying the payload: the header
// and the frames up to the first page boundary go through the page cache, the
// page-aligned middle direct from op.Data, the rest through the page cache. ok is false
// when the write does not qualify (the caller takes the copying path); the checks are those
// of the copying path.
func (s *Store) writeFramedInPlace(ctx context.Context, op *WriteOp) (ok bool, err error) {
	n := len(op.Data)
	if !op.Framed || op.Data == nil || n < directMin || n%s.frame != 0 {
		return false, nil
	}
	if int(uintptr(unsafe.Pointer(&op.Data[0]))%directAlign) != s.FramePhase(n) {
		return false, nil
	}
	nb, err := s.blocksOf(op.Offset, n, s.frame)
	if err != nil {
		return true, err
	}
	if err := s.checkFence(op.ID, op.Version, op.Epoch); err != nil {
		return true, err
	}
	crc := uint32(0)
	for k := 0; k < n; k += s.frame {
		fr := op.Data[k : k+s.frame]
		if !checkFrame(fr) {
			return true, fmt.Errorf("%w: chunk %s at %d: a block's frame checksum", ErrPayloadChecksum, op.ID, op.Offset)
		}
		if op.CheckCRC {
			crc = crc32.Update(crc, castagnoli, fr[s.unit:])
		}
	}
	if op.CheckCRC && crc != op.CRC {
		return true, fmt.Errorf("%w: chunk %s at %d", ErrPayloadChecksum, op.ID, op.Offset)
	}
	seq, err := s.seq.next()
	if err != nil {
		return true, err
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	h := Header{Type: RecordData, ID: op.ID, Offset: op.Offset, Length: nb * BlockSize, Version: op.Version, Epoch: op.Epoch, Seq: seq, Unit: uint32(s.unit)}
	size := HeaderSize + n
	s.amu.Lock()
	seg, off, err := s.place(size)
	if err != nil {
		s.amu.Unlock()
		return true, err
	}
	direct, err := seg.writeFramed(h, op.Data, off)
	s.inPlace.Add(1)
	return true, s.appended(seg, off, size, []Header{h}, []int{0}, direct, err)
}

// writeFramed writes a record (header h, then frames) at off of the segment, the
// page-aligned middle of the frames direct from their buffer when it sits at their file
// phase, and returns how many bytes went direct. Called with Store.amu held.
func (seg *segment) writeFramed(h Header, frames []byte, off int64) (int64, error) {
	fo := off + HeaderSize // file offset of the frames
	k := int((directAlign - fo%directAlign) % directAlign)
	if k > len(frames) {
		k = len(frames)
	}
	mid := (len(frames) - k) &^ (directAlign - 1)
	head := AppendHeader(make([]byte, 0, HeaderSize+k), h)
	head = append(head, frames[:k]...)
	if seg.df == nil || mid == 0 || uintptr(unsafe.Pointer(&frames[k]))%directAlign != 0 {
		// Not at its phase after all (another append came first): write it buffered.
		if _, err := seg.f.WriteAt(head, off); err != nil {
			return 0, err
		}
		_, err := seg.f.WriteAt(frames[k:], fo+int64(k))
		return 0, err
	}
	return seg.writeSplit(head, frames[k:k+mid], frames[k+mid:], off)
}

// writeSplit writes head through the page cache at off, the page-aligned mid right after
// it with direct I/O, and tail after that through the page cache again, and returns how
// many bytes went direct. Called with Store.amu held.
func (seg *segment) writeSplit(head, mid, tail []byte, off int64) (int64, error) {
	if len(head) > 0 {
		if _, err := seg.f.WriteAt(head, off); err != nil {
			return 0, err
		}
	}
	direct, err := seg.writeDirect(mid, off+int64(len(head)))
	if err != nil {
		return 0, err
	}
	if len(tail) > 0 {
		_, err = seg.f.WriteAt(tail, off+int64(len(head)+len(mid)))
	}
	return direct, err
}

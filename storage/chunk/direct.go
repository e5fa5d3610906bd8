package chunk

import (
	"errors"
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
	raw := (*bp)[:cap(*bp)]
	addr := int64(uintptr(unsafe.Pointer(&raw[0])) % directAlign)
	start := ((phase-addr)%directAlign + directAlign) % directAlign
	return raw[start : start+int64(n) : start+int64(n)], func() { pool.Put(bp) }
}

// writeRecords writes rec at off of the segment and returns how many bytes went direct.
// Called with Store.amu held (which orders appends and guards df against a roll).
func (seg *segment) writeRecords(rec []byte, off int64) (int64, error) {
	if seg.df != nil && len(rec) >= directMin {
		head := int((directAlign - off%directAlign) % directAlign)
		mid := (len(rec) - head) &^ (directAlign - 1)
		if mid > 0 && uintptr(unsafe.Pointer(&rec[head]))%directAlign == 0 {
			if head > 0 {
				if _, err := seg.f.WriteAt(rec[:head], off); err != nil {
					return 0, err
				}
			}
			direct, err := seg.writeDirect(rec[head:head+mid], off+int64(head))
			if err != nil {
				return 0, err
			}
			if head+mid < len(rec) {
				_, err = seg.f.WriteAt(rec[head+mid:], off+int64(head+mid))
			}
			return direct, err
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

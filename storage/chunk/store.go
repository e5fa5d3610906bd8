package chunk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Store errors callers branch on.
var (
	// ErrCorrupt is wrapped by every error that reports damaged bytes.
	ErrCorrupt = errors.New("chunk: corrupt")
	// ErrStaleEpoch rejects a request from a placement older than the one the chunk has seen.
	ErrStaleEpoch = errors.New("chunk: stale epoch")
	// ErrStaleVersion rejects a write older than the chunk's current version.
	ErrStaleVersion = errors.New("chunk: stale version")
	// ErrClosed is returned after Close, or after a failed fsync left the store unusable.
	ErrClosed = errors.New("chunk: store closed")
	// ErrRange rejects a range that is not block-aligned or does not fit a chunk, or a
	// payload that is not whole units.
	ErrRange = errors.New("chunk: bad range")
	// ErrUnit is returned by Open for a log written with another Options.UnitSize.
	ErrUnit = errors.New("chunk: log written with another block unit")
)

// CorruptionError reports a damaged log: a record in the middle of a segment that does not
// decode while valid records follow it. It wraps ErrCorrupt.
type CorruptionError struct {
	Segment string
	Offset  int64
	Err     error
}

// Error says which segment is damaged where.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("chunk: corrupt log %s at offset %d: %v", e.Segment, e.Offset, e.Err)
}

// Unwrap returns ErrCorrupt and the decoding error.
func (e *CorruptionError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// Options tune a Store.
type Options struct {
	// SegmentSize is the size at which the active segment file is sealed and a new one begun.
	// Zero means 64 MiB.
	SegmentSize int64
	// UnitSize is the number of bytes the store keeps per block (it never looks inside
	// them): zero means BlockSize. The cluster stores each 4 KiB block sealed (nonce,
	// ciphertext, tag), so its units are larger than a block. Every data record names its
	// unit; Open refuses a log written with another one.
	UnitSize int
	// Logger receives recovery and GC events; nil means slog.Default().
	Logger *slog.Logger
	// DropDamaged makes Open survive a damaged record in the middle of a segment (a torn
	// write among unsynced records after a power loss, or rot): the segment is truncated
	// there, and every chunk with a record newer than the damage is dropped, so this store
	// never claims a version whose earlier writes it lost. Meant for a replica whose chunks
	// the cluster rebuilds; without it Open fails with a *CorruptionError.
	DropDamaged bool
}

// Store keeps chunks in append-only segment files in one directory. It is safe for
// concurrent use. Overlapping writes to the same blocks must be ordered by the caller (the
// volume layer holds a per-chunk lock); the store orders records by sequence number.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger

	id  [16]byte
	seq seqReservation

	mu      sync.RWMutex
	segs    map[uint64]*segment
	active  *segment
	nextSeg uint64
	index   map[ID]*chunkState
	unit    int // bytes stored per block
	frame   int // unit and its CRC32C
	broken  error
	total   int64 // bytes in all segments
	live    int64 // bytes of live frames and headers referenced by the index (approximate)

	gcMu sync.Mutex
	// amu serializes appends: it is held from choosing an append's place at the end of the
	// active segment until the index points at it, so the segment's bytes can be written
	// without holding mu (readers are not held up by disk writes). GC and Close take it to
	// roll or close the active segment. Lock order: gcMu, amu, mu.
	amu      sync.Mutex
	recovery Recovery
	lost     []ID // chunks of records cut off after a damaged one (during Open)

	// recs recycles record buffers: a 1 MiB write would otherwise allocate (and the
	// garbage collector scan) a megabyte per call. See alignedBuf.
	recs sync.Pool
	// pieces recycles the buffers streamed payloads are read into (streamPiece bytes).
	pieces sync.Pool
	// inPlace counts the appends written straight from the caller's buffer
	// (writeFramedInPlace).
	inPlace atomic.Int64
	// aio submits the active segment's fsyncs without holding a thread's scheduler slot
	// (nil where native AIO is unavailable). See aio_linux.go.
	aio *aioSyncer
}

// Recovery says what Open found.
type Recovery struct {
	Segments int
	Records  int
	// TruncatedBytes were cut from segment tails: records never made durable (torn writes).
	TruncatedBytes int64
	// Damaged lists records damaged in the middle of a segment (with Options.DropDamaged;
	// otherwise Open fails on the first one).
	Damaged []CorruptionError
	// DroppedChunks were dropped because they had records newer than a damaged one.
	DroppedChunks []ID
}

type chunkState struct {
	version uint64
	epoch   uint64
	blocks  map[uint32]loc
}

// loc is where a block lives: seg nil marks a trimmed block (a tombstone kept for ordering).
type loc struct {
	seg *segment
	off int64 // offset of the frame in the segment file
	seq uint64
}

type segment struct {
	id   uint64
	path string
	f    *os.File
	// df is the active segment's direct-I/O handle for large appends (nil when sealed or
	// unsupported); guarded by Store.amu.
	df *os.File
	// aio submits the segment's group-commit fsyncs (nil: fsync directly).
	aio *aioSyncer
	// directBytes counts the bytes written through df; guarded by Store.mu.
	directBytes int64
	size        int64 // bytes written; guarded by Store.mu

	rw     sync.RWMutex // readers hold it shared while reading; close takes it exclusively
	closed bool

	smu     sync.Mutex
	cond    *sync.Cond
	synced  int64 // durable up to here
	pending int64 // an fsync in flight will make it durable up to here
	syncing int   // fsyncs in flight
	syncErr error
}

const segPrefix, segSuffix, gcSuffix = "seg-", ".log", ".gc"

func segName(id uint64) string { return fmt.Sprintf("%s%016x%s", segPrefix, id, segSuffix) }

// Open opens (creating if needed) the store in dir, replaying every segment to rebuild the
// index. Torn record tails are truncated; a damaged record followed by valid ones fails
// Open with a *CorruptionError.
func Open(dir string, opts Options) (*Store, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.UnitSize == 0 {
		opts.UnitSize = BlockSize
	}
	if opts.UnitSize < 0 || opts.UnitSize > MaxUnit {
		return nil, fmt.Errorf("chunk: unit of %d bytes per block (at most %d)", opts.UnitSize, MaxUnit)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	s := &Store{
		dir: dir, opts: opts, log: opts.Logger,
		segs:  map[uint64]*segment{},
		index: map[ID]*chunkState{},
		unit:  opts.UnitSize,
		frame: opts.UnitSize + crcSize,
	}
	if err := s.seq.load(dir, &s.id); err != nil {
		return nil, err
	}
	if err := s.replay(); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.aio = newAIOSyncer()
	if err := s.roll(); err != nil {
		s.closeFiles()
		s.aio.close()
		return nil, err
	}
	for _, id := range s.recovery.DroppedChunks {
		if err := s.DropChunk(context.Background(), id); err != nil {
			s.closeFiles()
			s.aio.close()
			return nil, err
		}
	}
	return s, nil
}

// Recovery reports what Open found and repaired.
func (s *Store) Recovery() Recovery { return s.recovery }

// ID is the store's random identity (kept in store.id with the sequence reservation).
func (s *Store) ID() [16]byte { return s.id }

type replayed struct {
	h   Header
	seg *segment
	off int64 // record offset
}

func (s *Store) replay() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	var recs []replayed
	var damagedBefore uint64
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, gcSuffix) {
			// An unfinished compaction: its sources are all still present.
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return fmt.Errorf("chunk: %w", err)
			}
			continue
		}
		if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		var id uint64
		if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), "%x", &id); err != nil {
			continue
		}
		seg, err := openSegment(filepath.Join(s.dir, name), id)
		if err != nil {
			return err
		}
		s.segs[id] = seg
		if id >= s.nextSeg {
			s.nextSeg = id + 1
		}
		got, damage, err := s.scanSegment(seg)
		if err != nil {
			return err
		}
		if damage != nil {
			// Records of this segment before the damage are intact; anything newer than
			// the newest of them may depend on what was lost.
			var newest uint64
			for _, r := range got {
				newest = max(newest, r.h.Seq)
			}
			if len(s.recovery.Damaged) == 0 || newest < damagedBefore {
				damagedBefore = newest
			}
			s.recovery.Damaged = append(s.recovery.Damaged, *damage)
		}
		recs = append(recs, got...)
		s.total += seg.size
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].h.Seq < recs[j].h.Seq })
	var maxSeq uint64
	for _, r := range recs {
		s.apply(r.h, r.seg, r.off)
		maxSeq = max(maxSeq, r.h.Seq)
	}
	if len(s.recovery.Damaged) > 0 {
		drop := map[ID]bool{}
		for _, id := range s.lost {
			if _, live := s.index[id]; live && !drop[id] {
				drop[id] = true
				s.recovery.DroppedChunks = append(s.recovery.DroppedChunks, id)
			}
		}
		s.lost = nil
		for _, r := range recs {
			if r.h.Seq > damagedBefore && (r.h.Type == RecordData || r.h.Type == RecordTrim || r.h.Type == RecordVersion) {
				if _, live := s.index[r.h.ID]; live && !drop[r.h.ID] {
					drop[r.h.ID] = true
					s.recovery.DroppedChunks = append(s.recovery.DroppedChunks, r.h.ID)
				}
			}
		}
		s.log.Error("chunk: damaged log records; dropped the chunks written after them (the cluster rebuilds them)",
			"dir", s.dir, "damaged", len(s.recovery.Damaged), "dropped_chunks", len(s.recovery.DroppedChunks))
	}
	s.recovery.Segments = len(s.segs)
	s.recovery.Records = len(recs)
	return s.seq.atLeast(maxSeq + 1)
}

func openSegment(path string, id uint64) (*segment, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("chunk: %w", err)
	}
	seg := &segment{id: id, path: path, f: f, size: st.Size(), synced: st.Size()}
	seg.cond = sync.NewCond(&seg.smu)
	return seg, nil
}

// scanSegment reads the headers of a segment. A bad record with nothing valid after it is a
// torn tail and is truncated; one with a valid record after it is corruption.
func (s *Store) scanSegment(seg *segment) ([]replayed, *CorruptionError, error) {
	var recs []replayed
	var damage *CorruptionError
	var hb [HeaderSize]byte
	pos := int64(0)
	for pos < seg.size {
		n, err := seg.f.ReadAt(hb[:], pos)
		var h Header
		if n == HeaderSize {
			h, err = DecodeHeader(hb[:])
		} else if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: %d header bytes at end of file", ErrShortRecord, n)
		}
		if err == nil && h.Type == RecordData && int(h.Unit) != s.unit {
			return nil, nil, fmt.Errorf("%w: %s at %d holds %d-byte blocks, the store is opened for %d", ErrUnit, seg.path, pos, h.Unit, s.unit)
		}
		if err == nil {
			end := pos + HeaderSize + h.BodySize()
			switch {
			case end > seg.size:
				err = fmt.Errorf("%w: record ends at %d, file at %d", ErrShortRecord, end, seg.size)
			case end == seg.size && h.Type == RecordData:
				// The last record may have been torn after its header reached the disk.
				err = s.checkBody(seg, pos, h)
			}
		}
		if err != nil {
			if next, ok := s.findValidRecord(seg, pos+1); ok {
				ce := &CorruptionError{Segment: seg.path, Offset: pos, Err: fmt.Errorf("%w (valid record follows at %d)", err, next)}
				if !s.opts.DropDamaged {
					return nil, nil, ce
				}
				damage = ce
				s.lostAfterDamage(seg, next)
				s.log.Error("chunk: damaged record in the middle of a segment; truncating there", "segment", seg.path, "offset", pos, "bytes", seg.size-pos, "reason", err)
			} else {
				s.log.Warn("chunk: truncating torn tail", "segment", seg.path, "offset", pos, "bytes", seg.size-pos, "reason", err)
			}
			if terr := seg.f.Truncate(pos); terr != nil {
				return nil, nil, fmt.Errorf("chunk: truncate %s: %w", seg.path, terr)
			}
			if terr := seg.f.Sync(); terr != nil {
				return nil, nil, fmt.Errorf("chunk: sync %s: %w", seg.path, terr)
			}
			s.recovery.TruncatedBytes += seg.size - pos
			seg.size, seg.synced = pos, pos
			break
		}
		recs = append(recs, replayed{h: h, seg: seg, off: pos})
		pos += HeaderSize + h.BodySize()
	}
	return recs, damage, nil
}

// lostAfterDamage notes the chunks of the decodable records after a damaged one, which the
// truncation drops: they are dropped whole.
func (s *Store) lostAfterDamage(seg *segment, pos int64) {
	var hb [HeaderSize]byte
	for pos < seg.size {
		if _, err := seg.f.ReadAt(hb[:], pos); err == nil {
			if h, err := DecodeHeader(hb[:]); err == nil {
				if h.Type == RecordData || h.Type == RecordTrim || h.Type == RecordVersion {
					s.lost = append(s.lost, h.ID)
				}
				pos += HeaderSize + h.BodySize()
				continue
			}
		}
		next, ok := s.findValidRecord(seg, pos+1)
		if !ok {
			return
		}
		pos = next
	}
}

func (s *Store) checkBody(seg *segment, pos int64, h Header) error {
	body := make([]byte, h.BodySize())
	if _, err := seg.f.ReadAt(body, pos+HeaderSize); err != nil {
		return fmt.Errorf("%w: %v", ErrShortRecord, err)
	}
	fs := int(h.FrameSize())
	for i := 0; i < len(body); i += fs {
		if !checkFrame(body[i : i+fs]) {
			return fmt.Errorf("%w: block %d of the last record", ErrBlockChecksum, i/fs)
		}
	}
	return nil
}

// findValidRecord looks for a decodable header at or after from.
func (s *Store) findValidRecord(seg *segment, from int64) (int64, bool) {
	const window = 1 << 20
	buf := make([]byte, window+HeaderSize)
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], magic)
	for off := from; off < seg.size; off += window {
		n, _ := seg.f.ReadAt(buf, off)
		b := buf[:n]
		for i := 0; i+HeaderSize <= len(b); i++ {
			if b[i] != m[0] || b[i+1] != m[1] || b[i+2] != m[2] || b[i+3] != m[3] {
				continue
			}
			if h, err := DecodeHeader(b[i : i+HeaderSize]); err == nil && off+int64(i)+HeaderSize+h.BodySize() <= seg.size {
				return off + int64(i), true
			}
		}
	}
	return 0, false
}

// apply updates the index for one record. Called with mu held (or during Open).
func (s *Store) apply(h Header, seg *segment, recOff int64) {
	switch h.Type {
	case RecordDropVolume:
		for id, st := range s.index {
			if id.Volume == h.ID.Volume {
				s.live -= st.liveBytes(s.frame)
				delete(s.index, id)
			}
		}
		return
	case RecordDropChunk:
		if st, ok := s.index[h.ID]; ok {
			s.live -= st.liveBytes(s.frame)
			delete(s.index, h.ID)
		}
		return
	}
	if h.Type == RecordVersion {
		st := s.index[h.ID]
		if st == nil {
			st = &chunkState{blocks: map[uint32]loc{}}
			s.index[h.ID] = st
		}
		st.version = max(st.version, h.Version)
		st.epoch = max(st.epoch, h.Epoch)
		return
	}
	st := s.index[h.ID]
	if st == nil {
		st = &chunkState{blocks: map[uint32]loc{}}
		s.index[h.ID] = st
	}
	st.version = max(st.version, h.Version)
	st.epoch = max(st.epoch, h.Epoch)
	first := h.Offset / BlockSize
	for i := uint32(0); i < h.Length/BlockSize; i++ {
		b := first + i
		old, ok := st.blocks[b]
		if ok && old.seq > h.Seq {
			continue
		}
		if ok && old.seg != nil {
			s.live -= int64(s.frame)
		}
		if h.Type == RecordData {
			st.blocks[b] = loc{seg: seg, off: recOff + HeaderSize + int64(i)*h.FrameSize(), seq: h.Seq}
			s.live += int64(s.frame)
		} else {
			st.blocks[b] = loc{seq: h.Seq}
		}
	}
}

func (st *chunkState) liveBytes(frame int) int64 {
	var n int64
	for _, l := range st.blocks {
		if l.seg != nil {
			n += int64(frame)
		}
	}
	return n
}

// roll seals the active segment and starts a new one.
func (s *Store) roll() error {
	id := s.nextSeg
	s.nextSeg++
	path := filepath.Join(s.dir, segName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	seg := &segment{id: id, path: path, f: f, df: openDirect(path), aio: s.aio}
	seg.cond = sync.NewCond(&seg.smu)
	if s.active != nil {
		s.active.closeDirect()
	}
	s.segs[id] = seg
	s.active = seg
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("chunk: sync dir: %w", err)
	}
	return nil
}

// maxSyncs bounds the fsyncs in flight on one segment.
const maxSyncs = 2

// syncTo returns once the segment is durable up to pos. Concurrent callers share fsyncs
// (group commit): a writer whose bytes an fsync already in flight will cover waits for it;
// otherwise it starts one (up to maxSyncs at once, which the kernel folds into shared
// journal commits) covering everything written so far.
func (seg *segment) syncTo(pos int64, written func() int64) error {
	seg.smu.Lock()
	defer seg.smu.Unlock()
	for seg.synced < pos {
		if seg.syncErr != nil {
			return seg.syncErr
		}
		if seg.pending >= pos || seg.syncing >= maxSyncs {
			seg.cond.Wait()
			continue
		}
		seg.syncing++
		target := written()
		seg.pending = max(seg.pending, target)
		seg.smu.Unlock()
		err := seg.aio.fsync(seg.f)
		seg.smu.Lock()
		seg.syncing--
		if err != nil {
			seg.syncErr = fmt.Errorf("chunk: fsync %s: %w", seg.path, err)
		} else if target > seg.synced {
			seg.synced = target
		}
		seg.cond.Broadcast()
	}
	return nil
}

func checkRange(off uint32, length int) error {
	if off%BlockSize != 0 || length%BlockSize != 0 || length <= 0 || length > MaxRecordLength || uint64(off)+uint64(length) > 1<<32 {
		return fmt.Errorf("%w: %d+%d", ErrRange, off, length)
	}
	return nil
}

// Unit is the number of bytes the store keeps per block (Options.UnitSize).
func (s *Store) Unit() int { return s.unit }

// blocks checks that n payload bytes are whole units and returns how many blocks they are.
func (s *Store) blocks(off uint32, n int) (uint32, error) { return s.blocksOf(off, n, s.unit) }

// blocksOf checks that n payload bytes are whole blocks of per bytes each (a unit, or a
// frame) and returns how many blocks they are.
func (s *Store) blocksOf(off uint32, n, per int) (uint32, error) {
	if n <= 0 || n%per != 0 {
		return 0, fmt.Errorf("%w: %d bytes are not whole %d-byte blocks", ErrRange, n, per)
	}
	b := n / per
	if err := checkRange(off, b*BlockSize); err != nil {
		return 0, err
	}
	return uint32(b), nil
}

// Write appends data (whole units, one per block, for the blocks from byte offset off of
// chunk id) as one record and returns once it is durable. version must not be older than
// the chunk's version, nor epoch older than its epoch.
func (s *Store) Write(ctx context.Context, id ID, off uint32, data []byte, version, epoch uint64) error {
	n, err := s.blocks(off, len(data))
	if err != nil {
		return err
	}
	if err := s.checkFence(id, version, epoch); err != nil {
		return err
	}
	seq, err := s.seq.next()
	if err != nil {
		return err
	}
	h := Header{Type: RecordData, ID: id, Offset: off, Length: n * BlockSize, Version: version, Epoch: epoch, Seq: seq, Unit: uint32(s.unit)}
	size := HeaderSize + int(h.BodySize())
	rec, put := alignedBuf(&s.recs, size, s.nextOffset(size))
	defer put()
	AppendHeader(rec[:0], h)
	for i := 0; i < int(n); i++ {
		putFrame(rec[HeaderSize+i*s.frame:HeaderSize+(i+1)*s.frame], data[i*s.unit:(i+1)*s.unit])
	}
	return s.append(ctx, h, rec)
}

// Trim appends a record that makes the range read as zeroes.
func (s *Store) Trim(ctx context.Context, id ID, off, length uint32, version, epoch uint64) error {
	if err := checkRange(off, int(length)); err != nil {
		return err
	}
	if err := s.checkFence(id, version, epoch); err != nil {
		return err
	}
	seq, err := s.seq.next()
	if err != nil {
		return err
	}
	h := Header{Type: RecordTrim, ID: id, Offset: off, Length: length, Version: version, Epoch: epoch, Seq: seq}
	return s.append(ctx, h, AppendHeader(nil, h))
}

// DropChunk removes a chunk from the store (its bytes go at the next GC).
func (s *Store) DropChunk(ctx context.Context, id ID) error {
	seq, err := s.seq.next()
	if err != nil {
		return err
	}
	h := Header{Type: RecordDropChunk, ID: id, Seq: seq}
	return s.append(ctx, h, AppendHeader(nil, h))
}

// DropVolume removes every chunk of a volume; its bytes go at the next GC.
func (s *Store) DropVolume(ctx context.Context, volume uint64) error {
	seq, err := s.seq.next()
	if err != nil {
		return err
	}
	h := Header{Type: RecordDropVolume, ID: ID{Volume: volume}, Seq: seq}
	return s.append(ctx, h, AppendHeader(nil, h))
}

// SetVersion records a chunk's version and epoch without data: the last step of installing
// a rebuilt replica, whose blocks are written at version 0 first so that a replica cut short
// by a crash never claims the current version.
func (s *Store) SetVersion(ctx context.Context, id ID, version, epoch uint64) error {
	if err := s.checkFence(id, 0, epoch); err != nil {
		return err
	}
	seq, err := s.seq.next()
	if err != nil {
		return err
	}
	h := Header{Type: RecordVersion, ID: id, Version: version, Epoch: epoch, Seq: seq}
	return s.append(ctx, h, AppendHeader(nil, h))
}

func (s *Store) checkFence(id ID, version, epoch uint64) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.broken != nil {
		return s.broken
	}
	st := s.index[id]
	if st == nil {
		return nil
	}
	if epoch < st.epoch {
		return fmt.Errorf("%w: chunk %s at epoch %d, request %d", ErrStaleEpoch, id, st.epoch, epoch)
	}
	if version < st.version {
		return fmt.Errorf("%w: chunk %s at version %d, request %d", ErrStaleVersion, id, st.version, version)
	}
	return nil
}

// WriteOp is one write of a WriteMany.
type WriteOp struct {
	ID     ID
	Offset uint32
	// Data is the payload (whole units, one per block); when it is nil, Length bytes are
	// read from Src instead.
	Data    []byte
	Version uint64
	Epoch   uint64
	// Src and Length stream the payload: the bytes are framed and checksummed as they are
	// read (a chunk server handles a write as it arrives from the network, while it is in
	// the CPU cache). The ops of one WriteMany may share a Src; they read from it in order.
	Src    io.Reader
	Length uint32
	// CheckCRC makes the write fail alone (with an error wrapping ErrPayloadChecksum, and
	// nothing appended) unless its payload has the CRC32C (Castagnoli) CRC. The check runs
	// piece by piece while framing, not as a separate pass. For a Framed payload CRC is
	// the CRC32C of the frames' checksums (their 4-byte trailers, concatenated).
	CheckCRC bool
	CRC      uint32
	// Framed says the payload is already frames as stored on disk: each block's unit
	// followed by its CRC32C. Every frame's checksum is verified as it arrives (a frame
	// that fails makes the write fail with ErrPayloadChecksum) and the frames are stored
	// as they are, so the checksum is computed once, by the sender, not again here.
	Framed bool
}

// ErrPayloadChecksum reports a write whose payload does not match the CRC32C it was sent
// with (damaged in transit). It wraps ErrCorrupt.
var ErrPayloadChecksum = fmt.Errorf("%w: write payload checksum mismatch", ErrCorrupt)

func (op *WriteOp) length() int {
	if op.Data == nil && op.Src != nil {
		return int(op.Length)
	}
	return len(op.Data)
}

// streamBlocks is how many blocks of a streamed payload are read (and then framed) at a time.
const streamBlocks = 32

// WriteMany appends several writes as consecutive records with one write call and one
// fsync (the chunk server's batched path). errs[i] is the outcome of ops[i]: a write that
// fails its checks fails alone (a streamed one still consumes its bytes from Src); a failed
// read from Src fails that write and every later streamed one; a failed write or fsync
// fails all. The writes must be to different chunks, or ordered by the caller.
func (s *Store) WriteMany(ctx context.Context, ops []WriteOp) []error {
	if len(ops) == 1 {
		if ok, err := s.writeFramedInPlace(ctx, &ops[0]); ok {
			return []error{err}
		}
	}
	errs := make([]error, len(ops))
	var hs []Header
	var offs []int
	var which []int
	size := 0
	for i := range ops {
		per := s.unit
		if ops[i].Framed {
			per = s.frame
		}
		size += HeaderSize + ops[i].length()/per*s.frame
	}
	buf, put := alignedBuf(&s.recs, size, s.nextOffset(size))
	defer put()
	buf = buf[:0]
	var pbuf *[]byte
	defer func() {
		if pbuf != nil {
			s.pieces.Put(pbuf)
		}
	}()
	var srcErr error
	for i := range ops {
		op := &ops[i]
		n := op.length()
		streamed := op.Data == nil && op.Src != nil
		if streamed && srcErr != nil {
			errs[i] = srcErr
			continue
		}
		in := s.unit // payload bytes per block
		if op.Framed {
			in = s.frame
		}
		nb, err := s.blocksOf(op.Offset, n, in)
		if err == nil {
			err = s.checkFence(op.ID, op.Version, op.Epoch)
		}
		var seq uint64
		if err == nil {
			seq, err = s.seq.next()
		}
		if err != nil {
			errs[i] = err
			if streamed {
				if _, derr := io.CopyN(io.Discard, op.Src, int64(op.Length)); derr != nil {
					srcErr = fmt.Errorf("chunk: read write payload: %w", derr)
				}
			}
			continue
		}
		h := Header{Type: RecordData, ID: op.ID, Offset: op.Offset, Length: nb * BlockSize, Version: op.Version, Epoch: op.Epoch, Seq: seq, Unit: uint32(s.unit)}
		start := len(buf)
		buf = AppendHeader(buf, h)
		buf = buf[:len(buf)+int(h.BodySize())]
		piece := streamBlocks * in
		crc := uint32(0)
		badFrame := false
		for b := 0; b < int(nb); {
			if op.Framed {
				// Frames land where they belong in the record and are checked there.
				fo := start + HeaderSize + b*s.frame
				frames := buf[fo : fo+min(piece, n-b*s.frame)]
				if streamed {
					if _, err := io.ReadFull(op.Src, frames); err != nil {
						srcErr = fmt.Errorf("chunk: read write payload: %w", err)
						break
					}
				} else {
					copy(frames, op.Data[b*s.frame:])
				}
				for k := 0; k < len(frames); k += s.frame {
					fr := frames[k : k+s.frame]
					badFrame = badFrame || !checkFrame(fr)
					if op.CheckCRC {
						crc = crc32.Update(crc, castagnoli, fr[s.unit:])
					}
				}
				b += len(frames) / s.frame
				continue
			}
			var units []byte
			if streamed {
				if pbuf == nil {
					pbuf, _ = s.pieces.Get().(*[]byte)
					if pbuf == nil || len(*pbuf) < piece {
						p := make([]byte, piece)
						pbuf = &p
					}
				}
				units = (*pbuf)[:min(piece, n-b*s.unit)]
				if _, err := io.ReadFull(op.Src, units); err != nil {
					srcErr = fmt.Errorf("chunk: read write payload: %w", err)
					break
				}
			} else {
				units = op.Data[b*s.unit : min(len(op.Data), b*s.unit+piece)]
			}
			if op.CheckCRC {
				crc = crc32.Update(crc, castagnoli, units)
			}
			for k := 0; k < len(units)/s.unit; k++ {
				fo := start + HeaderSize + (b+k)*s.frame
				putFrame(buf[fo:fo+s.frame], units[k*s.unit:(k+1)*s.unit])
			}
			b += len(units) / s.unit
		}
		switch {
		case streamed && srcErr != nil:
			errs[i] = srcErr
		case badFrame:
			errs[i] = fmt.Errorf("%w: chunk %s at %d: a block's frame checksum", ErrPayloadChecksum, op.ID, op.Offset)
		case op.CheckCRC && crc != op.CRC:
			errs[i] = fmt.Errorf("%w: chunk %s at %d", ErrPayloadChecksum, op.ID, op.Offset)
		}
		if errs[i] != nil {
			buf = buf[:start]
			continue
		}
		hs = append(hs, h)
		offs = append(offs, start)
		which = append(which, i)
	}
	if len(hs) == 0 {
		return errs
	}
	if err := s.appendRecords(ctx, hs, offs, buf); err != nil {
		for _, i := range which {
			errs[i] = err
		}
	}
	return errs
}

// nextOffset guesses the segment offset at which an append of n bytes will land (the
// record buffer is laid out for it, so that the append can be written direct).
func (s *Store) nextOffset(n int) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.active == nil || (s.active.size > 0 && s.active.size+int64(n) > s.opts.SegmentSize) {
		return 0
	}
	return s.active.size
}

func (s *Store) append(ctx context.Context, h Header, rec []byte) error {
	return s.appendRecords(ctx, []Header{h}, []int{0}, rec)
}

// appendRecords writes consecutive records (headers hs at offsets offs of buf) with one
// write call and returns once they are durable.
func (s *Store) appendRecords(ctx context.Context, hs []Header, offs []int, rec []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.amu.Lock()
	seg, off, err := s.place(len(rec))
	if err != nil {
		s.amu.Unlock()
		return err
	}
	direct, err := seg.writeRecords(rec, off)
	return s.appended(seg, off, len(rec), hs, offs, direct, err)
}

// place returns where an append of n bytes goes: the end of the active segment, rolled to
// a new one when full. Called with amu held.
func (s *Store) place(n int) (*segment, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return nil, 0, s.broken
	}
	if s.active.size > 0 && s.active.size+int64(n) > s.opts.SegmentSize {
		if err := s.roll(); err != nil {
			return nil, 0, err
		}
	}
	return s.active, s.active.size, nil
}

// appended finishes an append of n bytes placed at off of seg: with the write's outcome
// werr it publishes the records (headers hs at offsets offs of the append) in the index,
// releases amu and waits for the fsync that makes them durable. direct counts the bytes
// written with direct I/O.
func (s *Store) appended(seg *segment, off int64, n int, hs []Header, offs []int, direct int64, werr error) error {
	s.mu.Lock()
	if werr != nil {
		s.broken = fmt.Errorf("%w: write %s: %v", ErrClosed, seg.path, werr)
		s.mu.Unlock()
		s.amu.Unlock()
		return s.broken
	}
	seg.directBytes += direct
	seg.size += int64(n)
	s.total += int64(n)
	for i, h := range hs {
		s.apply(h, seg, off+int64(offs[i]))
	}
	end := seg.size
	s.mu.Unlock()
	s.amu.Unlock()
	if err := seg.syncTo(end, func() int64 { s.mu.RLock(); defer s.mu.RUnlock(); return seg.size }); err != nil {
		s.mu.Lock()
		s.broken = fmt.Errorf("%w: %v", ErrClosed, err)
		s.mu.Unlock()
		return err
	}
	return nil
}

// Info describes one chunk held by a store.
type Info struct {
	ID      ID
	Version uint64
	Epoch   uint64
	// Blocks is the number of blocks holding data (not trimmed, not never written).
	Blocks int
}

// Stat returns a chunk's info; ok is false when the store does not hold it.
func (s *Store) Stat(id ID) (Info, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.index[id]
	if st == nil {
		return Info{ID: id}, false
	}
	return st.info(id), true
}

func (st *chunkState) info(id ID) Info {
	n := 0
	for _, l := range st.blocks {
		if l.seg != nil {
			n++
		}
	}
	return Info{ID: id, Version: st.version, Epoch: st.epoch, Blocks: n}
}

// List returns every chunk the store holds, optionally only those of one volume (volume 0
// means all), sorted by ID.
func (s *Store) List(volume uint64) []Info {
	s.mu.RLock()
	out := make([]Info, 0, len(s.index))
	for id, st := range s.index {
		if volume == 0 || id.Volume == volume {
			out = append(out, st.info(id))
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID.Volume != out[j].ID.Volume {
			return out[i].ID.Volume < out[j].ID.Volume
		}
		return out[i].ID.Index < out[j].ID.Index
	})
	return out
}

// Read fills p (whole units, one per block, from byte offset off of chunk id) with the
// chunk's stored bytes; blocks never written or trimmed read as zero units. It returns the
// chunk's version. A block that fails its checksum returns an error wrapping ErrCorrupt.
func (s *Store) Read(ctx context.Context, id ID, off uint32, p []byte) (uint64, error) {
	n, err := s.blocks(off, len(p))
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	first := off / BlockSize
	for attempt := 0; ; attempt++ {
		version, err := s.readOnce(id, first, n, p)
		if errors.Is(err, errSegmentGone) && attempt < 8 {
			continue // a GC moved the blocks; look them up again
		}
		return version, err
	}
}

var errSegmentGone = errors.New("chunk: segment compacted away")

func (s *Store) readOnce(id ID, first, n uint32, p []byte) (uint64, error) {
	locs := make([]loc, n)
	s.mu.RLock()
	if s.broken != nil {
		s.mu.RUnlock()
		return 0, s.broken
	}
	st := s.index[id]
	var version uint64
	if st != nil {
		version = st.version
		for i := range locs {
			locs[i] = st.blocks[first+uint32(i)]
		}
	}
	s.mu.RUnlock()
	unit, fs := s.unit, s.frame
	frames := make([]byte, 0, fs)
	for i := uint32(0); i < n; {
		l := locs[i]
		if l.seg == nil {
			clear(p[int(i)*unit : int(i+1)*unit])
			i++
			continue
		}
		// Coalesce a run of frames that sit next to each other in one segment.
		j := i + 1
		for j < n && locs[j].seg == l.seg && locs[j].off == l.off+int64(j-i)*int64(fs) {
			j++
		}
		need := int(j-i) * fs
		if cap(frames) < need {
			frames = make([]byte, need)
		}
		frames = frames[:need]
		l.seg.rw.RLock()
		if l.seg.closed {
			l.seg.rw.RUnlock()
			return 0, errSegmentGone
		}
		_, err := l.seg.f.ReadAt(frames, l.off)
		l.seg.rw.RUnlock()
		if err != nil {
			return 0, fmt.Errorf("%w: read %s: %v", ErrCorrupt, l.seg.path, err)
		}
		for k := i; k < j; k++ {
			fr := frames[int(k-i)*fs : int(k-i+1)*fs]
			if !checkFrame(fr) {
				return 0, fmt.Errorf("%w: %w: chunk %s block %d", ErrCorrupt, ErrBlockChecksum, id, first+k)
			}
			copy(p[int(k)*unit:int(k+1)*unit], fr)
		}
		i = j
	}
	return version, nil
}

// Digest reads a whole chunk of size bytes (its range, a multiple of BlockSize), checking
// every block, and returns the SHA-256 of its stored bytes and its version: what scrub
// compares across replicas.
func (s *Store) Digest(ctx context.Context, id ID, size uint32) ([32]byte, uint64, error) {
	if size%BlockSize != 0 {
		return [32]byte{}, 0, fmt.Errorf("%w: digest of %d bytes", ErrRange, size)
	}
	buf := make([]byte, int(size/BlockSize)*s.unit)
	version, err := s.Read(ctx, id, 0, buf)
	if err != nil {
		return [32]byte{}, version, err
	}
	return sha256.Sum256(buf), version, nil
}

// Stats describe the space a store uses.
type Stats struct {
	Segments   int
	TotalBytes int64
	LiveBytes  int64
	Chunks     int
	// InPlaceAppends counts the writes appended straight from the caller's buffer, with no
	// copy into a record (see FramePhase).
	InPlaceAppends int64
}

// Stats returns the store's space use; TotalBytes-LiveBytes is what GC can reclaim.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{Segments: len(s.segs), TotalBytes: s.total, LiveBytes: s.live, Chunks: len(s.index), InPlaceAppends: s.inPlace.Load()}
}

func (s *Store) closeFiles() {
	for _, seg := range s.segs {
		seg.rw.Lock()
		if !seg.closed {
			seg.closed = true
			seg.closeDirect()
			seg.f.Close()
		}
		seg.rw.Unlock()
	}
}

// Close syncs and closes the store.
func (s *Store) Close() error {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	s.amu.Lock()
	defer s.amu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(s.broken, ErrClosed) && s.active == nil {
		return nil
	}
	var first error
	if s.active != nil {
		if err := s.active.f.Sync(); err != nil {
			first = fmt.Errorf("chunk: %w", err)
		}
	}
	s.closeFiles()
	s.aio.close()
	s.broken = ErrClosed
	s.active = nil
	return first
}

// seqReservation hands out record sequence numbers that are never reused, even across
// crashes: it persists a high-water mark (with the store identity) before handing out
// numbers below it, so a crash can skip numbers but never repeat one (records are ordered
// by them).
type seqReservation struct {
	mu       sync.Mutex
	path     string
	id       [16]byte
	next_    uint64
	reserved uint64
}

const seqBatch = 1 << 16

func (r *seqReservation) load(dir string, id *[16]byte) error {
	r.path = filepath.Join(dir, "store.id")
	b, err := os.ReadFile(r.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if _, err := rand.Read(r.id[:]); err != nil {
			return fmt.Errorf("chunk: %w", err)
		}
		r.next_ = 1
		if err := r.persist(r.next_); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("chunk: %w", err)
	default:
		if len(b) != 28 || binary.LittleEndian.Uint32(b[24:]) != crc32.Checksum(b[:24], castagnoli) {
			return fmt.Errorf("%w: %s damaged", ErrCorrupt, r.path)
		}
		copy(r.id[:], b)
		r.reserved = binary.LittleEndian.Uint64(b[16:])
		r.next_ = r.reserved // everything below may have been used before the restart
	}
	*id = r.id
	return nil
}

func (r *seqReservation) persist(upTo uint64) error {
	var b [28]byte
	copy(b[:], r.id[:])
	binary.LittleEndian.PutUint64(b[16:], upTo)
	binary.LittleEndian.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	tmp := r.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	if _, err := f.Write(b[:]); err != nil {
		f.Close()
		return fmt.Errorf("chunk: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("chunk: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	if err := syncDir(filepath.Dir(r.path)); err != nil {
		return err
	}
	r.reserved = upTo
	return nil
}

func (r *seqReservation) atLeast(n uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next_ < n {
		r.next_ = n
	}
	return nil
}

func (r *seqReservation) next() (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next_ >= r.reserved {
		if err := r.persist(r.next_ + seqBatch); err != nil {
			return 0, err
		}
	}
	n := r.next_
	r.next_++
	return n, nil
}

// Present returns a bitmap (LSB first) of the blocks of a chunk that hold data, for the
// first n blocks.
func (s *Store) Present(id ID, n uint32) []byte {
	bm := make([]byte, (n+7)/8)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st := s.index[id]; st != nil {
		for b, l := range st.blocks {
			if l.seg != nil && b < n {
				bm[b/8] |= 1 << (b % 8)
			}
		}
	}
	return bm
}

// BlockLocation returns the segment file and offset of a block's frame (for tools and
// fault-injection tests); ok is false for a block that holds no data.
func (s *Store) BlockLocation(id ID, block uint32) (path string, off int64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.index[id]
	if st == nil {
		return "", 0, false
	}
	l, found := st.blocks[block]
	if !found || l.seg == nil {
		return "", 0, false
	}
	return l.seg.path, l.off, true
}

package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/shadowless-dev/shadowless/storage"
	bolt "go.etcd.io/bbolt"
)

// ErrNoSpace is returned when the content store itself is full (as opposed to a user's
// quota). HTTP and WebDAV answer it with 507 as well.
var ErrNoSpace = errors.New("files: content store full")

var bucketBlobs = []byte("blobs")

// VolumeStore is a ContentStore on a storage.BlockDevice, such as a replicated volume:
// each blob is a list of extents of the device, and the extent map lives in bbolt (it may
// share the file center's database). Free space is not stored: it is the complement of
// the committed blobs' extents, rebuilt when the store opens, so a crash in the middle of
// an upload leaks nothing. A deleted blob's extents are trimmed and reused only after the
// last reader has closed it, so a download in progress never sees another file's bytes.
type VolumeStore struct {
	dev  storage.BlockDevice
	db   *bolt.DB
	unit int64

	// life orders Open against Delete: a blob is either found and counted as read, or
	// deleted and never opened again.
	life    sync.RWMutex
	mu      sync.Mutex
	free    []extent // sorted, coalesced
	readers map[string]int
	doomed  map[string][]extent
}

type extent struct {
	Off int64 `json:"o"`
	Len int64 `json:"l"`
}

type blobRecord struct {
	Size    int64    `json:"size"`
	Extents []extent `json:"ext"`
	Created int64    `json:"created"`
}

var _ ContentStore = (*VolumeStore)(nil)

// volumeWriteBuffer is how much a writer gathers before writing to the device: a write
// to a replicated volume is acknowledged only when durable on every replica, so fewer and
// larger writes are much faster.
const volumeWriteBuffer = 1 << 20

// NewVolumeStore returns a store on dev with its extent map in db. Space is handed out
// in multiples of 64 KiB, in extents that grow with the blob up to 8 MiB.
func NewVolumeStore(db *bolt.DB, dev storage.BlockDevice) (*VolumeStore, error) {
	v := &VolumeStore{dev: dev, db: db, unit: 64 << 10, readers: map[string]int{}, doomed: map[string][]extent{}}
	var used []extent
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketBlobs)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, val []byte) error {
			var r blobRecord
			if err := json.Unmarshal(val, &r); err != nil {
				return fmt.Errorf("files: corrupt blob record %s: %w", k, err)
			}
			used = append(used, r.Extents...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("files: volume store: %w", err)
	}
	slices.SortFunc(used, func(a, b extent) int { return cmpInt64(a.Off, b.Off) })
	size := dev.Size() / v.unit * v.unit
	pos := int64(0)
	for _, e := range used {
		if e.Off < pos || e.Off+e.Len > size {
			return nil, fmt.Errorf("files: volume store: overlapping or out-of-range extent %+v", e)
		}
		if e.Off > pos {
			v.free = append(v.free, extent{pos, e.Off - pos})
		}
		pos = e.Off + e.Len
	}
	if pos < size {
		v.free = append(v.free, extent{pos, size - pos})
	}
	return v, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FreeBytes reports the unallocated space.
func (v *VolumeStore) FreeBytes() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	var n int64
	for _, e := range v.free {
		n += e.Len
	}
	return n
}

// alloc takes up to want bytes (a multiple of unit) from the first free extent.
func (v *VolumeStore) alloc(want int64) (extent, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.free) == 0 {
		return extent{}, ErrNoSpace
	}
	// First fit of the whole request, else the largest piece available.
	best := -1
	for i, e := range v.free {
		if e.Len >= want {
			best = i
			break
		}
		if best < 0 || e.Len > v.free[best].Len {
			best = i
		}
	}
	e := v.free[best]
	got := extent{e.Off, min(want, e.Len)}
	if got.Len == e.Len {
		v.free = slices.Delete(v.free, best, best+1)
	} else {
		v.free[best] = extent{e.Off + got.Len, e.Len - got.Len}
	}
	return got, nil
}

// release returns extents to the free list, coalescing neighbours.
func (v *VolumeStore) release(exts []extent) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.free = append(v.free, exts...)
	slices.SortFunc(v.free, func(a, b extent) int { return cmpInt64(a.Off, b.Off) })
	out := v.free[:0]
	for _, e := range v.free {
		if n := len(out); n > 0 && out[n-1].Off+out[n-1].Len == e.Off {
			out[n-1].Len += e.Len
			continue
		}
		out = append(out, e)
	}
	v.free = out
}

// Create starts a new blob.
func (v *VolumeStore) Create(ctx context.Context) (ContentWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("files: content id: %w", err)
	}
	return &volumeWriter{v: v, ctx: ctx, id: hex.EncodeToString(b[:]), next: v.unit}, nil
}

type volumeWriter struct {
	v    *VolumeStore
	ctx  context.Context
	id   string
	next int64 // size of the next extent to allocate
	exts []extent
	size int64 // bytes written to the device
	buf  []byte
	err  error
	done bool
}

func (w *volumeWriter) ID() string { return w.id }

func (w *volumeWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, fmt.Errorf("%w: blob %s already finished", ErrInvalid, w.id)
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), volumeWriteBuffer-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) >= volumeWriteBuffer {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush writes the buffer to the device, allocating extents as needed.
func (w *volumeWriter) flush() error {
	data := w.buf
	for len(data) > 0 {
		var capacity int64
		for _, e := range w.exts {
			capacity += e.Len
		}
		if w.size == capacity {
			e, err := w.v.alloc(w.next)
			if err != nil {
				w.err = fmt.Errorf("files: blob %s: %w", w.id, err)
				return w.err
			}
			w.exts = append(w.exts, e)
			w.next = min(w.next*2, 8<<20)
		}
		off, room := w.locate(w.size)
		k := min(int64(len(data)), room)
		if _, err := w.v.dev.WriteAt(w.ctx, data[:k], off); err != nil {
			w.err = fmt.Errorf("files: blob %s: %w", w.id, err)
			return w.err
		}
		w.size += k
		data = data[k:]
	}
	w.buf = w.buf[:0]
	return nil
}

// trimTail gives back the allocated space past the end of the blob (rounded up to the
// allocation unit): extents grow as a blob is written, so the last one is rarely full.
func (w *volumeWriter) trimTail() {
	unit := w.v.unit
	keep := (w.size + unit - 1) / unit * unit
	var total int64
	for i, e := range w.exts {
		if total+e.Len <= keep {
			total += e.Len
			continue
		}
		used := keep - total
		spare := slices.Clone(w.exts[i+1:])
		if used == 0 {
			spare = append(spare, e)
			w.exts = w.exts[:i]
		} else {
			spare = append(spare, extent{e.Off + used, e.Len - used})
			w.exts[i].Len = used
			w.exts = w.exts[:i+1]
		}
		w.v.release(spare)
		return
	}
}

// locate maps a blob offset to a device offset and the bytes left in that extent.
func (w *volumeWriter) locate(pos int64) (int64, int64) {
	for _, e := range w.exts {
		if pos < e.Len {
			return e.Off + pos, e.Len - pos
		}
		pos -= e.Len
	}
	return 0, 0
}

func (w *volumeWriter) Commit() error {
	if w.done || w.err != nil {
		w.Abort()
		if w.err == nil {
			w.err = fmt.Errorf("%w: blob %s already finished", ErrInvalid, w.id)
		}
		return w.err
	}
	if err := w.flush(); err != nil {
		w.Abort()
		return err
	}
	w.done = true
	w.trimTail()
	rec, err := json.Marshal(blobRecord{Size: w.size, Extents: w.exts, Created: time.Now().UnixNano()})
	if err == nil {
		err = w.v.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobs).Put([]byte(w.id), rec) })
	}
	if err != nil {
		w.v.release(w.exts)
		return fmt.Errorf("files: commit blob %s: %w", w.id, err)
	}
	return nil
}

func (w *volumeWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.v.release(w.exts)
	w.exts = nil
	return nil
}

// Open opens a committed blob.
func (v *VolumeStore) Open(ctx context.Context, id string) (Content, error) {
	v.life.RLock()
	defer v.life.RUnlock()
	var rec blobRecord
	err := v.db.View(func(tx *bolt.Tx) error {
		val := tx.Bucket(bucketBlobs).Get([]byte(id))
		if val == nil {
			return fmt.Errorf("files: blob %s: %w", id, ErrNotFound)
		}
		return json.Unmarshal(val, &rec)
	})
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.readers[id]++
	v.mu.Unlock()
	return &volumeContent{v: v, ctx: ctx, id: id, rec: rec}, nil
}

// Delete removes a blob; its space is trimmed and reused once no reader has it open.
func (v *VolumeStore) Delete(ctx context.Context, id string) error {
	v.life.Lock()
	var rec blobRecord
	var found bool
	err := v.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		val := b.Get([]byte(id))
		if val == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(val, &rec); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
	if err != nil || !found {
		v.life.Unlock()
		return err
	}
	v.mu.Lock()
	if v.readers[id] > 0 {
		v.doomed[id] = rec.Extents
		v.mu.Unlock()
		v.life.Unlock()
		return nil
	}
	v.mu.Unlock()
	v.life.Unlock()
	return v.reclaim(ctx, rec.Extents)
}

func (v *VolumeStore) reclaim(ctx context.Context, exts []extent) error {
	var err error
	for _, e := range exts {
		if terr := v.dev.Trim(ctx, e.Off, e.Len); terr != nil && err == nil {
			err = fmt.Errorf("files: trim freed extent: %w", terr)
		}
	}
	v.release(exts)
	return err
}

type volumeContent struct {
	v      *VolumeStore
	ctx    context.Context
	id     string
	rec    blobRecord
	closed bool
}

func (c *volumeContent) Size() int64 { return c.rec.Size }

func (c *volumeContent) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%w: negative offset", ErrInvalid)
	}
	if off >= c.rec.Size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := c.rec.Size - off; int64(want) > rest {
		p = p[:rest]
	}
	n := 0
	pos := off
	for _, e := range c.rec.Extents {
		if n == len(p) {
			break
		}
		if pos >= e.Len {
			pos -= e.Len
			continue
		}
		k := min(int64(len(p)-n), e.Len-pos)
		if _, err := c.v.dev.ReadAt(c.ctx, p[n:n+int(k)], e.Off+pos); err != nil {
			return n, fmt.Errorf("files: blob %s: %w", c.id, err)
		}
		n += int(k)
		pos = 0
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

func (c *volumeContent) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	v := c.v
	v.mu.Lock()
	v.readers[c.id]--
	var exts []extent
	if v.readers[c.id] == 0 {
		delete(v.readers, c.id)
		exts = v.doomed[c.id]
		delete(v.doomed, c.id)
	}
	v.mu.Unlock()
	if exts != nil {
		return v.reclaim(context.Background(), exts)
	}
	return nil
}

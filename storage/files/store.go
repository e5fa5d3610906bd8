package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ContentStore keeps file contents as immutable blobs named by an ID the store chooses.
// The service never changes a blob in place: an upload writes a new blob and swaps the
// tree entry to it in one metadata transaction, so a failed or refused upload loses
// nothing. Any store of immutable blobs fits: DirStore keeps them in a local directory; a
// store on a replicated volume can allocate extents of a storage.BlockDevice instead.
type ContentStore interface {
	// Create starts a new blob. Its ID is known at once (it serves as the file's ETag).
	Create(ctx context.Context) (ContentWriter, error)
	// Open opens a committed blob for reading.
	Open(ctx context.Context, id string) (Content, error)
	// Delete removes a blob. Deleting a missing blob is not an error.
	Delete(ctx context.Context, id string) error
}

// ContentWriter receives the bytes of a new blob.
type ContentWriter interface {
	io.Writer
	// ID names the blob once committed.
	ID() string
	// Commit makes the blob durable and readable under ID.
	Commit() error
	// Abort discards the blob.
	Abort() error
}

// Content is a committed blob.
type Content interface {
	io.ReaderAt
	io.Closer
	// Size is the blob's length in bytes.
	Size() int64
}

// DirStore is a ContentStore in a local directory: one file per blob, written to a
// temporary name, fsynced and renamed into place on Commit.
type DirStore struct {
	dir string
}

var _ ContentStore = (*DirStore)(nil)

// NewDirStore returns a store in dir, creating it if needed. Blobs left half-written by
// a crash are removed, so one store directory must belong to one process.
func NewDirStore(dir string) (*DirStore, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("files: content store: %w", err)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("files: content store: %w", err)
	}
	for _, e := range left {
		if err := os.Remove(filepath.Join(tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("files: content store: removing half-written blob: %w", err)
		}
	}
	return &DirStore{dir: dir}, nil
}

func (d *DirStore) path(id string) (string, error) {
	if len(id) != 32 {
		return "", fmt.Errorf("files: bad content id %q: %w", id, ErrNotFound)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("files: bad content id %q: %w", id, ErrNotFound)
	}
	return filepath.Join(d.dir, id[:2], id), nil
}

// Create starts a new blob.
func (d *DirStore) Create(ctx context.Context) (ContentWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("files: content id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	f, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), id+"-*")
	if err != nil {
		return nil, fmt.Errorf("files: content store: %w", err)
	}
	return &dirWriter{d: d, id: id, f: f}, nil
}

// Open opens a committed blob.
func (d *DirStore) Open(ctx context.Context, id string) (Content, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := d.path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("files: content %s: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("files: content %s: %w", id, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("files: content %s: %w", id, err)
	}
	return &dirContent{File: f, size: st.Size()}, nil
}

// Delete removes a blob.
func (d *DirStore) Delete(_ context.Context, id string) error {
	p, err := d.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("files: delete content %s: %w", id, err)
	}
	return nil
}

type dirWriter struct {
	d    *DirStore
	id   string
	f    *os.File
	done bool
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.f.Write(p) }
func (w *dirWriter) ID() string                  { return w.id }

func (w *dirWriter) Commit() error {
	if w.done {
		return fmt.Errorf("files: content %s: %w", w.id, ErrInvalid)
	}
	w.done = true
	dst, _ := w.d.path(w.id)
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o700)
	}
	if err == nil {
		err = os.Rename(w.f.Name(), dst)
	}
	if err == nil {
		err = syncDir(filepath.Dir(dst))
	}
	if err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("files: commit content %s: %w", w.id, err)
	}
	return nil
}

func (w *dirWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("files: abort content %s: %w", w.id, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

type dirContent struct {
	*os.File
	size int64
}

func (c *dirContent) Size() int64 { return c.size }

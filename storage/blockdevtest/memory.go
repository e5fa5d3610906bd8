package blockdevtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/shadowless-dev/shadowless/storage"
)

const pageSize = 64 << 10

// Memory is a sparse in-memory storage.BlockDevice. It is safe for concurrent use.
type Memory struct {
	size int64

	mu      sync.RWMutex
	pages   map[int64][]byte
	flushes int
	trims   int
	zeroes  int
}

var _ storage.BlockDevice = (*Memory)(nil)

// NewMemory returns an all-zero device of size bytes.
func NewMemory(size int64) *Memory {
	return &Memory{size: size, pages: make(map[int64][]byte)}
}

// Size is the device size in bytes.
func (m *Memory) Size() int64 { return m.size }

func (m *Memory) check(off, n int64) error {
	if off < 0 || n < 0 || off > m.size || n > m.size-off {
		return fmt.Errorf("blockdevtest: [%d, +%d) of %d: %w", off, n, m.size, storage.ErrOutOfRange)
	}
	return nil
}

// ReadAt reads len(p) bytes at off.
func (m *Memory) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := m.check(off, int64(len(p))); err != nil {
		return 0, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		idx, in := pos/pageSize, int(pos%pageSize)
		n := min(len(p)-done, pageSize-in)
		if pg, ok := m.pages[idx]; ok {
			copy(p[done:done+n], pg[in:in+n])
		} else {
			clear(p[done : done+n])
		}
		done += n
	}
	return done, nil
}

// WriteAt writes p at off.
func (m *Memory) WriteAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := m.check(off, int64(len(p))); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		idx, in := pos/pageSize, int(pos%pageSize)
		n := min(len(p)-done, pageSize-in)
		pg, ok := m.pages[idx]
		if !ok {
			pg = make([]byte, pageSize)
			m.pages[idx] = pg
		}
		copy(pg[in:in+n], p[done:done+n])
		done += n
	}
	return done, nil
}

// Flush counts the call; memory writes are immediately "durable".
func (m *Memory) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	m.flushes++
	m.mu.Unlock()
	return nil
}

// Trim zeroes the range, dropping whole pages it covers.
func (m *Memory) Trim(ctx context.Context, off, length int64) error {
	if err := m.zero(ctx, off, length); err != nil {
		return err
	}
	m.mu.Lock()
	m.trims++
	m.mu.Unlock()
	return nil
}

// WriteZeroes makes the range read as zeroes.
func (m *Memory) WriteZeroes(ctx context.Context, off, length int64) error {
	if err := m.zero(ctx, off, length); err != nil {
		return err
	}
	m.mu.Lock()
	m.zeroes++
	m.mu.Unlock()
	return nil
}

func (m *Memory) zero(ctx context.Context, off, length int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.check(off, length); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for pos := off; pos < off+length; {
		idx, in := pos/pageSize, pos%pageSize
		n := min(off+length-pos, pageSize-in)
		if pg, ok := m.pages[idx]; ok {
			if in == 0 && n == pageSize {
				delete(m.pages, idx)
			} else {
				clear(pg[in : in+n])
			}
		}
		pos += n
	}
	return nil
}

// Counts reports how many Flush, Trim and WriteZeroes calls the device has received.
func (m *Memory) Counts() (flushes, trims, zeroes int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.flushes, m.trims, m.zeroes
}

// AllocatedPages reports how many 64 KiB pages hold data (trimmed pages are released).
func (m *Memory) AllocatedPages() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.pages)
}

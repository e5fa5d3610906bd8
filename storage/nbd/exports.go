package nbd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/shadowless-dev/shadowless/storage"
)

// ErrUnknownExport is returned by Exports.Lookup for a name it does not serve.
var ErrUnknownExport = errors.New("nbd: no such export")

// Export is one block device offered under a name.
type Export struct {
	// Name is what clients ask for (a volume's name).
	Name string
	// Description is a human-readable text sent on NBD_INFO_DESCRIPTION, if not empty.
	Description string
	// Device holds the bytes.
	Device storage.BlockDevice
	// ReadOnly refuses WRITE, TRIM and WRITE_ZEROES with EPERM.
	ReadOnly bool
}

// Exports tells the server which exports exist. Lookup is called once per connection when
// the client picks an export; an implementation backed by volumes can create and delete
// exports at any time.
type Exports interface {
	// Lookup returns the named export, or an error wrapping ErrUnknownExport.
	Lookup(ctx context.Context, name string) (Export, error)
	// List returns the names of all exports, for NBD_OPT_LIST.
	List(ctx context.Context) ([]string, error)
}

// ExportSet is a concurrency-safe, mutable Exports.
type ExportSet struct {
	mu sync.RWMutex
	m  map[string]Export
}

var _ Exports = (*ExportSet)(nil)

// NewExportSet returns a set holding the given exports.
func NewExportSet(exports ...Export) *ExportSet {
	s := &ExportSet{m: make(map[string]Export, len(exports))}
	for _, e := range exports {
		s.m[e.Name] = e
	}
	return s
}

// Add adds or replaces an export. Connections already using the old one keep it.
func (s *ExportSet) Add(e Export) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[e.Name] = e
}

// Remove removes an export from the set; new connections can no longer pick it.
func (s *ExportSet) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, name)
}

// Lookup returns the named export.
func (s *ExportSet) Lookup(_ context.Context, name string) (Export, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.m[name]
	if !ok {
		return Export{}, fmt.Errorf("%w: %q", ErrUnknownExport, name)
	}
	return e, nil
}

// List returns the export names in sorted order.
func (s *ExportSet) List(context.Context) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.m))
	for n := range s.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// ExportFuncs adapts two functions to Exports, e.g. to serve a cluster's volumes without
// keeping a second list of them:
//
//	nbd.ExportFuncs{
//		LookupFunc: func(ctx context.Context, name string) (nbd.Export, error) {
//			v, err := cluster.Volume(ctx, name)
//			if err != nil {
//				return nbd.Export{}, fmt.Errorf("%w: %w", nbd.ErrUnknownExport, err)
//			}
//			return nbd.Export{Name: name, Device: v}, nil
//		},
//		ListFunc: cluster.VolumeNames,
//	}
type ExportFuncs struct {
	LookupFunc func(ctx context.Context, name string) (Export, error)
	ListFunc   func(ctx context.Context) ([]string, error)
}

var _ Exports = ExportFuncs{}

// Lookup calls LookupFunc.
func (f ExportFuncs) Lookup(ctx context.Context, name string) (Export, error) {
	return f.LookupFunc(ctx, name)
}

// List calls ListFunc, or lists nothing if it is nil.
func (f ExportFuncs) List(ctx context.Context) ([]string, error) {
	if f.ListFunc == nil {
		return nil, nil
	}
	return f.ListFunc(ctx)
}

//go:build !linux

package chunk

import "os"

// openDirect returns nil: direct I/O is used on Linux only.
func openDirect(string) *os.File { return nil }

// aioSyncer is Linux-only; elsewhere a nil one fsyncs directly.
type aioSyncer struct{}

func newAIOSyncer() *aioSyncer { return nil }

func (a *aioSyncer) fsync(f *os.File) error { return f.Sync() }

func (a *aioSyncer) close() {}

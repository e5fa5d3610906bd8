package storage

import (
	"context"
	"errors"
)

// BlockDevice is a linear, byte-addressed disk: what a volume offers to its exports (NBD) and
// what they need of it. A write that returns without error is durable on every replica, so
// a separate flush or FUA adds no guarantee beyond ordering.
type BlockDevice interface {
	// Size is the device size in bytes.
	Size() int64
	// ReadAt reads len(p) bytes at off; reading past Size is an error.
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	// WriteAt writes p at off, returning only when the bytes are durable.
	WriteAt(ctx context.Context, p []byte, off int64) (int, error)
	// Flush returns when every write acknowledged before it is durable.
	Flush(ctx context.Context) error
	// Trim tells the device the range's contents are no longer needed; later reads of it
	// return zeroes.
	Trim(ctx context.Context, off, length int64) error
	// WriteZeroes makes the range read as zeroes.
	WriteZeroes(ctx context.Context, off, length int64) error
}

// ErrOutOfRange is returned for an access beyond the end of a device.
var ErrOutOfRange = errors.New("storage: access beyond the end of the device")

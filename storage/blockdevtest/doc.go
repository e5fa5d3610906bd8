// Package blockdevtest offers an in-memory storage.BlockDevice for tests, examples and
// benchmarks of the exports (NBD) that sit on top of volumes. It keeps its bytes in sparse
// 64 KiB pages, so a large device costs memory only for what was written, and it counts the
// calls it receives so tests can assert what an export asked of its device.
package blockdevtest

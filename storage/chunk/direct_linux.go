package chunk

import (
	"os"
	"syscall"
)

// openDirect opens a segment file a second time for writes that bypass the page cache
// (O_DIRECT). It returns nil when the file system does not support that (tmpfs, some
// overlay and network file systems), and the store writes through the page cache only.
func openDirect(path string) *os.File {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}

package msc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shadowless-dev/shadowless/device/msc"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

// Read the capacity and the first block of a virtual drive through bulk-only transport.
func ExampleClient() {
	dir, _ := os.MkdirTemp("", "msc")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "disk.img")
	_ = os.WriteFile(path, append([]byte("hello, block zero"), make([]byte, 1<<20)...), 0o600)
	drive, closeFile, err := virtual.OpenStorageFile(path, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeFile()

	c, err := msc.NewClient(drive)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	blocks, size, _ := c.Capacity(ctx)
	buf := make([]byte, 512)
	_ = c.ReadBlocks(ctx, 0, buf, 512)
	fmt.Println(blocks, size, string(buf[:17]))
	// Output: 2048 512 hello, block zero
}

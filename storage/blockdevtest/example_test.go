package blockdevtest_test

import (
	"context"
	"fmt"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
)

// A sparse 1 GiB disk that costs memory only for what is written to it.
func ExampleNewMemory() {
	ctx := context.Background()
	disk := blockdevtest.NewMemory(1 << 30)
	disk.WriteAt(ctx, []byte("boot sector"), 0)
	disk.WriteAt(ctx, []byte("far away"), 1<<29)
	fmt.Println("pages in use:", disk.AllocatedPages())

	disk.Trim(ctx, 1<<29, 64<<10)
	buf := make([]byte, 8)
	disk.ReadAt(ctx, buf, 1<<29)
	fmt.Printf("after trim: %q, pages in use: %d\n", buf, disk.AllocatedPages())
	// Output:
	// pages in use: 2
	// after trim: "\x00\x00\x00\x00\x00\x00\x00\x00", pages in use: 1
}

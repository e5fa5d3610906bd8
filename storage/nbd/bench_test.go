package nbd

import (
	"context"
	"fmt"
	"testing"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/require"
)

// BenchmarkThroughput measures NBD reads and writes over loopback TCP against an in-memory
// device, with 1 MiB sequential and 4 KiB random-ish requests at queue depth 8, next to the
// same I/O made directly on the device (the baseline: the cost of NBD itself is the gap).
func BenchmarkThroughput(b *testing.B) {
	const devSize = 256 << 20
	for _, bs := range []int{4 << 10, 1 << 20} {
		for _, op := range []string{"write", "read"} {
			name := fmt.Sprintf("%s/%dKiB", op, bs>>10)
			b.Run("direct/"+name, func(b *testing.B) {
				mem := blockdevtest.NewMemory(devSize)
				buf := make([]byte, bs)
				ctx := context.Background()
				b.SetBytes(int64(bs))
				for i := 0; b.Loop(); i++ {
					off := offsetFor(i, bs, devSize)
					var err error
					if op == "write" {
						_, err = mem.WriteAt(ctx, buf, off)
					} else {
						_, err = mem.ReadAt(ctx, buf, off)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("nbd/"+name, func(b *testing.B) {
				mem := blockdevtest.NewMemory(devSize)
				addr := startServer(b, NewExportSet(Export{Name: "default", Device: mem}))
				c := dial(b, addr, "default")
				payload := make([]byte, bs)
				const depth = 8
				window := make(chan (<-chan reply), depth)
				drain := func() {
					rep := <-<-window
					if rep.errno != 0 {
						b.Fatalf("errno %d", rep.errno)
					}
				}
				b.SetBytes(int64(bs))
				b.ResetTimer()
				for i := range b.N {
					req := Request{Type: CmdRead, Offset: uint64(offsetFor(i, bs, devSize)), Length: uint32(bs)}
					var p []byte
					if op == "write" {
						req.Type, p = CmdWrite, payload
					}
					if len(window) == depth {
						drain()
					}
					ch, err := c.send(req, p)
					require.NoError(b, err)
					window <- ch
				}
				for len(window) > 0 {
					drain()
				}
			})
		}
	}
}

// offsetFor spreads 4 KiB requests over the device and makes large ones sequential.
func offsetFor(i, bs int, devSize int64) int64 {
	blocks := devSize / int64(bs)
	if bs >= 1<<20 {
		return int64(i) % blocks * int64(bs)
	}
	return (int64(i) * 7919) % blocks * int64(bs)
}

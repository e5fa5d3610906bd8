package usbip_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device/msc"
	"github.com/shadowless-dev/shadowless/device/usbip"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

type memDisk struct{ b []byte }

func (m *memDisk) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, errors.New("out of range")
	}
	return copy(p, m.b[off:]), nil
}
func (m *memDisk) WriteAt(p []byte, off int64) (int, error) { return copy(m.b[off:], p), nil }

// BenchmarkStorageReadLoopback reads a virtual drive through our USB/IP server and client
// over loopback TCP (4 MiB READ(10), 256 KiB URBs pipelined), for comparison with usbredir
// and with published user-space USB/IP numbers (40-86 MB/s).
func BenchmarkStorageReadLoopback(b *testing.B) {
	disk := &memDisk{b: make([]byte, 64<<20)}
	srv := usbip.NewServer()
	id := srv.Export(virtual.NewMassStorage(disk, disk, int64(len(disk.b))))
	addr := serve(b, srv)
	r, err := usbip.Import(context.Background(), dial(b, addr), id)
	require.NoError(b, err)
	defer r.Close()
	cl, err := msc.NewClient(r)
	require.NoError(b, err)
	size := 4 << 20
	buf := make([]byte, size)
	ctx := context.Background()
	b.SetBytes(int64(size))
	for i := 0; b.Loop(); i++ {
		lba := uint32((i * size / 512) % (64<<20/512 - size/512))
		if err := cl.ReadBlocks(ctx, lba, buf, 512); err != nil {
			b.Fatal(err)
		}
	}
}

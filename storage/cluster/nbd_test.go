package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/internal/testenv"
	"github.com/shadowless-dev/shadowless/storage/nbd"
)

// TestQemuIOThroughReplicatedVolume drives the replicated volume the way a VM does: qemu-io
// over our NBD export writes and reads patterns (unaligned, across chunks, discard, write
// zeroes, FUA), and then every replica holds the same bytes.
func TestQemuIOThroughReplicatedVolume(t *testing.T) {
	bin := testenv.LookPath(t, "qemu-io")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := startLocal(t, t.TempDir(), 3)
	defer l.Close()
	m := l.Manager
	exports := nbd.ExportFuncs{
		LookupFunc: func(_ context.Context, name string) (nbd.Export, error) {
			v, err := m.OpenVolume(name)
			if err != nil {
				return nbd.Export{}, fmt.Errorf("%w: %w", nbd.ErrUnknownExport, err)
			}
			return nbd.Export{Name: name, Device: v}, nil
		},
		ListFunc: m.VolumeNames,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- nbd.NewServer(exports, nbd.WithLogger(quietLogger())).Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	args := []string{"-f", "raw"}
	for _, c := range []string{
		"write -P 0xab 0 256k",
		"write -P 0xcd 65000 70000", // unaligned, crosses the first chunk boundary (64 KiB)
		"read -P 0xab 0 65000",
		"read -P 0xcd 65000 70000",
		"discard 196608 65536",
		"read -P 0 196608 65536",
		"write -z 135000 10000",
		"read -P 0 135000 10000",
		"write -f -P 0x5a 512k 64k",
		"flush",
		"read -P 0x5a 512k 64k",
	} {
		args = append(args, "-c", c)
	}
	args = append(args, "nbd://"+ln.Addr().String()+"/default")
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "qemu-io: %s", out)
	require.NotContains(t, string(out), "Pattern verification failed", "%s", out)
	assert.Contains(t, string(out), "wrote 70000/70000 bytes at offset 65000")

	want := make([]byte, 1<<20)
	copy(want, bytes.Repeat([]byte{0xab}, 256<<10))
	copy(want[65000:], bytes.Repeat([]byte{0xcd}, 70000))
	clear(want[196608 : 196608+65536])
	clear(want[135000 : 135000+10000])
	copy(want[512<<10:], bytes.Repeat([]byte{0x5a}, 64<<10))
	vol, err := m.OpenVolume("default")
	require.NoError(t, err)
	got := make([]byte, 1<<20)
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "volume differs from what qemu-io wrote")
	res, err := m.Scrub(ctx, "default")
	require.NoError(t, err)
	assert.Positive(t, res.Chunks)
	assert.Zero(t, res.Mismatches, "replicas disagree")
}

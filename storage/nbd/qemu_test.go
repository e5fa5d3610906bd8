package nbd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shadowless-dev/shadowless/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// qemuIO runs qemu-io against url with the given commands and returns its output. It fails
// the test when qemu-io reports an error or a pattern mismatch.
func qemuIO(t *testing.T, bin, url string, extra []string, cmds ...string) string {
	t.Helper()
	args := append([]string{"-f", "raw"}, extra...)
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	args = append(args, url)
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "qemu-io %v: %s", cmds, out)
	s := string(out)
	require.NotContains(t, s, "Pattern verification failed", "qemu-io %v", cmds)
	return s
}

func TestQemuIO(t *testing.T) {
	bin := testenv.LookPath(t, "qemu-io")
	mem, def := memExport("default", 4<<20, false)
	_, ro := memExport("ro", 1<<20, true)
	addr := startServer(t, NewExportSet(def, ro))
	url := "nbd://" + addr + "/default"

	out := qemuIO(t, bin, url, nil,
		"write -P 0xab 0 1M",
		"read -P 0xab 0 1M",
		// unaligned offsets and lengths
		"write -P 0xcd 4097 12345",
		"read -P 0xab 0 4097",
		"read -P 0xcd 4097 12345",
		"read -P 0xab 16442 1032134",
		// discard (TRIM), write zeroes with and without unmap, FUA, flush
		"discard 65536 65536",
		"read -P 0 65536 65536",
		"write -z 131072 65536",
		"read -P 0 131072 65536",
		"write -z -u 196608 65536",
		"read -P 0 196608 65536",
		"write -f -P 0x5a 3M 64k",
		"flush",
		"read -P 0x5a 3M 64k",
		"read -P 0 4194303 1",
	)
	assert.Contains(t, out, "wrote 1048576/1048576 bytes at offset 0")
	assert.Contains(t, out, "read 1048576/1048576 bytes at offset 0")
	assert.Contains(t, out, "wrote 12345/12345 bytes at offset 4097")
	assert.Contains(t, out, "read 12345/12345 bytes at offset 4097")
	assert.Contains(t, out, "discard 65536/65536 bytes at offset 65536")
	assert.Contains(t, out, "wrote 65536/65536 bytes at offset 131072")
	assert.Contains(t, out, "read 1/1 bytes at offset 4194303")

	// What qemu-io wrote is in the device, byte for byte.
	ctx := context.Background()
	got := make([]byte, 4<<20)
	_, err := mem.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	want := make([]byte, 4<<20)
	copy(want, bytes.Repeat([]byte{0xab}, 1<<20))
	copy(want[4097:], bytes.Repeat([]byte{0xcd}, 12345))
	clear(want[65536 : 4*65536])
	copy(want[3<<20:], bytes.Repeat([]byte{0x5a}, 64<<10))
	require.True(t, bytes.Equal(want, got), "device contents differ from what qemu-io wrote")
	flushes, trims, zeroes := mem.Counts()
	assert.GreaterOrEqual(t, flushes, 2, "FUA and flush reach the device")
	assert.GreaterOrEqual(t, trims, 2, "discard and write -z -u punch holes")
	assert.GreaterOrEqual(t, zeroes, 1, "write -z without unmap writes zeroes (NO_HOLE)")

	// A pattern mismatch is detected (the check above can fail).
	raw, _ := exec.Command(bin, "-f", "raw", "-c", "read -P 0x11 0 4k", url).CombinedOutput()
	assert.Contains(t, string(raw), "Pattern verification failed")

	// Read-only export: reads pass, writes are refused.
	roURL := "nbd://" + addr + "/ro"
	out = qemuIO(t, bin, roURL, []string{"-r"}, "read -P 0 0 64k")
	assert.Contains(t, out, "read 65536/65536 bytes at offset 0")
	raw, _ = exec.Command(bin, "-f", "raw", "-c", "write -P 1 0 4k", roURL).CombinedOutput()
	assert.NotContains(t, string(raw), "wrote 4096/4096")

	// Unknown export.
	raw, err = exec.Command(bin, "-f", "raw", "-c", "read 0 1", "nbd://"+addr+"/nope").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(raw), "nope")
}

func TestQemuImg(t *testing.T) {
	bin := testenv.LookPath(t, "qemu-img")
	mem, def := memExport("default", 8<<20, false)
	addr := startServer(t, NewExportSet(def))
	url := "nbd://" + addr + "/default"
	dir := t.TempDir()

	out, err := exec.Command(bin, "info", "--output=human", url).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Regexp(t, regexp.MustCompile(`virtual size: 8 MiB \(8388608 bytes\)`), string(out))

	// Convert a local image into the export, then the export back out to a file.
	src := filepath.Join(dir, "src.raw")
	img := make([]byte, 8<<20)
	for i := range img {
		img[i] = byte(i*7 + i/4096)
	}
	clear(img[1<<20 : 2<<20]) // a run of zeroes, which qemu-img sends as WRITE_ZEROES
	require.NoError(t, os.WriteFile(src, img, 0o600))
	// -m 8 -W: eight coroutines writing out of order, many requests in flight at once.
	out, err = exec.Command(bin, "convert", "-n", "-m", "8", "-W", "-f", "raw", "-O", "raw", src, url).CombinedOutput()
	require.NoError(t, err, "%s", out)
	got := make([]byte, len(img))
	_, err = mem.ReadAt(context.Background(), got, 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, got), "export contents differ from the converted image")

	dst := filepath.Join(dir, "dst.raw")
	out, err = exec.Command(bin, "convert", "-f", "raw", "-O", "raw", url, dst).CombinedOutput()
	require.NoError(t, err, "%s", out)
	back, err := os.ReadFile(dst)
	require.NoError(t, err)
	require.True(t, bytes.Equal(img, back), "converted-out image differs")

	out, err = exec.Command(bin, "compare", "-f", "raw", "-F", "raw", src, url).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.True(t, strings.Contains(string(out), "Images are identical"), "%s", out)
}

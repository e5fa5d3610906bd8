package usbredir_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// hmp sends one command to QEMU's human monitor on a unix socket and returns its output.
func hmp(t *testing.T, sock, cmd string) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	readPrompt := func() string {
		var sb strings.Builder
		for !strings.HasSuffix(sb.String(), "(qemu) ") {
			b, err := r.ReadByte()
			if err != nil {
				break
			}
			sb.WriteByte(b)
		}
		return sb.String()
	}
	readPrompt()
	_, err = fmt.Fprintf(c, "%s\n", cmd)
	require.NoError(t, err)
	out := readPrompt()
	// Drop the echoed command line and the prompt, and terminal escapes.
	out = strings.TrimSuffix(out, "(qemu) ")
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.LastIndex(l, "\x1b[D"); i >= 0 {
			l = l[i+3:]
		}
		if l != "" && !strings.Contains(l, cmd) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

type served struct {
	stats usbredir.Stats
	mu    sync.Mutex
	reqs  []device.Setup
}

func (s *served) hook(setup device.Setup, _ device.Status) {
	s.mu.Lock()
	s.reqs = append(s.reqs, setup)
	s.mu.Unlock()
}

func (s *served) requests() []device.Setup {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]device.Setup(nil), s.reqs...)
}

// TestQEMUInterop exports a virtual keyboard and a virtual USB drive to QEMU's usb-redir
// (QEMU is the usb-guest, connecting to our listeners). SeaBIOS enumerates both on xHCI:
// it reads descriptors, configures them, and drives the drive with SCSI commands.
func TestQEMUInterop(t *testing.T) {
	qemu := testenv.LookPath(t, "qemu-system-x86_64")
	dir := t.TempDir()

	kb := virtual.NewKeyboard()
	diskPath := filepath.Join(dir, "disk.img")
	require.NoError(t, os.WriteFile(diskPath, make([]byte, 1<<20), 0o600))
	ms, closeDisk, err := virtual.OpenStorageFile(diskPath, false)
	require.NoError(t, err)
	defer closeDisk()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type export struct {
		ln  net.Listener
		dev device.Device
		s   *served
		err chan error
	}
	var exports []*export
	for _, dev := range []device.Device{kb, ms} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		e := &export{ln: ln, dev: dev, s: &served{}, err: make(chan error, 1)}
		exports = append(exports, e)
		go func() {
			c, err := ln.Accept()
			ln.Close()
			if err != nil {
				e.err <- err
				return
			}
			e.err <- usbredir.Serve(ctx, c, e.dev, usbredir.WithStats(&e.s.stats), usbredir.WithControlHook(e.s.hook))
		}()
	}

	mon := filepath.Join(dir, "mon.sock")
	args := []string{"-M", "q35", "-accel", "tcg", "-m", "128", "-nodefaults", "-display", "none",
		"-monitor", "unix:" + mon + ",server=on,wait=off", "-boot", "menu=on,splash-time=10000",
		"-device", "qemu-xhci,id=xhci"}
	for i, e := range exports {
		args = append(args,
			"-chardev", fmt.Sprintf("socket,id=usbredir%d,host=127.0.0.1,port=%d", i, e.ln.Addr().(*net.TCPAddr).Port),
			"-device", fmt.Sprintf("usb-redir,chardev=usbredir%d,bus=xhci.0,id=redir%d", i, i))
	}
	cmd := exec.CommandContext(ctx, qemu, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Logf("qemu stderr: %s", stderr.String())
	}()

	// Wait until SeaBIOS configured both devices and read a block of the drive.
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if exports[0].s.stats.InterruptStarts.Load() > 0 && exports[0].s.stats.Interrupt.Load() == 0 {
			// SeaBIOS polls the keyboard (boot menu prompt): press a key.
			require.NoError(t, kb.Type(ctx, "x"))
		}
		if exports[0].s.stats.SetConfiguration.Load() > 0 && exports[0].s.stats.Interrupt.Load() > 0 &&
			exports[1].s.stats.SetConfiguration.Load() > 0 && exports[1].s.stats.BulkBytes.Load() >= 512 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, e := range exports {
		reqs := e.s.requests()
		t.Logf("device %d: control=%d get_descriptor=%d set_configuration=%d resets=%d bulk=%d bulk_bytes=%d interrupt_starts=%d interrupt=%d",
			i, e.s.stats.Control.Load(), e.s.stats.GetDescriptor.Load(), e.s.stats.SetConfiguration.Load(), e.s.stats.Reset.Load(),
			e.s.stats.Bulk.Load(), e.s.stats.BulkBytes.Load(), e.s.stats.InterruptStarts.Load(), e.s.stats.Interrupt.Load())
		for _, r := range reqs {
			t.Logf("  device %d request type=%#02x req=%#02x value=%#04x index=%d len=%d", i, r.RequestType, r.Request, r.Value, r.Index, r.Length)
		}
		assert.GreaterOrEqual(t, e.s.stats.GetDescriptor.Load(), int64(2), "device %d: descriptors read", i)
		assert.GreaterOrEqual(t, e.s.stats.SetConfiguration.Load(), int64(1), "device %d: configured", i)
	}
	assert.GreaterOrEqual(t, exports[1].s.stats.BulkBytes.Load(), int64(512), "SeaBIOS read the drive through bulk-only transport")
	assert.Positive(t, exports[0].s.stats.InterruptStarts.Load(), "QEMU started interrupt receiving on the keyboard")
	assert.Positive(t, exports[0].s.stats.Interrupt.Load(), "a key report reached QEMU")

	info := hmp(t, mon, "info usb")
	t.Logf("info usb:\n%s", info)
	// QEMU names every redirected device "USB Redirection Device"; the speed is ours.
	assert.Regexp(t, `Speed 12 Mb/s, Product USB Redirection Device, ID: redir0`, info, "keyboard attached at full speed")
	assert.Regexp(t, `Speed 480 Mb/s, Product USB Redirection Device, ID: redir1`, info, "drive attached at high speed")

	// SeaBIOS's HID driver put the keyboard in boot protocol; its USB-MSC driver asked
	// for the LUN count: class requests we served.
	assert.True(t, hasRequest(exports[0].s.requests(), 0x21, 0x0B), "SET_PROTOCOL served")
	assert.True(t, hasRequest(exports[1].s.requests(), 0xA1, 0xFE), "GET_MAX_LUN served")
}

func hasRequest(reqs []device.Setup, typ, req uint8) bool {
	for _, r := range reqs {
		if r.RequestType == typ && r.Request == req {
			return true
		}
	}
	return false
}

// TestQEMUServerChardev is the other direction: QEMU listens (chardev server on a unix
// socket) and our usb-host side connects to it, as `shadowless usb export
// --usbredir-connect` does.
func TestQEMUServerChardev(t *testing.T) {
	qemu := testenv.LookPath(t, "qemu-system-x86_64")
	dir := t.TempDir()
	sock := filepath.Join(dir, "redir.sock")
	mon := filepath.Join(dir, "mon.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-M", "q35", "-accel", "tcg", "-m", "128", "-nodefaults", "-display", "none",
		"-monitor", "unix:"+mon+",server=on,wait=off",
		"-device", "qemu-xhci,id=xhci",
		"-chardev", "socket,id=usbredir0,path="+sock+",server=on,wait=off",
		"-device", "usb-redir,chardev=usbredir0,bus=xhci.0,id=redir0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("qemu stderr: %s", stderr.String())
		}
	}()
	var c net.Conn
	var err error
	for range 100 {
		if c, err = net.Dial("unix", sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, err, "QEMU's chardev socket")

	kb := virtual.NewKeyboard()
	var stats usbredir.Stats
	served := make(chan error, 1)
	go func() { served <- usbredir.Serve(ctx, c, kb, usbredir.WithStats(&stats)) }()
	for ctx.Err() == nil && stats.SetConfiguration.Load() == 0 {
		time.Sleep(100 * time.Millisecond)
	}
	assert.GreaterOrEqual(t, stats.GetDescriptor.Load(), int64(2))
	assert.Positive(t, stats.SetConfiguration.Load())
	info := hmp(t, mon, "info usb")
	assert.Regexp(t, `Speed 12 Mb/s, Product USB Redirection Device, ID: redir0`, info)
	cancel()
	<-served
}

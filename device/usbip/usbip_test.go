package usbip_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/msc"
	"github.com/shadowless-dev/shadowless/device/usbip"
	"github.com/shadowless-dev/shadowless/device/virtual"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs srv on a loopback listener for the test's lifetime.
func serve(t testing.TB, srv *usbip.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = srv.Serve(ctx, ln)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

func dial(t testing.TB, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	return c
}

func newDisk(t testing.TB, size int) (*virtual.MassStorage, string, []byte) {
	data := make([]byte, size)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	ms, closeFile, err := virtual.OpenStorageFile(path, false)
	require.NoError(t, err)
	t.Cleanup(func() { closeFile() })
	return ms, path, data
}

func TestListAndImportStorage(t *testing.T) {
	srv := usbip.NewServer()
	ms, path, orig := newDisk(t, 2<<20)
	kb := virtual.NewKeyboard()
	idMS := srv.Export(ms)
	idKB := srv.Export(kb)
	addr := serve(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	devs, err := usbip.ListDevices(ctx, dial(t, addr))
	require.NoError(t, err)
	require.Len(t, devs, 2)
	assert.Equal(t, idMS, devs[0].BusID)
	assert.Equal(t, uint16(0x0106), devs[0].Product)
	assert.Equal(t, device.SpeedHigh, devs[0].Speed)
	require.Len(t, devs[0].Interfaces, 1)
	assert.Equal(t, usbip.InterfaceInfo{Class: 8, SubClass: 6, Protocol: 0x50}, devs[0].Interfaces[0])
	assert.Equal(t, idKB, devs[1].BusID)

	r, err := usbip.Import(ctx, dial(t, addr), idMS)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, "Shadowless Virtual Storage", r.Descriptors().Product())

	// A second import of the same device is refused while the first holds it.
	_, err = usbip.Import(ctx, dial(t, addr), idMS)
	require.ErrorIs(t, err, device.ErrNoDevice)

	require.NoError(t, r.SetConfiguration(ctx, 1))
	c, err := msc.NewClient(r)
	require.NoError(t, err)
	blocks, _, err := c.Capacity(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2<<20/512), blocks)
	buf := make([]byte, 512<<10)
	require.NoError(t, c.ReadBlocks(ctx, 10, buf, 512))
	assert.True(t, bytes.Equal(orig[10*512:10*512+len(buf)], buf))
	w := bytes.Repeat([]byte("usbip!"), 512*10/6+1)[:512*10]
	require.NoError(t, c.WriteBlocks(ctx, 3, w, 512))
	onDisk, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, w, onDisk[3*512:3*512+len(w)])
	require.NoError(t, r.Reset(ctx))
	require.NoError(t, c.TestUnitReady(ctx))
}

func TestKeyboardISOAndUnlink(t *testing.T) {
	srv := usbip.NewServer()
	kb := virtual.NewKeyboard()
	lb := virtual.NewLoopback()
	idKB := srv.Export(kb)
	idLB := srv.Export(lb)
	addr := serve(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	rk, err := usbip.Import(ctx, dial(t, addr), idKB)
	require.NoError(t, err)
	defer rk.Close()
	require.NoError(t, kb.Type(ctx, "ok"))
	var typed string
	for len(typed) < 2 {
		u := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
		require.NoError(t, rk.Submit(ctx, u))
		typed += virtual.DecodeReport(u.Data[:u.Actual])
	}
	assert.Equal(t, "ok", typed)
	release := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
	require.NoError(t, rk.Submit(ctx, release))
	assert.Equal(t, make([]byte, 8), release.Data, "key release report")

	// Unlink: an interrupt IN with nothing to report is cancelled by the context.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	u := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
	err = rk.Submit(short, u)
	cancelShort()
	require.ErrorIs(t, err, device.ErrCancelled)
	require.NoError(t, kb.Type(ctx, "x"))
	u = &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
	require.NoError(t, rk.Submit(ctx, u))
	assert.Equal(t, "x", virtual.DecodeReport(u.Data[:u.Actual]), "the unlinked URB did not eat the report")

	rl, err := usbip.Import(ctx, dial(t, addr), idLB)
	require.NoError(t, err)
	defer rl.Close()
	require.NoError(t, rl.SetAltSetting(ctx, 1, 1))
	lengths := []int{5, 0, 700, 1}
	out := &device.URB{Type: device.Isochronous, Endpoint: virtual.LoopISOOut}
	for i, l := range lengths {
		out.ISO = append(out.ISO, device.ISOPacket{Length: l})
		out.Data = append(out.Data, bytes.Repeat([]byte{byte('0' + i)}, l)...)
	}
	require.NoError(t, rl.Submit(ctx, out))
	in := &device.URB{Type: device.Isochronous, Endpoint: virtual.LoopISOIn, ISO: make([]device.ISOPacket, 4), Data: make([]byte, 4*1024)}
	for i := range in.ISO {
		in.ISO[i].Length = 1024
	}
	require.NoError(t, rl.Submit(ctx, in))
	for i, l := range lengths {
		assert.Equal(t, l, in.ISO[i].Actual)
		off := in.ISOOffset(i)
		assert.Equal(t, bytes.Repeat([]byte{byte('0' + i)}, l), in.Data[off:off+l])
	}
}

func TestUnplugEndsImport(t *testing.T) {
	srv := usbip.NewServer()
	kb := virtual.NewKeyboard()
	id := srv.Export(kb)
	addr := serve(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := usbip.Import(ctx, dial(t, addr), id)
	require.NoError(t, err)
	defer r.Close()
	errs := make(chan error, 1)
	go func() {
		errs <- r.Submit(ctx, &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)})
	}()
	time.Sleep(50 * time.Millisecond)
	kb.Unplug()
	select {
	case err := <-errs:
		require.ErrorIs(t, err, device.ErrNoDevice)
	case <-ctx.Done():
		t.Fatal("pending URB hung after unplug")
	}
	<-r.Done()
	// The unplugged device is no longer listed.
	devs, err := usbip.ListDevices(ctx, dial(t, addr))
	require.NoError(t, err)
	assert.Empty(t, devs)
}

func TestMalformedCommandClosesConnection(t *testing.T) {
	srv := usbip.NewServer()
	kb := virtual.NewKeyboard()
	id := srv.Export(kb)
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(context.Background(), b) }()
	req := []byte{0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0}
	var busid [32]byte
	copy(busid[:], id)
	go func() {
		_, _ = a.Write(append(req, busid[:]...))
		// A CMD_SUBMIT claiming a 1 GiB transfer.
		h := make([]byte, 48)
		h[3] = 1
		h[24], h[25] = 0x40, 0
		_, _ = a.Write(h)
	}()
	reply := make([]byte, 8+312)
	_, err := ioReadFull(a, reply)
	require.NoError(t, err)
	select {
	case err := <-done:
		require.ErrorIs(t, err, usbip.ErrProtocol)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not reject the malformed command")
	}
	a.Close()
	// The device was released: it can be imported again.
	addr := serve(t, srv)
	r, err := usbip.Import(context.Background(), dial(t, addr), id)
	require.NoError(t, err)
	r.Close()
}

func ioReadFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestLinuxUsbipList runs Debian's usbip client against our server.
func TestLinuxUsbipList(t *testing.T) {
	bin := testenv.LookPath(t, "usbip")
	srv := usbip.NewServer()
	ms, _, _ := newDisk(t, 64<<10)
	idMS := srv.Export(ms)
	idKB := srv.Export(virtual.NewKeyboard())
	addr := serve(t, srv)
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--tcp-port", port, "list", "-r", "127.0.0.1").CombinedOutput()
	t.Logf("usbip list -r:\n%s", out)
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, idMS+": ")
	assert.Contains(t, s, idKB+": ")
	assert.Contains(t, s, "1d6b:0106")
	assert.Contains(t, s, "1d6b:0104")
	assert.Regexp(t, `Mass Storage.*SCSI.*Bulk-Only|08/06/50`, s)
	assert.Regexp(t, `Human Interface Device|03/01/01`, s)
	_ = strconv.Itoa
}

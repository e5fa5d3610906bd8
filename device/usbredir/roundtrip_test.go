package usbredir_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/msc"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// session serves dev on one end of a loopback TCP connection and returns the Remote at the
// other end, plus a channel with Serve's result.
func session(t testing.TB, dev device.Device, hostOpts []usbredir.Option, guestOpts ...usbredir.Option) (*usbredir.Remote, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			served <- err
			return
		}
		served <- usbredir.Serve(ctx, c, dev, hostOpts...)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r, err := usbredir.NewRemote(context.Background(), c, guestOpts...)
	if err != nil {
		cancel()
		<-served
		require.NoError(t, err)
	}
	var serveErr error
	finished := make(chan struct{})
	go func() {
		serveErr = <-served
		close(finished)
	}()
	wait := func() error {
		select {
		case <-finished:
			return serveErr
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return")
			return nil
		}
	}
	t.Cleanup(func() {
		r.Close()
		cancel()
		wait()
	})
	return r, wait
}

func tempDisk(t testing.TB, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	_, err := rand.Read(data)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path, data
}

func TestMassStorageReadWrite(t *testing.T) {
	path, orig := tempDisk(t, 4<<20)
	ms, closeFile, err := virtual.OpenStorageFile(path, false)
	require.NoError(t, err)
	defer closeFile()
	var stats usbredir.Stats
	r, _ := session(t, ms, []usbredir.Option{usbredir.WithStats(&stats)})
	ctx := context.Background()

	d := r.Descriptors()
	assert.Equal(t, uint16(0x1d6b), d.Device.Vendor)
	assert.Equal(t, "Shadowless Virtual Storage", d.Product())
	require.Len(t, d.Configs, 1)
	assert.Equal(t, uint8(device.ClassMassStorage), d.Configs[0].Interfaces[0].Class)

	require.NoError(t, r.SetConfiguration(ctx, 1))
	c, err := msc.NewClient(r)
	require.NoError(t, err)
	require.NoError(t, c.TestUnitReady(ctx))
	vendor, product, err := c.Inquiry(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Shadowls", vendor)
	assert.Equal(t, "Virtual Storage", product)
	blocks, bs, err := c.Capacity(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(4<<20/512), blocks)
	assert.Equal(t, uint32(512), bs)
	blocks16, _, err := c.Capacity16(ctx)
	require.NoError(t, err)
	assert.Equal(t, blocks, blocks16)

	// Read 1 MiB at block 100 (four 256 KiB URBs in flight, 32-bit bulk lengths).
	buf := make([]byte, 1<<20)
	require.NoError(t, c.ReadBlocks(ctx, 100, buf, 512))
	assert.True(t, bytes.Equal(orig[100*512:100*512+len(buf)], buf), "read data differs from the file")

	// Write, read back, and find it in the file.
	w := make([]byte, 300*512)
	_, _ = rand.Read(w)
	require.NoError(t, c.WriteBlocks(ctx, 7, w, 512))
	require.NoError(t, c.SynchronizeCache(ctx))
	back := make([]byte, len(w))
	require.NoError(t, c.ReadBlocks(ctx, 7, back, 512))
	assert.Equal(t, w, back)
	onDisk, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, w, onDisk[7*512:7*512+len(w)])

	// Out of range: a failed command with sense ILLEGAL REQUEST / LBA out of range, and
	// the device keeps working afterwards.
	err = c.ReadBlocks(ctx, uint32(blocks-1), make([]byte, 2*512), 512)
	var se *msc.SenseError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint8(0x05), se.Key)
	assert.Equal(t, uint8(0x21), se.ASC)
	require.NoError(t, c.TestUnitReady(ctx))

	// MODE SENSE(6) and (10), PREVENT ALLOW, START STOP: accepted.
	ms6 := make([]byte, 4)
	n, err := c.Raw(ctx, []byte{0x1A, 0, 0x3f, 0, 4, 0}, ms6, true)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Zero(t, ms6[2]&0x80, "not write protected")
	_, err = c.Raw(ctx, []byte{0x5A, 0, 0x3f, 0, 0, 0, 0, 0, 8, 0}, make([]byte, 8), true)
	require.NoError(t, err)
	_, err = c.Raw(ctx, []byte{0x1E, 0, 0, 0, 1, 0}, nil, false)
	require.NoError(t, err)
	_, err = c.Raw(ctx, []byte{0x1B, 0, 0, 0, 1, 0}, nil, false)
	require.NoError(t, err)
	// Unknown opcode: ILLEGAL REQUEST, invalid command operation code.
	_, err = c.Raw(ctx, []byte{0xD9, 0, 0, 0, 0, 0}, nil, false)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint8(0x20), se.ASC)

	assert.Positive(t, stats.Bulk.Load())
	assert.GreaterOrEqual(t, stats.BulkBytes.Load(), int64(len(buf)+2*len(w)))
	assert.Equal(t, int64(1), stats.SetConfiguration.Load())
}

func TestReadOnlyStorageRefusesWrites(t *testing.T) {
	path, _ := tempDisk(t, 64<<10)
	ms, closeFile, err := virtual.OpenStorageFile(path, true)
	require.NoError(t, err)
	defer closeFile()
	r, _ := session(t, ms, nil)
	c, err := msc.NewClient(r)
	require.NoError(t, err)
	err = c.WriteBlocks(context.Background(), 0, make([]byte, 512), 512)
	var se *msc.SenseError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint8(0x07), se.Key, "DATA PROTECT")
}

func TestWithoutOptionalCaps(t *testing.T) {
	// A peer without 64-bit ids, 32-bit bulk lengths or ep_info max packet size: 12-byte
	// headers, 16-bit bulk lengths.
	path, orig := tempDisk(t, 256<<10)
	ms, closeFile, err := virtual.OpenStorageFile(path, false)
	require.NoError(t, err)
	defer closeFile()
	old := usbredir.Caps(0).With(usbredir.CapConnectDeviceVersion).With(usbredir.CapFilter)
	r, _ := session(t, ms, nil, usbredir.WithCaps(old))
	c, err := msc.NewClient(r)
	require.NoError(t, err)
	buf := make([]byte, 128<<10)
	err = c.ReadBlocks(context.Background(), 0, buf, 512)
	require.ErrorIs(t, err, device.ErrInvalid, "256 KiB URBs need 32-bit bulk lengths")
	c.ChunkSize = 32 << 10
	require.NoError(t, c.ReadBlocks(context.Background(), 0, buf, 512))
	assert.Equal(t, orig[:len(buf)], buf)
}

func TestKeyboardAndScanner(t *testing.T) {
	sc := virtual.NewScanner()
	var stats usbredir.Stats
	r, _ := session(t, sc, []usbredir.Option{usbredir.WithStats(&stats)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.Equal(t, "Shadowless Virtual Barcode Scanner", r.Descriptors().Product())

	// HID class requests as a host driver sends them.
	setProto := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.TypeClass | device.RecipientIface, Request: 0x0B, Value: 0}}
	require.NoError(t, r.Submit(ctx, setProto))
	report := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.DirIn | device.RecipientIface, Request: device.ReqGetDescriptor, Value: 0x2200, Length: 256}, Data: make([]byte, 256)}
	require.NoError(t, r.Submit(ctx, report))
	assert.Greater(t, report.Actual, 40)

	require.NoError(t, sc.Scan(ctx, "4006381333931"))
	var typed string
	for len(typed) < len("4006381333931\n") {
		u := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
		require.NoError(t, r.Submit(ctx, u))
		require.Equal(t, 8, u.Actual)
		typed += virtual.DecodeReport(u.Data)
	}
	assert.Equal(t, "4006381333931\n", typed)
	assert.GreaterOrEqual(t, stats.Interrupt.Load(), int64(2*len(typed)-1), "a press and a release per character")
}

func TestKeyboardShiftedText(t *testing.T) {
	kb := virtual.NewKeyboard()
	r, _ := session(t, kb, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, kb.Type(ctx, "Hello, World!"))
	var typed string
	for len(typed) < len("Hello, World!") {
		u := &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)}
		require.NoError(t, r.Submit(ctx, u))
		typed += virtual.DecodeReport(u.Data[:u.Actual])
	}
	assert.Equal(t, "Hello, World!", typed)
}

func TestPrinterJobs(t *testing.T) {
	dir := t.TempDir()
	p := virtual.NewPrinter(dir, virtual.WithIdleTimeout(200*time.Millisecond))
	defer p.Close()
	r, _ := session(t, p, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	id := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.DirIn | device.TypeClass | device.RecipientIface, Request: 0x00, Length: 1024}, Data: make([]byte, 1024)}
	require.NoError(t, r.Submit(ctx, id))
	require.Greater(t, id.Actual, 2)
	l := int(id.Data[0])<<8 | int(id.Data[1])
	assert.Equal(t, id.Actual, l)
	assert.Contains(t, string(id.Data[2:id.Actual]), "CLS:PRINTER")

	// Job 1 ends with SOFT_RESET, job 2 with the idle timeout.
	job1 := bytes.Repeat([]byte("%PDF-1.4 page one\n"), 5000)
	for off := 0; off < len(job1); off += 16 << 10 {
		u := &device.URB{Type: device.Bulk, Endpoint: 0x01, Data: job1[off:min(off+16<<10, len(job1))]}
		require.NoError(t, r.Submit(ctx, u))
	}
	reset := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.TypeClass | device.RecipientIface, Request: 0x02}}
	require.NoError(t, r.Submit(ctx, reset))
	var path1 string
	select {
	case path1 = <-p.Jobs():
	case <-ctx.Done():
		t.Fatal("job 1 not finished")
	}
	got, err := os.ReadFile(path1)
	require.NoError(t, err)
	assert.Equal(t, job1, got)

	job2 := []byte("\x1bE second job \x0c")
	require.NoError(t, r.Submit(ctx, &device.URB{Type: device.Bulk, Endpoint: 0x01, Data: job2}))
	var path2 string
	select {
	case path2 = <-p.Jobs():
	case <-ctx.Done():
		t.Fatal("job 2 not finished by the idle timeout")
	}
	assert.NotEqual(t, path1, path2)
	got, err = os.ReadFile(path2)
	require.NoError(t, err)
	assert.Equal(t, job2, got)
	require.NoError(t, p.Err())
}

func TestISOPacketBoundaries(t *testing.T) {
	lb := virtual.NewLoopback()
	var stats usbredir.Stats
	r, _ := session(t, lb, []usbredir.Option{usbredir.WithStats(&stats)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.SetAltSetting(ctx, 1, 1))
	typ, ok := r.EPType(virtual.LoopISOIn)
	require.True(t, ok, "ep_info re-sent after the alt setting change")
	assert.Equal(t, device.Isochronous, typ)

	lengths := []int{3, 0, 1024, 17, 512}
	out := &device.URB{Type: device.Isochronous, Endpoint: virtual.LoopISOOut}
	for i, l := range lengths {
		out.ISO = append(out.ISO, device.ISOPacket{Length: l})
		out.Data = append(out.Data, bytes.Repeat([]byte{byte('a' + i)}, l)...)
	}
	require.NoError(t, r.Submit(ctx, out))
	in := &device.URB{Type: device.Isochronous, Endpoint: virtual.LoopISOIn, ISO: make([]device.ISOPacket, len(lengths)), Data: make([]byte, 1024*len(lengths))}
	for i := range in.ISO {
		in.ISO[i].Length = 1024
	}
	require.NoError(t, r.Submit(ctx, in))
	for i, l := range lengths {
		p := in.ISO[i]
		assert.Equal(t, l, p.Actual, "packet %d length", i)
		assert.Equal(t, device.StatusOK, p.Status)
		off := in.ISOOffset(i)
		assert.Equal(t, bytes.Repeat([]byte{byte('a' + i)}, l), in.Data[off:off+p.Actual], "packet %d data", i)
	}
	assert.GreaterOrEqual(t, stats.ISO.Load(), int64(2*len(lengths)))
}

func TestCancelAndReset(t *testing.T) {
	lb := virtual.NewLoopback()
	var stats usbredir.Stats
	r, _ := session(t, lb, []usbredir.Option{usbredir.WithStats(&stats)})
	// A bulk IN with nothing to read waits until cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	u := &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkIn, Data: make([]byte, 512)}
	err := r.Submit(ctx, u)
	cancel()
	require.ErrorIs(t, err, device.ErrCancelled)
	assert.Equal(t, device.StatusCancelled, u.Status)
	assert.Equal(t, int64(1), stats.Cancelled.Load())

	// The pipe still works: echo through it.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	require.NoError(t, r.Submit(ctx2, &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkOut, Data: []byte("ping")}))
	u = &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkIn, Data: make([]byte, 512)}
	require.NoError(t, r.Submit(ctx2, u))
	assert.Equal(t, "ping", string(u.Data[:u.Actual]))

	// Reset clears queued data and is counted on the device side.
	require.NoError(t, r.Submit(ctx2, &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkOut, Data: []byte("stale")}))
	require.NoError(t, r.Reset(ctx2))
	assert.Equal(t, int64(1), stats.Reset.Load())
	ctx3, cancel3 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel3()
	err = r.Submit(ctx3, &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkIn, Data: make([]byte, 512)})
	require.ErrorIs(t, err, device.ErrCancelled, "stale data was dropped by the reset")

	// Unknown endpoint: invalid.
	err = r.Submit(ctx2, &device.URB{Type: device.Bulk, Endpoint: 0x85, Data: make([]byte, 8)})
	require.ErrorIs(t, err, device.ErrInvalid)
}

func TestUnplugCompletesPendingURBs(t *testing.T) {
	kb := virtual.NewKeyboard()
	r, served := session(t, kb, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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
		t.Fatal("pending URB did not complete after unplug")
	}
	select {
	case <-r.Done():
	case <-ctx.Done():
		t.Fatal("remote not done after unplug")
	}
	require.ErrorIs(t, served(), device.ErrNoDevice)
	err := r.Submit(ctx, &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.DirIn, Request: device.ReqGetStatus, Length: 2}, Data: make([]byte, 2)})
	require.ErrorIs(t, err, device.ErrNoDevice)
}

func TestGuestPolicyRejects(t *testing.T) {
	kb := virtual.NewKeyboard()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- usbredir.Serve(context.Background(), c, kb)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	f, err := device.ParseFilter("0x03,-1,-1,-1,0|-1,-1,-1,-1,1")
	require.NoError(t, err)
	_, err = usbredir.NewRemote(context.Background(), c, usbredir.WithPolicy(device.Policy{Filter: f}))
	require.ErrorIs(t, err, device.ErrDenied)
	select {
	case err := <-served:
		require.ErrorIs(t, err, usbredir.ErrRejected)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not see the rejection")
	}
}

func TestMalformedInputClosesConnection(t *testing.T) {
	kb := virtual.NewKeyboard()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- usbredir.Serve(context.Background(), c, kb)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	// A packet of unknown type 77 instead of hello.
	_, err = c.Write([]byte{77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	require.NoError(t, err)
	select {
	case err := <-served:
		require.ErrorIs(t, err, usbredir.ErrProtocol)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not reject malformed input")
	}
	// The device was released, not broken: a new session works.
	r, _ := session(t, kb, nil)
	assert.Equal(t, uint16(0x0104), r.Descriptors().Device.Product)
	_ = errors.New
}

func TestRemoteBulkReceiving(t *testing.T) {
	lb := virtual.NewLoopback()
	r, _ := session(t, lb, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.StartBulkReceiving(ctx, virtual.LoopBulkIn, 4096, 2))
	for _, s := range []string{"serial ", "data ", "arrives unasked"} {
		require.NoError(t, r.Submit(ctx, &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkOut, Data: []byte(s)}))
	}
	var got []byte
	for len(got) < len("serial data arrives unasked") {
		u := &device.URB{Type: device.Bulk, Endpoint: virtual.LoopBulkIn, Data: make([]byte, 8)}
		require.NoError(t, r.Submit(ctx, u))
		got = append(got, u.Data[:u.Actual]...)
	}
	assert.Equal(t, "serial data arrives unasked", string(got))
	require.Error(t, r.StartBulkReceiving(ctx, virtual.LoopBulkOut, 4096, 2), "not an IN endpoint")
}

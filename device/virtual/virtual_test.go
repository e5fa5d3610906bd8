package virtual_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/msc"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memDisk is an in-memory io.ReaderAt/io.WriterAt.
type memDisk struct{ b []byte }

func (m *memDisk) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, errors.New("out of range")
	}
	return copy(p, m.b[off:]), nil
}

func (m *memDisk) WriteAt(p []byte, off int64) (int, error) { return copy(m.b[off:], p), nil }

func TestMassStorageLocal(t *testing.T) {
	disk := &memDisk{b: make([]byte, 1<<20)}
	for i := range disk.b {
		disk.b[i] = byte(i / 512)
	}
	ms := virtual.NewMassStorage(disk, disk, int64(len(disk.b)))
	c, err := msc.NewClient(ms)
	require.NoError(t, err)
	c.ChunkSize = 4096
	ctx := context.Background()
	buf := make([]byte, 3*512)
	require.NoError(t, c.ReadBlocks(ctx, 5, buf, 512))
	assert.Equal(t, bytes.Repeat([]byte{5}, 512), buf[:512])
	assert.Equal(t, bytes.Repeat([]byte{7}, 512), buf[1024:])
	require.NoError(t, c.WriteBlocks(ctx, 1, bytes.Repeat([]byte{0xAB}, 1024), 512))
	assert.Equal(t, bytes.Repeat([]byte{0xAB}, 1024), disk.b[512:1536])

	// A failing READ stalls the IN pipe; the client clears it and reads the CSW, then
	// REQUEST SENSE says why; the next command works (local, non-pipelined path).
	err = c.ReadBlocks(ctx, 2047, make([]byte, 8192), 512)
	var se *msc.SenseError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint8(0x21), se.ASC)
	require.NoError(t, c.TestUnitReady(ctx))
	n, err := c.Raw(ctx, []byte{0x23, 0, 0, 0, 0, 0, 0, 0, 12, 0}, make([]byte, 12), true)
	require.NoError(t, err, "READ FORMAT CAPACITIES")
	assert.Equal(t, 12, n)
	vpd := make([]byte, 64)
	n, err = c.Raw(ctx, []byte{0x12, 1, 0x80, 0, 64, 0}, vpd, true)
	require.NoError(t, err)
	assert.Equal(t, "SLMSC00000000001", string(vpd[4:n]))

	// An invalid CBW stalls both pipes until a reset recovery.
	bad := &device.URB{Type: device.Bulk, Endpoint: 0x02, Data: []byte("not a CBW")}
	require.ErrorIs(t, ms.Submit(ctx, bad), device.ErrStall)
	reset := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.TypeClass | device.RecipientIface, Request: 0xFF}}
	require.NoError(t, ms.Submit(ctx, reset))
	for _, ep := range []uint16{0x81, 0x02} {
		clear := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.RecipientEndpoint, Request: device.ReqClearFeature, Index: ep}}
		require.NoError(t, ms.Submit(ctx, clear))
	}
	require.NoError(t, c.TestUnitReady(ctx))
}

func TestStandardRequests(t *testing.T) {
	kb := virtual.NewKeyboard()
	ctx := context.Background()
	d, err := device.ReadDescriptors(ctx, kb, device.SpeedFull)
	require.NoError(t, err)
	assert.Equal(t, kb.Descriptors().Device, d.Device)
	assert.Equal(t, kb.Descriptors().Configs, d.Configs)
	assert.Equal(t, "Shadowless Virtual Keyboard", d.Product())

	// Unknown descriptor and unknown string: stall.
	_, err = device.GetDescriptor(ctx, kb, device.DescString, 9, 0x409, 255)
	require.ErrorIs(t, err, device.ErrStall)
	require.ErrorIs(t, kb.SetConfiguration(ctx, 7), device.ErrStall)
	require.NoError(t, kb.SetConfiguration(ctx, 0))
	err = kb.Submit(ctx, &device.URB{Type: device.Interrupt, Endpoint: 0x81, Data: make([]byte, 8)})
	require.ErrorIs(t, err, device.ErrInvalid, "no endpoints while unconfigured")
	require.NoError(t, kb.SetConfiguration(ctx, 1))

	// SET_REPORT delivers the LED state.
	led := &device.URB{Type: device.Control, Setup: device.Setup{RequestType: device.TypeClass | device.RecipientIface, Request: 0x09, Value: 0x0200, Length: 1}, Data: []byte{0x02}}
	require.NoError(t, kb.Submit(ctx, led))
	select {
	case v := <-kb.LEDs():
		assert.Equal(t, uint8(0x02), v, "Caps Lock")
	case <-time.After(time.Second):
		t.Fatal("no LED report")
	}
	_, err = device.GetDescriptor(ctx, kb, device.DescDevice, 0, 0, 18)
	require.NoError(t, err)
	require.Error(t, kb.Type(ctx, "é"), "not on a US keyboard")
	kb.Close()
	require.ErrorIs(t, kb.Submit(ctx, &device.URB{Type: device.Control, Setup: device.Setup{RequestType: 0x80, Request: 0}, Data: make([]byte, 2)}), device.ErrNoDevice)
}

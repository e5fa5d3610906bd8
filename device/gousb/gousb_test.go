//go:build gousb

package gousb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device"
)

// TestListAndOpenMissing runs against whatever USB the machine has (often none, in a
// container): listing either works or fails with a clear access error, and opening a device
// that is not there fails with ErrNoDevice or ErrAccess rather than hanging or panicking.
func TestListAndOpenMissing(t *testing.T) {
	c, err := OpenContext(nil)
	if err != nil {
		t.Logf("libusb unavailable here: %v", err)
		require.ErrorIs(t, err, ErrAccess)
		assert.Contains(t, err.Error(), "libusb_init")
		return
	}
	defer c.Close()
	list, err := c.List()
	if err != nil {
		require.True(t, errors.Is(err, ErrAccess) || errors.Is(err, device.ErrIO), "%v", err)
	}
	t.Logf("%d devices, list error: %v", len(list), err)
	for _, i := range list {
		assert.NotZero(t, i.Bus)
	}
	_, err = c.OpenDevice(Selector{Vendor: 0xfffe, Product: 0xfffd})
	require.True(t, errors.Is(err, device.ErrNoDevice) || errors.Is(err, ErrAccess), "%v", err)
	assert.True(t, Supported)
}

package gousb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSelector(t *testing.T) {
	s, err := ParseSelector("usb:1d6b:0104")
	require.NoError(t, err)
	assert.Equal(t, Selector{Vendor: 0x1d6b, Product: 0x0104}, s)
	assert.True(t, s.Matches(0x1d6b, 0x0104, 3, 9))
	assert.Equal(t, "usb:1d6b:0104", s.String())
	s, err = ParseSelector("2-17")
	require.NoError(t, err)
	assert.Equal(t, Selector{Bus: 2, Address: 17, ByAddress: true}, s)
	assert.True(t, s.Matches(1, 1, 2, 17))
	assert.False(t, s.Matches(1, 1, 2, 18))
	for _, bad := range []string{"usb:", "usb:xyz:0001", "usb:1-", "usb:a-b", "usb:12345:1", "usb:1-200"} {
		_, err := ParseSelector(bad)
		assert.Error(t, err, bad)
	}
}

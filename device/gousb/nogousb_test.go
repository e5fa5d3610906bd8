//go:build !gousb

package gousb

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenWithoutLibusb(t *testing.T) {
	b, err := Open(nil)
	require.Nil(t, b)
	require.ErrorIs(t, err, ErrNotBuilt)
	require.Contains(t, err.Error(), "-tags gousb")
	require.False(t, Supported)
}

package nbd

import (
	"context"
	"testing"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The handshake is a state machine without I/O: options in, reply bytes and decisions out.
func TestHandshakeStateMachine(t *testing.T) {
	ctx := context.Background()
	exports := NewExportSet(Export{Name: "default", Device: blockdevtest.NewMemory(1 << 20)})
	h := &Handshake{Exports: exports, DefaultExport: "default", MaxPayload: DefaultMaxPayload}

	// Without NO_ZEROES, EXPORT_NAME's answer is padded to 134 bytes.
	out := h.Option(ctx, OptionHeader{Code: OptExportName}, []byte("default"))
	require.NotNil(t, out.Export)
	assert.Len(t, out.Reply, 8+2+124)
	assert.Equal(t, uint64(1<<20), be.Uint64(out.Reply))
	h.NoZeroes = true
	out = h.Option(ctx, OptionHeader{Code: OptExportName}, nil) // empty name → default
	require.NotNil(t, out.Export)
	assert.Equal(t, "default", out.Export.Name)
	assert.Len(t, out.Reply, 10)

	out = h.Option(ctx, OptionHeader{Code: OptExportName}, []byte("other"))
	assert.True(t, out.Close)
	assert.Empty(t, out.Reply)

	out = h.TooBig(OptionHeader{Code: OptGo, Length: 1 << 30})
	rep, err := DecodeOptionReply(out.Reply)
	require.NoError(t, err)
	assert.Equal(t, RepErrTooBig, rep.Type)
	assert.False(t, out.Close)
	assert.True(t, h.TooBig(OptionHeader{Code: OptExportName, Length: 1 << 30}).Close)

	out = h.Option(ctx, OptionHeader{Code: OptInfo}, AppendInfoRequest(nil, InfoRequest{Name: "default"}))
	assert.Nil(t, out.Export, "INFO does not end the handshake")
	out = h.Option(ctx, OptionHeader{Code: OptGo}, AppendInfoRequest(nil, InfoRequest{Name: "default"}))
	assert.NotNil(t, out.Export, "GO does")

	_, err = ParseClientFlags([]byte{0, 0, 0, 0})
	require.ErrorIs(t, err, ErrClientFlags, "oldstyle-compatible clients are refused")
	_, err = ParseClientFlags([]byte{0, 0, 0, 5})
	require.ErrorIs(t, err, ErrClientFlags)
	nz, err := ParseClientFlags([]byte{0, 0, 0, 3})
	require.NoError(t, err)
	assert.True(t, nz)
}

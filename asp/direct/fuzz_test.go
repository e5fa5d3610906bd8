package direct

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzDecodeOpen(f *testing.F) {
	two := 2
	d := 150 * time.Millisecond
	for _, o := range []struct {
		label string
		opts  ChannelOptions
	}{
		{"input", Reliable()},
		{"video", Video()},
		{"clipboard", ChannelOptions{MaxRetransmits: &two, Priority: 256, Protocol: "asp/1"}},
		{"ü", ChannelOptions{MaxLifetime: &d}},
	} {
		m, err := openFromOptions(o.label, o.opts)
		require.NoError(f, err)
		f.Add(encodeOpen(m))
	}
	f.Add([]byte{msgTypeAck})
	f.Add([]byte{msgTypeOpen, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'x'})
	f.Add([]byte{msgTypeOpen, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeOpen(b)
		if err != nil {
			require.ErrorIs(t, err, ErrProtocol)
			return
		}
		// Whatever decodes re-encodes to the same bytes and means the same options.
		require.Equal(t, b, encodeOpen(m))
		again, err := openFromOptions(m.Label, m.options())
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(appendFrame(nil, []byte("sctp packet")), bytes.Repeat([]byte{7}, 1200)))
	f.Add([]byte{0, 0})
	f.Add([]byte{0x20, 0x01})
	f.Add([]byte{0, 5, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		var again []byte
		buf := make([]byte, 1500) // smaller than the largest frame: exercises ErrShortBuffer
		for {
			n, err := readFrame(r, buf)
			switch {
			case err == nil:
				require.Positive(t, n)
				again = appendFrame(again, buf[:n])
				continue
			case errors.Is(err, io.ErrShortBuffer):
				require.Zero(t, n)
				return
			case errors.Is(err, io.EOF):
				// Only a clean end between frames is EOF: what came before re-encodes exactly.
				require.True(t, bytes.Equal(data, again), "re-encoded frames differ")
				return
			default:
				assert.True(t, errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrProtocol), "error %v", err)
				require.True(t, bytes.HasPrefix(data, again))
				return
			}
		}
	})
}

func TestOpenDecodeRejects(t *testing.T) {
	m, err := openFromOptions("control", Reliable())
	require.NoError(t, err)
	good := encodeOpen(m)
	for name, b := range map[string][]byte{
		"short":          good[:5],
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"ack":            {msgTypeAck},
		"bad type":       append([]byte{msgTypeOpen, 0x03}, good[2:]...),
		"empty label":    {msgTypeOpen, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"not utf8":       {msgTypeOpen, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff},
		"reliable param": {msgTypeOpen, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 0, 'x'},
	} {
		_, err := decodeOpen(b)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
	got, err := decodeOpen(good)
	require.NoError(t, err)
	assert.Equal(t, "control", got.Label)
	assert.True(t, got.options().Ordered)
}

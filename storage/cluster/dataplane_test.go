package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

func sampleWrites() []chunkWrite {
	return []chunkWrite{
		newChunkWrite(1, 2, 4096, bytes.Repeat([]byte("a"), 8192), 7, 3),
		newChunkWrite(9, 0, 0, bytes.Repeat([]byte{0xfe}, 4096), 1, 1),
	}
}

func TestBatchHeaderRoundTrip(t *testing.T) {
	hs := []writeHeader{
		{Volume: 1 << 40, Index: 17, Offset: 8192, Length: 1 << 20, Version: 99, Epoch: 4, CRC: 0xdeadbeef},
		{Volume: 2, Index: 0, Offset: 0, Length: 4096, Version: 1, Epoch: 1, CRC: 7},
	}
	b := appendBatchHeader(nil, hs)
	require.Len(t, b, headerSectionSize(2))
	got, err := decodeBatchHeader(b)
	require.NoError(t, err)
	assert.Equal(t, hs, got)

	// Every single-bit flip is caught (magic, format, count, reserved or the CRC).
	for i := 0; i < len(b)*8; i++ {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		_, err := decodeBatchHeader(c)
		require.ErrorIs(t, err, errWire, "bit %d", i)
	}
	for _, c := range [][]byte{nil, b[:batchPrefixSize-1], b[:len(b)-1], append(bytes.Clone(b), 0)} {
		_, err = decodeBatchHeader(c)
		assert.ErrorIs(t, err, errWire)
	}

	// Counts outside 1..maxBatchItems and payloads beyond one record are refused even with
	// a valid checksum.
	_, err = decodeBatchHeader(appendBatchHeader(nil, nil))
	assert.ErrorIs(t, err, errWire)
	_, err = decodeBatchHeader(appendBatchHeader(nil, make([]writeHeader, maxBatchItems+1)))
	assert.ErrorIs(t, err, errWire)
	_, err = decodeBatchHeader(appendBatchHeader(nil, []writeHeader{{Length: maxWritesPayload}, {Length: sealedSize}}))
	assert.ErrorIs(t, err, errWire)
}

func TestWriteBatchRoundTrip(t *testing.T) {
	ws := sampleWrites()
	body := appendWriteBatch(nil, ws)
	require.Len(t, body, headerSectionSize(2)+8192+4096)

	// readBatchHeader leaves the stream at the first payload.
	r := bytes.NewReader(body)
	hs, err := readBatchHeader(r)
	require.NoError(t, err)
	assert.Equal(t, headers(ws), hs)
	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, append(bytes.Clone(ws[0].Data), ws[1].Data...), rest)
	_, err = readBatchHeader(bytes.NewReader(body[:headerSectionSize(2)-1]))
	assert.ErrorIs(t, err, errWire)

	// The writev body and the copying fallback carry the same bytes.
	var viaWritev bytes.Buffer
	n, err := dataConn{pipeConn{&viaWritev}}.ReadFrom(&io.LimitedReader{R: newBatchBody(ws), N: int64(len(body))})
	require.NoError(t, err)
	assert.Equal(t, int64(len(body)), n)
	assert.Equal(t, body, viaWritev.Bytes())
	viaRead, err := io.ReadAll(newBatchBody(ws))
	require.NoError(t, err)
	assert.Equal(t, body, viaRead)
	assert.Equal(t, int64(len(body)), newBatchBody(ws).n)
}

// pipeConn is a net.Conn that only collects what is written to it.
type pipeConn struct{ w io.Writer }

func (c pipeConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (pipeConn) Read([]byte) (int, error)           { return 0, io.EOF }
func (pipeConn) Close() error                       { return nil }
func (pipeConn) LocalAddr() net.Addr                { return nil }
func (pipeConn) RemoteAddr() net.Addr               { return nil }
func (pipeConn) SetDeadline(t time.Time) error      { return nil }
func (pipeConn) SetReadDeadline(t time.Time) error  { return nil }
func (pipeConn) SetWriteDeadline(t time.Time) error { return nil }

func TestWriteResultsRoundTrip(t *testing.T) {
	errs := []error{
		nil,
		fmt.Errorf("%w: chunk 1/2 at epoch 5", chunk.ErrStaleEpoch),
		chunk.ErrPayloadChecksum,
		errors.New(strings.Repeat("x", 3*maxResultMessage)),
	}
	b := appendWriteResults(nil, errs)
	got, err := decodeWriteResults(b, len(errs))
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.NoError(t, got[0])
	assert.Equal(t, connect.CodeFailedPrecondition, connect.CodeOf(got[1]))
	assert.Contains(t, got[1].Error(), "epoch 5")
	assert.Equal(t, connect.CodeDataLoss, connect.CodeOf(got[2]))
	assert.Equal(t, connect.CodeInternal, connect.CodeOf(got[3]))
	assert.LessOrEqual(t, len(got[3].Error()), maxResultMessage+64)

	_, err = decodeWriteResults(b, 3)
	assert.ErrorIs(t, err, errWire, "count must match the batch")
	_, err = decodeWriteResults(b[:len(b)-1], 4)
	assert.ErrorIs(t, err, errWire)
	_, err = decodeWriteResults(append(bytes.Clone(b), 0), 4)
	assert.ErrorIs(t, err, errWire)
	bad := bytes.Clone(b)
	binary.LittleEndian.PutUint32(bad[8:], 99) // unknown code on the first result
	_, err = decodeWriteResults(bad, 4)
	assert.ErrorIs(t, err, errWire)
}

// TestDataPlaneWrites sends batches to a real chunk server's data-plane endpoint: good
// writes land, a stale epoch and a damaged payload fail alone, malformed requests are
// refused with a clear status and nothing is written.
func TestDataPlaneWrites(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 3)
	defer l.Close()
	cs := l.Servers[0]
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	hc := newDataClient()
	defer hc.CloseIdleConnections()
	base := baseURL(cs.Addr())

	// Payloads are frames of sealed blocks (opaque to the chunk server): two of them here.
	frames, data := testFrames(60, 2)
	good := newChunkWrite(vol.ID(), 40, 0, frames, 1, 2)
	stale := newChunkWrite(vol.ID(), 41, 0, frames[:frameSize], 1, 2)
	require.NoError(t, cs.Store().Write(ctx, chunk.ID{Volume: vol.ID(), Index: 41}, 0, data[:sealedSize], 1, 5))
	damaged := newChunkWrite(vol.ID(), 42, 0, bytes.Clone(frames), 1, 2)
	damaged.CRC ^= 1
	unaligned := newChunkWrite(vol.ID(), 43, 100, frames[:frameSize], 1, 2)
	// A block damaged on the way (its frame CRC no longer matches; the descriptor's CRC,
	// over the frame CRCs, still does).
	flipped := newChunkWrite(vol.ID(), 45, 0, bytes.Clone(frames), 1, 2)
	flipped.Data[frameSize+100] ^= 1
	partial := newChunkWrite(vol.ID(), 46, 0, frames[:frameSize+10], 1, 2)

	errs, err := postWrites(ctx, hc, base, []chunkWrite{good, stale, damaged, unaligned, flipped, partial})
	require.NoError(t, err)
	require.Len(t, errs, 6)
	assert.NoError(t, errs[0])
	assert.Equal(t, connect.CodeFailedPrecondition, connect.CodeOf(errs[1]))
	assert.Equal(t, connect.CodeDataLoss, connect.CodeOf(errs[2]))
	assert.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(errs[3]))
	assert.Equal(t, connect.CodeDataLoss, connect.CodeOf(errs[4]))
	assert.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(errs[5]), "not whole frames")
	for _, idx := range []uint64{42, 45, 46} {
		_, ok := cs.Store().Stat(chunk.ID{Volume: vol.ID(), Index: idx})
		assert.False(t, ok, "chunk %d: a refused payload is not stored", idx)
	}

	got := make([]byte, len(data))
	v, err := cs.Store().Read(ctx, chunk.ID{Volume: vol.ID(), Index: 40}, 0, got)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v)
	assert.Equal(t, data, got)
	_, ok := cs.Store().Stat(chunk.ID{Volume: vol.ID(), Index: 42})
	assert.False(t, ok, "a damaged payload is not stored")

	post := func(ct string, body []byte) (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+writesPath, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", ct)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(msg)
	}
	body := appendWriteBatch(nil, []chunkWrite{newChunkWrite(vol.ID(), 44, 0, frames, 1, 2)})
	code, _ := post("application/proto", body)
	assert.Equal(t, http.StatusUnsupportedMediaType, code)
	code, msg := post(writesType, body[:len(body)-1])
	assert.Equal(t, http.StatusBadRequest, code, "a body shorter than the header announces")
	assert.Contains(t, msg, "malformed")
	code, _ = post(writesType, append(bytes.Clone(body), 0))
	assert.Equal(t, http.StatusBadRequest, code, "a body longer than the header announces")
	code, _ = post(writesType, append([]byte("junk"), body[4:]...))
	assert.Equal(t, http.StatusBadRequest, code)
	_, ok = cs.Store().Stat(chunk.ID{Volume: vol.ID(), Index: 44})
	assert.False(t, ok, "a refused batch writes nothing")

	// The client maps a refused batch to one error with the matching code.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err = postWrites(ctx, hc, srv.URL, []chunkWrite{good})
	assert.Equal(t, connect.CodeUnavailable, connect.CodeOf(err))
	assert.Contains(t, err.Error(), "overloaded")
}

// recordingConn remembers the size of the largest single Write.
type recordingConn struct {
	net.Conn
	largest *int
}

func (c recordingConn) Write(p []byte) (int, error) {
	*c.largest = max(*c.largest, len(p))
	return c.Conn.Write(p)
}

// TestDataPlaneBodyIsNotCopied checks that the HTTP transport hands a write batch to
// dataConn, which passes the caller's payload to the socket in one piece instead of
// copying it through a 32 KiB buffer.
func TestDataPlaneBodyIsNotCopied(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.Write(appendWriteResults(nil, []error{nil}))
	}))
	defer srv.Close()
	largest := 0
	hc := newDataClient()
	tr := hc.Transport.(*http.Transport)
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return dataConn{recordingConn{c, &largest}}, nil
	}
	defer hc.CloseIdleConnections()
	w := newChunkWrite(1, 2, 0, bytes.Repeat([]byte("0123456789abcdef"), 1<<16), 3, 4)
	errs, err := postWrites(context.Background(), hc, srv.URL, []chunkWrite{w})
	require.NoError(t, err)
	require.Equal(t, []error{nil}, errs)
	assert.Equal(t, appendWriteBatch(nil, []chunkWrite{w}), got)
	assert.GreaterOrEqual(t, largest, 1<<20-tr.WriteBufferSize, "the payload went through a copy buffer")
}

package nbd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionHaggling(t *testing.T) {
	_, def := memExport("default", 1<<20, false)
	_, other := memExport("vol2", 2<<20, true)
	addr := startServer(t, NewExportSet(def, other))
	conn, r := dialRaw(t, addr)

	send := func(code uint32, data []byte) []optReply {
		_, err := conn.Write(AppendOption(nil, code, data))
		require.NoError(t, err)
		return readOptReplies(t, r)
	}

	// LIST names every export, then ACK.
	reps := send(OptList, nil)
	require.Len(t, reps, 3)
	var names []string
	for _, rep := range reps[:2] {
		require.Equal(t, RepServer, rep.Type)
		n := be.Uint32(rep.data)
		names = append(names, string(rep.data[4:4+n]))
	}
	assert.Equal(t, []string{"default", "vol2"}, names)
	assert.Equal(t, RepAck, reps[2].Type)

	// LIST with data is invalid.
	reps = send(OptList, []byte{1})
	assert.Equal(t, RepErrInvalid, reps[0].Type)

	// Structured replies, metadata contexts, TLS, extended headers and unknown options are
	// refused, and the handshake carries on.
	for _, code := range []uint32{OptStructuredReply, OptSetMetaContext, OptListMetaContext, OptStartTLS, OptExtendedHeaders, 4242} {
		reps = send(code, nil)
		require.Len(t, reps, 1)
		assert.Equal(t, RepErrUnsup, reps[0].Type, "option %d", code)
		assert.Equal(t, code, reps[0].Code)
	}

	// INFO on a read-only export: size, flags, name, description and block sizes.
	reps = send(OptInfo, AppendInfoRequest(nil, InfoRequest{Name: "vol2", Infos: []uint16{InfoName, InfoDescription, InfoBlockSize, 99}}))
	require.Len(t, reps, 5)
	assert.Equal(t, InfoExport, be.Uint16(reps[0].data))
	assert.Equal(t, uint64(2<<20), be.Uint64(reps[0].data[2:]))
	assert.Equal(t, TransmissionFlags(true), be.Uint16(reps[0].data[10:]))
	assert.NotZero(t, be.Uint16(reps[0].data[10:])&TFlagReadOnly)
	assert.Equal(t, "vol2", string(reps[1].data[2:]))
	assert.Equal(t, "test device vol2", string(reps[2].data[2:]))
	assert.Equal(t, InfoBlockSize, be.Uint16(reps[3].data))
	assert.Equal(t, []uint32{1, 4096, DefaultMaxPayload}, []uint32{be.Uint32(reps[3].data[2:]), be.Uint32(reps[3].data[6:]), be.Uint32(reps[3].data[10:])})
	assert.Equal(t, RepAck, reps[4].Type)

	// Unknown export, malformed GO payloads.
	reps = send(OptGo, AppendInfoRequest(nil, InfoRequest{Name: "nope"}))
	assert.Equal(t, RepErrUnknown, reps[0].Type)
	assert.Contains(t, string(reps[0].data), "nope")
	reps = send(OptGo, []byte{0, 0, 0, 9, 'a'})
	assert.Equal(t, RepErrInvalid, reps[0].Type)
	reps = send(OptGo, append(AppendInfoRequest(nil, InfoRequest{Name: "default"}), 0))
	assert.Equal(t, RepErrInvalid, reps[0].Type)

	// Too much option data is skipped and refused.
	reps = send(OptInfo, make([]byte, MaxOptionData+1))
	assert.Equal(t, RepErrTooBig, reps[0].Type)

	// The empty name is the default export; GO enters transmission.
	reps = send(OptGo, AppendInfoRequest(nil, InfoRequest{}))
	require.Equal(t, RepAck, reps[len(reps)-1].Type)
	assert.Equal(t, uint64(1<<20), be.Uint64(reps[0].data[2:]))
	_, err := conn.Write(AppendRequest(nil, Request{Type: CmdFlush, Handle: 7}))
	require.NoError(t, err)
	h := make([]byte, SimpleReplySize)
	_, err = io.ReadFull(r, h)
	require.NoError(t, err)
	errno, handle, err := DecodeSimpleReply(h)
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{0, 7}, [2]uint64{uint64(errno), handle})
}

func TestExportNameAndAbort(t *testing.T) {
	_, def := memExport("default", 4096, false)
	addr := startServer(t, NewExportSet(def))

	// EXPORT_NAME answers with size and flags (no zero padding: NO_ZEROES negotiated).
	conn, r := dialRaw(t, addr)
	_, err := conn.Write(AppendOption(nil, OptExportName, []byte("default")))
	require.NoError(t, err)
	b := make([]byte, 10)
	_, err = io.ReadFull(r, b)
	require.NoError(t, err)
	assert.Equal(t, uint64(4096), be.Uint64(b))
	assert.Equal(t, TransmissionFlags(false), be.Uint16(b[8:]))

	// An unknown name on EXPORT_NAME can only be answered by hanging up.
	conn, r = dialRaw(t, addr)
	_, err = conn.Write(AppendOption(nil, OptExportName, []byte("missing")))
	require.NoError(t, err)
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF)

	// ABORT is acknowledged, then the server hangs up.
	conn, r = dialRaw(t, addr)
	_, err = conn.Write(AppendOption(nil, OptAbort, nil))
	require.NoError(t, err)
	rep, err := readOptReply(r)
	require.NoError(t, err)
	assert.Equal(t, RepAck, rep.Type)
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF)

	// Bad client flags and bad option magic end the connection.
	conn, r = dialRaw(t, addr)
	_, err = conn.Write([]byte("GARBAGE GARBAGE!"))
	require.NoError(t, err)
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
}

func TestTransmission(t *testing.T) {
	mem, def := memExport("default", 1<<20, false)
	_, ro := memExport("ro", 1<<20, true)
	addr := startServer(t, NewExportSet(def, ro))
	c := dial(t, addr, "default")
	assert.Equal(t, uint64(1<<20), c.size)
	assert.Equal(t, TransmissionFlags(false), c.flags)

	data := bytes.Repeat([]byte("shadowless"), 1000)
	rep, err := c.do(Request{Type: CmdWrite, Offset: 777, Length: uint32(len(data))}, data)
	require.NoError(t, err)
	require.Zero(t, rep.errno)
	rep, err = c.do(Request{Type: CmdRead, Offset: 777, Length: uint32(len(data))}, nil)
	require.NoError(t, err)
	require.Zero(t, rep.errno)
	assert.Equal(t, data, rep.data)

	// FUA write flushes the device.
	rep, err = c.do(Request{Type: CmdWrite, Flags: CmdFlagFUA, Offset: 0, Length: 3}, []byte("abc"))
	require.NoError(t, err)
	require.Zero(t, rep.errno)
	flushes, _, _ := mem.Counts()
	assert.Equal(t, 1, flushes)

	// WRITE_ZEROES with NO_HOLE writes zeroes; without it, the server may punch a hole.
	rep, err = c.do(Request{Type: CmdWriteZeroes, Flags: CmdFlagNoHole, Offset: 777, Length: 100}, nil)
	require.NoError(t, err)
	require.Zero(t, rep.errno)
	rep, err = c.do(Request{Type: CmdWriteZeroes, Offset: 1777, Length: 100}, nil)
	require.NoError(t, err)
	require.Zero(t, rep.errno)
	rep, err = c.do(Request{Type: CmdTrim, Offset: 2777, Length: 100}, nil)
	require.NoError(t, err)
	require.Zero(t, rep.errno)
	_, trims, zeroes := mem.Counts()
	assert.Equal(t, 2, trims)
	assert.Equal(t, 1, zeroes)
	rep, err = c.do(Request{Type: CmdRead, Offset: 777, Length: uint32(len(data))}, nil)
	require.NoError(t, err)
	want := bytes.Clone(data)
	clear(want[0:100])
	clear(want[1000:1100])
	clear(want[2000:2100])
	assert.Equal(t, want, rep.data)

	// Malformed requests get an error and the connection carries on.
	for _, tc := range []struct {
		req   Request
		errno uint32
	}{
		{Request{Type: CmdRead, Offset: 1 << 20, Length: 1}, EINVAL},
		{Request{Type: CmdRead, Offset: ^uint64(0), Length: 2}, EINVAL},
		{Request{Type: CmdWrite, Offset: 1<<20 - 1, Length: 2}, ENOSPC},
		{Request{Type: CmdWriteZeroes, Offset: 1 << 20, Length: 1}, ENOSPC},
		{Request{Type: CmdTrim, Offset: 1 << 20, Length: 1}, EINVAL},
		{Request{Type: CmdRead, Flags: CmdFlagDF, Length: 1}, EINVAL},
		{Request{Type: CmdWriteZeroes, Flags: CmdFlagFastZero, Length: 1}, EINVAL},
		{Request{Type: CmdRead, Length: DefaultMaxPayload + 1}, EINVAL},
		{Request{Type: CmdBlockStatus, Length: 1}, EINVAL},
		{Request{Type: 99}, EINVAL},
	} {
		var payload []byte
		if tc.req.Type == CmdWrite {
			payload = make([]byte, tc.req.Length)
		}
		rep, err := c.do(tc.req, payload)
		require.NoError(t, err)
		assert.Equal(t, tc.errno, rep.errno, "%+v", tc.req)
		assert.Empty(t, rep.data)
	}
	// A rejected write's payload was consumed: the stream is still in sync.
	rep, err = c.do(Request{Type: CmdRead, Offset: 0, Length: 3}, nil)
	require.NoError(t, err)
	assert.Equal(t, []byte("abc"), rep.data)

	// Read-only export: reads work, changes are EPERM.
	r := dial(t, addr, "ro")
	assert.NotZero(t, r.flags&TFlagReadOnly)
	for _, req := range []Request{{Type: CmdWrite, Length: 1}, {Type: CmdTrim, Length: 1}, {Type: CmdWriteZeroes, Length: 1}} {
		var payload []byte
		if req.Type == CmdWrite {
			payload = []byte{1}
		}
		rep, err := r.do(req, payload)
		require.NoError(t, err)
		assert.Equal(t, EPERM, rep.errno)
	}
	rep, err = r.do(Request{Type: CmdRead, Length: 4}, nil)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 4), rep.data)

	// DISC ends the connection after in-flight requests are answered, and flushes.
	flushesBefore, _, _ := mem.Counts()
	ch, err := c.send(Request{Type: CmdWrite, Offset: 4096, Length: 4}, []byte("last"))
	require.NoError(t, err)
	_, err = c.send(Request{Type: CmdDisc}, nil)
	require.NoError(t, err)
	last := <-ch
	assert.Zero(t, last.errno)
	got := make([]byte, 4)
	_, err = mem.ReadAt(context.Background(), got, 4096)
	require.NoError(t, err)
	assert.Equal(t, []byte("last"), got)
	require.Eventually(t, func() bool {
		f, _, _ := mem.Counts()
		return f == flushesBefore+1
	}, 5*time.Second, time.Millisecond)
}

// TestConcurrentRequests pipelines many overlapping writes and reads on one connection and
// on several connections (CAN_MULTI_CONN): every read sees the write sent before it.
func TestConcurrentRequests(t *testing.T) {
	t.Run("requests bound", func(t *testing.T) { testConcurrentRequests(t, WithMaxInFlight(4)) })
	t.Run("bytes bound", func(t *testing.T) { testConcurrentRequests(t, WithMaxInFlightBytes(10000)) })
}

func testConcurrentRequests(t *testing.T, opts ...ServerOption) {
	mem, def := memExport("default", 8<<20, false)
	addr := startServer(t, NewExportSet(def), opts...)
	var wg sync.WaitGroup
	for conn := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, addr, "default")
			base := uint64(conn) << 20
			var chans []<-chan reply
			for i := range 64 {
				blk := bytes.Repeat([]byte{byte(i)}, 8192)
				ch, err := c.send(Request{Type: CmdWrite, Offset: base + uint64(i%8)*4096, Length: 8192}, blk)
				assert.NoError(t, err)
				chans = append(chans, ch)
				ch, err = c.send(Request{Type: CmdRead, Offset: base + uint64(i%8)*4096, Length: 8192}, nil)
				assert.NoError(t, err)
				chans = append(chans, ch)
			}
			for i, ch := range chans {
				rep := <-ch
				assert.Zero(t, rep.errno)
				if i%2 == 1 {
					assert.Equal(t, bytes.Repeat([]byte{byte(i / 2)}, 8192), rep.data, "read %d", i/2)
				}
			}
			rep, err := c.do(Request{Type: CmdFlush}, nil)
			assert.NoError(t, err)
			assert.Zero(t, rep.errno)
		}()
	}
	wg.Wait()
	flushes, _, _ := mem.Counts()
	assert.Equal(t, 3, flushes)
}

func TestServeStopsOnCancel(t *testing.T) {
	_, def := memExport("default", 4096, false)
	addr := startServer(t, NewExportSet(def))
	c := dial(t, addr, "default")
	rep, err := c.do(Request{Type: CmdRead, Length: 16}, nil)
	require.NoError(t, err)
	assert.Zero(t, rep.errno)
	// startServer's cleanup cancels Serve and requires it to return nil with the
	// connection still open.
}

// failingDevice fails every I/O in [badStart, badEnd).
type failingDevice struct {
	*blockdevtest.Memory
	badStart, badEnd int64
}

var errMedium = errors.New("medium error")

func (d failingDevice) bad(off, n int64) bool { return off < d.badEnd && off+n > d.badStart }

func (d failingDevice) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if d.bad(off, int64(len(p))) {
		return 0, errMedium
	}
	return d.Memory.ReadAt(ctx, p, off)
}

func (d failingDevice) WriteAt(ctx context.Context, p []byte, off int64) (int, error) {
	if d.bad(off, int64(len(p))) {
		return 0, errMedium
	}
	return d.Memory.WriteAt(ctx, p, off)
}

func TestDeviceErrorsBecomeEIO(t *testing.T) {
	dev := failingDevice{Memory: blockdevtest.NewMemory(1 << 20), badStart: 4096, badEnd: 8192}
	addr := startServer(t, NewExportSet(Export{Name: "default", Device: dev}))
	c := dial(t, addr, "default")
	rep, err := c.do(Request{Type: CmdRead, Offset: 4000, Length: 200}, nil)
	require.NoError(t, err)
	assert.Equal(t, EIO, rep.errno)
	assert.Empty(t, rep.data, "a failed read sends no data")
	rep, err = c.do(Request{Type: CmdWrite, Offset: 8000, Length: 300}, make([]byte, 300))
	require.NoError(t, err)
	assert.Equal(t, EIO, rep.errno)
	// The connection is still usable.
	rep, err = c.do(Request{Type: CmdWrite, Offset: 0, Length: 2}, []byte("ok"))
	require.NoError(t, err)
	assert.Zero(t, rep.errno)
	rep, err = c.do(Request{Type: CmdRead, Offset: 0, Length: 2}, nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(rep.data))
}

func TestExportFuncs(t *testing.T) {
	mem := blockdevtest.NewMemory(8192)
	exports := ExportFuncs{LookupFunc: func(_ context.Context, name string) (Export, error) {
		if name != "vol-a" {
			return Export{}, fmt.Errorf("%w: %s", ErrUnknownExport, name)
		}
		return Export{Name: name, Device: mem}, nil
	}}
	addr := startServer(t, exports, WithDefaultExport("vol-a"))
	c := dial(t, addr, "")
	assert.Equal(t, uint64(8192), c.size)
	conn, r := dialRaw(t, addr)
	_, err := conn.Write(AppendOption(nil, OptList, nil))
	require.NoError(t, err)
	reps := readOptReplies(t, r)
	require.Len(t, reps, 1)
	assert.Equal(t, RepAck, reps[0].Type)
	_, err = conn.Write(AppendOption(nil, OptGo, AppendInfoRequest(nil, InfoRequest{Name: "vol-b"})))
	require.NoError(t, err)
	reps = readOptReplies(t, r)
	assert.Equal(t, RepErrUnknown, reps[0].Type)
}

func TestBudget(t *testing.T) {
	b := newBudget(2, 100)
	b.acquire(80)
	done := make(chan struct{})
	go func() {
		b.acquire(30) // over the byte budget while something is in flight: waits
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("acquire did not wait for the byte budget")
	case <-time.After(20 * time.Millisecond):
	}
	b.release(80)
	<-done
	b.release(30)
	b.acquire(1000) // heavier than the whole budget, but alone: let through
	b.acquire(0)    // a request without data fits beside it
	b.release(0)
	b.release(1000)
}

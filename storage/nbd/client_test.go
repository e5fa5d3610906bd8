package nbd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/require"
)

// startServer serves the exports on a loopback listener and returns its address.
func startServer(t testing.TB, exports Exports, opts ...ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(exports, opts...).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return ln.Addr().String()
}

func memExport(name string, size int64, ro bool) (*blockdevtest.Memory, Export) {
	m := blockdevtest.NewMemory(size)
	return m, Export{Name: name, Device: m, ReadOnly: ro, Description: "test device " + name}
}

// testClient is a minimal NBD client used by tests and benchmarks: it negotiates with
// NBD_OPT_GO and then sends requests; replies are matched to requests by handle.
type testClient struct {
	conn  net.Conn
	r     *bufio.Reader
	size  uint64
	flags uint16

	wmu     sync.Mutex
	mu      sync.Mutex
	pending map[uint64]pendingReq
	next    uint64
	readErr error
}

type pendingReq struct {
	ch      chan reply
	readLen uint32
}

type reply struct {
	errno uint32
	data  []byte
}

type optReply struct {
	OptionReply
	data []byte
}

// dialRaw connects and completes the greeting and client flags.
func dialRaw(t testing.TB, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	g := make([]byte, GreetingSize)
	_, err = io.ReadFull(r, g)
	require.NoError(t, err)
	flags, err := ParseGreeting(g)
	require.NoError(t, err)
	require.Equal(t, FlagFixedNewstyle|FlagNoZeroes, flags)
	_, err = conn.Write(be.AppendUint32(nil, uint32(FlagFixedNewstyle|FlagNoZeroes)))
	require.NoError(t, err)
	return conn, r
}

func readOptReply(r io.Reader) (optReply, error) {
	h := make([]byte, OptionReplySize)
	if _, err := io.ReadFull(r, h); err != nil {
		return optReply{}, err
	}
	rep, err := DecodeOptionReply(h)
	if err != nil {
		return optReply{}, err
	}
	d := make([]byte, rep.Length)
	_, err = io.ReadFull(r, d)
	return optReply{rep, d}, err
}

// readOptReplies reads replies to one option until ACK or an error reply.
func readOptReplies(t testing.TB, r io.Reader) []optReply {
	t.Helper()
	var out []optReply
	for {
		rep, err := readOptReply(r)
		require.NoError(t, err)
		out = append(out, rep)
		if rep.Type == RepAck || rep.Type&(1<<31) != 0 {
			return out
		}
	}
}

func dial(t testing.TB, addr, name string) *testClient {
	t.Helper()
	conn, r := dialRaw(t, addr)
	_, err := conn.Write(AppendOption(nil, OptGo, AppendInfoRequest(nil, InfoRequest{Name: name, Infos: []uint16{InfoBlockSize}})))
	require.NoError(t, err)
	c := &testClient{conn: conn, r: r, pending: map[uint64]pendingReq{}}
	for _, rep := range readOptReplies(t, r) {
		require.Less(t, rep.Type, uint32(1<<31), "GO failed: %s", rep.data)
		if rep.Type == RepInfo && be.Uint16(rep.data) == InfoExport {
			c.size = be.Uint64(rep.data[2:])
			c.flags = be.Uint16(rep.data[10:])
		}
	}
	go c.readLoop()
	return c
}

func (c *testClient) readLoop() {
	h := make([]byte, SimpleReplySize)
	for {
		_, err := io.ReadFull(c.r, h)
		var errno uint32
		var handle uint64
		if err == nil {
			errno, handle, err = DecodeSimpleReply(h)
		}
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			for _, p := range c.pending {
				close(p.ch)
			}
			c.pending = map[uint64]pendingReq{}
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		p, ok := c.pending[handle]
		delete(c.pending, handle)
		c.mu.Unlock()
		if !ok {
			c.mu.Lock()
			c.readErr = fmt.Errorf("reply for unknown handle %d", handle)
			c.mu.Unlock()
			return
		}
		rep := reply{errno: errno}
		if errno == 0 && p.readLen > 0 {
			rep.data = make([]byte, p.readLen)
			if _, err := io.ReadFull(c.r, rep.data); err != nil {
				close(p.ch)
				return
			}
		}
		p.ch <- rep
	}
}

// send sends a request and returns a channel for its reply.
func (c *testClient) send(r Request, payload []byte) (<-chan reply, error) {
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return nil, c.readErr
	}
	c.next++
	r.Handle = c.next
	p := pendingReq{ch: ch}
	if r.Type == CmdRead {
		p.readLen = r.Length
	}
	c.pending[r.Handle] = p
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	buf := AppendRequest(make([]byte, 0, RequestSize+len(payload)), r)
	buf = append(buf, payload...)
	_, err := c.conn.Write(buf)
	return ch, err
}

func (c *testClient) do(r Request, payload []byte) (reply, error) {
	ch, err := c.send(r, payload)
	if err != nil {
		return reply{}, err
	}
	rep, ok := <-ch
	if !ok {
		return reply{}, fmt.Errorf("connection closed: %v", c.readErr)
	}
	return rep, nil
}

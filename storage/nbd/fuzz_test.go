package nbd

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/stretchr/testify/require"
)

func FuzzDecodeRequest(f *testing.F) {
	f.Add(AppendRequest(nil, Request{Type: CmdRead, Handle: 1, Offset: 0, Length: 4096}))
	f.Add(AppendRequest(nil, Request{Type: CmdWrite, Flags: CmdFlagFUA, Offset: 1 << 40, Length: 1}))
	f.Add(AppendRequest(nil, Request{Type: CmdWriteZeroes, Flags: CmdFlagNoHole | CmdFlagFastZero, Offset: ^uint64(0), Length: ^uint32(0)}))
	f.Add([]byte("not a request at all, really not"))
	f.Add([]byte{0x25, 0x60})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		require.Equal(t, b[:RequestSize], AppendRequest(nil, r))
		const size = 1 << 30
		for _, ro := range []bool{false, true} {
			errno := Validate(r, size, ro, DefaultMaxPayload)
			if errno != 0 {
				continue
			}
			// An accepted request is known, in range and within the payload limit.
			_, known := allowedFlags(r.Type)
			require.True(t, known)
			if r.Type != CmdFlush && r.Type != CmdDisc {
				require.LessOrEqual(t, r.Offset+uint64(r.Length), uint64(size))
				require.GreaterOrEqual(t, r.Offset+uint64(r.Length), r.Offset)
			}
			if ro {
				require.Contains(t, []uint16{CmdRead, CmdFlush, CmdDisc}, r.Type)
			}
		}
	})
}

func FuzzOption(f *testing.F) {
	f.Add(OptGo, AppendInfoRequest(nil, InfoRequest{Name: "default", Infos: []uint16{InfoBlockSize, InfoName}}))
	f.Add(OptInfo, AppendInfoRequest(nil, InfoRequest{Name: "", Infos: []uint16{InfoDescription}}))
	f.Add(OptInfo, []byte{0xff, 0xff, 0xff, 0xff, 0, 0})
	f.Add(OptList, []byte{})
	f.Add(OptExportName, []byte("default"))
	f.Add(OptStructuredReply, []byte{})
	f.Add(uint32(1<<31), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, code uint32, data []byte) {
		exports := NewExportSet(Export{Name: "default", Description: "d", Device: blockdevtest.NewMemory(1 << 20)})
		h := &Handshake{Exports: exports, DefaultExport: "default", MaxPayload: DefaultMaxPayload}
		out := h.Option(context.Background(), OptionHeader{Code: code, Length: uint32(len(data))}, data)
		if code == OptExportName {
			require.True(t, out.Close || out.Export != nil)
			return
		}
		// Every other answer is a well-formed sequence of replies to this option, ending
		// with an ACK or an error.
		rest := out.Reply
		require.NotEmpty(t, rest)
		for {
			rep, err := DecodeOptionReply(rest)
			require.NoError(t, err)
			require.Equal(t, code, rep.Code)
			require.LessOrEqual(t, int(rep.Length), len(rest)-OptionReplySize)
			rest = rest[OptionReplySize+int(rep.Length):]
			if rep.Type == RepAck || rep.Type&(1<<31) != 0 {
				require.Empty(t, rest)
				break
			}
		}
		if out.Export != nil {
			require.Equal(t, OptGo, code)
		}
	})
}

func FuzzParseInfoRequest(f *testing.F) {
	f.Add(AppendInfoRequest(nil, InfoRequest{Name: "vol", Infos: []uint16{3}}))
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 'x', 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseInfoRequest(b)
		if err != nil {
			return
		}
		require.Equal(t, b, AppendInfoRequest(nil, r))
	})
}

// FuzzTransmission feeds arbitrary bytes to a connection in transmission, after a proper
// handshake: the server must neither crash nor hang, answer only with well-formed replies,
// and keep bytes it never received a valid write for.
func FuzzTransmission(f *testing.F) {
	req := func(r Request, payload []byte) []byte { return append(AppendRequest(nil, r), payload...) }
	f.Add(req(Request{Type: CmdRead, Handle: 1, Length: 16}, nil))
	f.Add(append(req(Request{Type: CmdWrite, Handle: 2, Offset: 100, Length: 4}, []byte("abcd")), req(Request{Type: CmdRead, Handle: 3, Offset: 98, Length: 8}, nil)...))
	f.Add(req(Request{Type: CmdWrite, Handle: 4, Offset: 1 << 16, Length: 10}, []byte("short")))
	f.Add(req(Request{Type: CmdWriteZeroes, Flags: CmdFlagNoHole | CmdFlagFUA, Handle: 5, Length: 1 << 16}, nil))
	f.Add(append(req(Request{Type: 42, Handle: 6}, nil), []byte("garbage after")...))
	f.Add(req(Request{Type: CmdDisc}, nil))
	f.Fuzz(func(t *testing.T, stream []byte) {
		const size = 1 << 16
		mem := blockdevtest.NewMemory(size)
		sentinel := bytes.Repeat([]byte{0x5a}, size)
		_, err := mem.WriteAt(context.Background(), sentinel, 0)
		require.NoError(t, err)
		srv := NewServer(NewExportSet(Export{Name: "default", Device: mem}), WithMaxPayload(1<<16))

		hs := be.AppendUint32(nil, uint32(FlagFixedNewstyle|FlagNoZeroes))
		hs = AppendOption(hs, OptExportName, []byte("default"))
		conn := &scriptConn{r: io.MultiReader(bytes.NewReader(hs), bytes.NewReader(stream))}
		done := make(chan error, 1)
		go func() { done <- srv.ServeConn(context.Background(), conn) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("server did not finish on end of input")
		}

		// Mirror the server's framing to find every range a request may have changed.
		untouched := make([]bool, size)
		for i := range untouched {
			untouched[i] = true
		}
		for rest := stream; ; {
			r, err := DecodeRequest(rest)
			if err != nil {
				break
			}
			rest = rest[RequestSize:]
			if r.Type == CmdDisc {
				break
			}
			if (r.Type == CmdWrite || r.Type == CmdTrim || r.Type == CmdWriteZeroes) && r.Offset < size {
				clear(untouched[r.Offset:min(r.Offset+uint64(r.Length), size)])
			}
			if r.HasPayload() {
				if uint64(len(rest)) < uint64(r.Length) {
					break
				}
				rest = rest[r.Length:]
			}
		}
		got := make([]byte, size)
		_, err = mem.ReadAt(context.Background(), got, 0)
		require.NoError(t, err)
		for i := range got {
			if untouched[i] && got[i] != 0x5a {
				t.Fatalf("byte %d changed to %#x without a request for it", i, got[i])
			}
		}

		// The output is the greeting, the export answer, then well-formed replies.
		out := conn.out.Bytes()
		require.GreaterOrEqual(t, len(out), GreetingSize+10)
		_, err = ParseGreeting(out)
		require.NoError(t, err)
		out = out[GreetingSize+10:]
		if len(out) > 0 {
			_, _, err = DecodeSimpleReply(out)
			require.NoError(t, err)
		}
	})
}

// scriptConn is a net.Conn that reads a fixed script and records what is written.
type scriptConn struct {
	r   io.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

package nbd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowless-dev/shadowless/storage"
)

// Server serves Exports over NBD. Create it with NewServer; it is safe to Serve several
// listeners with one Server.
type Server struct {
	exports          Exports
	log              *slog.Logger
	maxInFlight      int
	maxInFlightBytes int64
	maxPayload       uint32
	defaultExport    string
	handshakeTime    time.Duration
	pool             bufferPool
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) ServerOption { return func(s *Server) { s.log = l } }

// WithMaxInFlight bounds how many requests of one connection run at once (default 16).
// While the bound is reached the server stops reading requests, which pushes back on the
// client through TCP.
func WithMaxInFlight(n int) ServerOption {
	return func(s *Server) {
		if n > 0 {
			s.maxInFlight = n
		}
	}
}

// WithMaxInFlightBytes bounds the READ and WRITE bytes one connection may have buffered
// at once (default 64 MiB; never less than the maximum payload).
func WithMaxInFlightBytes(n int64) ServerOption {
	return func(s *Server) {
		if n > 0 {
			s.maxInFlightBytes = n
		}
	}
}

// WithMaxPayload sets the largest READ or WRITE accepted (default DefaultMaxPayload).
func WithMaxPayload(n uint32) ServerOption {
	return func(s *Server) {
		if n > 0 {
			s.maxPayload = n
		}
	}
}

// WithDefaultExport names the export served to clients that ask for the empty name
// (default "default", the volume `storage up` creates).
func WithDefaultExport(name string) ServerOption {
	return func(s *Server) { s.defaultExport = name }
}

// WithHandshakeTimeout bounds how long a client may take to pick an export (default 30s).
func WithHandshakeTimeout(d time.Duration) ServerOption {
	return func(s *Server) { s.handshakeTime = d }
}

// NewServer returns a server for the given exports.
func NewServer(exports Exports, opts ...ServerOption) *Server {
	s := &Server{
		exports:          exports,
		log:              slog.New(slog.DiscardHandler),
		maxInFlight:      16,
		maxInFlightBytes: 64 << 20,
		maxPayload:       DefaultMaxPayload,
		defaultExport:    "default",
		handshakeTime:    30 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	s.pool = newBufferPool(s.maxPayload)
	return s
}

// Serve accepts connections on ln until ctx is cancelled or ln fails. On cancellation it
// closes ln and every connection, waits for their in-flight requests, and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nbd: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ServeConn(ctx, conn); err != nil {
				s.log.Debug("nbd connection ended", "remote", conn.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// ServeConn runs the handshake and transmission phases on one connection and closes it.
// It returns nil when the client disconnected cleanly.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) error {
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if s.handshakeTime > 0 {
		_ = conn.SetDeadline(time.Now().Add(s.handshakeTime))
	}
	r := bufio.NewReaderSize(conn, 256<<10)
	exp, err := s.handshake(ctx, r, conn)
	if err != nil || exp == nil {
		return err
	}
	_ = conn.SetDeadline(time.Time{})
	s.log.Debug("nbd transmission", "export", exp.Name, "remote", conn.RemoteAddr().String())
	t := &transmission{
		s:      s,
		dev:    exp.Device,
		ro:     exp.ReadOnly,
		size:   uint64(exp.Device.Size()),
		conn:   conn,
		w:      bufio.NewWriterSize(conn, 256<<10),
		budget: newBudget(s.maxInFlight, max(s.maxInFlightBytes, int64(s.maxPayload))),
	}
	return t.run(ctx, r)
}

func (s *Server) handshake(ctx context.Context, r *bufio.Reader, w io.Writer) (*Export, error) {
	if _, err := w.Write(AppendGreeting(nil, FlagFixedNewstyle|FlagNoZeroes)); err != nil {
		return nil, fmt.Errorf("nbd: greeting: %w", err)
	}
	var buf [OptionHeaderSize]byte
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return nil, fmt.Errorf("nbd: client flags: %w", err)
	}
	noZeroes, err := ParseClientFlags(buf[:4])
	if err != nil {
		return nil, err
	}
	h := &Handshake{Exports: s.exports, DefaultExport: s.defaultExport, MaxPayload: s.maxPayload, NoZeroes: noZeroes}
	for {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("nbd: option header: %w", err)
		}
		hdr, err := DecodeOptionHeader(buf[:])
		if err != nil {
			return nil, err
		}
		var out Outcome
		if hdr.Length > MaxOptionData {
			if _, err := io.CopyN(io.Discard, r, int64(hdr.Length)); err != nil {
				return nil, fmt.Errorf("nbd: skipping option data: %w", err)
			}
			out = h.TooBig(hdr)
		} else {
			data := make([]byte, hdr.Length)
			if _, err := io.ReadFull(r, data); err != nil {
				return nil, fmt.Errorf("nbd: option data: %w", err)
			}
			out = h.Option(ctx, hdr, data)
		}
		if len(out.Reply) > 0 {
			if _, err := w.Write(out.Reply); err != nil {
				return nil, fmt.Errorf("nbd: option reply: %w", err)
			}
		}
		if out.Close {
			return nil, nil
		}
		if out.Export != nil {
			return out.Export, nil
		}
	}
}

// transmission is one connection's transmission phase.
type transmission struct {
	s    *Server
	dev  storage.BlockDevice
	ro   bool
	size uint64
	conn net.Conn

	wmu    sync.Mutex
	queued atomic.Int32
	w      *bufio.Writer
	werr   error

	budget  *budget
	changed atomic.Bool
	tracker tracker
	wg      sync.WaitGroup
}

func (t *transmission) run(ctx context.Context, r *bufio.Reader) error {
	defer func() {
		// In-flight requests finish and reply, then the device is flushed if anything
		// changed: a disconnect, clean or not, leaves every completed write durable.
		t.wg.Wait()
		if t.changed.Load() {
			if err := t.dev.Flush(context.WithoutCancel(ctx)); err != nil {
				t.s.log.Warn("nbd flush at disconnect failed", "err", err)
			}
		}
	}()
	var hdr [RequestSize]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nbd: request header: %w", err)
		}
		req, err := DecodeRequest(hdr[:])
		if err != nil {
			return err // out of sync: hard disconnect
		}
		if req.Type == CmdDisc {
			return nil
		}
		errno := Validate(req, t.size, t.ro, t.s.maxPayload)
		if errno != 0 {
			if req.HasPayload() {
				if _, err := io.CopyN(io.Discard, r, int64(req.Length)); err != nil {
					return fmt.Errorf("nbd: skipping write payload: %w", err)
				}
			}
			if err := t.reply(req.Handle, errno, nil); err != nil {
				return err
			}
			continue
		}
		// Wait for room (requests and buffered bytes) before taking the payload in: a
		// client cannot make the server hold more than the budget.
		var weight int64
		if req.Type == CmdRead || req.Type == CmdWrite {
			weight = int64(req.Length)
		}
		t.budget.acquire(weight)
		var payload []byte
		if req.HasPayload() {
			payload = t.s.pool.get(int(req.Length))
			if _, err := io.ReadFull(r, payload); err != nil {
				t.s.pool.put(payload)
				t.budget.release(weight)
				return fmt.Errorf("nbd: write payload: %w", err)
			}
		}
		op, deps := t.tracker.add(req)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.budget.release(weight)
			defer t.tracker.done(op)
			for _, d := range deps {
				<-d
			}
			t.execute(ctx, req, payload)
		}()
	}
}

func (t *transmission) execute(ctx context.Context, req Request, payload []byte) {
	var (
		err  error
		data []byte
	)
	off, n := int64(req.Offset), int64(req.Length)
	switch req.Type {
	case CmdRead:
		data = t.s.pool.get(int(n))
		defer t.s.pool.put(data)
		_, err = t.dev.ReadAt(ctx, data, off)
	case CmdWrite:
		t.changed.Store(true)
		_, err = t.dev.WriteAt(ctx, payload, off)
		t.s.pool.put(payload)
	case CmdFlush:
		err = t.dev.Flush(ctx)
	case CmdTrim:
		t.changed.Store(true)
		if n > 0 {
			err = t.dev.Trim(ctx, off, n)
		}
	case CmdWriteZeroes:
		t.changed.Store(true)
		if n > 0 {
			if req.Flags&CmdFlagNoHole != 0 {
				err = t.dev.WriteZeroes(ctx, off, n)
			} else {
				// A hole reads back as zeroes too; the device may free the space.
				err = t.dev.Trim(ctx, off, n)
			}
		}
	}
	if err == nil && req.Flags&CmdFlagFUA != 0 {
		err = t.dev.Flush(ctx)
	}
	errno := uint32(0)
	if err != nil {
		errno = errnoFor(req, err, ctx)
		data = nil
		t.s.log.Warn("nbd request failed", "cmd", req.Type, "offset", req.Offset, "length", req.Length, "err", err)
	}
	if err := t.reply(req.Handle, errno, data); err != nil {
		t.conn.Close() // the reader sees the closed connection and stops
	}
}

func errnoFor(req Request, err error, ctx context.Context) uint32 {
	switch {
	case errors.Is(err, storage.ErrOutOfRange):
		if req.Type == CmdWrite || req.Type == CmdWriteZeroes {
			return ENOSPC
		}
		return EINVAL
	case ctx.Err() != nil:
		return ESHUTDOWN
	default:
		return EIO
	}
}

// reply writes one complete reply; replies of concurrent requests never interleave. The
// buffered writer is flushed by the last of the replies queued at the same time, so
// concurrent replies share system calls.
func (t *transmission) reply(handle uint64, errno uint32, data []byte) error {
	t.queued.Add(1)
	t.wmu.Lock()
	defer t.wmu.Unlock()
	last := t.queued.Add(-1) == 0
	if t.werr != nil {
		return t.werr
	}
	var hdr [SimpleReplySize]byte
	AppendSimpleReply(hdr[:0], errno, handle)
	_, err := t.w.Write(hdr[:])
	if err == nil && len(data) > 0 {
		_, err = t.w.Write(data)
	}
	if err == nil && last {
		err = t.w.Flush()
	}
	if err != nil {
		t.werr = fmt.Errorf("nbd: reply: %w", err)
	}
	return t.werr
}

// budget bounds a connection's in-flight requests and buffered bytes. A request heavier
// than the whole byte budget is still let through when nothing else is in flight, and
// requests without data (FLUSH, TRIM, WRITE_ZEROES) need only a request slot.
type budget struct {
	mu       sync.Mutex
	cond     *sync.Cond
	n, maxN  int
	bytes    int64
	maxBytes int64
}

func newBudget(maxN int, maxBytes int64) *budget {
	b := &budget{maxN: maxN, maxBytes: maxBytes}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *budget) acquire(weight int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.n >= b.maxN || (weight > 0 && b.n > 0 && b.bytes+weight > b.maxBytes) {
		b.cond.Wait()
	}
	b.n++
	b.bytes += weight
}

func (b *budget) release(weight int64) {
	b.mu.Lock()
	b.n--
	b.bytes -= weight
	b.mu.Unlock()
	b.cond.Broadcast()
}

// tracker orders conflicting requests: a request waits for every earlier in-flight request
// whose byte range overlaps its own when either of them changes data, and a FLUSH waits for
// every earlier in-flight change. Non-conflicting requests run in parallel.
type tracker struct {
	mu  sync.Mutex
	ops []*trackedOp
}

type trackedOp struct {
	start, end uint64
	write      bool
	flush      bool
	done       chan struct{}
}

func (tr *tracker) add(r Request) (*trackedOp, []chan struct{}) {
	op := &trackedOp{
		start: r.Offset,
		end:   r.Offset + uint64(r.Length),
		write: r.Type == CmdWrite || r.Type == CmdTrim || r.Type == CmdWriteZeroes,
		flush: r.Type == CmdFlush,
		done:  make(chan struct{}),
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var deps []chan struct{}
	for _, o := range tr.ops {
		if conflicts(o, op) {
			deps = append(deps, o.done)
		}
	}
	tr.ops = append(tr.ops, op)
	return op, deps
}

func conflicts(earlier, later *trackedOp) bool {
	if later.flush {
		return earlier.write
	}
	if earlier.flush || (!earlier.write && !later.write) {
		return false
	}
	return earlier.start < later.end && later.start < earlier.end
}

func (tr *tracker) done(op *trackedOp) {
	tr.mu.Lock()
	for i, o := range tr.ops {
		if o == op {
			tr.ops = append(tr.ops[:i], tr.ops[i+1:]...)
			break
		}
	}
	tr.mu.Unlock()
	close(op.done)
}

// bufferPool pools buffers of power-of-two sizes (4 KiB up to the maximum payload) to keep
// large transfers off the garbage collector.
type bufferPool []*sync.Pool

func newBufferPool(max uint32) bufferPool {
	var ps bufferPool
	for sz := 4 << 10; ; sz <<= 1 {
		size := sz
		ps = append(ps, &sync.Pool{New: func() any { b := make([]byte, size); return &b }})
		if sz >= int(max) {
			return ps
		}
	}
}

func poolIndex(n int) int {
	i, sz := 0, 4<<10
	for sz < n {
		sz <<= 1
		i++
	}
	return i
}

func (p bufferPool) get(n int) []byte {
	if n == 0 {
		return nil
	}
	i := poolIndex(n)
	if i >= len(p) {
		return make([]byte, n)
	}
	return (*p[i].Get().(*[]byte))[:n]
}

func (p bufferPool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	i := poolIndex(cap(b))
	if i >= len(p) || 4<<10<<i != cap(b) {
		return
	}
	b = b[:cap(b)]
	p[i].Put(&b)
}

package direct

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/sctp"
)

const (
	// MaxMessageSize is the largest message a Channel sends or receives (4 MiB): enough for
	// a keyframe. SCTP fragments a message into packets and reassembles it.
	MaxMessageSize = 4 << 20
	// receiveBuffer is the SCTP receive window; it must exceed MaxMessageSize or a maximal
	// message could never complete.
	receiveBuffer = 2 * MaxMessageSize
	// shutdownTimeout bounds the graceful SCTP shutdown in Close.
	shutdownTimeout = 500 * time.Millisecond
	// acceptBacklog bounds channels and connections waiting for Accept.
	acceptBacklog = 16
)

// Transport names reported by Conn.Transport.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
)

// Conn is one direct connection: an SCTP association over DTLS/UDP or TLS/TCP, carrying
// any number of Channels. It is safe for concurrent use.
type Conn struct {
	assoc     *sctp.Association
	netConn   net.Conn
	transport string
	log       *slog.Logger

	mu     sync.Mutex
	nextID uint16 // next stream id this side opens: even for the client, odd for the server

	accepted  chan *Channel
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// newConn wraps an established association and starts accepting the peer's channels.
func newConn(assoc *sctp.Association, nc net.Conn, transport string, client bool, log *slog.Logger) *Conn {
	c := &Conn{
		assoc:     assoc,
		netConn:   nc,
		transport: transport,
		log:       log.With("transport", transport, "remote", nc.RemoteAddr().String()),
		accepted:  make(chan *Channel, acceptBacklog),
		done:      make(chan struct{}),
	}
	if !client {
		c.nextID = 1
	}
	c.wg.Add(1)
	go c.acceptLoop()
	return c
}

// Transport reports how the connection travels: TransportUDP (DTLS over UDP) or
// TransportTCP (TLS over TCP).
func (c *Conn) Transport() string { return c.transport }

// LocalAddr is the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.netConn.LocalAddr() }

// RemoteAddr is the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.netConn.RemoteAddr() }

// Done is closed when the connection is gone (closed locally, by the peer, or lost).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Stats are counters of a connection.
type Stats struct {
	BytesSent     uint64        // SCTP bytes written to the transport
	BytesReceived uint64        // SCTP bytes read from the transport
	SRTT          time.Duration // smoothed round-trip time
	CWND          uint32        // congestion window in bytes
	BufferedBytes int           // bytes queued in the association, all channels
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	return Stats{
		BytesSent:     c.assoc.BytesSent(),
		BytesReceived: c.assoc.BytesReceived(),
		SRTT:          time.Duration(c.assoc.SRTT() * float64(time.Millisecond)),
		CWND:          c.assoc.CWND(),
		BufferedBytes: c.assoc.BufferedAmount(),
	}
}

// OpenChannel opens a channel named label and waits until the peer has accepted it (one
// round trip). Several channels may share a label; the peer sees them in opening order.
func (c *Conn) OpenChannel(ctx context.Context, label string, opts ChannelOptions) (*Channel, error) {
	open, err := openFromOptions(label, opts)
	if err != nil {
		return nil, err
	}
	select {
	case <-c.done:
		return nil, fmt.Errorf("direct: open channel %q: %w", label, ErrClosed)
	default:
	}
	c.mu.Lock()
	id := c.nextID
	c.nextID += 2
	c.mu.Unlock()
	if id < 2 && c.nextID < 2 { // wrapped around: 32768 channels opened on this side
		return nil, fmt.Errorf("direct: open channel %q: out of stream ids", label)
	}
	st, err := c.assoc.OpenStream(id, sctp.PayloadTypeWebRTCBinary)
	if err != nil {
		return nil, fmt.Errorf("direct: open channel %q: %w: %w", label, ErrClosed, err)
	}
	st.SetReliabilityParams(false, sctp.ReliabilityTypeReliable, 0)
	if _, err := st.WriteSCTP(encodeOpen(open), ppiDCEP); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("direct: open channel %q: %w", label, mapErr(err))
	}
	ch := newChannel(c, st, label, opts)
	// Wait for the ACK. Any data message first is an implicit ACK (RFC 8832 section 6)
	// and is kept for the first Recv.
	for {
		msg, ppi, err := ch.read(ctx)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("direct: open channel %q: waiting for the peer: %w", label, err)
		}
		if ppi == ppiDCEP {
			if isAck(msg) {
				break
			}
			continue // not for us: ignore
		}
		ch.pending = msg
		break
	}
	ch.applyReliability()
	return ch, nil
}

// AcceptChannel returns the next channel the peer opened.
func (c *Conn) AcceptChannel(ctx context.Context) (*Channel, error) {
	select {
	case ch := <-c.accepted:
		return ch, nil
	default:
	}
	select {
	case ch := <-c.accepted:
		return ch, nil
	case <-c.done:
		return nil, fmt.Errorf("direct: accept channel: %w", ErrClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("direct: accept channel: %w", ctx.Err())
	}
}

// Close closes the connection and all its channels: it flushes queued messages for a
// short while (graceful SCTP shutdown), then closes the transport and waits for the
// connection's goroutines to end.
func (c *Conn) Close() error {
	c.teardown(true)
	c.wg.Wait()
	if c.closeErr != nil {
		return fmt.Errorf("direct: close: %w", c.closeErr)
	}
	return nil
}

// teardown ends the association once; it does not wait for the accept loop.
func (c *Conn) teardown(graceful bool) {
	c.closeOnce.Do(func() {
		if graceful {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			_ = c.assoc.Shutdown(ctx) // the peer may be gone already; Close below is what counts
			cancel()
		}
		err := c.assoc.Close()
		if nerr := c.netConn.Close(); err == nil && nerr != nil && !errors.Is(nerr, net.ErrClosed) {
			err = nerr
		}
		if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
			c.closeErr = err
		}
		close(c.done)
	})
}

// acceptLoop accepts the peer's streams and runs the open handshake for each.
func (c *Conn) acceptLoop() {
	defer c.wg.Done()
	for {
		st, err := c.assoc.AcceptStream()
		if err != nil {
			c.log.Debug("direct connection ended", "error", err)
			c.teardown(false)
			return
		}
		c.wg.Add(1)
		go c.acceptStream(st)
	}
}

// acceptStream reads the peer's channel open on st and answers with an ACK.
func (c *Conn) acceptStream(st *sctp.Stream) {
	defer c.wg.Done()
	// The read ends early when the association goes away (the stream fails).
	ctx, cancel := context.WithTimeout(context.Background(), channelOpenAckTimeout)
	defer cancel()
	ch := newChannel(c, st, "", ChannelOptions{})
	msg, ppi, err := ch.read(ctx)
	if err != nil {
		c.log.Debug("channel open not received", "stream", st.StreamIdentifier(), "error", err)
		_ = st.Close()
		return
	}
	if ppi != ppiDCEP {
		c.log.Warn("channel without open message dropped", "stream", st.StreamIdentifier())
		_ = st.Close()
		return
	}
	open, err := decodeOpen(msg)
	if err != nil {
		c.log.Warn("malformed channel open dropped", "stream", st.StreamIdentifier(), "error", err)
		_ = st.Close()
		return
	}
	ch.label, ch.opts = open.Label, open.options()
	// The ACK leaves while the stream is still ordered and reliable.
	if _, err := st.WriteSCTP([]byte{msgTypeAck}, ppiDCEP); err != nil {
		c.log.Debug("channel open ack failed", "label", open.Label, "error", err)
		_ = st.Close()
		return
	}
	ch.applyReliability()
	select {
	case c.accepted <- ch:
	case <-c.done:
		_ = st.Close()
	}
}

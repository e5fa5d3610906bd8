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
	// maxStreamID is the largest SCTP stream id (65535 streams are negotiated: 0..65534).
	maxStreamID = 65534
	// maxPendingOpens bounds the peer's channels in their open handshake or waiting for
	// AcceptChannel beyond the backlog; further streams are reset.
	maxPendingOpens = 64
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

	mu        sync.Mutex
	nextID    uint16 // next stream id this side opens: even for the client, odd for the server
	idsUsedUp bool   // every id of this side's parity has been used

	client    bool
	accepted  chan *Channel
	opening   chan struct{} // semaphore: peer channels being opened, see maxPendingOpens
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Liveness defaults (see Liveness).
const (
	DefaultKeepAlive   = time.Second
	DefaultIdleTimeout = 10 * time.Second
)

// Liveness says how a connection notices a peer that has gone away without closing
// (network gone, host down): it sends an SCTP HEARTBEAT every KeepAlive (which also keeps
// NAT bindings open) and gives the connection up when nothing at all has arrived for
// IdleTimeout. Each side watches the other's heartbeats (pion/sctp does not answer
// them, see PROTOCOL.md), so both ends of a connection need a KeepAlive well below the
// other's IdleTimeout. Zero fields take the defaults (1 s, 10 s).
type Liveness struct {
	KeepAlive   time.Duration
	IdleTimeout time.Duration
}

func (l Liveness) withDefaults() Liveness {
	if l.KeepAlive <= 0 {
		l.KeepAlive = DefaultKeepAlive
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	return l
}

// newConn wraps an established association and starts accepting the peer's channels.
func newConn(assoc *sctp.Association, nc net.Conn, transport string, client bool, live Liveness, log *slog.Logger) *Conn {
	c := &Conn{
		assoc:     assoc,
		netConn:   nc,
		transport: transport,
		log:       log.With("transport", transport, "remote", nc.RemoteAddr().String()),
		client:    client,
		accepted:  make(chan *Channel, acceptBacklog),
		opening:   make(chan struct{}, maxPendingOpens),
		done:      make(chan struct{}),
	}
	if !client {
		c.nextID = 1
	}
	c.wg.Add(2)
	go c.acceptLoop()
	go c.keepAlive(live.withDefaults())
	return c
}

// keepAlive sends heartbeats and ends the connection when the peer has been silent for
// the idle timeout.
func (c *Conn) keepAlive(live Liveness) {
	defer c.wg.Done()
	t := time.NewTicker(live.KeepAlive)
	defer t.Stop()
	lastBytes, lastHeard := c.assoc.BytesReceived(), time.Now()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if b := c.assoc.BytesReceived(); b != lastBytes {
				lastBytes, lastHeard = b, now
			} else if now.Sub(lastHeard) >= live.IdleTimeout {
				c.log.Info("direct connection timed out: peer silent", "for", now.Sub(lastHeard).Round(time.Millisecond))
				c.teardown(false)
				return
			}
			c.assoc.ActiveHeartbeat()
		}
	}
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
// round trip). Several channels may share a label. Channels opened one after the other
// (each OpenChannel returned before the next began) reach the peer's AcceptChannel in
// that order.
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
	id, exhausted := c.nextID, c.idsUsedUp
	if c.nextID > maxStreamID-2 {
		c.idsUsedUp = true // ids are not reused: 32768 channels per side and connection
	} else {
		c.nextID += 2
	}
	c.mu.Unlock()
	if exhausted {
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
		// The peer opens odd ids if it is the server, even ones if it is the client.
		if peerOdd := c.client; (st.StreamIdentifier()%2 == 1) != peerOdd {
			c.log.Warn("peer opened a stream with the wrong parity; reset", "stream", st.StreamIdentifier())
			_ = st.Close()
			continue
		}
		select {
		case c.opening <- struct{}{}:
		default:
			c.log.Warn("too many channels waiting to be accepted; stream reset", "stream", st.StreamIdentifier())
			_ = st.Close()
			continue
		}
		c.wg.Add(1)
		go c.acceptStream(st)
	}
}

// acceptStream reads the peer's channel open on st and answers with an ACK.
func (c *Conn) acceptStream(st *sctp.Stream) {
	defer c.wg.Done()
	defer func() { <-c.opening }()
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
	// DCEP messages are always sent ordered and reliable (pion/sctp sees to that), so
	// the stream takes the channel's mode before the ACK goes out.
	ch.applyReliability()
	// Queue the channel before acknowledging it: the opener opens its next channel only
	// after this ACK, so channels opened one after the other are accepted in that order.
	select {
	case c.accepted <- ch:
	case <-c.done:
		_ = st.Close()
		return
	}
	if _, err := st.WriteSCTP([]byte{msgTypeAck}, ppiDCEP); err != nil {
		c.log.Debug("channel open ack failed", "label", open.Label, "error", err)
		_ = ch.Close() // the application sees the channel closed
	}
}

package direct

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pion/sctp"
)

// initialReadBuffer is a channel's first receive buffer; it grows to the largest message
// seen (at most MaxMessageSize).
const initialReadBuffer = 4 << 10

// Channel is one bidirectional message channel of a Conn (an SCTP stream pair).
// Messages keep their boundaries. Send may be called from several goroutines; Recv is
// meant for one reader at a time (concurrent calls are serialised).
type Channel struct {
	conn  *Conn
	st    *sctp.Stream
	label string
	opts  ChannelOptions

	rmu     sync.Mutex
	buf     []byte
	pending []byte // a data message that arrived before the open ACK

	closeOnce sync.Once
}

func newChannel(c *Conn, st *sctp.Stream, label string, opts ChannelOptions) *Channel {
	return &Channel{conn: c, st: st, label: label, opts: opts, buf: make([]byte, initialReadBuffer)}
}

// Label is the name the channel was opened with ("input", "video", ...).
func (ch *Channel) Label() string { return ch.label }

// Options are the delivery options the channel was opened with.
func (ch *Channel) Options() ChannelOptions { return ch.opts }

// StreamID is the SCTP stream identifier the channel uses.
func (ch *Channel) StreamID() uint16 { return ch.st.StreamIdentifier() }

// applyReliability sets the stream's delivery mode from the channel options. On TCP a
// partially reliable channel sends reliably: TCP loses nothing, so SCTP could only give
// up a message after a spurious retransmission timeout (a stall of the host), dropping a
// frame that was on its way anyway.
func (ch *Channel) applyReliability() {
	relType, relVal := sctp.ReliabilityTypeReliable, uint32(0)
	switch {
	case ch.conn.transport == TransportTCP:
	case ch.opts.MaxRetransmits != nil:
		relType, relVal = sctp.ReliabilityTypeRexmit, uint32(*ch.opts.MaxRetransmits)
	case ch.opts.MaxLifetime != nil:
		relType, relVal = sctp.ReliabilityTypeTimed, uint32(ch.opts.MaxLifetime.Milliseconds())
	}
	ch.st.SetReliabilityParams(!ch.opts.Ordered, relType, relVal)
}

// Send queues msg (at most MaxMessageSize bytes, may be empty) for sending and returns
// without waiting for the network: watch BufferedAmount for backpressure. msg may be
// reused once Send returns.
func (ch *Channel) Send(msg []byte) error {
	if len(msg) > MaxMessageSize {
		return fmt.Errorf("direct: send on %q: %w: %d bytes, at most %d", ch.label, ErrTooLarge, len(msg), MaxMessageSize)
	}
	var err error
	if len(msg) == 0 {
		// SCTP has no empty messages: one zero byte under the "empty binary" PPI (RFC 8831).
		_, err = ch.st.WriteSCTP([]byte{0}, ppiBinaryEmpty)
	} else {
		_, err = ch.st.WriteSCTP(msg, ppiBinary)
	}
	if err != nil {
		return fmt.Errorf("direct: send on %q: %w", ch.label, mapErr(err))
	}
	return nil
}

// Recv returns the next message. It fails with an error wrapping ErrClosed when the
// channel or the connection is closed, and with ctx's error when ctx ends first. When the
// peer has closed the channel, Recv returns what it sent before, then closes this side
// too (Send fails from then on).
func (ch *Channel) Recv(ctx context.Context) ([]byte, error) {
	ch.rmu.Lock()
	defer ch.rmu.Unlock()
	if ch.pending != nil {
		msg := ch.pending
		ch.pending = nil
		return msg, nil
	}
	for {
		msg, ppi, err := ch.read(ctx)
		if err != nil {
			return nil, fmt.Errorf("direct: recv on %q: %w", ch.label, err)
		}
		if ppi == ppiDCEP {
			continue // a late or repeated handshake message: not data
		}
		return msg, nil
	}
}

// read reads one SCTP message from the stream; ctx ends the wait.
func (ch *Channel) read(ctx context.Context) ([]byte, sctp.PayloadProtocolIdentifier, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	_ = ch.st.SetReadDeadline(time.Time{})
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = ch.st.SetReadDeadline(time.Unix(1, 0)) // in the past: wakes the read now
	})
	defer func() {
		if !stop() {
			<-fired
		}
	}()
	for {
		n, ppi, err := ch.st.ReadSCTP(ch.buf)
		if errors.Is(err, io.ErrShortBuffer) {
			size := max(2*len(ch.buf), n)
			if size > MaxMessageSize+1 {
				size = MaxMessageSize + 1
			}
			if size <= len(ch.buf) {
				return nil, 0, fmt.Errorf("%w: inbound message of %d bytes", ErrTooLarge, n)
			}
			ch.buf = make([]byte, size)
			continue
		}
		if err != nil {
			if errors.Is(err, sctp.ErrReadDeadlineExceeded) && ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				// The peer reset its stream: reset ours too, the channel is closed (RFC 8831 6.7).
				_ = ch.Close()
			}
			err = mapErr(err)
			if !errors.Is(err, ErrClosed) && isClosed(ch.conn.done) {
				err = fmt.Errorf("%w: %w", ErrClosed, err)
			}
			return nil, 0, err
		}
		if ppi == ppiBinaryEmpty {
			return []byte{}, ppi, nil
		}
		msg := make([]byte, n)
		copy(msg, ch.buf[:n])
		return msg, ppi, nil
	}
}

// BufferedAmount is the number of bytes queued on this channel and not yet acknowledged
// by the peer.
func (ch *Channel) BufferedAmount() uint64 { return ch.st.BufferedAmount() }

// SetBufferedAmountLowThreshold sets the level at or below which OnBufferedAmountLow's
// callback fires (default 0).
func (ch *Channel) SetBufferedAmountLowThreshold(n uint64) { ch.st.SetBufferedAmountLowThreshold(n) }

// OnBufferedAmountLow sets f to be called whenever BufferedAmount falls from above the
// threshold to at or below it. f runs on the connection's read goroutine: it must not
// block (signal a channel, do not Send large amounts from it).
func (ch *Channel) OnBufferedAmountLow(f func()) { ch.st.OnBufferedAmountLow(f) }

// Close closes the channel in both directions (an SCTP stream reset): the peer's Recv
// fails with ErrClosed once it has read what was sent before.
func (ch *Channel) Close() error {
	var err error
	ch.closeOnce.Do(func() {
		if e := ch.st.Close(); e != nil && !errors.Is(e, sctp.ErrStreamClosed) {
			err = fmt.Errorf("direct: close %q: %w", ch.label, mapErr(e))
		}
	})
	return err
}

// mapErr adds ErrClosed to pion errors that mean the stream or association is gone.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, sctp.ErrStreamClosed),
		errors.Is(err, sctp.ErrAssociationClosed), errors.Is(err, sctp.ErrAssociationClosedBeforeConn),
		errors.Is(err, sctp.ErrPayloadDataStateNotExist), errors.Is(err, sctp.ErrShutdownNonEstablished),
		errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, sctp.ErrOutboundPacketTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return err
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

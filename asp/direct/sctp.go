package direct

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/pion/sctp"
)

// startSCTP runs the SCTP handshake over nc (DTLS or framed TLS, both already
// authenticated) and returns the Conn. ctx bounds the handshake: when it ends first, nc
// is closed. On error nc is closed.
func startSCTP(ctx context.Context, nc net.Conn, transport string, client bool, live Liveness, log *slog.Logger) (*Conn, error) {
	opts := []sctp.AssociationOption{
		sctp.WithNetConn(nc),
		sctp.WithLoggerFactory(slogFactory{log: log}),
		sctp.WithMaxMessageSize(MaxMessageSize),
		sctp.WithMaxReceiveBufferSize(receiveBuffer),
		// Packets are authenticated by DTLS/TLS: the CRC32c adds nothing (RFC 9653).
		sctp.WithEnableZeroChecksum(true),
		// I-DATA (RFC 8260): a large message (a keyframe) is interleaved with the other
		// streams' messages instead of holding them back until its last fragment; pion's
		// default scheduler then shares the link fairly between backlogged streams.
		sctp.WithEnableInterleaving(true),
	}
	// On UDP pion's default MTU (1191) fits a 1280-byte IPv6 path under DTLS.
	if transport == TransportTCP {
		// TCP delivers every packet: an SCTP retransmission timeout there is spurious (a
		// stalled host), and backing it off up to pion's 60 s default would only stall the
		// association further. Keep it at the 1 s minimum.
		opts = append(opts, sctp.WithMTU(tcpMTU), sctp.WithRTOMax(1000))
	}
	var (
		assoc *sctp.Association
		err   error
	)
	if client {
		copts := make([]sctp.ClientOption, len(opts))
		for i, o := range opts {
			copts[i] = o
		}
		assoc, err = sctp.ClientContext(ctx, copts...)
	} else {
		// ServerWithOptions has no context: closing nc ends its wait.
		stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
		sopts := make([]sctp.ServerOption, len(opts))
		for i, o := range opts {
			sopts[i] = o
		}
		assoc, err = sctp.ServerWithOptions(sopts...)
		if !stop() && err == nil {
			assoc.Close()
			err = ctx.Err()
		}
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
	}
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("sctp handshake over %s: %w", transport, err)
	}
	return newConn(assoc, nc, transport, client, live, log), nil
}

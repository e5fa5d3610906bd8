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
func startSCTP(ctx context.Context, nc net.Conn, transport string, client bool, log *slog.Logger) (*Conn, error) {
	mtu := uint32(0) // pion's default (1191) fits a 1280-byte IPv6 path under DTLS
	if transport == TransportTCP {
		mtu = tcpMTU
	}
	opts := []sctp.AssociationOption{
		sctp.WithNetConn(nc),
		sctp.WithLoggerFactory(slogFactory{log: log}),
		sctp.WithMaxMessageSize(MaxMessageSize),
		sctp.WithMaxReceiveBufferSize(receiveBuffer),
		// Packets are authenticated by DTLS/TLS: the CRC32c adds nothing (RFC 9653).
		sctp.WithEnableZeroChecksum(true),
	}
	if mtu != 0 {
		opts = append(opts, sctp.WithMTU(mtu))
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
	return newConn(assoc, nc, transport, client, log), nil
}

package direct

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/pion/dtls/v3"
)

// DefaultUDPTimeout is how long Dial waits for an answer on UDP before it tries TCP.
const DefaultUDPTimeout = 1500 * time.Millisecond

// ClientConfig configures Dial.
type ClientConfig struct {
	// Addr is the server's "host:port", used for both UDP and TCP unless UDPAddr or
	// TCPAddr override it.
	Addr string
	// UDPAddr and TCPAddr, when set, replace Addr for one transport.
	UDPAddr, TCPAddr string
	// ServerFingerprint pins the server certificate (what a connection ticket carries).
	// When zero, RootCAs and ServerName verify the certificate the usual way instead.
	ServerFingerprint Fingerprint
	// RootCAs verifies the server certificate when no fingerprint is pinned (nil: the
	// system roots).
	RootCAs *x509.CertPool
	// ServerName is the name the certificate must carry when no fingerprint is pinned
	// (default: the host part of the address).
	ServerName string
	// UDPTimeout is how long the DTLS handshake on UDP may take before Dial falls back
	// to TCP (default DefaultUDPTimeout). An ICMP "port unreachable" falls back at once.
	UDPTimeout time.Duration
	// DisableUDP and DisableTCP leave out one transport.
	DisableUDP, DisableTCP bool
	// WrapPacketConn, if set, wraps the client's UDP socket (loss or delay emulation in
	// tests and benchmarks).
	WrapPacketConn func(net.PacketConn) net.PacketConn
	// Liveness sets heartbeats and the idle timeout (defaults: 1 s, 10 s).
	Liveness Liveness
	// Logger receives the connection's and pion's logs (nil: discarded).
	Logger *slog.Logger
}

// Dial connects to a direct server: DTLS over UDP first, then TLS over TCP when UDP gets
// no answer within UDPTimeout or is refused. A certificate that fails verification
// (ErrFingerprint) ends the attempt without fallback. ctx bounds the whole dial.
func Dial(ctx context.Context, cfg ClientConfig) (*Conn, error) {
	if cfg.ServerFingerprint.IsZero() && cfg.RootCAs == nil && cfg.ServerName == "" {
		return nil, errors.New("direct: dial: no ServerFingerprint, RootCAs or ServerName to verify the server with")
	}
	if cfg.UDPTimeout <= 0 {
		cfg.UDPTimeout = DefaultUDPTimeout
	}
	log := discardLogger(cfg.Logger)
	udpAddr, tcpAddr := pick(cfg.UDPAddr, cfg.Addr), pick(cfg.TCPAddr, cfg.Addr)
	var udpErr error
	if !cfg.DisableUDP && udpAddr != "" {
		uctx, cancel := context.WithTimeout(ctx, cfg.UDPTimeout)
		c, err := dialUDP(uctx, udpAddr, cfg, log)
		cancel()
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrFingerprint) || ctx.Err() != nil || cfg.DisableTCP || tcpAddr == "" {
			return nil, fmt.Errorf("direct: dial: %w", err)
		}
		log.Debug("udp failed, falling back to tcp", "error", err)
		udpErr = err
	}
	if cfg.DisableTCP || tcpAddr == "" {
		return nil, errors.New("direct: dial: no transport enabled")
	}
	c, err := dialTCP(ctx, tcpAddr, cfg, log)
	if err != nil {
		if udpErr != nil && !errors.Is(err, ErrFingerprint) && ctx.Err() == nil {
			return nil, fmt.Errorf("direct: dial: %w: udp: %w; tcp: %w", ErrUnreachable, udpErr, err)
		}
		return nil, fmt.Errorf("direct: dial: %w", err)
	}
	return c, nil
}

func pick(specific, general string) string {
	if specific != "" {
		return specific
	}
	return general
}

func serverName(cfg ClientConfig, addr string) string {
	if cfg.ServerName != "" {
		return cfg.ServerName
	}
	host, _, _ := net.SplitHostPort(addr)
	return host
}

// dialUDP runs DTLS then SCTP over a connected UDP socket.
func dialUDP(ctx context.Context, addr string, cfg ClientConfig, log *slog.Logger) (*Conn, error) {
	d := net.Dialer{Control: setSocketBuffers}
	nc, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp: %w", err)
	}
	uc := nc.(*net.UDPConn)
	var pc net.PacketConn = connectedPacketConn{uc}
	if cfg.WrapPacketConn != nil {
		pc = cfg.WrapPacketConn(pc)
	}
	opts := []dtls.ClientOption{
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(slogFactory{log: log}),
		// The first flight is resent every 250 ms so a lost datagram costs little of the
		// short UDP budget.
		dtls.WithFlightInterval(250 * time.Millisecond),
	}
	var verifyErr error
	if !cfg.ServerFingerprint.IsZero() {
		verify := verifyFingerprint(cfg.ServerFingerprint)
		opts = append(opts, dtls.WithInsecureSkipVerify(true),
			dtls.WithVerifyPeerCertificate(func(raw [][]byte, chains [][]*x509.Certificate) error {
				verifyErr = verify(raw, chains)
				return verifyErr
			}))
	} else {
		opts = append(opts, dtls.WithRootCAs(cfg.RootCAs), dtls.WithServerName(serverName(cfg, addr)))
	}
	dc, err := dtls.ClientWithOptions(pc, uc.RemoteAddr(), opts...)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("dtls: %w", err)
	}
	if err := dc.HandshakeContext(ctx); err != nil {
		_ = dc.Close()
		if verifyErr != nil {
			return nil, fmt.Errorf("dtls handshake: %w", verifyErr)
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("dtls handshake: %w: %w", ErrUnreachable, err)
		}
		return nil, fmt.Errorf("dtls handshake: %w", err)
	}
	return startSCTP(ctx, dc, TransportUDP, true, cfg.Liveness, log)
}

// dialTCP runs TLS then SCTP (framed) over TCP.
func dialTCP(ctx context.Context, addr string, cfg ClientConfig, log *slog.Logger) (*Conn, error) {
	tc := &tls.Config{
		NextProtos: []string{alpnProtocol},
		MinVersion: tls.VersionTLS13,
	}
	if !cfg.ServerFingerprint.IsZero() {
		tc.InsecureSkipVerify = true // replaced by the fingerprint check below
		tc.VerifyPeerCertificate = verifyFingerprint(cfg.ServerFingerprint)
	} else {
		tc.RootCAs, tc.ServerName = cfg.RootCAs, serverName(cfg, addr)
	}
	d := tls.Dialer{Config: tc}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	conn := nc.(*tls.Conn)
	if conn.ConnectionState().NegotiatedProtocol != alpnProtocol {
		_ = conn.Close()
		return nil, fmt.Errorf("tls: %w: server did not agree to %q", ErrProtocol, alpnProtocol)
	}
	return startSCTP(ctx, newFramedConn(conn), TransportTCP, true, cfg.Liveness, log)
}

// connectedPacketConn presents a connected UDP socket as a net.PacketConn, so that the
// kernel reports ICMP "port unreachable" to reads (an unconnected socket never sees it).
type connectedPacketConn struct{ *net.UDPConn }

func (c connectedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, err := c.UDPConn.Read(p)
	return n, c.UDPConn.RemoteAddr(), err
}

func (c connectedPacketConn) WriteTo(p []byte, _ net.Addr) (int, error) { return c.UDPConn.Write(p) }

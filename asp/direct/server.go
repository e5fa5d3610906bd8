package direct

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
)

// alpnProtocol names this protocol in the TLS handshake on TCP.
const alpnProtocol = "shadowless-direct/1"

const (
	// defaultHandshakeTimeout bounds a connection's DTLS/TLS plus SCTP handshake.
	defaultHandshakeTimeout = 10 * time.Second
	// defaultMaxHandshakes bounds the handshakes in progress at once.
	defaultMaxHandshakes = 64
)

// ServerConfig configures Listen.
type ServerConfig struct {
	// UDPAddr is the "host:port" to serve DTLS on; empty disables UDP.
	UDPAddr string
	// TCPAddr is the "host:port" to serve TLS on; empty disables TCP. When both addresses
	// have port 0 and the same host, both transports get the same port number.
	TCPAddr string
	// Certificate is the server's certificate; clients pin its Fingerprint (see
	// GenerateCertificate) or verify it against their roots.
	Certificate tls.Certificate
	// HandshakeTimeout bounds each connection's handshakes (default 10 s).
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the connections in their handshakes at once (default 64);
	// connections beyond it are closed at once.
	MaxHandshakes int
	// Liveness sets heartbeats and the idle timeout of accepted connections (defaults:
	// 1 s, 10 s).
	Liveness Liveness
	// Logger receives the listener's and pion's logs (nil: discarded).
	Logger *slog.Logger
}

// Listener accepts direct connections on UDP and TCP at once.
type Listener struct {
	cfg  ServerConfig
	log  *slog.Logger
	udp  net.Listener // DTLS listener, nil when disabled
	tcp  net.Listener // plain TCP listener (TLS on top per connection), nil when disabled
	tlsc *tls.Config

	ctx    context.Context // cancelled by Close: ends handshakes in progress
	cancel context.CancelFunc
	conns  chan *Conn
	hs     chan struct{} // semaphore: handshakes in progress
	wg     sync.WaitGroup
	once   sync.Once
}

// Listen starts serving. ctx only bounds setting up the sockets; the listener runs until
// Close.
func Listen(ctx context.Context, cfg ServerConfig) (*Listener, error) {
	if cfg.UDPAddr == "" && cfg.TCPAddr == "" {
		return nil, errors.New("direct: listen: neither UDPAddr nor TCPAddr given")
	}
	if len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil {
		return nil, errors.New("direct: listen: no certificate")
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = defaultHandshakeTimeout
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = defaultMaxHandshakes
	}
	l := &Listener{
		cfg:   cfg,
		log:   discardLogger(cfg.Logger),
		conns: make(chan *Conn, acceptBacklog),
		hs:    make(chan struct{}, cfg.MaxHandshakes),
	}
	l.tlsc = &tls.Config{
		Certificates: []tls.Certificate{cfg.Certificate},
		NextProtos:   []string{alpnProtocol},
		MinVersion:   tls.VersionTLS13,
	}
	if err := l.listen(ctx); err != nil {
		l.closeSockets()
		return nil, err
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if l.udp != nil {
		l.wg.Add(1)
		go l.serve(l.udp, TransportUDP)
	}
	if l.tcp != nil {
		l.wg.Add(1)
		go l.serve(l.tcp, TransportTCP)
	}
	return l, nil
}

// listen opens the sockets, sharing the port number when both ask for port 0 on one host.
func (l *Listener) listen(ctx context.Context) error {
	var lc net.ListenConfig
	tcpHost, tcpPort, _ := net.SplitHostPort(l.cfg.TCPAddr)
	udpHost, udpPort, _ := net.SplitHostPort(l.cfg.UDPAddr)
	share := l.cfg.TCPAddr != "" && l.cfg.UDPAddr != "" && tcpPort == "0" && udpPort == "0" && tcpHost == udpHost
	for attempt := 0; ; attempt++ {
		if l.cfg.TCPAddr != "" {
			ln, err := lc.Listen(ctx, "tcp", l.cfg.TCPAddr)
			if err != nil {
				return fmt.Errorf("direct: listen tcp: %w", err)
			}
			l.tcp = ln
		}
		if l.cfg.UDPAddr == "" {
			return nil
		}
		addr := l.cfg.UDPAddr
		if share {
			addr = net.JoinHostPort(udpHost, strconv.Itoa(l.tcp.Addr().(*net.TCPAddr).Port))
		}
		err := l.listenUDP(addr)
		if err == nil {
			return nil
		}
		if !share || attempt == 4 {
			return err
		}
		_ = l.tcp.Close() // port taken on UDP: try another pair
		l.tcp = nil
	}
}

func (l *Listener) listenUDP(addr string) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("direct: listen udp: %w", err)
	}
	ln, err := dtls.ListenWithOptions("udp", ua,
		dtls.WithCertificates(l.cfg.Certificate),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(slogFactory{log: l.log}),
		dtls.WithListenConfig(net.ListenConfig{Control: setSocketBuffers}),
	)
	if err != nil {
		return fmt.Errorf("direct: listen udp: %w", err)
	}
	l.udp = ln
	return nil
}

// UDPAddr is the UDP address served, nil when UDP is disabled.
func (l *Listener) UDPAddr() net.Addr {
	if l.udp == nil {
		return nil
	}
	return l.udp.Addr()
}

// TCPAddr is the TCP address served, nil when TCP is disabled.
func (l *Listener) TCPAddr() net.Addr {
	if l.tcp == nil {
		return nil
	}
	return l.tcp.Addr()
}

// Addr is the "host:port" a client dials: the TCP address when TCP is served (the UDP
// port is the same when the listener chose the ports), else the UDP address.
func (l *Listener) Addr() string {
	if l.tcp != nil {
		return l.tcp.Addr().String()
	}
	return l.udp.Addr().String()
}

// Fingerprint is the fingerprint of the server certificate, for connection tickets.
func (l *Listener) Fingerprint() Fingerprint { return CertificateFingerprint(l.cfg.Certificate) }

// Accept returns the next connection whose handshakes completed.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.ctx.Done():
		return nil, fmt.Errorf("direct: accept: %w", ErrClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("direct: accept: %w", ctx.Err())
	}
}

// Close stops listening, aborts handshakes in progress, closes connections not yet
// accepted and waits for the listener's goroutines. Accepted connections stay open.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.cancel()
		l.closeSockets()
		l.wg.Wait()
		for {
			select {
			case c := <-l.conns:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (l *Listener) closeSockets() {
	if l.udp != nil {
		_ = l.udp.Close()
	}
	if l.tcp != nil {
		_ = l.tcp.Close()
	}
}

// serve accepts raw connections and hands each to a handshake goroutine.
func (l *Listener) serve(ln net.Listener, transport string) {
	defer l.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if l.ctx.Err() == nil {
				l.log.Debug("direct accept failed", "transport", transport, "error", err)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				if !errors.Is(err, net.ErrClosed) {
					// pion's DTLS listener reports errors of single datagrams here.
					time.Sleep(10 * time.Millisecond)
					continue
				}
			}
			return
		}
		select {
		case l.hs <- struct{}{}:
		default:
			l.log.Warn("too many handshakes in progress; connection dropped", "transport", transport, "remote", nc.RemoteAddr().String())
			_ = nc.Close()
			continue
		}
		l.wg.Add(1)
		go l.handshake(nc, transport)
	}
}

// handshake authenticates nc (DTLS or TLS), runs the SCTP handshake and queues the Conn.
func (l *Listener) handshake(nc net.Conn, transport string) {
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.HandshakeTimeout)
	defer cancel()
	release := sync.OnceFunc(func() { <-l.hs })
	defer release()
	log := l.log.With("transport", transport, "remote", nc.RemoteAddr().String())
	var secured net.Conn
	switch transport {
	case TransportUDP:
		dc := nc.(*dtls.Conn)
		if err := dc.HandshakeContext(ctx); err != nil {
			log.Debug("dtls handshake failed", "error", err)
			_ = dc.Close()
			return
		}
		secured = dc
	default:
		tc := tls.Server(nc, l.tlsc)
		if err := tc.HandshakeContext(ctx); err != nil {
			log.Debug("tls handshake failed", "error", err)
			_ = tc.Close()
			return
		}
		if tc.ConnectionState().NegotiatedProtocol != alpnProtocol {
			log.Debug("tls client without the direct ALPN protocol")
			_ = tc.Close()
			return
		}
		secured = newFramedConn(tc)
	}
	c, err := startSCTP(ctx, secured, transport, false, l.cfg.Liveness, l.log)
	if err != nil {
		log.Debug("sctp handshake failed", "error", err)
		return
	}
	log.Debug("direct connection established")
	release() // waiting for Accept is not a handshake
	select {
	case l.conns <- c:
	case <-l.ctx.Done():
		_ = c.Close()
	}
}

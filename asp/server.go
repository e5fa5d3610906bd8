package asp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shadowless-dev/shadowless/asp/adapt"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/web"
)

// Direction says which way clipboard text moves.
type Direction uint8

// Clipboard directions.
const (
	// ToClient: text copied on the desktop goes to the client.
	ToClient Direction = iota + 1
	// FromClient: text copied on the client is pasted into the desktop.
	FromClient
)

// String names the direction as in metrics labels: "to_client", "from_client".
func (d Direction) String() string {
	switch d {
	case ToClient:
		return "to_client"
	case FromClient:
		return "from_client"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// ClipboardPolicy decides whether text may cross the clipboard in a direction; a non-nil
// error denies it (the error is logged, never sent to the client). It is called for every
// transfer, so it must be fast.
type ClipboardPolicy func(ctx context.Context, dir Direction, text string) error

// AllowClipboard is the default ClipboardPolicy: both directions allowed.
func AllowClipboard(context.Context, Direction, string) error { return nil }

// ErrClipboardDenied can be returned by a ClipboardPolicy.
var ErrClipboardDenied = errors.New("asp: clipboard transfer denied by policy")

// DenyClipboard is a ClipboardPolicy that denies both directions.
func DenyClipboard(context.Context, Direction, string) error { return ErrClipboardDenied }

// Option configures a Server.
type Option func(*config)

type config struct {
	logger        *slog.Logger
	registry      *prometheus.Registry
	codecs        []codec.Codec
	bitrateKbps   int
	frameRate     float64
	policy        ClipboardPolicy
	settingEngine func(*webrtc.SettingEngine)
	maxSessions   int
	statsInterval time.Duration
	page          bool
	refine        time.Duration
	refineSet     bool
	interceptors  func(*interceptor.Registry)
	estimator     func() Estimator
	minKbps       int
	startKbps     int
	maxKbps       int
	iceTCP        net.Listener
	frameObserver func(FrameEvent)
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRegistry sets the Prometheus registry the server's metrics are registered with and
// served from on /metrics (default: a registry of the server's own).
func WithRegistry(r *prometheus.Registry) Option { return func(c *config) { c.registry = r } }

// WithCodecs sets the codec preference (default DefaultCodecs). The first codec that is
// compiled in and that the client offers is used.
func WithCodecs(cs ...codec.Codec) Option { return func(c *config) { c.codecs = cs } }

// WithBitrate caps the video bitrate in kbit/s (default 8000). Below the cap the encoder
// follows the bandwidth estimate (see WithBandwidth).
func WithBitrate(kbps int) Option { return func(c *config) { c.bitrateKbps = kbps } }

// WithFrameRate caps the frame rate (default 60). Below the cap the scene mode (office
// runs at 30) and the bandwidth decide.
func WithFrameRate(fps float64) Option { return func(c *config) { c.frameRate = fps } }

// WithICETCP makes every peer connection also accept ICE over TCP on ln (RFC 6544 passive
// candidates), for clients whose UDP is blocked. The listener is shared by all sessions; the
// server closes it on Close.
func WithICETCP(ln net.Listener) Option { return func(c *config) { c.iceTCP = ln } }

// WithClipboardPolicy sets the hook that allows or denies each clipboard transfer
// (default AllowClipboard).
func WithClipboardPolicy(p ClipboardPolicy) Option { return func(c *config) { c.policy = p } }

// WithSettingEngine lets the caller adjust pion's SettingEngine of every peer connection
// (ports, interfaces, timeouts) after the server's own settings.
func WithSettingEngine(f func(*webrtc.SettingEngine)) Option {
	return func(c *config) { c.settingEngine = f }
}

// WithInterceptors lets the caller add pion interceptors to every peer connection. They are
// registered before the server's own (NACK, RTCP reports, TWCC), so on the sending side they
// sit nearest the network: network emulation (loss, delay) belongs here, and so do
// bandwidth estimators that must see the packets as sent.
func WithInterceptors(f func(*interceptor.Registry)) Option {
	return func(c *config) { c.interceptors = f }
}

// WithMaxSessions caps concurrent sessions; offers beyond it get 503 (default 0: no cap).
func WithMaxSessions(n int) Option { return func(c *config) { c.maxSessions = n } }

// WithStatsInterval sets how often Stats go to the client on the control channel (default 1s).
func WithStatsInterval(d time.Duration) Option { return func(c *config) { c.statsInterval = d } }

// WithoutPage stops the server from serving the browser client on "/".
func WithoutPage() Option { return func(c *config) { c.page = false } }

// LoopbackOnly configures a SettingEngine to gather only loopback host candidates over UDP,
// without mDNS: for tests and for a demo that must stay on one machine.
func LoopbackOnly(se *webrtc.SettingEngine) {
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
}

// Server answers WebRTC offers and streams a desktop to each peer. It serves, on one
// http.Handler: the browser client on "/", signalling on "POST /api/offer" and Prometheus
// metrics on "/metrics".
type Server struct {
	cfg     config
	open    DesktopOpener
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	encs    *adapt.Registry
	tcpMux  ice.TCPMux

	mu       sync.Mutex
	sessions map[*session]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// NewServer returns a server that opens a desktop with open for every session.
func NewServer(open DesktopOpener, opts ...Option) (*Server, error) {
	if open == nil {
		return nil, errors.New("asp: NewServer needs a DesktopOpener")
	}
	cfg := config{
		codecs: DefaultCodecs, bitrateKbps: 8000, frameRate: 60, policy: AllowClipboard,
		statsInterval: time.Second, page: true, minKbps: 150, startKbps: 1500, maxKbps: 20000,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.registry == nil {
		cfg.registry = prometheus.NewRegistry()
	}
	if cfg.policy == nil {
		cfg.policy = AllowClipboard
	}
	if !cfg.refineSet {
		cfg.refine = 300 * time.Millisecond
	}
	if cfg.minKbps <= 0 || cfg.startKbps < cfg.minKbps || cfg.maxKbps < cfg.startKbps {
		return nil, fmt.Errorf("asp: bandwidth bounds %d ≤ %d ≤ %d kbit/s do not hold", cfg.minKbps, cfg.startKbps, cfg.maxKbps)
	}
	m, err := newMetrics(cfg.registry)
	if err != nil {
		return nil, fmt.Errorf("asp: register metrics: %w", err)
	}
	s := &Server{cfg: cfg, open: open, log: cfg.logger, metrics: m, sessions: map[*session]struct{}{},
		encs: newEncoderRegistry(cfg.codecs)}
	if cfg.iceTCP != nil {
		s.tcpMux = webrtc.NewICETCPMux(nil, cfg.iceTCP, 16)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/api/offer", s.handleOffer)
	s.mux.HandleFunc("GET /api/sessions", s.handleSessions)
	s.mux.Handle("/metrics", promhttp.HandlerFor(cfg.registry, promhttp.HandlerOpts{}))
	if cfg.page {
		s.mux.Handle("/", web.Handler())
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session and refuses new ones. It returns when all sessions are gone.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	for _, sess := range list {
		sess.close(nil)
	}
	s.wg.Wait()
	if s.tcpMux != nil {
		s.mu.Lock()
		m := s.tcpMux
		s.tcpMux = nil
		s.mu.Unlock()
		if m != nil {
			return m.Close()
		}
	}
	return nil
}

// ListenAndServe serves the server on addr until ctx is done, then shuts the listener
// down and closes all sessions.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("asp: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then closes ln and every session.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		_ = s.Close()
		return fmt.Errorf("asp: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	<-done
	return s.Close()
}

// offerRequest and answer are the JSON bodies of /api/offer (PROTOCOL.md, "Signalling").
type offerRequest struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
	// Caps is the native client's capability block (optional; PROTOCOL.md, "Capabilities").
	Caps *Caps `json:"caps,omitempty"`
}

type errorBody struct {
	Error string `json:"error"`
}

func (s *Server) httpError(w http.ResponseWriter, code int, result string, format string, args ...any) {
	s.metrics.offers.WithLabelValues(result).Inc()
	msg := fmt.Sprintf(format, args...)
	s.log.Info("offer refused", "status", code, "error", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorBody{Error: msg})
}

const maxOfferBytes = 256 << 10

func (s *Server) handleOffer(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.httpError(w, http.StatusMethodNotAllowed, "bad_request", "use POST with a JSON offer")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			s.httpError(w, http.StatusUnsupportedMediaType, "bad_request", "content type %q, want application/json", ct)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOfferBytes+1))
	if err != nil {
		s.httpError(w, http.StatusBadRequest, "bad_request", "read offer: %v", err)
		return
	}
	if len(body) > maxOfferBytes {
		s.httpError(w, http.StatusRequestEntityTooLarge, "bad_request", "offer larger than %d bytes", maxOfferBytes)
		return
	}
	var req offerRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.httpError(w, http.StatusBadRequest, "bad_request", "offer is not JSON: %v", err)
		return
	}
	if req.Type != "offer" || req.SDP == "" {
		s.httpError(w, http.StatusBadRequest, "bad_request", `want {"type":"offer","sdp":"..."}, got type %q`, req.Type)
		return
	}
	offer, err := adapt.ParseOffer(req.SDP)
	switch {
	case err != nil:
		s.httpError(w, http.StatusBadRequest, "bad_request", "%v", err)
		return
	case !offer.Video:
		s.httpError(w, http.StatusBadRequest, "bad_request", "offer has no video section the client can receive")
		return
	case !offer.Data:
		s.httpError(w, http.StatusBadRequest, "bad_request", "offer has no data channel section (open the channels before creating the offer)")
		return
	}

	s.mu.Lock()
	full := s.cfg.maxSessions > 0 && len(s.sessions) >= s.cfg.maxSessions
	closed := s.closed
	s.mu.Unlock()
	if closed || full {
		s.httpError(w, http.StatusServiceUnavailable, "unavailable", "server is full or shutting down")
		return
	}

	caps := clientCaps(offer, req.Caps)
	sess, answer, err := s.startSession(r.Context(), caps, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: req.SDP})
	if err != nil {
		var bad badOfferError
		if errors.As(err, &bad) {
			s.httpError(w, http.StatusBadRequest, "bad_request", "%v", err)
		} else {
			s.httpError(w, http.StatusServiceUnavailable, "unavailable", "%v", err)
		}
		return
	}
	s.metrics.offers.WithLabelValues("answered").Inc()
	s.log.Info("session started", "session", sess.id, "codec", sess.codec, "encoder", sess.choice.Encoder)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

type badOfferError struct{ error }

// startSession opens the desktop, chooses the encoder for the client's capabilities, builds
// the peer connection for one offer and returns the session and the complete (non-trickle)
// answer.
func (s *Server) startSession(ctx context.Context, caps adapt.ClientCaps, offer webrtc.SessionDescription) (*session, *webrtc.SessionDescription, error) {
	desk, err := s.open(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open desktop: %w", err)
	}
	w, h := desk.Source.Size()
	choice, err := s.encs.Choose(caps, w&^1, h&^1)
	if err != nil {
		_ = desk.Close()
		return nil, nil, badOfferError{fmt.Errorf("no common video codec: server prefers %v (compiled in: %v), client offers %v: %w",
			s.cfg.codecs, codec.Available(), caps.Decoders, err)}
	}
	c := choice.Codec
	me := &webrtc.MediaEngine{}
	fail := func(err error) (*session, *webrtc.SessionDescription, error) {
		choice.Release()
		_ = desk.Close()
		return nil, nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: CodecCapability(c), PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return fail(fmt.Errorf("register codec: %w", err))
	}
	ir := &interceptor.Registry{}
	if s.cfg.interceptors != nil {
		s.cfg.interceptors(ir)
	}
	estimator, nacks, delivery, err := registerInterceptors(me, ir, s.cfg)
	if err != nil {
		return fail(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	LargeSocketBuffers(&se)
	if s.cfg.settingEngine != nil {
		s.cfg.settingEngine(&se)
	}
	s.mu.Lock()
	tcpMux := s.tcpMux
	s.mu.Unlock()
	if tcpMux != nil {
		// ICE over TCP next to UDP: a client whose UDP is blocked connects through the
		// listener (passive TCP candidates); the others keep UDP, which ICE prefers.
		se.SetICETCPMux(tcpMux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6,
			webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fail(fmt.Errorf("peer connection: %w", err))
	}
	sess := newSession(s, pc, desk, choice, caps)
	sess.adapt.est = estimator()
	sess.adapt.nacks = nacks
	sess.adapt.delivery = delivery
	nacks.mu.Lock()
	nacks.onLoss = sess.adapt.lossSeen
	nacks.onResent = sess.adapt.resent
	nacks.onCopy = delivery.forget
	nacks.mu.Unlock()
	if !s.add(sess) {
		sess.close(nil)
		return nil, nil, errors.New("server is shutting down")
	}
	answer, err := sess.negotiate(ctx, offer)
	if err != nil {
		sess.close(err)
		return nil, nil, err
	}
	return sess, answer, nil
}

func (s *Server) add(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.metrics.sessions.Inc()
	s.metrics.sessionsTotal.Inc()
	return true
}

func (s *Server) remove(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess]; !ok {
		return
	}
	delete(s.sessions, sess)
	s.metrics.sessions.Dec()
	s.wg.Done()
}

// registerInterceptors installs congestion control and loss recovery: our NACK responder
// (nackresponder.go: rate-limited, no retransmission storms), the bandwidth estimator (GCC over TWCC feedback unless WithEstimator replaced
// it), RTCP sender/receiver reports, and transport-wide congestion control sequence numbers
// (header extension) on what we send. The order matters: pion chains interceptors so that
// the first registered sits nearest the network. GCC comes after NACK, so retransmissions
// (written by the NACK responder below GCC) are not counted twice, and before the TWCC
// header extension, so GCC sees the sequence number it must match with the feedback. PLI
// and FIR are read from the RTP sender by the session and ask for a keyframe. It returns a
// func that yields the session's estimator once the peer connection exists, the NACK
// responder and the delivery meter (delivery.go), which sits above the responder so that it
// counts first copies only.
func registerInterceptors(me *webrtc.MediaEngine, ir *interceptor.Registry, cfg config) (func() Estimator, *nackResponder, *deliveryMeter, error) {
	nacks, err := registerNackResponder(me, ir)
	if err != nil {
		return nil, nil, nil, err
	}
	delivery := newDeliveryMeter()
	ir.Add(delivery)
	estimator := func() Estimator { return nil }
	if cfg.estimator != nil {
		estimator = cfg.estimator
	} else {
		e, err := gccEstimator(ir, cfg.minKbps*1000, cfg.startKbps*1000, cfg.maxKbps*1000)
		if err != nil {
			return nil, nil, nil, err
		}
		estimator = e
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, nil, fmt.Errorf("rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
		return nil, nil, nil, fmt.Errorf("twcc: %w", err)
	}
	return estimator, nacks, delivery, nil
}

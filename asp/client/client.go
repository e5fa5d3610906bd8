package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowless-dev/shadowless/asp/yuv"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/direct"
	"github.com/shadowless-dev/shadowless/asp/input"
)

// Options configures Dial. The zero value works.
type Options struct {
	// Logger receives the client's logs (default: discard).
	Logger *slog.Logger
	// Codecs are offered to the server in this order (default: every codec compiled in).
	Codecs []codec.Codec
	// SettingEngine adjusts pion's settings (e.g. asp.LoopbackOnly).
	SettingEngine func(*webrtc.SettingEngine)
	// HTTPClient posts the offer (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Agent names this client in the Hello message.
	Agent string
	// FrameBuffer is how many decoded frames wait in Frames before the oldest is dropped
	// (default 4).
	FrameBuffer int
	// Caps describes this client to the server: its decoders (hardware or not, size
	// limits), screen size, DPI and input devices. It goes with the offer, where the server
	// chooses the encoder from it, and in Hello. Default: the decoders of Codecs, in
	// software, a keyboard and a mouse.
	Caps *asp.Caps
}

func (opts *Options) defaults() error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if len(opts.Codecs) == 0 {
		opts.Codecs = codec.Available()
	}
	if len(opts.Codecs) == 0 {
		return fmt.Errorf("asp client: no video decoder compiled in: %w", codec.ErrUnsupported)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Agent == "" {
		opts.Agent = "shadowless-go/1"
	}
	if opts.FrameBuffer <= 0 {
		opts.FrameBuffer = 4
	}
	if opts.Caps == nil {
		caps := &asp.Caps{InputDevices: []string{"keyboard", "mouse"}}
		for _, cd := range opts.Codecs {
			caps.Decoders = append(caps.Decoders, asp.DecoderInfo{Codec: string(cd)})
		}
		opts.Caps = caps
	}
	return nil
}

func (opts *Options) hello() asp.Hello {
	return asp.Hello{Version: asp.ProtocolVersion, Agent: opts.Agent, Caps: opts.Caps,
		Features: asp.FeatureInput | asp.FeatureCursor | asp.FeatureCursorRGBA | asp.FeatureClipboardToClient | asp.FeatureClipboardFromClient}
}

// messageSender is a channel the client sends on: a WebRTC data channel or a direct one.
type messageSender interface{ Send([]byte) error }

// Frame is one decoded video frame with its timing.
type Frame struct {
	// Image is the picture; it belongs to the receiver.
	Image *image.YCbCr
	// Received is when the frame's last RTP packet arrived (the frame was complete).
	Received time.Time
	// Decoded is when decoding finished.
	Decoded time.Time
	// RTPTimestamp is the frame's RTP timestamp (90 kHz, the server's capture clock).
	RTPTimestamp uint32
	// Bytes is the size of the encoded frame.
	Bytes int
	// Seq counts decoded frames from 1.
	Seq uint64
}

// SignalError is returned by Dial when the server refused the offer.
type SignalError struct {
	Status  int
	Message string
}

// Error implements error.
func (e *SignalError) Error() string {
	return fmt.Sprintf("asp client: server refused the offer (HTTP %d): %s", e.Status, e.Message)
}

// ByeError is the session's error when the server ended it with a Bye.
type ByeError struct{ asp.Bye }

// Error implements error.
func (e *ByeError) Error() string {
	return fmt.Sprintf("asp client: server ended the session (%s): %s", e.Code, e.Reason)
}

// ErrClosed is returned when using a Conn after it ended.
var ErrClosed = errors.New("asp client: connection closed")

// Conn is a connection to an asp.Server: decoded frames, cursor updates and clipboard text
// come in on channels; input and clipboard go out through methods.
type Conn struct {
	pc       *webrtc.PeerConnection // nil over the direct transport
	dconn    *direct.Conn           // nil over WebRTC
	log      *slog.Logger
	channels map[string]messageSender
	welcome  chan asp.Welcome

	frames    chan Frame
	cursors   chan asp.CursorMessage
	clipboard chan string
	done      chan struct{}

	mu        sync.Mutex
	closed    bool
	err       error
	stats     asp.Stats
	welcomeV  asp.Welcome
	wg        sync.WaitGroup
	closeOnce sync.Once
	doneOnce  sync.Once

	decodeErrors, framesDropped, malformed, packetsLost, resyncs atomic.Uint64
	videoSSRC                                                    atomic.Uint32
}

// Dial connects to the server at baseURL (e.g. "http://127.0.0.1:8080/"), which serves
// POST <baseURL>/api/offer. It returns once the video track, the data channels and the
// server's Welcome are there.
func Dial(ctx context.Context, baseURL string, opts Options) (*Conn, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	me := &webrtc.MediaEngine{}
	for i, c := range opts.Codecs {
		p := webrtc.RTPCodecParameters{RTPCodecCapability: asp.CodecCapability(c), PayloadType: webrtc.PayloadType(96 + i)}
		if err := me.RegisterCodec(p, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("asp client: register %s: %w", c, err)
		}
	}
	ir := &interceptor.Registry{}
	// NACK every 20 ms (pion's default is 100 ms): a lost packet of a frame comes back
	// about one round trip after the next packet shows the gap.
	if err := webrtc.ConfigureNackWithOptions(me, ir, []nack.GeneratorOption{nack.GeneratorInterval(20 * time.Millisecond)}); err != nil {
		return nil, fmt.Errorf("asp client: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("asp client: rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
		return nil, fmt.Errorf("asp client: twcc feedback: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	asp.LargeSocketBuffers(&se)
	if opts.SettingEngine != nil {
		opts.SettingEngine(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("asp client: peer connection: %w", err)
	}
	c := &Conn{
		pc: pc, log: opts.Logger, channels: map[string]messageSender{},
		welcome:   make(chan asp.Welcome, 1),
		frames:    make(chan Frame, opts.FrameBuffer),
		cursors:   make(chan asp.CursorMessage, 64),
		clipboard: make(chan string, 8),
		done:      make(chan struct{}),
	}
	if err := c.setup(opts); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := c.signal(ctx, baseURL, opts.HTTPClient, opts.Caps); err != nil {
		_ = c.Close()
		return nil, err
	}
	select {
	case w := <-c.welcome:
		c.mu.Lock()
		c.welcomeV = w
		c.mu.Unlock()
		return c, nil
	case <-c.done:
		err := c.Err()
		_ = c.Close()
		if err == nil {
			err = ErrClosed
		}
		return nil, fmt.Errorf("asp client: session ended before it began: %w", err)
	case <-ctx.Done():
		_ = c.Close()
		return nil, fmt.Errorf("asp client: waiting for the server's welcome: %w", ctx.Err())
	}
}

func (c *Conn) setup(opts Options) error {
	var ctl *webrtc.DataChannel
	for _, label := range []string{asp.ChannelInput, asp.ChannelCursor, asp.ChannelClipboard, asp.ChannelControl} {
		ordered := true
		dc, err := c.pc.CreateDataChannel(label, &webrtc.DataChannelInit{Ordered: &ordered})
		if err != nil {
			return fmt.Errorf("asp client: data channel %s: %w", label, err)
		}
		c.channels[label] = dc
		dc.OnMessage(func(m webrtc.DataChannelMessage) { c.onMessage(label, m) })
		ctl = dc
	}
	ctl.OnOpen(func() { _ = ctl.Send(opts.hello().Append(nil)) })
	ctl.OnClose(func() { c.finish(nil) })
	if _, err := c.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return fmt.Errorf("asp client: video transceiver: %w", err)
	}
	c.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		c.wg.Add(1)
		c.mu.Unlock()
		defer c.wg.Done()
		c.readVideo(tr)
	})
	c.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateFailed:
			c.finish(errors.New("asp client: peer connection failed (network lost)"))
		case webrtc.PeerConnectionStateClosed:
			c.finish(nil)
		}
	})
	return nil
}

func (c *Conn) signal(ctx context.Context, baseURL string, hc *http.Client, caps *asp.Caps) error {
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("asp client: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("asp client: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("asp client: gather candidates: %w", ctx.Err())
	}
	ld := c.pc.LocalDescription()
	body, err := json.Marshal(struct {
		Type string    `json:"type"`
		SDP  string    `json:"sdp"`
		Caps *asp.Caps `json:"caps,omitempty"`
	}{ld.Type.String(), ld.SDP, caps})
	if err != nil {
		return fmt.Errorf("asp client: encode offer: %w", err)
	}
	url := strings.TrimRight(baseURL, "/") + "/api/offer"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("asp client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("asp client: post offer: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("asp client: read answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return &SignalError{Status: res.StatusCode, Message: e.Error}
	}
	var answer webrtc.SessionDescription
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("asp client: answer is not JSON: %w", err)
	}
	if err := c.pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("asp client: apply answer: %w", err)
	}
	return nil
}

func (c *Conn) onMessage(label string, m webrtc.DataChannelMessage) {
	switch label {
	case asp.ChannelControl:
		msg, err := asp.DecodeControl(m.Data)
		if err != nil {
			c.malformed.Add(1)
			return
		}
		switch msg := msg.(type) {
		case asp.Welcome:
			select {
			case c.welcome <- msg:
			default:
			}
		case asp.Stats:
			c.mu.Lock()
			c.stats = msg
			c.mu.Unlock()
		case asp.Resize:
			c.mu.Lock()
			c.welcomeV.Width, c.welcomeV.Height = msg.Width, msg.Height
			c.mu.Unlock()
		case asp.Bye:
			c.mu.Lock()
			if c.err == nil {
				c.err = &ByeError{msg}
			}
			c.mu.Unlock()
		}
	case asp.ChannelCursor:
		msg, err := asp.DecodeCursor(m.Data)
		if err != nil {
			c.malformed.Add(1)
			return
		}
		if msg.Shape != nil {
			msg.Shape.Data = bytes.Clone(msg.Shape.Data)
		}
		c.deliver(func() {
			select {
			case c.cursors <- msg:
			default: // a slow reader loses cursor updates, not the session
			}
		})
	case asp.ChannelClipboard:
		text, err := asp.DecodeClipboard(m.Data)
		if err != nil {
			c.malformed.Add(1)
			return
		}
		c.deliver(func() {
			select {
			case c.clipboard <- text:
			default:
			}
		})
	}
}

// deliver runs f unless the connection is closed (the channels f writes to are closed then).
func (c *Conn) deliver(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		f()
	}
}

func depacketizer(cd codec.Codec) rtp.Depacketizer {
	switch cd {
	case codec.H264:
		return &codecs.H264Packet{}
	case codec.VP9:
		return &codecs.VP9Packet{}
	}
	return &codecs.VP8Packet{}
}

// readVideo reassembles frames from RTP, decodes them and delivers them on Frames.
func (c *Conn) readVideo(tr *webrtc.TrackRemote) {
	cd := codec.Codec(strings.TrimPrefix(strings.ToUpper(tr.Codec().MimeType), "VIDEO/"))
	dec, err := codec.NewDecoder(cd)
	if err != nil {
		c.finish(fmt.Errorf("asp client: decoder for %s: %w", cd, err))
		return
	}
	defer dec.Close()
	asm := newAssembler(depacketizer(cd))
	var seq uint64
	c.videoSSRC.Store(uint32(tr.SSRC()))
	var lastPLI time.Time
	// needKey: a loss or a decode error broke the chain of reference frames; only a
	// keyframe mends it, so the request is repeated until one comes (a single PLI can be
	// lost on the same bad path, and a decoder fed broken references shows garbage
	// without an error to ask again).
	needKey := false
	pli := func() {
		if time.Since(lastPLI) < 300*time.Millisecond {
			return
		}
		lastPLI = time.Now()
		_ = c.sendPLI()
	}
	for {
		if needKey { // wake to ask again even when nothing arrives (a still screen)
			_ = tr.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		} else {
			_ = tr.SetReadDeadline(time.Time{})
		}
		pkt, _, err := tr.ReadRTP()
		if needKey {
			pli() // at most every 300 ms
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			continue
		}
		if err != nil {
			return
		}
		lostBefore := asm.lostPackets
		frames := asm.push(pkt, time.Now())
		c.packetsLost.Add(uint64(asm.lostPackets - lostBefore))
		for _, s := range frames {
			received := time.Now()
			if s.key {
				needKey = false
			}
			if s.lost {
				c.log.Debug("video resync after loss", "lost_packets", asm.lostPackets, "seq", pkt.SequenceNumber, "buffered", len(asm.pkts))
				c.resyncs.Add(1)
				if !s.key { // a keyframe after the loss already mends it
					needKey = true
					pli()
				}
			}
			img, err := dec.Decode(s.data)
			if err != nil {
				c.decodeErrors.Add(1)
				needKey = true
				pli()
				continue
			}
			if img == nil {
				continue
			}
			seq++
			f := Frame{Image: yuv.Copy(nil, img), Received: received, Decoded: time.Now(), Bytes: len(s.data), Seq: seq, RTPTimestamp: s.timestamp}
			c.deliver(func() {
				for {
					select {
					case c.frames <- f:
						return
					default:
					}
					select { // full: drop the oldest frame so the newest gets in
					case <-c.frames:
						c.framesDropped.Add(1)
					default:
					}
				}
			})
		}
	}
}

// finish marks the session over (err says why, nil when it ended normally).
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.doneOnce.Do(func() { close(c.done) })
}

// Frames delivers decoded frames. When the reader falls behind, the oldest waiting frame
// is dropped. The channel is closed by Close.
func (c *Conn) Frames() <-chan Frame { return c.frames }

// Cursors delivers cursor positions and shapes. Closed by Close.
func (c *Conn) Cursors() <-chan asp.CursorMessage { return c.cursors }

// Clipboard delivers text copied on the desktop. Closed by Close.
func (c *Conn) Clipboard() <-chan string { return c.clipboard }

// Done is closed when the session ended (see Err).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the session ended: a *ByeError when the server said, nil while it runs
// or after a normal end.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Welcome returns what the server chose: codec, screen size (updated on Resize), features.
func (c *Conn) Welcome() asp.Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcomeV
}

// Stats returns the latest statistics the server sent.
func (c *Conn) Stats() asp.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Counters are the client's error and loss counts since Dial.
type Counters struct {
	// DecodeErrors counts frames the decoder rejected.
	DecodeErrors uint64
	// FramesDropped counts decoded frames dropped because the reader of Frames fell behind.
	FramesDropped uint64
	// Malformed counts messages from the server that did not decode.
	Malformed uint64
	// PacketsLost counts RTP packets given up on (not recovered by NACK in time).
	PacketsLost uint64
	// Resyncs counts times the frame assembler skipped to the next frame after a loss.
	Resyncs uint64
}

// Counters returns the client's error and loss counts.
func (c *Conn) Counters() Counters {
	return Counters{
		DecodeErrors: c.decodeErrors.Load(), FramesDropped: c.framesDropped.Load(),
		Malformed: c.malformed.Load(), PacketsLost: c.packetsLost.Load(), Resyncs: c.resyncs.Load(),
	}
}

// Send writes a raw message on one of the data channels. Prefer SendInput and
// SetClipboard; Send exists for tools and tests that speak the protocol directly.
func (c *Conn) Send(label string, msg []byte) error {
	dc := c.channels[label]
	if dc == nil {
		return fmt.Errorf("asp client: no channel %q", label)
	}
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	if err := dc.Send(msg); err != nil {
		return fmt.Errorf("asp client: send on %s: %w", label, err)
	}
	return nil
}

// SendInput sends one keyboard or mouse event.
func (c *Conn) SendInput(ev input.Event) error {
	return c.Send(asp.ChannelInput, asp.AppendInput(nil, ev))
}

// Type sends key down and up for each character of text (Unicode keysyms beyond Latin-1).
func (c *Conn) Type(text string) error {
	for _, r := range text {
		ks := uint32(r)
		if !(r >= 0x20 && r <= 0x7e) && !(r >= 0xa0 && r <= 0xff) {
			ks = 0x01000000 + uint32(r)
		}
		if err := c.SendInput(input.Event{Kind: input.KeyDown, Keysym: ks}); err != nil {
			return err
		}
		if err := c.SendInput(input.Event{Kind: input.KeyUp, Keysym: ks}); err != nil {
			return err
		}
	}
	return nil
}

// Click moves the pointer to (x, y) and presses and releases button there.
func (c *Conn) Click(x, y int, button uint8) error {
	for _, ev := range []input.Event{
		{Kind: input.MouseMove, X: x, Y: y},
		{Kind: input.ButtonDown, Button: button, X: x, Y: y},
		{Kind: input.ButtonUp, Button: button, X: x, Y: y},
	} {
		if err := c.SendInput(ev); err != nil {
			return err
		}
	}
	return nil
}

// SetClipboard offers text to the desktop's clipboard (the server's policy may deny it).
func (c *Conn) SetClipboard(text string) error {
	if len(text) > asp.MaxClipboardBytes {
		return fmt.Errorf("asp client: clipboard text of %d bytes exceeds %d", len(text), asp.MaxClipboardBytes)
	}
	return c.Send(asp.ChannelClipboard, asp.AppendClipboard(nil, text))
}

// sendPLI asks for a keyframe with an RTCP picture loss indication, as after a loss.
func (c *Conn) sendPLI() error {
	if c.pc == nil {
		return c.RequestKeyframe()
	}
	ssrc := c.videoSSRC.Load()
	if ssrc == 0 {
		return errors.New("asp client: no video track yet")
	}
	return c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// RequestKeyframe asks the server for a keyframe on the control channel.
func (c *Conn) RequestKeyframe() error {
	return c.Send(asp.ChannelControl, asp.KeyframeRequest{}.Append(nil))
}

// Close ends the session and frees everything: the peer connection, the decoder and the
// goroutines. The Frames, Cursors and Clipboard channels are closed.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		if c.pc != nil {
			err = c.pc.Close()
		} else {
			err = c.dconn.Close()
		}
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.wg.Wait()
		close(c.frames)
		close(c.cursors)
		close(c.clipboard)
		c.finish(nil)
	})
	return err
}

// Network returns the transport protocol of the ICE candidate pair in use, "udp" or "tcp"
// (ICE over TCP when UDP is blocked), or "" before one is selected; over the direct
// transport "direct-" and the direct connection's transport.
func (c *Conn) Network() string {
	if c.dconn != nil {
		return "direct-" + c.dconn.Transport()
	}
	sctp := c.pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return ""
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil {
		return ""
	}
	return pair.Local.Protocol.String()
}

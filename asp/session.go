package asp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/codec"
)

// ErrDisplayGone is wrapped by the error a session ends with when its capture source
// failed, typically because the X server went away.
var ErrDisplayGone = errors.New("asp: display went away")

const (
	rtpPayloadMTU = 1150 // RTP payload bytes per packet, leaving room for header extensions
	// cursorBacklog is how many bytes may wait on the cursor channel before position-only
	// updates are dropped (the next one supersedes them anyway).
	cursorBacklog = 256 << 10
	// maxChannelMessage is the largest data-channel message sent (SCTP's default limit in
	// pion and browsers is 64 KiB).
	maxChannelMessage = 64000
	// connectTimeout bounds the time from the answer to a connected peer connection.
	connectTimeout = 30 * time.Second
)

// session is one client's peer connection and everything it holds: the desktop (capture,
// input, clipboard), the encoder, the video track and the data channels.
type session struct {
	srv   *Server
	id    string
	pc    *webrtc.PeerConnection
	desk  *Desktop
	codec codec.Codec
	log   *slog.Logger
	track *webrtc.TrackLocalStaticRTP

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	begin  time.Time

	keyframe atomic.Bool

	mu        sync.RWMutex // guards the fields below and, held for reading, use of desk by handlers
	channels  map[string]*webrtc.DataChannel
	lastShape []byte
	started   bool
	done      bool
	size      image.Point

	closeOnce sync.Once
	closed    chan struct{}
	connectBy *time.Timer

	frames, bytes, dropped atomic.Uint64
	encodeNanos, encoded   atomic.Int64
}

func newSession(srv *Server, pc *webrtc.PeerConnection, desk *Desktop, c codec.Codec) *session {
	var idb [6]byte
	_, _ = rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	ctx, cancel := context.WithCancel(context.Background())
	w, h := desk.Source.Size()
	return &session{
		srv: srv, id: id, pc: pc, desk: desk, codec: c,
		log: srv.log.With("session", id), ctx: ctx, cancel: cancel, begin: time.Now(),
		channels: map[string]*webrtc.DataChannel{}, closed: make(chan struct{}),
		size: image.Pt(w, h),
	}
}

// negotiate applies the offer, attaches the video track and returns the complete answer.
func (s *session) negotiate(ctx context.Context, offer webrtc.SessionDescription) (*webrtc.SessionDescription, error) {
	s.pc.OnDataChannel(s.onDataChannel)
	s.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Debug("connection state", "state", st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.start()
		case webrtc.PeerConnectionStateFailed:
			go s.close(errors.New("asp: peer connection failed (network lost)"))
		case webrtc.PeerConnectionStateClosed:
			go s.close(nil)
		}
	})
	if err := s.pc.SetRemoteDescription(offer); err != nil {
		return nil, badOfferError{fmt.Errorf("apply offer: %w", err)}
	}
	track, err := webrtc.NewTrackLocalStaticRTP(CodecCapability(s.codec), "video", "shadowless")
	if err != nil {
		return nil, fmt.Errorf("video track: %w", err)
	}
	s.track = track
	sender, err := s.pc.AddTrack(track)
	if err != nil {
		return nil, fmt.Errorf("add video track: %w", err)
	}
	s.wg.Add(1)
	go s.rtcpLoop(sender)

	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return nil, badOfferError{fmt.Errorf("create answer: %w", err)}
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return nil, fmt.Errorf("set answer: %w", err)
	}
	// A client that takes the answer and never connects must not hold a desktop forever.
	s.mu.Lock()
	s.connectBy = time.AfterFunc(connectTimeout, func() {
		s.mu.RLock()
		started := s.started
		s.mu.RUnlock()
		if !started {
			s.close(errors.New("asp: the client did not connect in time"))
		}
	})
	s.mu.Unlock()
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case <-gathered:
	case <-gctx.Done():
		return nil, fmt.Errorf("gather ICE candidates: %w", gctx.Err())
	}
	return s.pc.LocalDescription(), nil
}

// start runs the session's loops once the peer connection is up.
func (s *session) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.done {
		return
	}
	s.started = true
	s.keyframe.Store(true)
	s.wg.Add(2)
	go s.captureLoop()
	go s.statsLoop()
	if s.desk.Cursors != nil {
		s.wg.Add(1)
		go s.cursorLoop()
	}
	if s.desk.Clipboard != nil {
		s.wg.Add(1)
		go s.clipboardLoop()
	}
}

// close ends the session and releases everything it holds. It must not be called from a
// goroutine the session waits for (the loops call it with go).
func (s *session) close(cause error) {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.done = true
		if s.connectBy != nil {
			s.connectBy.Stop()
		}
		s.mu.Unlock()
		s.cancel()
		if err := s.pc.Close(); err != nil {
			s.log.Debug("close peer connection", "error", err)
		}
		s.wg.Wait()
		s.mu.Lock() // waits for message handlers still using the desktop
		err := s.desk.Close()
		s.mu.Unlock()
		if err != nil {
			s.log.Debug("close desktop", "error", err)
		}
		s.srv.remove(s)
		if cause != nil {
			s.log.Info("session ended", "error", cause)
		} else {
			s.log.Info("session ended")
		}
		close(s.closed)
	})
}

// end tells the client why the session ends (Bye on control), gives the message a moment
// to leave, and closes the session.
func (s *session) end(code ByeCode, cause error) {
	s.send(ChannelControl, Bye{Code: code, Reason: cause.Error()}.Append(nil))
	if dc := s.channel(ChannelControl); dc != nil {
		deadline := time.Now().Add(time.Second)
		for dc.BufferedAmount() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let SCTP hand the last chunk to DTLS
	}
	s.close(cause)
}

func (s *session) channel(label string) *webrtc.DataChannel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.channels[label]
}

// send writes b on the labelled channel if it is open; it reports whether it did.
func (s *session) send(label string, b []byte) bool {
	dc := s.channel(label)
	if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen {
		return false
	}
	if err := dc.Send(b); err != nil {
		s.log.Debug("send", "channel", label, "error", err)
		return false
	}
	return true
}

func (s *session) features() Features {
	var f Features
	if s.desk.Injector != nil {
		f |= FeatureInput
	}
	if s.desk.Cursors != nil {
		f |= FeatureCursor | FeatureCursorRGBA
	}
	if s.desk.Clipboard != nil {
		f |= FeatureClipboardToClient | FeatureClipboardFromClient
	}
	return f
}

func (s *session) onDataChannel(dc *webrtc.DataChannel) {
	label := dc.Label()
	switch label {
	case ChannelInput, ChannelCursor, ChannelClipboard, ChannelControl:
	default:
		s.log.Info("unknown data channel ignored", "label", label)
		return
	}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.channels[label] = dc
	s.mu.Unlock()
	dc.OnOpen(func() {
		switch label {
		case ChannelControl:
			s.mu.RLock()
			size := s.size
			s.mu.RUnlock()
			s.send(ChannelControl, Welcome{Version: ProtocolVersion, Features: s.features(),
				Codec: string(s.codec), Width: size.X, Height: size.Y}.Append(nil))
		case ChannelCursor:
			s.mu.RLock()
			shape := s.lastShape
			s.mu.RUnlock()
			if shape != nil {
				s.send(ChannelCursor, shape)
			}
		}
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) { s.onMessage(label, m) })
	if label == ChannelControl {
		// The client closing its control channel means it left.
		dc.OnClose(func() { go s.close(nil) })
	}
}

func (s *session) malformed(label string, err error) {
	s.srv.metrics.malformed.WithLabelValues(label).Inc()
	s.log.Debug("malformed message dropped", "channel", label, "error", err)
}

func (s *session) onMessage(label string, m webrtc.DataChannelMessage) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.done {
		return
	}
	if m.IsString {
		s.malformed(label, fmt.Errorf("%w: text message on a binary channel", ErrMalformed))
		return
	}
	switch label {
	case ChannelInput:
		ev, err := DecodeInput(m.Data)
		if err != nil {
			s.malformed(label, err)
			return
		}
		if s.desk.Injector == nil {
			return
		}
		if err := s.desk.Injector.Inject(s.ctx, ev); err != nil {
			s.srv.metrics.drops.WithLabelValues("inject_error").Inc()
			s.log.Debug("inject", "error", err)
			return
		}
		s.srv.metrics.inputEvents.Inc()
	case ChannelClipboard:
		text, err := DecodeClipboard(m.Data)
		if err != nil {
			s.malformed(label, err)
			return
		}
		if s.desk.Clipboard == nil {
			return
		}
		if err := s.srv.cfg.policy(s.ctx, FromClient, text); err != nil {
			s.srv.metrics.clipboardDenied.WithLabelValues(FromClient.String()).Inc()
			s.log.Info("clipboard from client denied", "error", err)
			return
		}
		if err := s.desk.Clipboard.Set(s.ctx, text); err != nil {
			s.log.Warn("set desktop clipboard", "error", err)
		}
	case ChannelControl:
		msg, err := DecodeControl(m.Data)
		if err != nil {
			s.malformed(label, err)
			return
		}
		switch msg := msg.(type) {
		case Hello:
			s.log.Info("client hello", "agent", msg.Agent, "version", msg.Version)
			if msg.Version != ProtocolVersion {
				go s.end(ByeVersion, fmt.Errorf("asp: client speaks protocol version %d, server %d", msg.Version, ProtocolVersion))
			}
		case KeyframeRequest:
			s.srv.metrics.keyframes.WithLabelValues("control").Inc()
			s.keyframe.Store(true)
		default:
			s.log.Debug("unexpected control message from client", "type", fmt.Sprintf("%T", msg))
		}
	default:
		s.malformed(label, fmt.Errorf("%w: the client may not send on %q", ErrMalformed, label))
	}
}

// rtcpLoop reads RTCP for the video sender (the interceptors see it first) and turns
// picture loss indications into keyframes.
func (s *session) rtcpLoop(sender *webrtc.RTPSender) {
	defer s.wg.Done()
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication:
				s.srv.metrics.keyframes.WithLabelValues("pli").Inc()
				s.keyframe.Store(true)
			case *rtcp.FullIntraRequest:
				s.srv.metrics.keyframes.WithLabelValues("fir").Inc()
				s.keyframe.Store(true)
			}
		}
	}
}

func newPayloader(c codec.Codec) rtp.Payloader {
	switch c {
	case codec.H264:
		return &codecs.H264Payloader{}
	case codec.VP9:
		return &codecs.VP9Payloader{}
	}
	return &codecs.VP8Payloader{EnablePictureID: true}
}

// captureLoop takes frames from the source only when the screen changed (or a refresh is
// due), encodes them and sends them as RTP with timestamps from the capture time. When the
// screen then stays still, it encodes the last picture again after each of the refine
// delays: a lossy encoder's first picture of a change can be blurred, and without new
// damage nothing else would sharpen it before the next refresh.
func (s *session) captureLoop() {
	defer s.wg.Done()
	var (
		enc         codec.Encoder
		payloader   = newPayloader(s.codec)
		seq         = uint16(time.Now().UnixNano())
		tsBase      = uint32(time.Now().UnixNano() >> 8)
		m           = s.srv.metrics
		refine      = s.srv.cfg.refine
		last        *image.YCbCr // copy of the last picture, for refinement
		refinesLeft int
	)
	defer func() {
		if enc != nil {
			_ = enc.Close()
		}
	}()
	// send encodes img and sends it; it reports false when the session must end.
	observe := s.srv.cfg.frameObserver
	send := func(img *image.YCbCr, captured time.Time, captureSeq uint64, kind string) bool {
		pts := captured.Sub(s.begin)
		key := s.keyframe.Swap(false)
		t0 := time.Now()
		pkt, err := enc.Encode(img, pts, key)
		took := time.Since(t0)
		ev := FrameEvent{CaptureSeq: captureSeq, Captured: captured, EncodeStart: t0, EncodeEnd: t0.Add(took),
			Bytes: len(pkt.Data), Keyframe: pkt.Keyframe, Refine: kind == "refine"}
		if err != nil {
			go s.end(ByeInternal, fmt.Errorf("asp: encode: %w", err))
			return false
		}
		m.encodeSeconds.Observe(took.Seconds())
		s.encodeNanos.Add(int64(took))
		s.encoded.Add(1)
		if len(pkt.Data) == 0 {
			m.drops.WithLabelValues("encoder").Inc()
			s.dropped.Add(1)
			if key {
				s.keyframe.Store(true)
			}
			refinesLeft = len(refine) // the picture must still go out
			if observe != nil {
				ev.Dropped = true
				observe(ev)
			}
			return true
		}
		ts := tsBase + uint32(pts.Seconds()*90000)
		ev.RTPTimestamp = ts
		payloads := payloader.Payload(rtpPayloadMTU, pkt.Data)
		var werr error
		for i, p := range payloads {
			err := s.track.WriteRTP(&rtp.Packet{
				Header:  rtp.Header{Version: 2, Marker: i == len(payloads)-1, SequenceNumber: seq, Timestamp: ts},
				Payload: p,
			})
			seq++
			if err != nil && werr == nil {
				werr = err
			}
		}
		if werr != nil {
			m.drops.WithLabelValues("write_error").Inc()
			s.dropped.Add(1)
			s.log.Debug("write RTP", "error", werr)
			if observe != nil {
				ev.Dropped = true
				observe(ev)
			}
			return true
		}
		if observe != nil {
			ev.Sent = time.Now()
			observe(ev)
		}
		if pkt.Keyframe {
			kind = "key"
		}
		m.frames.WithLabelValues(string(s.codec), kind).Inc()
		m.videoBytes.Add(float64(len(pkt.Data)))
		s.frames.Add(1)
		s.bytes.Add(uint64(len(pkt.Data)))
		return true
	}
	for {
		var (
			f   capture.Frame
			err error
		)
		if refinesLeft > 0 && last != nil {
			wctx, cancel := context.WithTimeout(s.ctx, refine[len(refine)-refinesLeft])
			f, err = s.desk.Source.Next(wctx)
			timedOut := wctx.Err() != nil && s.ctx.Err() == nil
			cancel()
			if err != nil && timedOut {
				refinesLeft--
				if !send(last, time.Now(), 0, "refine") {
					return
				}
				continue
			}
		} else {
			f, err = s.desk.Source.Next(s.ctx)
		}
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			go s.end(ByeDisplayGone, fmt.Errorf("%w: %v", ErrDisplayGone, err))
			return
		}
		b := f.Image.Rect
		w, h := b.Dx()&^1, b.Dy()&^1
		if enc == nil || enc.Config().Width != w || enc.Config().Height != h {
			if enc != nil {
				_ = enc.Close()
				s.send(ChannelControl, Resize{Width: w, Height: h}.Append(nil))
			}
			s.mu.Lock()
			s.size = image.Pt(w, h)
			s.mu.Unlock()
			enc, err = codec.NewEncoder(codec.EncoderConfig{
				Codec: s.codec, Width: w, Height: h, FrameRate: s.srv.cfg.frameRate,
				BitrateKbps: s.srv.cfg.bitrateKbps, ScreenContent: true,
			})
			if err != nil {
				go s.end(ByeInternal, fmt.Errorf("asp: open %s encoder %dx%d: %w", s.codec, w, h, err))
				return
			}
			s.keyframe.Store(true)
			last = nil
		}
		img := f.Image
		if img.Rect.Dx() != w || img.Rect.Dy() != h || img.Rect.Min != (image.Point{}) {
			img = img.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Min.X+w, b.Min.Y+h)).(*image.YCbCr)
		}
		captured := f.Captured
		if captured.IsZero() {
			captured = time.Now()
		}
		if !send(img, captured, f.Seq, "delta") {
			return
		}
		if len(refine) > 0 {
			last = copyYCbCr(last, img)
			refinesLeft = len(refine)
		}
	}
}

// copyYCbCr copies src into dst (reallocated when the size differs) and returns dst.
func copyYCbCr(dst, src *image.YCbCr) *image.YCbCr {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h || dst.SubsampleRatio != src.SubsampleRatio {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), src.SubsampleRatio)
	}
	for y := 0; y < h; y++ {
		copy(dst.Y[y*dst.YStride:][:w], src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y):][:w])
	}
	cw, ch, vs := w, h, 1
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		cw, ch, vs = (w+1)/2, (h+1)/2, 2
	case image.YCbCrSubsampleRatio422:
		cw = (w + 1) / 2
	case image.YCbCrSubsampleRatio440:
		ch, vs = (h+1)/2, 2
	}
	for y := 0; y < ch; y++ {
		so := src.COffset(src.Rect.Min.X, src.Rect.Min.Y+vs*y)
		copy(dst.Cb[y*dst.CStride:][:cw], src.Cb[so:][:cw])
		copy(dst.Cr[y*dst.CStride:][:cw], src.Cr[so:][:cw])
	}
	return dst
}

// cursorLoop forwards cursor positions and shapes; shapes go as PNG.
func (s *session) cursorLoop() {
	defer s.wg.Done()
	for {
		var c capture.Cursor
		select {
		case <-s.ctx.Done():
			return
		case cc, ok := <-s.desk.Cursors:
			if !ok {
				return
			}
			c = cc
		}
		msg := CursorMessage{X: c.X, Y: c.Y, Visible: c.Visible, Serial: c.Serial}
		if c.Image != nil && c.Image.Rect.Dx() > 0 && c.Image.Rect.Dy() > 0 {
			var buf bytes.Buffer
			if err := png.Encode(&buf, c.Image); err != nil {
				s.log.Debug("cursor png", "error", err)
				continue
			}
			r := c.Image.Rect
			msg.Shape = &CursorShape{
				HotX: min(max(c.HotX, 0), r.Dx()-1), HotY: min(max(c.HotY, 0), r.Dy()-1),
				Width: r.Dx(), Height: r.Dy(), Format: FormatPNG, Data: buf.Bytes(),
			}
			b := AppendCursor(nil, msg)
			if len(b) > maxChannelMessage {
				s.srv.metrics.drops.WithLabelValues("cursor_too_large").Inc()
				continue
			}
			s.mu.Lock()
			s.lastShape = b
			s.mu.Unlock()
			s.send(ChannelCursor, b)
			continue
		}
		if dc := s.channel(ChannelCursor); dc != nil && dc.BufferedAmount() > cursorBacklog {
			s.srv.metrics.drops.WithLabelValues("cursor_backlog").Inc()
			continue
		}
		s.send(ChannelCursor, AppendCursor(nil, msg))
	}
}

// clipboardLoop sends what applications copy on the desktop to the client, if the policy
// allows it.
func (s *session) clipboardLoop() {
	defer s.wg.Done()
	changes := s.desk.Clipboard.Changes()
	for {
		var text string
		select {
		case <-s.ctx.Done():
			return
		case t, ok := <-changes:
			if !ok {
				return
			}
			text = t
		}
		if err := s.srv.cfg.policy(s.ctx, ToClient, text); err != nil {
			s.srv.metrics.clipboardDenied.WithLabelValues(ToClient.String()).Inc()
			s.log.Info("clipboard to client denied", "error", err)
			continue
		}
		if len(text) > MaxClipboardBytes {
			s.srv.metrics.drops.WithLabelValues("clipboard_too_large").Inc()
			continue
		}
		s.send(ChannelClipboard, AppendClipboard(nil, text))
	}
}

// statsLoop sends Stats on the control channel and keeps the bitrate gauge.
func (s *session) statsLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.srv.cfg.statsInterval)
	defer t.Stop()
	var lastFrames, lastBytes uint64
	var lastNanos, lastEncoded int64
	var lastBits float64
	last := time.Now()
	defer func() { s.srv.metrics.bitrate.Sub(lastBits) }()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			frames, byts := s.frames.Load(), s.bytes.Load()
			nanos, encoded := s.encodeNanos.Load(), s.encoded.Load()
			secs := now.Sub(last).Seconds()
			bits := float64(byts-lastBytes) * 8 / secs
			st := Stats{Frames: frames, Bytes: byts, Dropped: s.dropped.Load(),
				BitrateKbps: uint32(bits / 1000), FPSx100: uint32(float64(frames-lastFrames) * 100 / secs)}
			if n := encoded - lastEncoded; n > 0 {
				st.EncodeMicros = uint32((nanos - lastNanos) / n / 1000)
			}
			s.srv.metrics.bitrate.Add(bits - lastBits)
			lastBits, lastFrames, lastBytes, lastNanos, lastEncoded, last = bits, frames, byts, nanos, encoded, now
			s.send(ChannelControl, st.Append(nil))
		}
	}
}

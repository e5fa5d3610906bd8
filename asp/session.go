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

	"github.com/shadowless-dev/shadowless/asp/adapt"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/yuv"
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
	// video carries encoded frames: RTP on the WebRTC track, or the direct transport's
	// partially reliable video channel.
	video videoSink
	// closeTransport closes the peer connection or the direct connection.
	closeTransport func() error

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	begin  time.Time

	choice *adapt.Choice
	caps   adapt.ClientCaps
	adapt  adaptation
	// wake interrupts the capture loop's wait for the next frame (a keyframe is due).
	wakeMu sync.Mutex
	wake   context.CancelFunc
	// sched orders the outgoing channel messages (channels.go).
	schedMu  sync.Mutex
	sched    *adapt.Scheduler
	sendWake chan struct{}

	mu        sync.RWMutex // guards the fields below and, held for reading, use of desk by handlers
	channels  map[string]outChannel
	lastShape []byte
	started   bool
	done      bool
	size      image.Point

	closeOnce sync.Once
	closed    chan struct{}
	connectBy *time.Timer

	frames, bytes, dropped atomic.Uint64
	chanBytes              atomic.Uint64
	encodeNanos, encoded   atomic.Int64
	videoW, videoH         atomic.Int32
}

func newSession(srv *Server, pc *webrtc.PeerConnection, desk *Desktop, choice *adapt.Choice, caps adapt.ClientCaps) *session {
	var idb [6]byte
	_, _ = rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	ctx, cancel := context.WithCancel(context.Background())
	w, h := desk.Source.Size()
	s := &session{
		srv: srv, id: id, pc: pc, desk: desk, codec: choice.Codec, choice: choice, caps: caps,
		log: srv.log.With("session", id), ctx: ctx, cancel: cancel, begin: time.Now(),
		channels: map[string]outChannel{}, closed: make(chan struct{}),
		size: image.Pt(w, h),
	}
	sched, _ := adapt.NewScheduler(outChannels...) // a constant table, valid (tests open sessions)
	s.sched, s.sendWake = sched, make(chan struct{}, 1)
	if pc != nil {
		s.closeTransport = pc.Close
	}
	s.setDataRate(int64(srv.cfg.startKbps)*1000*int64(adapt.DefaultBudget.DataShare*100)/100, time.Now())
	s.adapt.budget = adapt.DefaultBudget
	s.adapt.budget.VideoFloor = int64(srv.cfg.minKbps) * 1000
	s.adapt.floorBps = int64(srv.cfg.startKbps) * 1000
	s.adapt.keys.MinInterval = keyframeInterval
	s.adapt.log = s.log
	s.adapt.mode = adapt.ModeOffice
	s.adapt.target = adapt.Target{BitrateKbps: min(srv.cfg.startKbps, srv.cfg.bitrateKbps), FPS: int(srv.cfg.frameRate)}
	return s
}

// requestKeyframe asks for a keyframe, rate-limited, and wakes the capture loop so that a
// still screen answers too.
func (s *session) requestKeyframe(source string) {
	s.srv.metrics.keyframes.WithLabelValues(source).Inc()
	s.adapt.requestKeyframe()
	s.wakeMu.Lock()
	if s.wake != nil {
		s.wake()
	}
	s.wakeMu.Unlock()
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
	s.video = &rtpSink{track: track, payloader: newPayloader(s.codec),
		seq: uint16(time.Now().UnixNano()), tsBase: uint32(time.Now().UnixNano() >> 8), spread: s.adapt.spreadRate}
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
	s.wg.Add(4)
	go s.sendLoop()
	go s.captureLoop()
	go s.statsLoop()
	go s.adaptLoop()
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
		if err := s.closeTransport(); err != nil {
			s.log.Debug("close transport", "error", err)
		}
		s.wg.Wait()
		s.mu.Lock() // waits for message handlers still using the desktop
		err := s.desk.Close()
		s.mu.Unlock()
		if err != nil {
			s.log.Debug("close desktop", "error", err)
		}
		s.choice.Release()
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
		for (s.queued(ChannelControl) > 0 || dc.BufferedAmount() > 0) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let SCTP hand the last chunk to DTLS
	}
	s.close(cause)
}

func (s *session) channel(label string) outChannel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.channels[label]
}

// send queues b on the labelled channel through the scheduler; it reports whether it did
// (false: the channel is not open, or its queue is full and the message was dropped).
func (s *session) send(label string, b []byte) bool {
	if err := s.enqueue(label, b); err != nil {
		if errors.Is(err, adapt.ErrBackpressure) {
			s.srv.metrics.drops.WithLabelValues(label + "_backlog").Inc()
		}
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
	s.channels[label] = rtcChannel{dc}
	s.mu.Unlock()
	dc.OnOpen(func() {
		switch label {
		case ChannelControl:
			s.mu.RLock()
			size := s.size
			s.mu.RUnlock()
			s.send(ChannelControl, Welcome{Version: ProtocolVersion, Features: s.features(),
				Codec: string(s.codec), Width: size.X, Height: size.Y, Encoder: s.choice.Encoder}.Append(nil))
		case ChannelCursor:
			s.mu.RLock()
			shape := s.lastShape
			s.mu.RUnlock()
			if shape != nil {
				s.send(ChannelCursor, shape)
			}
		}
	})
	dc.SetBufferedAmountLowThreshold(sharedHighWater / 2)
	dc.OnBufferedAmountLow(s.kickSender)
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
			s.log.Info("client hello", "agent", msg.Agent, "version", msg.Version, "caps", msg.Caps != nil)
			s.adapt.setHello(msg)
			if msg.Version != ProtocolVersion {
				go s.end(ByeVersion, fmt.Errorf("asp: client speaks protocol version %d, server %d", msg.Version, ProtocolVersion))
			}
		case KeyframeRequest:
			s.requestKeyframe("control")
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
				s.requestKeyframe("pli")
			case *rtcp.FullIntraRequest:
				s.requestKeyframe("fir")
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

// captureLoop takes frames from the source when the screen changed (or a refresh is due),
// classifies the scene from their damage, encodes them at the target the adapt loop set
// (bitrate, frame rate, size) and sends them as RTP with timestamps from the capture time.
// Between frames it wakes for a rate-limited keyframe request (answered with the last
// picture, so a still screen heals too), for a frame the encoder dropped to keep to the
// single-frame VBV, and, in office mode, for the one refinement frame of a still screen.
// An idle screen costs nothing beyond the capture source's own slow refresh.
func (s *session) captureLoop() {
	defer s.wg.Done()
	var (
		enc     codec.Encoder
		m       = s.srv.metrics
		cfg     = s.srv.cfg
		cls     = adapt.NewClassifier(adapt.SceneConfig{RefineAfter: cfg.refine})
		mode    = adapt.ModeOffice
		last    *image.YCbCr // the last picture sent, at the encoded size
		scaled  *image.YCbCr // the downscaled picture when the rate controller asks for less
		redo    bool         // the encoder dropped the last picture: it must still go out
		nextAt  time.Time    // frame pacing: no frame before this
		hold    time.Time    // link pacing: no new picture before this (zero: none)
		fps     int          // the frame rate the encoder runs at
		screen  image.Point  // the capture size the encoder was opened for
		capNext int          // the byte cap of the next frame (capGate), 0 for none
		gate    capGate      // which frames risk their budget
		cuts    adapt.CutDetector
		thumb   []uint8 // the last frame's thumbnail, for cuts
	)
	defer func() {
		if enc != nil {
			_ = enc.Close()
		}
	}()
	quantizers := func(p adapt.Profile) (int, int) {
		return mapQuantizer(s.codec, s.adapt.minQuantizer(p.MinQ)), mapQuantizer(s.codec, p.MaxQ)
	}
	setQ := func(minQ, maxQ int) {
		if qs, ok := enc.(codec.QuantizerSetter); ok {
			if err := qs.SetQuantizerRange(minQ, maxQ); err != nil {
				s.log.Debug("set quantiser range", "error", err)
			}
		}
	}
	observe := cfg.frameObserver
	slot := newFrameSlot() // the handoff from the capture goroutine, started below
	// send encodes img and sends it; it reports false when the session must end.
	send := func(img *image.YCbCr, captured time.Time, captureSeq uint64, kind string, key bool) bool {
		pts := captured.Sub(s.begin)
		t0 := time.Now()
		pkt, err := encodeFrame(enc, img, pts, key, capNext)
		capNext = 0
		took := time.Since(t0)
		ev := FrameEvent{CaptureSeq: captureSeq, Captured: captured, EncodeStart: t0, EncodeEnd: t0.Add(took),
			Bytes: len(pkt.Data), Keyframe: pkt.Keyframe, Refine: kind == "refine"}
		if err != nil {
			go s.end(ByeInternal, fmt.Errorf("asp: encode: %w", err))
			return false
		}
		m.encodeSeconds.Observe(took.Seconds())
		s.encodeNanos.Add(int64(took))
		slot.encoded(took)
		s.encoded.Add(1)
		nextAt = t0.Add(time.Second / time.Duration(max(fps, 1)))
		if len(pkt.Data) == 0 {
			m.drops.WithLabelValues("encoder").Inc()
			s.dropped.Add(1)
			if key {
				s.adapt.requestKeyframe()
			}
			redo = true
			if observe != nil {
				ev.Dropped = true
				observe(ev)
			}
			return true
		}
		redo = false
		if pkt.Keyframe {
			kind = "key"
			s.adapt.keyframeSent(t0)
		}
		ts, werr := s.video.writeFrame(pkt.Data, pts, pkt.Keyframe)
		ev.RTPTimestamp = ts
		if werr != nil {
			m.drops.WithLabelValues("write_error").Inc()
			s.dropped.Add(1)
			s.log.Debug("write video", "error", werr)
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
		m.frames.WithLabelValues(string(s.codec), kind).Inc()
		m.videoBytes.Add(float64(len(pkt.Data)))
		s.frames.Add(1)
		s.bytes.Add(uint64(len(pkt.Data)))
		frameAt := nextAt
		nextAt = s.adapt.paced(frameAt, ev.EncodeEnd, len(pkt.Data), fps, kind)
		// On a measured bottleneck the link's hold applies to the next captured picture
		// too: the capture goroutine grabs it when the link has room, with all the damage
		// until then.
		hold = time.Time{}
		if nextAt.After(frameAt) && s.adapt.bottleneck() {
			hold = nextAt
		}
		slot.holdUntil(hold)
		return true
	}
	setMode := func(next adapt.Mode) {
		if next == mode {
			return
		}
		s.log.Debug("scene mode", "from", mode.String(), "to", next.String())
		mode = next
		s.adapt.setMode(next)
		if enc != nil {
			// libvpx takes the new range at the next frame; OpenH264 re-initialises (the next
			// frame is an IDR), which the classifier's hysteresis keeps rare.
			setQ(quantizers(adapt.ProfileFor(mode)))
		}
	}
	// refineFrame sends the last picture again at near-lossless quality. libvpx codes it as
	// a delta frame against the blurred one; OpenH264 would need a re-initialisation (an
	// IDR) to change its quantisers, so with H.264 the picture is only encoded again.
	refineFrame := func(now time.Time) bool {
		if s.codec != codec.H264 {
			setQ(s.adapt.refineQuantizers(s.codec))
			defer setQ(quantizers(adapt.ProfileFor(mode)))
		}
		return send(last, now, 0, "refine", false)
	}
	// The capture half runs in its own goroutine (pipeline.go): it converts the next frame
	// while this loop encodes the current one, paced to the frame rate in force.
	var interval atomic.Int64 // ns between frames, for the capture goroutine
	interval.Store(int64(time.Second / time.Duration(max(1, min(adapt.ProfileFor(mode).MaxFPS, int(cfg.frameRate))))))
	cctx, stopCapture := context.WithCancel(s.ctx)
	var capWG sync.WaitGroup
	capWG.Add(1)
	go func() {
		defer capWG.Done()
		captureFrames(cctx, s.desk.Source, slot, func() time.Duration { return time.Duration(interval.Load()) },
			func() { m.drops.WithLabelValues("stale").Inc() })
	}()
	defer func() {
		stopCapture()
		capWG.Wait()
	}()
	var lastBuf *image.YCbCr // the capture buffer last points into, given back when replaced
	for {
		now := time.Now()
		deadline := now.Add(500 * time.Millisecond) // the classifier ages even when idle
		if last != nil && !slot.waiting() {
			// Re-sends of the last picture (a keyframe, a picture the encoder dropped) keep to
			// the frame rate too: after a dropped frame the VBV buffer needs the time to drain.
			if now.Before(nextAt) {
				if at := s.adapt.keyframePendingAt(); redo || !at.IsZero() {
					deadline = nextAt
					if at.After(nextAt) {
						deadline = at
					}
				}
			} else {
				due, at := s.adapt.keyframeDue(now)
				if due || redo {
					kind := "delta"
					if due {
						kind = "key"
					}
					if !send(last, now, 0, kind, due) {
						return
					}
					continue
				}
				if !at.IsZero() && at.Before(deadline) {
					deadline = at
				}
			}
			if at, ok := cls.RefineAt(); ok && cfg.refine > 0 && mode == adapt.ModeOffice && at.Before(deadline) {
				deadline = at
			}
		}
		// A picture that is waiting waits for the link's hold too (one grabbed while the
		// hold was set, when the screen changed after a quiet while).
		ready := slot.ready
		if now.Before(hold) {
			ready = nil
			if hold.Before(deadline) {
				deadline = hold
			}
		}
		wctx, cancel := context.WithDeadline(s.ctx, deadline)
		s.wakeMu.Lock()
		s.wake = cancel
		s.wakeMu.Unlock()
		select {
		case <-ready:
		case <-wctx.Done():
		}
		s.wakeMu.Lock()
		s.wake = nil
		s.wakeMu.Unlock()
		cancel()
		if s.ctx.Err() != nil {
			return
		}
		if time.Now().Before(hold) {
			continue // woken during the hold (a keyframe request): it is served after it
		}
		f, ok, err := slot.take()
		if err != nil && !ok {
			go s.end(ByeDisplayGone, fmt.Errorf("%w: %v", ErrDisplayGone, err))
			return
		}
		if !ok {
			// Woken: a keyframe, the refinement, or just time.
			now := time.Now()
			setMode(cls.Update(now))
			if last != nil && cfg.refine > 0 && cls.RefinementDue(now) && s.adapt.refineAllowed() {
				if !refineFrame(now) {
					return
				}
			}
			continue
		}
		b := f.img.Rect
		w, h := b.Dx()&^1, b.Dy()&^1
		captured := f.captured
		if screen != image.Pt(w, h) {
			if enc != nil {
				s.send(ChannelControl, Resize{Width: w, Height: h}.Append(nil))
			}
			s.mu.Lock()
			s.size = image.Pt(w, h)
			s.mu.Unlock()
		}
		setMode(cls.Observe(captured, damageFraction(f.damage, w, h)))

		// The target: the adapt loop's, when it was computed for this screen size.
		t, forSize := s.adapt.current()
		tw, th := w, h
		if forSize == image.Pt(w, h) && t.Width > 0 && t.Height > 0 {
			tw, th = min(t.Width, w), min(t.Height, h)
		}
		fps = max(1, min(t.FPS, adapt.ProfileFor(mode).MaxFPS, int(cfg.frameRate)))
		interval.Store(int64(time.Second / time.Duration(fps)))
		if enc == nil || screen != image.Pt(w, h) || enc.Config().Width != tw || enc.Config().Height != th {
			// A size change reopens the encoder, and the new stream starts with a keyframe
			// whose size the client's decoder follows. libvpx could shrink in place
			// (vpx_codec_enc_config_set) but not grow past the first size, and OpenH264
			// cannot change size at all, so all codecs take the same path; the rate
			// controller's slow upgrade keeps it rare.
			if enc != nil {
				_ = enc.Close()
				enc = nil
			}
			minQ, maxQ := quantizers(adapt.ProfileFor(mode))
			// Single-frame VBV: libvpx caps every frame (keyframes by re-quantising).
			// OpenH264 cannot cap a frame; its VBV skips the frames after one that
			// overshot, and a 1080p IDR over the budget is skipped again and again, so
			// H.264 runs without it (its own rate control, max bitrate 1.5 × target).
			ratio := s.adapt.frameRatio(mode)
			if s.codec == codec.H264 {
				ratio = 0
			}
			enc, err = codec.NewEncoder(codec.EncoderConfig{
				Codec: s.codec, Width: tw, Height: th, FrameRate: float64(fps),
				BitrateKbps: max(t.BitrateKbps, 1), ScreenContent: true,
				MinQuantizer: minQ, MaxQuantizer: maxQ, MaxFrameRatio: ratio,
			})
			if err != nil {
				go s.end(ByeInternal, fmt.Errorf("asp: open %s encoder %dx%d: %w", s.codec, tw, th, err))
				return
			}
			s.log.Debug("encoder opened", "width", tw, "height", th, "kbps", t.BitrateKbps, "fps", fps, "mode", mode.String())
			screen = image.Pt(w, h)
			s.videoW.Store(int32(tw))
			s.videoH.Store(int32(th))
			last = nil
			slot.release(lastBuf)
			lastBuf = nil
		} else {
			c := enc.Config()
			if s.codec != codec.H264 && (mode == adapt.ModeVideo || mode == adapt.ModeGame) {
				// In video and game mode the quantiser floor follows the link
				// (minQuantizer), not only the mode: a video that began while the link was
				// still thought slow (GCC's 1.5 Mbit/s start) kept the slow link's floor of
				// 28 until the next mode change, and sent 3–5 Mbit/s at a 7.8 Mbit/s
				// target. OpenH264 would re-initialise (an IDR), so it keeps the mode's
				// range; office keeps the floor it had at its start, as it was tuned with.
				if minQ, maxQ := quantizers(adapt.ProfileFor(mode)); c.MinQuantizer != minQ || c.MaxQuantizer != maxQ {
					setQ(minQ, maxQ)
				}
			}
			if t.BitrateKbps > 0 && (t.BitrateKbps*20 < c.BitrateKbps*19 || t.BitrateKbps*20 > c.BitrateKbps*21) {
				if err := enc.SetBitrate(t.BitrateKbps); err != nil {
					s.log.Debug("set bitrate", "error", err)
				}
			}
			if fr, ok := enc.(codec.FrameRatioSetter); ok && c.MaxFrameRatio > 0 {
				// Video on a fast link: room for a scene cut, coded as camera content
				// (libvpx's screen mode 2 would drop the cut and code the next frame at
				// the coarsest quantiser).
				r := s.adapt.frameRatio(mode)
				if r != c.MaxFrameRatio {
					if err := fr.SetMaxFrameRatio(r); err != nil {
						s.log.Debug("set max frame ratio", "error", err)
					}
				}
				if cs, ok := enc.(codec.ContentSetter); ok && c.ScreenContent != (r == frameBudget) {
					if err := cs.SetScreenContent(r == frameBudget); err != nil {
						s.log.Debug("set screen content", "error", err)
					}
				}
			}
			if float64(fps) != c.FrameRate {
				if err := enc.SetFrameRate(float64(fps)); err != nil {
					s.log.Debug("set frame rate", "error", err)
				}
			}
		}
		img := f.img
		if img.Rect.Dx() != w || img.Rect.Dy() != h || img.Rect.Min != (image.Point{}) {
			img = img.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Min.X+w, b.Min.Y+h)).(*image.YCbCr)
		}
		if tw != w || th != h {
			if scaled == nil || scaled.Rect.Dx() != tw || scaled.Rect.Dy() != th {
				scaled = image.NewYCbCr(image.Rect(0, 0, tw, th), image.YCbCrSubsampleRatio420)
			}
			yuv.Downscale(scaled, img)
			img = scaled
		}
		key, _ := s.adapt.keyframeDue(time.Now())
		damage := damageFraction(f.damage, w, h)
		capNext = gate.cap(s.adapt.frameBudget(time.Now(), enc.Config().BitrateKbps, fps), damage, tw*th)
		capped := capNext
		// A scene cut in video and game mode is coded no finer than cutMinQ, so it does not
		// spend libvpx's whole buffer and starve the frames after it (OpenH264 would
		// re-initialise to change its quantisers).
		cut := false
		if (mode == adapt.ModeVideo || mode == adapt.ModeGame) && s.codec != codec.H264 {
			thumb = adapt.Thumbnail(thumb, img.Y, img.YStride, img.Rect.Dx(), img.Rect.Dy())
			cut = cuts.Observe(thumb) && !key
		} else {
			cuts.Reset()
		}
		if cut {
			minQ, maxQ := quantizers(adapt.ProfileFor(mode))
			setQ(max(minQ, mapQuantizer(s.codec, cutMinQ)), maxQ)
		}
		sentBefore := s.bytes.Load()
		sent := send(img, captured, f.seq, "delta", key)
		if cut {
			setQ(quantizers(adapt.ProfileFor(mode)))
			s.log.Debug("scene cut", "bytes", s.bytes.Load()-sentBefore, "mode", mode.String())
		}
		if !sent {
			slot.release(f.img)
			return
		}
		if !key {
			gate.frame(int(s.bytes.Load()-sentBefore), damage, tw*th)
		}
		if capped > 0 {
			s.log.Debug("frame capped", "cap", capped, "bytes", s.bytes.Load()-sentBefore, "damage", damage)
		}
		// The picture sent becomes the last one; the capture buffer of the one before goes
		// back to the capture goroutine.
		slot.release(lastBuf)
		last, lastBuf = img, f.img
		if img == scaled {
			// rewritten only by the next frame, which replaces last anyway
			slot.release(f.img)
			lastBuf = nil
		}
	}
}

// damageFraction is the share of a w×h screen the damage rectangles cover (they may
// overlap; the sum is capped at 1). No rectangles means the whole screen.
func damageFraction(damage []image.Rectangle, w, h int) float64 {
	if len(damage) == 0 || w <= 0 || h <= 0 {
		return 1
	}
	area := 0
	for _, r := range damage {
		r = r.Intersect(image.Rect(0, 0, w, h))
		area += r.Dx() * r.Dy()
	}
	return min(1, float64(area)/float64(w*h))
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
		s.send(ChannelCursor, AppendCursor(nil, msg)) // dropped when the queue is full
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
		// Clipboard waits for room rather than dropping: a newer text replaces the one
		// waiting, never piles up behind it.
		msg := AppendClipboard(nil, text)
		for {
			err := s.enqueue(ChannelClipboard, msg)
			if !errors.Is(err, adapt.ErrBackpressure) {
				break
			}
			select {
			case <-s.ctx.Done():
				return
			case t, ok := <-changes:
				if !ok {
					return
				}
				if len(t) <= MaxClipboardBytes && s.srv.cfg.policy(s.ctx, ToClient, t) == nil {
					msg = AppendClipboard(nil, t)
				}
			case <-time.After(sendPoll):
			}
		}
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
			a := s.adapt.snapshot()
			st.EstimateKbps, st.TargetKbps = uint32(a.CappedBps/1000), uint32(a.Target.BitrateKbps)
			st.TargetFPS = uint16(a.FPS)
			st.VideoWidth, st.VideoHeight = int(s.videoW.Load()), int(s.videoH.Load())
			st.Mode = SceneMode(a.mode)
			if n := encoded - lastEncoded; n > 0 {
				st.EncodeMicros = uint32((nanos - lastNanos) / n / 1000)
			}
			s.srv.metrics.bitrate.Add(bits - lastBits)
			lastBits, lastFrames, lastBytes, lastNanos, lastEncoded, last = bits, frames, byts, nanos, encoded, now
			s.send(ChannelControl, st.Append(nil))
		}
	}
}

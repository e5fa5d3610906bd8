package asp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp/adapt"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/direct"
)

// ChannelVideo is the label of the direct transport's video channel, which the server opens
// (unordered, partially reliable: direct.Video()). Over WebRTC video is an RTP track instead.
const ChannelVideo = "video"

// directSetupTimeout bounds a direct connection's channel opening and hello.
const directSetupTimeout = 10 * time.Second

// ServeDirect runs sessions for native clients over the direct transport (asp/direct: SCTP
// over DTLS/UDP, or TLS/TCP when UDP is blocked) until ctx is done or l fails. The client
// opens the input, cursor, clipboard and control channels and sends its hello with the
// capability block first; the server chooses the encoder from it, opens the video channel,
// answers welcome and streams. It returns nil when ctx ends; the caller closes l.
func (s *Server) ServeDirect(ctx context.Context, l *direct.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("asp: direct accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.startDirect(ctx, conn); err != nil {
				s.log.Info("direct session refused", "remote", conn.RemoteAddr().String(), "error", err)
				_ = conn.Close()
			}
		}()
	}
}

// directChannel adapts a direct transport channel.
type directChannel struct{ *direct.Channel }

func (directChannel) open() bool { return true } // a closed channel fails Send

// directSink sends each frame as one message on the video channel.
type directSink struct {
	ch  *direct.Channel
	seq uint32
}

func (d *directSink) writeFrame(data []byte, pts time.Duration, key bool) (uint32, error) {
	d.seq++
	us := uint64(pts.Microseconds())
	msg := direct.AppendVideoFrame(nil, direct.VideoFrame{Seq: d.seq, CapturedUS: us, Keyframe: key, Data: data})
	return DirectTimestamp(us), d.ch.Send(msg)
}

// DirectTimestamp is the 90 kHz timestamp a frame captured us microseconds into the session
// gets on the direct transport, the counterpart of the RTP timestamp over WebRTC.
func DirectTimestamp(us uint64) uint32 { return uint32(us * 9 / 100) }

// backpressureEstimator estimates the direct transport's bandwidth without TWCC: SCTP's
// own congestion control holds what the link cannot take in the video channel's buffer, so
// a buffer of more than ~100 ms of video means the rate is too high (multiplicative
// decrease); an empty buffer lets it grow by 8% per reading (additive-ish increase).
type backpressureEstimator struct {
	ch       *direct.Channel
	mu       sync.Mutex
	bps      float64
	min, max float64
}

func (b *backpressureEstimator) GetTargetBitrate() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	queued := float64(b.ch.BufferedAmount()) * 8
	switch {
	case queued > b.bps*0.1:
		b.bps *= 0.7
	case queued < b.bps*0.02:
		b.bps *= 1.08
	}
	b.bps = min(max(b.bps, b.min), b.max)
	return int(b.bps)
}

func (s *Server) startDirect(ctx context.Context, conn *direct.Conn) error {
	sctx, cancel := context.WithTimeout(ctx, directSetupTimeout)
	defer cancel()
	chans := map[string]*direct.Channel{}
	for len(chans) < 4 {
		ch, err := conn.AcceptChannel(sctx)
		if err != nil {
			return fmt.Errorf("accept channels: %w", err)
		}
		switch ch.Label() {
		case ChannelInput, ChannelCursor, ChannelClipboard, ChannelControl:
			chans[ch.Label()] = ch
		default:
			s.log.Info("unknown direct channel ignored", "label", ch.Label())
		}
	}
	first, err := chans[ChannelControl].Recv(sctx)
	if err != nil {
		return fmt.Errorf("read hello: %w", err)
	}
	msg, err := DecodeControl(first)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	hello, ok := msg.(Hello)
	if !ok {
		return fmt.Errorf("first control message is %T, want a hello", msg)
	}
	caps := capsFromHello(hello)

	s.mu.Lock()
	full := s.cfg.maxSessions > 0 && len(s.sessions) >= s.cfg.maxSessions
	closed := s.closed
	s.mu.Unlock()
	if closed || full {
		_ = chans[ChannelControl].Send(Bye{Code: ByeInternal, Reason: "server is full or shutting down"}.Append(nil))
		return errors.New("server is full or shutting down")
	}
	desk, err := s.open(sctx)
	if err != nil {
		return fmt.Errorf("open desktop: %w", err)
	}
	w, h := desk.Source.Size()
	choice, err := s.encs.Choose(caps, w&^1, h&^1)
	if err != nil {
		_ = desk.Close()
		_ = chans[ChannelControl].Send(Bye{Code: ByeInternal, Reason: err.Error()}.Append(nil))
		return err
	}
	video, err := conn.OpenChannel(sctx, ChannelVideo, direct.Video())
	if err != nil {
		choice.Release()
		_ = desk.Close()
		return fmt.Errorf("open video channel: %w", err)
	}
	sess := newSession(s, nil, desk, choice, caps)
	sess.closeTransport = conn.Close
	sess.video = &directSink{ch: video}
	start := float64(s.cfg.startKbps) * 1000
	sess.adapt.est = &backpressureEstimator{ch: video, bps: start,
		min: float64(s.cfg.minKbps) * 1000, max: float64(s.cfg.maxKbps) * 1000}
	sess.adapt.setHello(hello)
	for label, ch := range chans {
		ch.SetBufferedAmountLowThreshold(sharedHighWater / 2)
		ch.OnBufferedAmountLow(sess.kickSender)
		sess.channels[label] = directChannel{ch}
	}
	if !s.add(sess) {
		sess.close(nil)
		return errors.New("server is shutting down")
	}
	s.metrics.offers.WithLabelValues("direct").Inc()
	s.log.Info("direct session started", "session", sess.id, "transport", conn.Transport(), "codec", sess.codec, "encoder", choice.Encoder)
	if hello.Version != ProtocolVersion {
		go sess.end(ByeVersion, fmt.Errorf("asp: client speaks protocol version %d, server %d", hello.Version, ProtocolVersion))
		return nil
	}
	sess.mu.Lock()
	size := sess.size
	sess.mu.Unlock()
	sess.wg.Add(len(chans) + 1)
	for label, ch := range chans {
		go sess.recvDirect(label, ch)
	}
	go func() {
		defer sess.wg.Done()
		select {
		case <-conn.Done():
			go sess.close(errors.New("asp: direct connection lost"))
		case <-sess.ctx.Done():
		}
	}()
	sess.start()
	sess.send(ChannelControl, Welcome{Version: ProtocolVersion, Features: sess.features(),
		Codec: string(sess.codec), Width: size.X, Height: size.Y, Encoder: choice.Encoder}.Append(nil))
	return nil
}

// recvDirect hands the messages of one direct channel to the session's handler.
func (s *session) recvDirect(label string, ch *direct.Channel) {
	defer s.wg.Done()
	for {
		b, err := ch.Recv(s.ctx)
		if err != nil {
			if label == ChannelControl && s.ctx.Err() == nil {
				go s.close(nil) // the client closed control: it left
			}
			return
		}
		s.onMessage(label, webrtc.DataChannelMessage{Data: b})
	}
}

// capsFromHello turns a native client's capability block into ClientCaps.
func capsFromHello(h Hello) adapt.ClientCaps {
	var out adapt.ClientCaps
	if h.Caps == nil {
		return out
	}
	c := h.Caps
	out.ScreenWidth, out.ScreenHeight, out.DPI = c.ScreenWidth, c.ScreenHeight, c.DPI
	out.InputDevices = c.InputDevices
	for _, d := range c.Decoders {
		cd := codec.Codec(strings.ToUpper(d.Codec))
		switch cd {
		case codec.VP8, codec.VP9, codec.H264:
			out.Decoders = append(out.Decoders, adapt.DecoderCap{Codec: cd, Hardware: d.Hardware,
				MaxWidth: d.MaxWidth, MaxHeight: d.MaxHeight})
		}
	}
	return out
}

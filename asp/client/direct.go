package client

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/codec"
	"github.com/shadowless-dev/shadowless/asp/direct"
	"github.com/shadowless-dev/shadowless/asp/yuv"
)

// DialDirect connects to a server's direct transport (asp.Server.ServeDirect): SCTP over
// DTLS on UDP, falling back to TLS on TCP by itself when UDP is blocked (see asp/direct).
// It opens the input, cursor, clipboard and control channels, sends the hello with
// opts.Caps (from which the server chooses the codec), and returns once the server's
// Welcome is there. Frames arrive on the server's partially reliable video channel; lost
// frames are skipped up to the next keyframe, which the client asks for (at most every
// 300 ms). opts.SettingEngine and opts.HTTPClient do not apply.
func DialDirect(ctx context.Context, cfg direct.ClientConfig, opts Options) (*Conn, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = opts.Logger
	}
	dc, err := direct.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("asp client: %w", err)
	}
	c := &Conn{
		dconn: dc, log: opts.Logger, channels: map[string]messageSender{},
		welcome:   make(chan asp.Welcome, 1),
		frames:    make(chan Frame, opts.FrameBuffer),
		cursors:   make(chan asp.CursorMessage, 64),
		clipboard: make(chan string, 8),
		done:      make(chan struct{}),
	}
	fail := func(err error) (*Conn, error) {
		_ = c.Close()
		return nil, err
	}
	chans := map[string]*direct.Channel{}
	for _, label := range []string{asp.ChannelInput, asp.ChannelCursor, asp.ChannelClipboard, asp.ChannelControl} {
		ch, err := dc.OpenChannel(ctx, label, direct.Reliable())
		if err != nil {
			return fail(fmt.Errorf("asp client: open %s: %w", label, err))
		}
		chans[label] = ch
		c.channels[label] = ch
	}
	if err := chans[asp.ChannelControl].Send(opts.hello().Append(nil)); err != nil {
		return fail(fmt.Errorf("asp client: send hello: %w", err))
	}
	c.wg.Add(len(chans) + 1)
	for label, ch := range chans {
		go c.recvDirect(label, ch)
	}
	go func() {
		defer c.wg.Done()
		select {
		case <-dc.Done():
			c.finish(nil)
		case <-c.done:
		}
	}()
	var w asp.Welcome
	select {
	case w = <-c.welcome:
		c.mu.Lock()
		c.welcomeV = w
		c.mu.Unlock()
	case <-c.done:
		err := c.Err()
		if err == nil {
			err = ErrClosed
		}
		return fail(fmt.Errorf("asp client: session ended before it began: %w", err))
	case <-ctx.Done():
		return fail(fmt.Errorf("asp client: waiting for the server's welcome: %w", ctx.Err()))
	}
	video, err := dc.AcceptChannel(ctx)
	if err != nil {
		return fail(fmt.Errorf("asp client: video channel: %w", err))
	}
	if video.Label() != asp.ChannelVideo {
		return fail(fmt.Errorf("asp client: server opened %q, want %q", video.Label(), asp.ChannelVideo))
	}
	c.wg.Add(1)
	go c.readDirectVideo(codec.Codec(strings.ToUpper(w.Codec)), video)
	return c, nil
}

// recvDirect hands one direct channel's messages to the message handler.
func (c *Conn) recvDirect(label string, ch *direct.Channel) {
	defer c.wg.Done()
	for {
		b, err := ch.Recv(context.Background())
		if err != nil {
			if label == asp.ChannelControl {
				c.finish(nil)
			}
			return
		}
		c.onMessage(label, webrtc.DataChannelMessage{Data: b})
	}
}

// readDirectVideo puts the video channel's frames in order, decodes and delivers them.
func (c *Conn) readDirectVideo(cd codec.Codec, ch *direct.Channel) {
	defer c.wg.Done()
	dec, err := codec.NewDecoder(cd)
	if err != nil {
		c.finish(fmt.Errorf("asp client: decoder for %s: %w", cd, err))
		return
	}
	defer dec.Close()
	reorder := direct.NewVideoReorder(0)
	var lastAsk time.Time
	ask := func() {
		if time.Since(lastAsk) >= 300*time.Millisecond {
			lastAsk = time.Now()
			_ = c.RequestKeyframe()
		}
	}
	var seq uint64
	for {
		msg, err := ch.Recv(context.Background())
		if err != nil {
			return
		}
		received := time.Now()
		f, err := direct.DecodeVideoFrame(msg)
		if err != nil {
			c.malformed.Add(1)
			continue
		}
		before := reorder.Stats()
		ready, key := reorder.Push(f)
		if after := reorder.Stats(); after.Lost > before.Lost {
			c.resyncs.Add(1)
			c.packetsLost.Add(uint64(after.Lost - before.Lost))
		}
		if key {
			ask()
		}
		for _, vf := range ready {
			img, err := dec.Decode(vf.Data)
			if err != nil {
				c.decodeErrors.Add(1)
				ask()
				continue
			}
			if img == nil {
				continue
			}
			seq++
			fr := Frame{Image: yuv.Copy(nil, img), Received: received, Decoded: time.Now(), Bytes: len(vf.Data), Seq: seq,
				RTPTimestamp: asp.DirectTimestamp(vf.CapturedUS)}
			c.deliver(func() {
				for {
					select {
					case c.frames <- fr:
						return
					default:
					}
					select {
					case <-c.frames:
						c.framesDropped.Add(1)
					default:
					}
				}
			})
		}
	}
}

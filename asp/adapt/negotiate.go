package adapt

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pion/sdp/v3"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

// DecoderCap is one decoder a client has.
type DecoderCap struct {
	Codec    codec.Codec
	Hardware bool
	// MaxWidth and MaxHeight bound the pictures it decodes; 0 means no stated limit.
	MaxWidth, MaxHeight int
}

// ClientCaps is what a client says about itself at connect: from the native client's hello,
// or read from a browser's SDP offer and screen properties.
type ClientCaps struct {
	Decoders                  []DecoderCap
	ScreenWidth, ScreenHeight int
	DPI                       int
	InputDevices              []string // "keyboard", "mouse", "touch", "pen", "gamepad"
}

// EncoderInfo describes one encoder the server can open.
type EncoderInfo struct {
	// Name identifies the encoder, e.g. "libvpx-vp8" or "nvenc-h264".
	Name     string
	Codec    codec.Codec
	Hardware bool
	// MaxSessions is how many sessions the encoder serves at once; 0 means no limit
	// (software encoders are bounded by CPU, which placement accounts for).
	MaxSessions int
	// MaxWidth and MaxHeight bound the pictures it encodes; 0 means no limit.
	MaxWidth, MaxHeight int
}

// ErrNoCommonCodec is returned when no encoder the server has fits any decoder the client has.
var ErrNoCommonCodec = errors.New("adapt: no encoder fits the client's decoders")

// Choice is the configuration negotiation settled on, with the reasons, for the session's
// stats and for support.
type Choice struct {
	Encoder        string
	Codec          codec.Codec
	HardwareEncode bool
	HardwareDecode bool
	Width, Height  int
	Reasons        []string
	release        func()
	releaseOnce    sync.Once
}

// Release gives the encoder's session slot back; call it when the session ends.
func (c *Choice) Release() {
	c.releaseOnce.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
}

// Registry is the server's set of encoders with their session slots in use. It is safe for
// concurrent use.
type Registry struct {
	mu       sync.Mutex
	encoders []EncoderInfo
	inUse    map[string]int
	// prefer orders codecs when hardware is equal: earlier is better.
	prefer []codec.Codec
}

// NewRegistry returns a registry of encoders; prefer ranks codecs from best to worst for
// this deployment (for example H264 first for compatibility, or VP9 first for bandwidth).
func NewRegistry(prefer []codec.Codec, encoders ...EncoderInfo) *Registry {
	return &Registry{encoders: slices.Clone(encoders), inUse: map[string]int{}, prefer: slices.Clone(prefer)}
}

// Choose picks the best encoder/decoder pair for a client at capture size width×height and
// reserves a session slot of the encoder. Pairs rank by hardware on both sides, then
// hardware encode, then the codec preference; an encoder at its session limit or a decoder
// too small for the picture is passed over, and the reasons say so.
func (r *Registry) Choose(client ClientCaps, width, height int) (*Choice, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var reasons []string
	best, bestScore := -1, -1
	var bestDec DecoderCap
	for i, enc := range r.encoders {
		if enc.MaxSessions > 0 && r.inUse[enc.Name] >= enc.MaxSessions {
			reasons = append(reasons, fmt.Sprintf("%s: all %d sessions in use", enc.Name, enc.MaxSessions))
			continue
		}
		if !fits(width, height, enc.MaxWidth, enc.MaxHeight) {
			reasons = append(reasons, fmt.Sprintf("%s: encodes at most %dx%d, the screen is %dx%d", enc.Name, enc.MaxWidth, enc.MaxHeight, width, height))
			continue
		}
		dec, ok := r.bestDecoder(client, enc.Codec, width, height)
		if !ok {
			reasons = append(reasons, fmt.Sprintf("%s: the client cannot decode %s at %dx%d", enc.Name, enc.Codec, width, height))
			continue
		}
		score := r.score(enc, dec)
		if score > bestScore {
			best, bestScore, bestDec = i, score, dec
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoCommonCodec, strings.Join(reasons, "; "))
	}
	enc := r.encoders[best]
	r.inUse[enc.Name]++
	reasons = append([]string{fmt.Sprintf("chose %s (%s, hardware encode %v, hardware decode %v)", enc.Name, enc.Codec, enc.Hardware, bestDec.Hardware)}, reasons...)
	return &Choice{
		Encoder: enc.Name, Codec: enc.Codec, HardwareEncode: enc.Hardware, HardwareDecode: bestDec.Hardware,
		Width: width, Height: height, Reasons: reasons,
		release: func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.inUse[enc.Name]--
		},
	}, nil
}

// InUse returns the session slots taken on an encoder.
func (r *Registry) InUse(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inUse[name]
}

func (r *Registry) bestDecoder(client ClientCaps, c codec.Codec, width, height int) (DecoderCap, bool) {
	var found DecoderCap
	ok := false
	for _, d := range client.Decoders {
		if d.Codec != c || !fits(width, height, d.MaxWidth, d.MaxHeight) {
			continue
		}
		if !ok || (d.Hardware && !found.Hardware) {
			found, ok = d, true
		}
	}
	return found, ok
}

// score ranks a pair: hardware on both ends beats hardware encode alone, which beats
// hardware decode alone, and the codec preference breaks ties.
func (r *Registry) score(enc EncoderInfo, dec DecoderCap) int {
	s := 0
	if enc.Hardware {
		s += 200
	}
	if dec.Hardware {
		s += 100
	}
	rank := slices.Index(r.prefer, enc.Codec)
	if rank < 0 {
		rank = len(r.prefer)
	}
	return s + (len(r.prefer) - rank)
}

func fits(w, h, maxW, maxH int) bool {
	return (maxW == 0 || w <= maxW) && (maxH == 0 || h <= maxH)
}

// Offer is what a WebRTC offer says about the client's receiving side.
type Offer struct {
	// Decoders lists the video codecs the client can receive in a form the server sends:
	// VP8; VP9 profile 0; H.264 constrained baseline with packetization-mode 1. Browsers say
	// nothing of hardware in SDP, so none is assumed.
	Decoders []DecoderCap
	// Video reports a video section the client receives on; Data a data channel section.
	Video, Data bool
}

// ParseOffer reads a WebRTC offer's SDP. It fails only when the SDP does not parse.
func ParseOffer(raw string) (Offer, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return Offer{}, fmt.Errorf("adapt: offer SDP does not parse: %w", err)
	}
	var out Offer
	for _, m := range d.MediaDescriptions {
		switch m.MediaName.Media {
		case "application":
			out.Data = true
			continue
		case "video":
		default:
			continue
		}
		if _, ok := m.Attribute("sendonly"); ok {
			continue
		}
		if _, ok := m.Attribute("inactive"); ok {
			continue
		}
		out.Video = true
		names := map[string]string{} // payload type -> codec name
		fmtps := map[string]string{}
		var order []string
		for _, a := range m.Attributes {
			pt, rest, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			switch a.Key {
			case "rtpmap":
				name, _, _ := strings.Cut(rest, "/")
				names[pt] = strings.ToUpper(name)
				order = append(order, pt)
			case "fmtp":
				fmtps[pt] = rest
			}
		}
		for _, pt := range order {
			c, ok := sendable(names[pt], fmtps[pt])
			if ok && !slices.ContainsFunc(out.Decoders, func(d DecoderCap) bool { return d.Codec == c }) {
				out.Decoders = append(out.Decoders, DecoderCap{Codec: c})
			}
		}
	}
	return out, nil
}

// sendable maps an rtpmap codec name and its fmtp to a codec the server can send.
func sendable(name, fmtp string) (codec.Codec, bool) {
	switch name {
	case "VP8":
		return codec.VP8, true
	case "VP9":
		if p := fmtpValue(fmtp, "profile-id"); p != "" && p != "0" {
			return "", false
		}
		return codec.VP9, true
	case "H264":
		plid := strings.ToLower(fmtpValue(fmtp, "profile-level-id"))
		if fmtpValue(fmtp, "packetization-mode") != "1" || len(plid) != 6 || plid[:2] != "42" {
			return "", false
		}
		return codec.H264, true
	}
	return "", false
}

func fmtpValue(fmtp, key string) string {
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

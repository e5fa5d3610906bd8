package asp

import (
	"slices"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp/adapt"
	"github.com/shadowless-dev/shadowless/asp/codec"
)

// H264Fmtp is the H.264 format the server sends: constrained baseline, level 3.1,
// non-interleaved packetisation, what every browser decodes.
const H264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// DefaultCodecs is the server's codec preference when none is given: VP8, then H.264, then
// VP9. VP8 comes first because libvpx holds every frame to the single-frame VBV (a big
// change or a keyframe never floods a short bottleneck queue) and changes its quantisers
// in place, so a still screen's refinement frame sharpens text; OpenH264 can do neither
// (measured with shadowless bench, office scenario at 1080p over 10 Mbit/s: VP8 VMAF 97 at
// 0.9 Mbit/s, H.264 VMAF 89). A client that reports a hardware H.264 decoder in its
// capability block still gets H.264: hardware ranks above this preference.
var DefaultCodecs = []codec.Codec{codec.VP8, codec.H264, codec.VP9}

var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
	{Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
}

// CodecCapability returns the WebRTC capability the server and the Go client register for c.
func CodecCapability(c codec.Codec) webrtc.RTPCodecCapability {
	cap := webrtc.RTPCodecCapability{MimeType: c.MimeType(), ClockRate: 90000, RTCPFeedback: videoFeedback}
	switch c {
	case codec.H264:
		cap.SDPFmtpLine = H264Fmtp
	case codec.VP9:
		cap.SDPFmtpLine = "profile-id=0"
	}
	return cap
}

// encoderName names the software encoder of a codec in the encoder registry.
func encoderName(c codec.Codec) string {
	switch c {
	case codec.H264:
		return "openh264"
	case codec.VP9:
		return "libvpx-vp9"
	}
	return "libvpx-vp8"
}

// newEncoderRegistry registers the software encoders compiled in (codec.Available) that the
// preference allows. Software encoders have no session limit (CPU is placement's concern);
// a hardware encoder would be registered with Hardware set and its MaxSessions.
func newEncoderRegistry(prefer []codec.Codec) *adapt.Registry {
	var encs []adapt.EncoderInfo
	for _, c := range prefer {
		if slices.Contains(codec.Available(), c) {
			encs = append(encs, adapt.EncoderInfo{Name: encoderName(c), Codec: c})
		}
	}
	return adapt.NewRegistry(prefer, encs...)
}

// clientCaps merges what the offer's SDP says (which codecs the client receives) with the
// capability block a native client may send along (hardware decoders, size limits, screen).
// Only codecs in the SDP count: that is what the peer connection can carry.
func clientCaps(offer adapt.Offer, caps *Caps) adapt.ClientCaps {
	out := adapt.ClientCaps{Decoders: slices.Clone(offer.Decoders)}
	if caps == nil {
		return out
	}
	out.ScreenWidth, out.ScreenHeight, out.DPI = caps.ScreenWidth, caps.ScreenHeight, caps.DPI
	out.InputDevices = slices.Clone(caps.InputDevices)
	for i, d := range out.Decoders {
		for _, h := range caps.Decoders {
			if strings.EqualFold(h.Codec, string(d.Codec)) {
				out.Decoders[i].Hardware = h.Hardware
				out.Decoders[i].MaxWidth, out.Decoders[i].MaxHeight = h.MaxWidth, h.MaxHeight
			}
		}
	}
	return out
}

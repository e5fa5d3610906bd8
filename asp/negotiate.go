package asp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

// H264Fmtp is the H.264 format the server sends: constrained baseline, level 3.1,
// non-interleaved packetisation, what every browser decodes.
const H264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// DefaultCodecs is the server's codec preference when none is given: H.264 first (cheapest
// to decode everywhere, hardware decoders), then VP8, then VP9.
var DefaultCodecs = []codec.Codec{codec.H264, codec.VP8, codec.VP9}

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

// offerCodecs lists the video codecs the offer can receive, and whether it has a data
// channel section. It returns an error for an offer that cannot carry a session.
func offerCodecs(raw string) ([]codec.Codec, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return nil, fmt.Errorf("offer SDP does not parse: %w", err)
	}
	var out []codec.Codec
	haveVideo, haveData := false, false
	for _, m := range d.MediaDescriptions {
		switch m.MediaName.Media {
		case "application":
			haveData = true
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
		haveVideo = true
		names := map[string]string{} // payload type -> codec name
		fmtps := map[string]string{}
		for _, a := range m.Attributes {
			pt, rest, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			switch a.Key {
			case "rtpmap":
				name, _, _ := strings.Cut(rest, "/")
				names[pt] = strings.ToUpper(name)
			case "fmtp":
				fmtps[pt] = rest
			}
		}
		for pt, name := range names {
			var c codec.Codec
			switch name {
			case "VP8":
				c = codec.VP8
			case "VP9":
				if p := fmtpValue(fmtps[pt], "profile-id"); p != "" && p != "0" {
					continue
				}
				c = codec.VP9
			case "H264":
				f := fmtps[pt]
				plid := strings.ToLower(fmtpValue(f, "profile-level-id"))
				if fmtpValue(f, "packetization-mode") != "1" || len(plid) != 6 || plid[:2] != "42" {
					continue
				}
				c = codec.H264
			default:
				continue
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	if !haveVideo {
		return nil, fmt.Errorf("offer has no video section the client can receive")
	}
	if !haveData {
		return nil, fmt.Errorf("offer has no data channel section (open the channels before creating the offer)")
	}
	return out, nil
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

// chooseCodec picks the first codec of prefer that is available here and offered.
func chooseCodec(prefer, available, offered []codec.Codec) (codec.Codec, bool) {
	for _, c := range prefer {
		if slices.Contains(available, c) && slices.Contains(offered, c) {
			return c, true
		}
	}
	return "", false
}

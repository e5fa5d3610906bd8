package asp

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors, named shadowless_asp_<what>_<unit>.
type metrics struct {
	sessions        prometheus.Gauge
	sessionsTotal   prometheus.Counter
	offers          *prometheus.CounterVec
	frames          *prometheus.CounterVec
	drops           *prometheus.CounterVec
	videoBytes      prometheus.Counter
	bitrate         prometheus.Gauge
	encodeSeconds   prometheus.Histogram
	malformed       *prometheus.CounterVec
	keyframes       *prometheus.CounterVec
	clipboardDenied *prometheus.CounterVec
	inputEvents     prometheus.Counter
	bwe             prometheus.Gauge
	target          prometheus.Gauge
	modes           *prometheus.GaugeVec
	channelBytes    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shadowless_asp_sessions", Help: "Streaming sessions currently open.",
		}),
		sessionsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shadowless_asp_sessions_total", Help: "Streaming sessions opened.",
		}),
		offers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_offers_total", Help: "Signalling offers by result (answered, bad_request, unavailable).",
		}, []string{"result"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_frames_total", Help: "Encoded video frames sent, by codec and kind (key, delta, refine: a still picture encoded again to sharpen it).",
		}, []string{"codec", "kind"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_drops_total", Help: "Frames or messages not sent, by reason.",
		}, []string{"reason"}),
		videoBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shadowless_asp_video_bytes_total", Help: "Encoded video bytes sent.",
		}),
		bitrate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shadowless_asp_video_bitrate_bits_per_second", Help: "Video bitrate of all sessions over the last second.",
		}),
		encodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shadowless_asp_encode_duration_seconds", Help: "Time to encode one frame.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_malformed_messages_total", Help: "Channel messages dropped because they did not decode, by channel.",
		}, []string{"channel"}),
		keyframes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_keyframe_requests_total", Help: "Keyframe requests by source (pli, fir, control).",
		}, []string{"source"}),
		clipboardDenied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_clipboard_denied_total", Help: "Clipboard transfers the policy denied, by direction.",
		}, []string{"direction"}),
		inputEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shadowless_asp_input_events_total", Help: "Input events injected.",
		}),
		bwe: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shadowless_asp_bwe_bits_per_second", Help: "Bandwidth estimate of all sessions, after the application-limited cap.",
		}),
		target: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shadowless_asp_target_bits_per_second", Help: "Encoder target bitrate of all sessions.",
		}),
		modes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shadowless_asp_scene_sessions", Help: "Sessions by scene mode (office, video, game).",
		}, []string{"mode"}),
		channelBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadowless_asp_channel_bytes_total", Help: "Bytes sent on the data channels, by channel.",
		}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.sessions, m.sessionsTotal, m.offers, m.frames, m.drops,
		m.videoBytes, m.bitrate, m.encodeSeconds, m.malformed, m.keyframes, m.clipboardDenied, m.inputEvents,
		m.bwe, m.target, m.modes, m.channelBytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

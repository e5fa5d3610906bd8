package harness

import (
	"math"
	"sort"
)

// Summary is the distribution of a set of samples (milliseconds for times).
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// summarize computes a Summary; percentiles are nearest-rank.
func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	pct := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Summary{N: len(s), Mean: sum / float64(len(s)), P50: pct(50), P95: pct(95), P99: pct(99), Min: s[0], Max: s[len(s)-1]}
}

// Latency is click-to-photon latency: input sent by the client → first decoded frame
// whose stamp shows the response.
type Latency struct {
	Summary
	// Probes is how many inputs were sent, Answered how many responses were seen in time.
	Probes   int `json:"probes"`
	Answered int `json:"answered"`
}

// Breakdown splits click-to-photon latency (ms) into consecutive stages; their means add
// up to the mean total.
type Breakdown struct {
	// Uplink: client sends the event → the server injects it (data channel, network).
	Uplink Summary `json:"uplink"`
	// App: injected → the workload drew its response (X event delivery, drawing).
	App Summary `json:"app"`
	// Capture: drawn → the capture read and converted the frame showing it.
	Capture Summary `json:"capture"`
	// Encode: captured → encoded (the server's frame observer; without it, until the
	// encode loop asked for the next frame, which includes sending).
	Encode Summary `json:"encode"`
	// Network: encoded → its last packet reached the client (packetize, send, downlink,
	// retransmits).
	Network Summary `json:"network"`
	// Decode: complete → decoded.
	Decode Summary `json:"decode"`
}

// Pipeline times every delivered frame (ms), not just responses.
type Pipeline struct {
	Encode  Summary `json:"encode"`
	Network Summary `json:"network"`
	Decode  Summary `json:"decode"`
	// Total: captured → decoded.
	Total Summary `json:"total"`
	// FrameBytes is the size of the frames the server sent (kB), refinements and
	// keyframes included: the single-frame VBV at work.
	FrameKB Summary `json:"frame_kb"`
	// ServerEncodeMS is the encoder's own time per frame as the server reports it in its
	// once-a-second stats (mean of those means over the window): the pure encode part of
	// Encode, which also holds conversion wait, packetization and sending.
	ServerEncodeMS float64 `json:"server_encode_ms"`
}

// Bitrate of the encoded video received, in kbit/s, over one-second bins.
type Bitrate struct {
	Avg float64 `json:"avg"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
	// WireAvg is the average on the wire (UDP payload, both directions) when the run went
	// through the emulated network, 0 otherwise.
	WireAvg float64 `json:"wire_avg,omitempty"`
}

// Frames counts frames in the measurement window.
type Frames struct {
	// Drawn by the workload (stamped frame numbers).
	Drawn int `json:"drawn"`
	// Captured: distinct stamps the capture read.
	Captured int `json:"captured"`
	// Decoded: frames the client decoded (including repeats such as idle refreshes).
	Decoded int `json:"decoded"`
	// Delivered: distinct stamps the client decoded.
	Delivered int `json:"delivered"`
	// Dropped = Drawn − Delivered: stamped frame numbers that never reached the client,
	// of which NotCaptured were overtaken before the capture read them and LostAfterCapture
	// were captured but not delivered (encoder drop, network loss, client drop).
	Dropped          int `json:"dropped"`
	NotCaptured      int `json:"not_captured"`
	LostAfterCapture int `json:"lost_after_capture"`
	// DecodeErrors, ClientDropped and PacketsLost come from the client's counters, over
	// the measurement window (the warm-up's are not counted).
	DecodeErrors  uint64 `json:"decode_errors"`
	ClientDropped uint64 `json:"client_dropped"`
	// PacketsLost: RTP packets the client gave up on (not recovered by NACK in time).
	PacketsLost uint64 `json:"packets_lost"`
	// ServerSent and ServerDropped: frames the server sent and skipped (encoder drop, write
	// failure) in the window, from its once-a-second stats (so to about a second).
	ServerSent    uint64 `json:"server_sent"`
	ServerDropped uint64 `json:"server_dropped"`
	// Keyframes sent in the window and their bytes; Refines: still pictures encoded again
	// to sharpen them (the server's refinement), which decode as repeats of a stamp.
	Keyframes     int `json:"keyframes"`
	KeyframeBytes int `json:"keyframe_bytes"`
	Refines       int `json:"refines"`
	// DrawnFPS is the workload's own frame rate in the window; DecodedFPS counts every
	// decoded frame, repeats of a stamp included (idle refreshes).
	DrawnFPS   float64 `json:"drawn_fps"`
	DecodedFPS float64 `json:"decoded_fps"`
}

// Score summarises a quality metric over the scored frames.
type Score struct {
	Mean   float64 `json:"mean"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Frames int     `json:"frames"`
}

// CPU is processor time spent during the measurement window.
type CPU struct {
	// ProcessSeconds: this process (workload, server, encoder, client, decoder, harness).
	ProcessSeconds float64 `json:"process_s"`
	// XvfbSeconds: the X server.
	XvfbSeconds float64 `json:"xvfb_s"`
	// PerFrameMS: both, per delivered frame.
	PerFrameMS float64 `json:"per_frame_ms"`
	// Cores: both, as the average number of busy cores.
	Cores float64 `json:"cores"`
}

// SecondBin is one second of the run.
type SecondBin struct {
	T    float64 `json:"t"`
	Kbps float64 `json:"kbps"`
	FPS  float64 `json:"fps"`
}

// QualityPoint is the scores of one sampled frame.
type QualityPoint struct {
	T     float64 `json:"t"`
	VMAF  float64 `json:"vmaf"`
	PSNRY float64 `json:"psnr_y"`
	SSIM  float64 `json:"ssim"`
}

// ProbeTiming is one input probe: when it was sent (s into the measurement) and its
// latency and stages in ms (stages are 0 when the answer frame could not be paired).
type ProbeTiming struct {
	T       float64 `json:"t"`
	Total   float64 `json:"total"`
	Uplink  float64 `json:"uplink"`
	App     float64 `json:"app"`
	Capture float64 `json:"capture"`
	Encode  float64 `json:"encode"`
	Network float64 `json:"network"`
	Decode  float64 `json:"decode"`
}

// Series holds what the plots draw.
type Series struct {
	Seconds   []SecondBin    `json:"seconds"`
	Latencies []float64      `json:"latencies_ms"`
	Probes    []ProbeTiming  `json:"probes"`
	Quality   []QualityPoint `json:"quality"`
}

// Result is the outcome of one run; its JSON form is what `shadowless bench --json` writes.
type Result struct {
	Scenario string `json:"scenario"`
	// Error says why the run failed (set by callers that go on with other scenarios);
	// the numbers are then empty.
	Error     string    `json:"error,omitempty"`
	Codec     string    `json:"codec"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Seed      uint64    `json:"seed"`
	Net       string    `json:"net,omitempty"`
	DurationS float64   `json:"duration_s"`
	LatencyMS Latency   `json:"latency_ms"`
	Breakdown Breakdown `json:"latency_breakdown_ms"`
	Pipeline  Pipeline  `json:"frame_pipeline_ms"`
	Bitrate   Bitrate   `json:"bitrate_kbps"`
	// FPS is new frames delivered per second: distinct stamps the client decoded.
	FPS    float64 `json:"fps"`
	Frames Frames  `json:"frames"`
	VMAF   Score   `json:"vmaf"`
	PSNRY  Score   `json:"psnr_y"`
	SSIM   Score   `json:"ssim"`
	// QualityNote says how frames were sampled for VMAF, PSNR and SSIM.
	QualityNote string `json:"quality_note"`
	CPU         CPU    `json:"cpu"`
	Series      Series `json:"series"`
	// Relay counts what the emulated network carried and dropped in the measurement
	// window (nil without one): random and burst losses, and tail drops at the bottleneck
	// queue, the sign of a sender overrunning the link.
	Relay *RelayStats `json:"relay,omitempty"`
	// LossBurst is what a scheduled loss burst did (Config.LossBurst), nil without one.
	LossBurst *Recovery `json:"loss_burst,omitempty"`
}

// RelayStats is the emulated network's counters over the measurement window, per direction
// (down: server to client).
type RelayStats struct {
	DownPackets    uint64 `json:"down_packets"`
	DownLost       uint64 `json:"down_lost"`
	DownQueueDrops uint64 `json:"down_queue_drops"`
	UpPackets      uint64 `json:"up_packets"`
	UpLost         uint64 `json:"up_lost"`
	UpQueueDrops   uint64 `json:"up_queue_drops"`
}

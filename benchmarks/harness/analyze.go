package harness

import (
	"sort"
	"time"

	"github.com/shadowless-dev/shadowless/benchmarks/workload"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rtpTicks converts a capture time to the 90 kHz clock, relative to base.
func rtpTicks(t, base time.Time) uint32 { return uint32(int64(t.Sub(base)) * 9 / 100000) }

// pair links client frames to the capture records they were encoded from: by RTP timestamp
// when the server's frame observer reported them, otherwise by time. The server stamps
// each RTP packet with its frame's capture time (90 kHz) plus an unknown offset;
// the offset is found from frames whose stamp is unique on both sides, then every frame is
// matched by time, which also tells apart repeats of a stamp (idle refreshes).
func pair(recs []*captureRecord, frames []*clientFrame, base time.Time) map[*clientFrame]*captureRecord {
	out := map[*clientFrame]*captureRecord{}
	if len(recs) == 0 || len(frames) == 0 {
		return out
	}
	// The server's frame observer gives each record its RTP timestamp: pair exactly.
	byRTP := map[uint32]*captureRecord{}
	for _, rc := range recs {
		if rc.observed {
			byRTP[rc.rtp] = rc
		}
	}
	if len(byRTP) > 0 {
		for _, f := range frames {
			if rc := byRTP[f.rtp]; rc != nil {
				out[f] = rc
			}
		}
		return out
	}
	byStamp := map[uint32][]*captureRecord{}
	for _, rc := range recs {
		if rc.stamped {
			byStamp[rc.stamp.Frame] = append(byStamp[rc.stamp.Frame], rc)
		}
	}
	seen := map[uint32]int{}
	for _, f := range frames {
		if f.stamped {
			seen[f.stamp.Frame]++
		}
	}
	var diffs []int64
	var ref uint32
	for _, f := range frames {
		if !f.stamped || seen[f.stamp.Frame] != 1 || len(byStamp[f.stamp.Frame]) != 1 {
			continue
		}
		d := f.rtp - rtpTicks(byStamp[f.stamp.Frame][0].captured, base)
		if len(diffs) == 0 {
			ref = d
		}
		diffs = append(diffs, int64(int32(d-ref)))
	}
	if len(diffs) == 0 {
		return out
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i] < diffs[j] })
	offset := ref + uint32(diffs[len(diffs)/2])
	byTick := map[uint32]*captureRecord{}
	for _, rc := range recs {
		byTick[rtpTicks(rc.captured, base)+offset] = rc
	}
	for _, f := range frames {
		for _, d := range []uint32{0, 1, ^uint32(0), 2, ^uint32(1)} {
			if rc, ok := byTick[f.rtp+d]; ok {
				out[f] = rc
				break
			}
		}
	}
	return out
}

// analyze fills in latency, its breakdown, frame counts, rates and the per-second series.
func (r *run) analyze(res *Result, start, end time.Time, responses []workload.Response) {
	r.mu.Lock()
	frames := append([]*clientFrame(nil), r.frames...)
	probes := append([]*probe(nil), r.probes...)
	r.mu.Unlock()
	r.rec.mu.Lock()
	recs := append([]*captureRecord(nil), r.rec.records...)
	injects := append([]time.Time(nil), r.rec.injects...)
	r.rec.mu.Unlock()
	base := start.Add(-time.Hour)
	pairs := pair(recs, frames, base)

	// Click-to-photon latency and its stages.
	var lat, up, app, capt, enc, netw, dec []float64
	res.LatencyMS.Probes = len(probes)
	drawnAt := map[uint8]time.Time{} // response counter → when the workload had drawn it
	for _, rs := range responses {
		if _, ok := drawnAt[rs.Counter]; !ok || rs.Drawn.After(start) {
			drawnAt[rs.Counter] = rs.Drawn
		}
	}
	for i, p := range probes {
		if p.frame == nil {
			continue
		}
		total := p.frame.decoded.Sub(p.sent)
		lat = append(lat, ms(total))
		pt := ProbeTiming{T: p.sent.Sub(start).Seconds(), Total: ms(total)}
		rc := pairs[p.frame]
		drawn, ok := drawnAt[p.expected]
		if rc == nil || i >= len(injects) || !ok || rc.encEnd.IsZero() || drawn.Before(p.sent) {
			res.Series.Probes = append(res.Series.Probes, pt)
			continue
		}
		inj := injects[i]
		if drawn.After(rc.captured) { // captured before the drawing's round trip came back
			drawn = rc.captured
		}
		sent := sentAt(rc, p.frame)
		pt.Uplink, pt.App, pt.Capture = ms(inj.Sub(p.sent)), ms(drawn.Sub(inj)), ms(rc.captured.Sub(drawn))
		pt.Encode, pt.Network, pt.Decode = ms(sent.Sub(rc.captured)), ms(p.frame.received.Sub(sent)), ms(p.frame.decoded.Sub(p.frame.received))
		res.Series.Probes = append(res.Series.Probes, pt)
		up, app, capt = append(up, pt.Uplink), append(app, pt.App), append(capt, pt.Capture)
		enc, netw, dec = append(enc, pt.Encode), append(netw, pt.Network), append(dec, pt.Decode)
	}
	res.LatencyMS.Summary = summarize(lat)
	res.LatencyMS.Answered = len(lat)
	res.Series.Latencies = lat
	res.Breakdown = Breakdown{Uplink: summarize(up), App: summarize(app), Capture: summarize(capt),
		Encode: summarize(enc), Network: summarize(netw), Decode: summarize(dec)}

	// Every delivered frame in the window.
	secs := int(end.Sub(start).Round(time.Second) / time.Second)
	bins := make([]SecondBin, max(secs, 1))
	for i := range bins {
		bins[i].T = float64(i)
	}
	var pe, pn, pd, pt []float64
	delivered := map[uint32]bool{}
	decoded := 0
	for _, f := range frames {
		if f.received.Before(start) || !f.received.Before(end) {
			continue
		}
		decoded++
		b := int(f.received.Sub(start) / time.Second)
		if b < len(bins) {
			bins[b].Kbps += float64(f.bytes) * 8 / 1000
			bins[b].FPS++
		}
		if f.stamped {
			delivered[f.stamp.Frame] = true
		}
		if rc := pairs[f]; rc != nil && !rc.encEnd.IsZero() {
			sent := sentAt(rc, f)
			pe = append(pe, ms(sent.Sub(rc.captured)))
			pn = append(pn, ms(f.received.Sub(sent)))
			pd = append(pd, ms(f.decoded.Sub(f.received)))
			pt = append(pt, ms(f.decoded.Sub(rc.captured)))
		}
	}
	res.Pipeline = Pipeline{Encode: summarize(pe), Network: summarize(pn), Decode: summarize(pd), Total: summarize(pt)}
	r.mu.Lock()
	res.Pipeline.ServerEncodeMS = summarize(r.encodeMicros).Mean / 1000
	r.mu.Unlock()
	res.Series.Seconds = bins
	kb := make([]float64, len(bins))
	total := 0.0
	for i, b := range bins {
		kb[i] = b.Kbps
		total += b.Kbps
	}
	s := summarize(kb)
	res.Bitrate.Avg = total / end.Sub(start).Seconds()
	res.Bitrate.P95, res.Bitrate.Max = s.P95, s.Max

	captured := map[uint32]bool{}
	for _, rc := range recs {
		if rc.stamped && !rc.captured.Before(start) && rc.captured.Before(end) {
			captured[rc.stamp.Frame] = true
		}
	}
	r.rec.mu.Lock()
	for _, ev := range r.rec.events {
		if ev.EncodeEnd.Before(start) || !ev.EncodeEnd.Before(end) || ev.Dropped {
			continue
		}
		if ev.Keyframe {
			res.Frames.Keyframes++
			res.Frames.KeyframeBytes += ev.Bytes
		}
		if ev.Refine {
			res.Frames.Refines++
		}
	}
	r.rec.mu.Unlock()
	res.Frames.Decoded = decoded
	res.Frames.Delivered = len(delivered)
	res.Frames.DecodedFPS = float64(decoded) / end.Sub(start).Seconds()
	res.FPS = float64(len(delivered)) / end.Sub(start).Seconds()
	res.Frames.Captured = len(captured)
	res.Frames.Dropped = max(res.Frames.Drawn-res.Frames.Delivered, 0)
	res.Frames.NotCaptured = max(res.Frames.Drawn-res.Frames.Captured, 0)
	lost := 0
	for f := range captured {
		if !delivered[f] {
			lost++
		}
	}
	res.Frames.LostAfterCapture = lost
}

// sentAt is when the frame left the server: the encode loop asking for the next frame
// (rc.encEnd) comes a little after the frame's packets were written, sometimes after the
// client already had them on loopback; the earlier of the two is the better bound.
func sentAt(rc *captureRecord, f *clientFrame) time.Time {
	if f.received.Before(rc.encEnd) {
		return f.received
	}
	return rc.encEnd
}

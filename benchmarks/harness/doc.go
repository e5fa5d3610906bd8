// Package harness is the QA benchmark behind `shadowless bench`: it plays a deterministic
// workload (benchmarks/workload) under a fresh Xvfb, streams it with the asp server to the
// native Go client over real WebRTC on loopback — optionally through an emulated network
// (benchmarks/netem) — and measures what a user feels:
//
//   - click-to-photon latency: the client sends a key or click through its input channel;
//     the workload answers at once with a visible change and a higher response counter in
//     its frame stamp; the latency ends when the client decodes the first frame whose stamp
//     shows the answer. Percentiles and a split into uplink, app, capture, encode, network
//     and decode, timed by wrapping the session's capture source and injector and by the
//     server's frame observer (asp.WithFrameObserver);
//   - bitrate of the received video in one-second bins (average, p95);
//   - frames per second decoded, and frames dropped: stamped frame numbers that never
//     reached the client, split into those the capture never saw and those lost after it;
//   - VMAF (v0.6.1), PSNR-Y and SSIM (benchmarks/quality) of sampled decoded frames against
//     the very pictures the encoder was given, paired by RTP timestamp and checked by stamp;
//   - CPU seconds per frame of this process and of Xvfb.
//
// Run returns a Result; WriteJSON, WritePlots (gonum/plot PNGs) and WriteMarkdown (a
// summary against the product's published targets) report it.
package harness

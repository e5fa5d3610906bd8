// Package benchmarks holds the harnesses QA uses to judge Shadowless: click-to-photon latency,
// bandwidth, frame rate and picture quality.
//
//   - benchmarks/workload: deterministic X11 programs replaying the scenarios of the
//     product's performance table (file operations, web browsing, video, 3D, office typing),
//     each stamping a machine-readable frame number and response counter into its frames;
//   - benchmarks/harness: `shadowless bench` — Xvfb, a workload, the asp server and the Go
//     client over WebRTC on loopback, input probes, and the measurements, as JSON, PNG plots
//     and a Markdown summary against the published targets (`make bench` runs the set);
//   - benchmarks/netem: an emulated network (rate, delay, loss) as a UDP relay on loopback;
//   - benchmarks/quality: VMAF v0.6.1, PSNR and SSIM in pure Go (`shadowless vmaf`).
package benchmarks

// Package benchmarks holds the harnesses QA uses to judge Shadowless: click-to-photon latency,
// bandwidth, frame rate and picture quality (VMAF, PSNR, SSIM in benchmarks/quality), plus the
// deterministic X11 workloads they replay.
package benchmarks

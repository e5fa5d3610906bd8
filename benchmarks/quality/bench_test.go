package quality

import (
	"context"
	"io"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the user+system CPU time this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerFrame adds frames/s and CPU-ms/frame (user+sys, which is less disturbed than
// wall time by other load on a shared machine) since cpu0 was taken.
func reportPerFrame(b *testing.B, frames int, cpu0 time.Duration) {
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(frames), "CPU-ms/frame")
}

// sliceReader serves frames from memory.
type sliceReader struct {
	frames []*Frame
	i      int
}

func (s *sliceReader) Next(ctx context.Context) (*Frame, error) {
	if s.i >= len(s.frames) {
		return nil, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

// synthFrames makes n deterministic frames: a moving pattern of gradients and edges, and a
// distorted copy with a little structured noise (no randomness, so runs are comparable).
func synthFrames(n, w, h, depth int) (ref, dis []*Frame) {
	maxv := 1<<depth - 1
	var seed uint32 = 12345
	next := func() uint32 { seed = seed*1664525 + 1013904223; return seed >> 24 }
	for f := 0; f < n; f++ {
		r, _ := NewFrame(w, h, depth)
		d, _ := NewFrame(w, h, depth)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := ((x+3*f)*7 + y*3) % 256
				if ((x+2*f)/32+y/32)%2 == 0 {
					v = 255 - v/2
				}
				v = v * maxv / 255
				r.Y[y*w+x] = uint16(v)
				nv := v + int(next()%9) - 4
				d.Y[y*w+x] = uint16(min(max(nv, 0), maxv))
			}
		}
		for i := range r.U {
			r.U[i], r.V[i] = uint16(maxv/2), uint16(maxv/3)
			d.U[i], d.V[i] = uint16(maxv/2+int(next()%3)), uint16(maxv/3)
		}
		ref, dis = append(ref, r), append(dis, d)
	}
	return ref, dis
}

func benchmarkVMAF(b *testing.B, frames, w, h, depth int, o Options) {
	ref, dis := synthFrames(frames, w, h, depth)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		if _, err := Compare(context.Background(), &sliceReader{frames: ref}, &sliceReader{frames: dis}, o); err != nil {
			b.Fatal(err)
		}
	}
	reportPerFrame(b, frames*b.N, cpu0)
}

// BenchmarkVMAF1080p measures VMAF (with its features) on 1920x1080 8-bit frames, all cores.
func BenchmarkVMAF1080p(b *testing.B) { benchmarkVMAF(b, 4, 1920, 1080, 8, Options{}) }

// BenchmarkVMAF1080pSpeedup runs Compare on the same 1080p frames with the assembly
// kernels and with the pure-Go ones (Options.pureGo), alternating so both see the same
// machine load, and reports each one's frames/s and CPU-ms/frame and the ratio of their
// CPU times per frame (speedup, above 1 when the kernels help; 1 on CPUs without them).
func BenchmarkVMAF1080pSpeedup(b *testing.B) {
	const frames = 4
	ref, dis := synthFrames(frames, 1920, 1080, 8)
	run := func(o Options) (wall, cpu time.Duration) {
		t0, c0 := time.Now(), cpuTime(b)
		if _, err := Compare(context.Background(), &sliceReader{frames: ref}, &sliceReader{frames: dis}, o); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), cpuTime(b) - c0
	}
	var fastWall, fastCPU, pureWall, pureCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, c := run(Options{})
		fastWall, fastCPU = fastWall+w, fastCPU+c
		w, c = run(Options{pureGo: true})
		pureWall, pureCPU = pureWall+w, pureCPU+c
	}
	n := float64(frames * b.N)
	msPerFrame := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(n/fastWall.Seconds(), "frames/s")
	b.ReportMetric(msPerFrame(fastCPU), "CPU-ms/frame")
	b.ReportMetric(n/pureWall.Seconds(), "purego-frames/s")
	b.ReportMetric(msPerFrame(pureCPU), "purego-CPU-ms/frame")
	b.ReportMetric(float64(pureCPU)/float64(fastCPU), "speedup")
}

// BenchmarkVMAF1080pOneFrame scores a single frame pair: its time is the latency of one
// frame, which only parallelism inside the frame can shorten.
func BenchmarkVMAF1080pOneFrame(b *testing.B) { benchmarkVMAF(b, 1, 1920, 1080, 8, Options{}) }

// BenchmarkVMAF1080pPSNRSSIM adds PSNR and SSIM, as `--feature psnr --feature float_ssim`.
func BenchmarkVMAF1080pPSNRSSIM(b *testing.B) {
	benchmarkVMAF(b, 4, 1920, 1080, 8, Options{PSNR: true, SSIM: true})
}

// The per-feature benchmarks below score one 1080p frame on one goroutine, to profile.

func BenchmarkVIF1080p(b *testing.B) { benchmarkVIF(b, false) }

// BenchmarkVIF1080pPureGo is BenchmarkVIF1080p without the assembly kernels.
func BenchmarkVIF1080pPureGo(b *testing.B) { benchmarkVIF(b, true) }

func benchmarkVIF(b *testing.B, pureGo bool) {
	ref, dis := synthFrames(1, 1920, 1080, 8)
	s := vifState{pureGo: pureGo}
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		s.vifScores(ref[0].Y, dis[0].Y, 1920, 1080, 8)
	}
	reportPerFrame(b, b.N, cpu0)
}

func BenchmarkADM1080p(b *testing.B) { benchmarkADM(b, false) }

// BenchmarkADM1080pPureGo is BenchmarkADM1080p without the assembly kernels.
func BenchmarkADM1080pPureGo(b *testing.B) { benchmarkADM(b, true) }

func benchmarkADM(b *testing.B, pureGo bool) {
	ref, dis := synthFrames(1, 1920, 1080, 8)
	s := admState{pureGo: pureGo}
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		s.scores(ref[0].Y, dis[0].Y, 1920, 1080, 8)
	}
	reportPerFrame(b, b.N, cpu0)
}

func BenchmarkMotion1080p(b *testing.B) { benchmarkMotion(b, motionFastKernels) }

// BenchmarkMotion1080pPureGo is BenchmarkMotion1080p without the assembly kernels.
func BenchmarkMotion1080pPureGo(b *testing.B) { benchmarkMotion(b, motionGoKernels) }

func benchmarkMotion(b *testing.B, k motionKernels) {
	ref, _ := synthFrames(2, 1920, 1080, 8)
	row := make([]int32, 1920)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		motionSADWith(ref[0].Y, ref[1].Y, 1920, 1080, 8, row, k)
	}
	reportPerFrame(b, b.N, cpu0)
}

func BenchmarkSSIM1080p(b *testing.B) {
	ref, dis := synthFrames(1, 1920, 1080, 8)
	var s ssimState
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		s.ssim(ref[0].Y, dis[0].Y, 1920, 1080, 8)
	}
	reportPerFrame(b, b.N, cpu0)
}

// BenchmarkDecodeYUV1080p converts raw 1080p frames to samples, as YUVReader does for
// every frame it reads (8- and 10-bit).
func BenchmarkDecodeYUV1080p(b *testing.B) {
	for _, depth := range []int{8, 10} {
		b.Run(map[int]string{8: "8bit", 10: "10bit"}[depth], func(b *testing.B) {
			f, err := NewFrame(1920, 1080, depth)
			if err != nil {
				b.Fatal(err)
			}
			raw := make([]byte, FrameSize(1920, 1080, depth))
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				if err := DecodeYUV(f, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package yuv_test

import (
	"image"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/asp/yuv"
)

// screen returns a 1920×1080 BGRX picture with desktop-like content: flat areas, dark
// glyph strokes on white, a colourful gradient.
func screen(w, h int) []byte {
	buf := make([]byte, w*h*4)
	for y := range h {
		for x := range w {
			p := buf[(y*w+x)*4:]
			switch {
			case y < h/3:
				p[0], p[1], p[2] = 180, 120, 40
			case y < 2*h/3:
				v := byte(235)
				if (x*7+y*13)%11 < 3 && y%16 < 12 {
					v = 20
				}
				p[0], p[1], p[2] = v, v, v
			default:
				p[0], p[1], p[2] = byte(x), byte(y), byte(x+y)
			}
			p[3] = 255
		}
	}
	return buf
}

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs f b.N times on one locked OS thread and reports wall-clock ms/frame and
// fps, and cpu-ms/frame: the CPU time of the converting thread, which stays meaningful on
// a machine busy with other work where wall-clock time does not.
func measure(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		f()
	}
	cpu := threadCPU() - cpu0
	per := float64(b.Elapsed()) / float64(b.N)
	b.ReportMetric(per/float64(time.Millisecond), "ms/frame")
	b.ReportMetric(float64(time.Second)/per, "fps")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(time.Millisecond), "cpu-ms/frame")
}

func BenchmarkBGRAToI420_1080p(b *testing.B) {
	const w, h = 1920, 1080
	src := screen(w, h)
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	b.SetBytes(int64(len(src)))
	measure(b, func() { yuv.BGRAToI420(dst, src, w*4, dst.Rect) })
}

// A typical damaged region: a 400×300 window area being typed into.
func BenchmarkBGRAToI420_1080pDamage400x300(b *testing.B) {
	const w, h = 1920, 1080
	src := screen(w, h)
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	measure(b, func() { yuv.BGRAToI420(dst, src, w*4, image.Rect(701, 333, 1101, 633)) })
}

func BenchmarkI420ToRGBA_1080p(b *testing.B) {
	const w, h = 1920, 1080
	src := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	yuv.BGRAToI420(src, screen(w, h), w*4, src.Rect)
	dst := image.NewRGBA(src.Rect)
	measure(b, func() { yuv.I420ToRGBA(dst, src) })
}

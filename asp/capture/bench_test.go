package capture

import (
	"context"
	"image"
	"testing"
)

// BenchmarkX11Capture measures one full-screen capture at 1080p under Xvfb: the grab (MIT-SHM
// or plain GetImage) plus the BGRA to I420 conversion.
func BenchmarkX11Capture(b *testing.B) {
	for _, mode := range []struct {
		name     string
		disable  bool
		grabOnly bool
	}{{"shm", false, false}, {"getimage", true, false}, {"shm-grab-only", false, true}} {
		b.Run(mode.name+"/1080p", func(b *testing.B) {
			srv := startX(b, 1920, 1080)
			p := newPainter(b, srv.Display())
			for i := 0; i < 16; i++ {
				p.fill(b, image.Rect(i*120, 0, i*120+120, 1080), uint32(0x102030*i))
			}
			s, err := OpenX11(context.Background(), srv.Display(), X11Options{DisableSHM: mode.disable, RefreshInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.nextMu.Lock()
			defer s.nextMu.Unlock()
			if mode.grabOnly { // the grab alone, to see what the conversion costs
				s.convert = func(*image.YCbCr, []byte, int, image.Rectangle) {}
			}
			b.SetBytes(1920 * 1080 * 4)
			for b.Loop() {
				if _, err := s.full(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/frame")
		})
	}
}

// BenchmarkX11CaptureDamaged measures a damage-driven frame at 1080p: only the damaged
// rectangle is grabbed and converted (a line of typed text, a quarter of the screen).
func BenchmarkX11CaptureDamaged(b *testing.B) {
	srv := startX(b, 1920, 1080)
	s, err := OpenX11(context.Background(), srv.Display(), X11Options{RefreshInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	for _, c := range []struct {
		name string
		r    image.Rectangle
	}{
		{"text-line-800x20", image.Rect(100, 500, 900, 520)},
		{"quarter-960x540", image.Rect(0, 0, 960, 540)},
	} {
		b.Run(c.name, func(b *testing.B) {
			rects := []image.Rectangle{c.r}
			for b.Loop() {
				if _, err := s.partial(rects); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/frame")
		})
	}
}

package workload

import (
	"image"
	"math/rand/v2"
	"testing"
)

// BenchmarkReadStamp reads the stamp of a 1080p picture, as the harness does for every
// captured and every decoded frame.
func BenchmarkReadStamp(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 1920, 1080), image.YCbCrSubsampleRatio420)
	Stamp{Frame: 123456, Response: 42}.Paint(img)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadStamp(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLandscape generates the 1080p video texture (2880x1620), the main start-up cost
// of the video scenarios.
func BenchmarkLandscape(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		landscape(rng, 2880, 1620, 180)
	}
	b.ReportMetric(2880*1620*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel/s")
}

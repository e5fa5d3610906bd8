package yuv

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestConvertRowsFastIsExact checks the fast row converter (SSE2 on amd64) against the Go
// one on random pixels, the extremes and every even width up to 40 (both the 4-pixel
// groups and the remainder).
func TestConvertRowsFastIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 2; n <= 40; n += 2 {
		for trial := range 20 {
			s0, s1 := make([]byte, 4*n), make([]byte, 4*n)
			for i := range s0 {
				switch trial {
				case 0:
					s0[i], s1[i] = 0, 0
				case 1:
					s0[i], s1[i] = 255, 255
				case 2:
					s0[i], s1[i] = byte(255*(i%2)), byte(255*(1-i%2))
				default:
					s0[i], s1[i] = byte(rng.UintN(256)), byte(rng.UintN(256))
				}
			}
			// Guard bytes after each output catch writes past its end.
			const guard = 8
			buf := func(k int) []byte {
				b := make([]byte, k+guard)
				for i := range b {
					b[i] = 0xa5
				}
				return b
			}
			want := [4][]byte{buf(n), buf(n), buf(n / 2), buf(n / 2)}
			got := [4][]byte{buf(n), buf(n), buf(n / 2), buf(n / 2)}
			convertRows(want[0][:n], want[1][:n], want[2][:n/2], want[3][:n/2], s0, s1, n)
			convertRowsFast(got[0][:n], got[1][:n], got[2][:n/2], got[3][:n/2], s0, s1, n)
			if !assert.Equal(t, want, got, "width %d, trial %d", n, trial) {
				return
			}
		}
	}
}

// BenchmarkConvertRows1080p converts a 1920×1080 BGRA screen row pair by row pair with the
// Go converter and with the fast one (SSE2 on amd64) in the same run.
func BenchmarkConvertRows1080p(b *testing.B) {
	const w, h = 1920, 1080
	src := make([]byte, w*h*4)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range src {
		src[i] = byte(rng.UintN(256))
	}
	y, cb, cr := make([]byte, w*h), make([]byte, w*h/4), make([]byte, w*h/4)
	for _, c := range []struct {
		name string
		f    func(y0, y1, cb, cr, s0, s1 []byte, n int)
	}{{"go", convertRows}, {"fast", convertRowsFast}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				for r := 0; r < h; r += 2 {
					c.f(y[r*w:][:w], y[(r+1)*w:][:w], cb[r/2*w/2:][:w/2], cr[r/2*w/2:][:w/2],
						src[r*w*4:][:w*4], src[(r+1)*w*4:][:w*4], w)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1e6, "ms/frame")
		})
	}
}

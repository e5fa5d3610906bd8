package capture

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyntheticDeterministicWithDamage(t *testing.T) {
	ctx := context.Background()
	a := NewSynthetic(320, 240, SyntheticOptions{RefreshEvery: 10})
	b := NewSynthetic(320, 240, SyntheticOptions{RefreshEvery: 10})
	var src Source = a
	w, h := src.Size()
	require.Equal(t, 320, w)
	require.Equal(t, 240, h)

	prev := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	for i := 1; i <= 25; i++ {
		fa, err := a.Next(ctx)
		require.NoError(t, err)
		fb, err := b.Next(ctx)
		require.NoError(t, err)
		require.EqualValues(t, i, fa.Seq)
		require.Equal(t, fa.Image.Y, fb.Image.Y, "frame %d deterministic", i)
		require.Equal(t, fa.Image.Cb, fb.Image.Cb)
		require.Equal(t, fa.Damage, fb.Damage)

		full := i == 1 || i%10 == 0
		if full {
			assert.Empty(t, fa.Damage, "frame %d full", i)
		} else {
			require.NotEmpty(t, fa.Damage, "frame %d", i)
			// Every changed pixel lies inside the damage.
			for y := 0; y < 240; y++ {
				for x := 0; x < 320; x++ {
					if fa.Image.Y[y*fa.Image.YStride+x] != prev.Y[y*prev.YStride+x] {
						inside := false
						for _, d := range fa.Damage {
							inside = inside || image.Pt(x, y).In(d)
						}
						require.True(t, inside, "frame %d: pixel (%d,%d) changed outside %v", i, x, y, fa.Damage)
					}
				}
			}
			for _, d := range fa.Damage {
				assert.Zero(t, d.Min.X%2)
				assert.Zero(t, d.Min.Y%2)
				assert.True(t, d.In(fa.Image.Rect))
			}
		}
		copy(prev.Y, fa.Image.Y)
	}
}

func TestSyntheticFramesDiffer(t *testing.T) {
	s := NewSynthetic(64, 64, SyntheticOptions{})
	f1, err := s.Next(context.Background())
	require.NoError(t, err)
	y1 := append([]byte(nil), f1.Image.Y...)
	f2, err := s.Next(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, y1, f2.Image.Y)
}

func TestSyntheticPacingAndClose(t *testing.T) {
	s := NewSynthetic(64, 64, SyntheticOptions{FPS: 20})
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 3; i++ {
		_, err := s.Next(ctx)
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond, "3 frames at 20 fps span 100 ms")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Next(cctx)
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, s.Close())
	_, err = s.Next(ctx)
	require.ErrorIs(t, err, ErrClosed)
}

func TestSyntheticResize(t *testing.T) {
	s := NewSynthetic(64, 64, SyntheticOptions{})
	_, err := s.Next(context.Background())
	require.NoError(t, err)
	s.Resize(128, 96)
	f, err := s.Next(context.Background())
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 128, 96), f.Image.Rect)
	assert.Empty(t, f.Damage)
	w, h := s.Size()
	assert.Equal(t, 128, w)
	assert.Equal(t, 96, h)
}

func TestCoalesce(t *testing.T) {
	b := image.Rect(0, 0, 1000, 1000)
	// Overlapping rectangles merge; odd edges align outward.
	got := coalesce([]image.Rectangle{image.Rect(1, 1, 11, 11), image.Rect(5, 5, 21, 21)}, b, 16)
	assert.Equal(t, []image.Rectangle{image.Rect(0, 0, 22, 22)}, got)
	// Far apart ones stay apart.
	got = coalesce([]image.Rectangle{image.Rect(0, 0, 100, 100), image.Rect(800, 800, 900, 900)}, b, 16)
	assert.Len(t, got, 2)
	// Too many become their bounding box.
	var many []image.Rectangle
	for i := 0; i < 10; i++ {
		many = append(many, image.Rect(i*100, i*100, i*100+10, i*100+10))
	}
	got = coalesce(many, b, 4)
	assert.Equal(t, []image.Rectangle{image.Rect(0, 0, 910, 910)}, got)
	// Clipped to the screen, empty ones dropped.
	got = coalesce([]image.Rectangle{image.Rect(990, 990, 1100, 1100), image.Rect(2000, 2000, 2010, 2010)}, b, 4)
	assert.Equal(t, []image.Rectangle{image.Rect(990, 990, 1000, 1000)}, got)
}

func BenchmarkSyntheticNext(b *testing.B) {
	s := NewSynthetic(1920, 1080, SyntheticOptions{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

package quality

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"testing"
)

// FuzzYUVReader feeds arbitrary bytes and sizes to the raw YUV reader: it must never panic,
// must return either frames of the promised size or a typed error, and must end with io.EOF
// or ErrTruncated/ErrFormat.
func FuzzYUVReader(f *testing.F) {
	f.Add(make([]byte, FrameSize(18, 18, 8)), 18, 18, 8)
	f.Add(make([]byte, FrameSize(18, 18, 10)+5), 18, 18, 10)
	f.Add([]byte{0xff, 0x07, 1, 2, 3}, 16, 18, 10)
	f.Add([]byte{}, 17, 16, 8)
	f.Fuzz(func(t *testing.T, data []byte, w, h, depth int) {
		if w > 256 || h > 256 || w < -4 || h < -4 {
			return
		}
		r, err := NewYUVReader(bytes.NewReader(data), w, h, depth)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("constructor error %v is not ErrFormat", err)
			}
			return
		}
		frames := 0
		for {
			fr, err := r.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(fr.Y) != w*h || len(fr.U) != (w/2)*(h/2) || len(fr.V) != len(fr.U) {
				t.Fatalf("frame planes %d/%d/%d for %dx%d", len(fr.Y), len(fr.U), len(fr.V), w, h)
			}
			frames++
		}
		if frames > len(data)/FrameSize(w, h, depth) {
			t.Fatalf("%d frames from %d bytes", frames, len(data))
		}
	})
}

// FuzzCompare scores arbitrary small pictures against each other: every size the readers
// accept must score without a panic (the coarsest ADM and VIF bands are the narrowest there),
// with every feature finite.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 0, 255}, 18, 18, 8)
	f.Add([]byte{0xff, 0x03, 0, 0, 7}, 18, 20, 10)
	f.Add([]byte{9, 8, 7}, 34, 18, 8)
	f.Add([]byte{}, 16, 16, 8)
	f.Fuzz(func(t *testing.T, seed []byte, w, h, depth int) {
		if w > 64 || h > 64 {
			return
		}
		if err := checkFormat(w, h, depth); err != nil {
			return
		}
		size := FrameSize(w, h, depth)
		ref, dis := make([]byte, size), make([]byte, size)
		for i := range ref {
			if len(seed) > 0 {
				ref[i], dis[i] = seed[i%len(seed)]^byte(i), seed[(i*7)%len(seed)]
			}
			if depth == 10 && i%2 == 1 { // keep 10-bit samples in range
				ref[i] &= 3
				dis[i] &= 3
			}
		}
		open := func(b []byte) *YUVReader {
			r, err := NewYUVReader(bytes.NewReader(b), w, h, depth)
			if err != nil {
				t.Fatalf("reader for an accepted size %dx%d: %v", w, h, err)
			}
			return r
		}
		res, err := Compare(context.Background(), open(ref), open(dis), Options{})
		if err != nil {
			t.Fatalf("compare %dx%d/%d: %v", w, h, depth, err)
		}
		if v := res.VMAF(); math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("VMAF %v for %dx%d/%d", v, w, h, depth)
		}
	})
}

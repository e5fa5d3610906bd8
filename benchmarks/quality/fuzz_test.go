package quality

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

// FuzzYUVReader feeds arbitrary bytes and sizes to the raw YUV reader: it must never panic,
// must return either frames of the promised size or a typed error, and must end with io.EOF
// or ErrTruncated/ErrFormat.
func FuzzYUVReader(f *testing.F) {
	f.Add(make([]byte, FrameSize(16, 16, 8)), 16, 16, 8)
	f.Add(make([]byte, FrameSize(16, 16, 10)+5), 16, 16, 10)
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

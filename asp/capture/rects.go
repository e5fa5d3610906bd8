package capture

import (
	"image"
	"sort"
)

// alignEven grows r to even coordinates (the 2x2 blocks of I420 chroma) and clips it to b.
func alignEven(r, b image.Rectangle) image.Rectangle {
	r.Min.X &^= 1
	r.Min.Y &^= 1
	r.Max.X = (r.Max.X + 1) &^ 1
	r.Max.Y = (r.Max.Y + 1) &^ 1
	return r.Intersect(b)
}

// coalesce turns a list of damaged rectangles into a short list of disjoint-ish rectangles
// worth grabbing one by one: rectangles are aligned to even coordinates, overlapping or
// touching ones are merged, and when more than maxRects remain, or when the bounding box
// costs little more than the parts, the bounding box replaces them all.
func coalesce(in []image.Rectangle, b image.Rectangle, maxRects int) []image.Rectangle {
	out := make([]image.Rectangle, 0, len(in))
	for _, r := range in {
		if r = alignEven(r, b); !r.Empty() {
			out = append(out, r)
		}
	}
	if len(out) <= 1 {
		return out
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Min.Y != out[j].Min.Y {
			return out[i].Min.Y < out[j].Min.Y
		}
		return out[i].Min.X < out[j].Min.X
	})
	// Merge until stable: two rectangles merge when they overlap or touch, or when their
	// union is barely larger than the two (saves a round trip for a few wasted pixels).
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(out); i++ {
			for j := i + 1; j < len(out); j++ {
				u := out[i].Union(out[j])
				if touches(out[i], out[j]) || area(u) <= area(out[i])+area(out[j])+4096 {
					out[i] = u
					out = append(out[:j], out[j+1:]...)
					merged = true
					j--
				}
			}
		}
	}
	if len(out) > maxRects {
		u := out[0]
		for _, r := range out[1:] {
			u = u.Union(r)
		}
		return []image.Rectangle{u}
	}
	return out
}

func touches(a, b image.Rectangle) bool {
	return a.Min.X <= b.Max.X && b.Min.X <= a.Max.X && a.Min.Y <= b.Max.Y && b.Min.Y <= a.Max.Y
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

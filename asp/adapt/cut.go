package adapt

// ThumbCell is the side in pixels of the square a Thumbnail averages into one value.
const ThumbCell = 32

// thumbStep is the sampling step inside a cell: every fourth pixel of every fourth row is
// enough for an average, and keeps a 1080p thumbnail at 130 000 reads.
const thumbStep = 4

// Thumbnail averages a w×h luma plane (rows stride bytes apart) into cells of ThumbCell ×
// ThumbCell pixels, row by row, into dst (grown as needed), and returns it. Partial cells
// at the right and bottom edges are left out.
func Thumbnail(dst []uint8, y []byte, stride, w, h int) []uint8 {
	cw, ch := w/ThumbCell, h/ThumbCell
	dst = dst[:0]
	for cy := range ch {
		for cx := range cw {
			sum, n := 0, 0
			for py := cy * ThumbCell; py < (cy+1)*ThumbCell; py += thumbStep {
				row := y[py*stride:]
				for px := cx * ThumbCell; px < (cx+1)*ThumbCell; px += thumbStep {
					sum += int(row[px])
					n++
				}
			}
			dst = append(dst, uint8(sum/n))
		}
	}
	return dst
}

// CutDetector tells a scene cut (a film's cut, a seek, a game's new level) from motion by
// how much a frame's Thumbnail differs from the last one's: a pan or moving objects shift
// each 32-pixel cell's average by a fraction of a cell, a cut replaces it. A frame is a cut
// when the mean absolute difference is both Ratio times the smoothed difference of the
// frames before and at least Min. Pure logic; not safe for concurrent use.
type CutDetector struct {
	// Ratio and Min are the thresholds (defaults 4 and 6 luma levels).
	Ratio, Min float64

	prev  []uint8
	level float64 // smoothed difference of frames that were not cuts
	n     int     // frames in level
}

// cutWarmup is how many frames the detector sees before it reports a cut.
const cutWarmup = 3

// Observe takes the thumbnail of the next frame and reports whether it is a scene cut.
func (d *CutDetector) Observe(thumb []uint8) bool {
	if d.Ratio <= 0 {
		d.Ratio = 4
	}
	if d.Min <= 0 {
		d.Min = 6
	}
	defer func() { d.prev = append(d.prev[:0], thumb...) }()
	if len(thumb) == 0 || len(d.prev) != len(thumb) {
		d.level, d.n = 0, 0
		return false
	}
	sum := 0
	for i, v := range thumb {
		diff := int(v) - int(d.prev[i])
		if diff < 0 {
			diff = -diff
		}
		sum += diff
	}
	mad := float64(sum) / float64(len(thumb))
	if d.n >= cutWarmup && mad >= d.Min && mad > d.Ratio*d.level {
		return true
	}
	if d.n == 0 {
		d.level = mad
	} else {
		d.level = 0.8*d.level + 0.2*mad
	}
	d.n++
	return false
}

// Reset forgets the frames seen, as when the picture size changes.
func (d *CutDetector) Reset() { d.prev, d.level, d.n = d.prev[:0], 0, 0 }

package capture

import (
	"context"
	"errors"
	"image"
	"sync"
	"time"
)

// SyntheticOptions configures NewSynthetic. The zero value produces frames as fast as Next is
// called, with only the first frame full.
type SyntheticOptions struct {
	// FPS paces Next: when positive, Next returns at most FPS frames per second (frame n is
	// due n/FPS after the first). Zero means no pacing.
	FPS int
	// RefreshEvery makes every RefreshEvery-th frame a full refresh (empty Damage), as the X11
	// source does on an idle screen. Zero means only the first frame is full.
	RefreshEvery int
	// CellWidth and CellHeight are the size of one "glyph" typed per frame (default 8x16).
	CellWidth, CellHeight int
}

// Synthetic is a deterministic Source for tests and benchmarks that need no X server. Each
// frame "types" one text-like glyph at a moving caret and moves a box across the screen; the
// frame's Damage lists exactly the changed rectangles. The picture of frame n depends only on
// n and the size, so two sources with equal arguments produce identical frames.
type Synthetic struct {
	opts SyntheticOptions

	mu      sync.Mutex
	img     *image.YCbCr
	seq     uint64
	start   time.Time
	closed  bool
	resized bool
	box     image.Rectangle // where the moving box was drawn last
}

// ErrClosed is returned by Next on a source that was closed.
var ErrClosed = errors.New("capture: source closed")

// NewSynthetic returns a synthetic source of the given size (at least 16x16).
func NewSynthetic(width, height int, opts SyntheticOptions) *Synthetic {
	if opts.CellWidth <= 0 {
		opts.CellWidth = 8
	}
	if opts.CellHeight <= 0 {
		opts.CellHeight = 16
	}
	s := &Synthetic{opts: opts}
	s.alloc(width, height)
	return s
}

func (s *Synthetic) alloc(width, height int) {
	width, height = max(width, 16), max(height, 16)
	s.img = image.NewYCbCr(image.Rect(0, 0, width, height), image.YCbCrSubsampleRatio420)
	s.box = image.Rectangle{}
}

// Size returns the current frame size.
func (s *Synthetic) Size() (width, height int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.img.Rect
	return b.Dx(), b.Dy()
}

// Resize changes the frame size; the next frame is a full frame at the new size, like an X11
// RANDR change.
func (s *Synthetic) Resize(width, height int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alloc(width, height)
	s.resized = true
}

// Close makes further calls to Next fail with ErrClosed.
func (s *Synthetic) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Next returns the next frame, waiting for its due time when FPS is set.
func (s *Synthetic) Next(ctx context.Context) (Frame, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Frame{}, ErrClosed
	}
	if s.seq == 0 {
		s.start = time.Now()
	}
	due := s.start
	if s.opts.FPS > 0 {
		due = s.start.Add(time.Duration(s.seq) * time.Second / time.Duration(s.opts.FPS))
	}
	s.mu.Unlock()

	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return Frame{}, ctx.Err()
		case <-t.C:
		}
	} else if err := ctx.Err(); err != nil {
		return Frame{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Frame{}, ErrClosed
	}
	s.seq++
	n := s.seq
	full := n == 1 || s.resized || (s.opts.RefreshEvery > 0 && n%uint64(s.opts.RefreshEvery) == 0)
	s.resized = false
	if n == 1 || full && s.box.Empty() {
		s.background()
	}
	damage := s.draw(n)
	f := Frame{Image: s.img, Captured: time.Now(), Seq: n}
	if !full {
		for i, r := range damage {
			damage[i] = alignEven(r, s.img.Rect)
		}
		f.Damage = damage
	}
	return f, nil
}

// background paints the whole picture: a soft vertical gradient, like a desktop wallpaper.
func (s *Synthetic) background() {
	img := s.img
	b := img.Rect
	for y := 0; y < b.Dy(); y++ {
		v := uint8(200 + 40*y/b.Dy())
		row := img.Y[y*img.YStride : y*img.YStride+b.Dx()]
		for x := range row {
			row[x] = v
		}
	}
	for i := range img.Cb {
		img.Cb[i] = 128
	}
	for i := range img.Cr {
		img.Cr[i] = 120
	}
}

// draw renders frame n's changes and returns the rectangles it touched.
func (s *Synthetic) draw(n uint64) []image.Rectangle {
	b := s.img.Rect
	cw, ch := s.opts.CellWidth, s.opts.CellHeight
	cols := max(1, b.Dx()/cw)
	rows := max(1, (b.Dy()*3/4)/ch) // the lower quarter is where the box moves
	i := int((n - 1) % uint64(cols*rows))
	var damage []image.Rectangle

	// A new line starts: clear it, like a terminal scrolling into a blank line.
	line := image.Rect(0, (i/cols)*ch, cols*cw, (i/cols+1)*ch).Intersect(b)
	if i%cols == 0 {
		s.fill(line, 235, 128, 128)
		damage = append(damage, line)
	}
	// The glyph: a pseudo-random 4x8 bit pattern derived from n, dark ink on the line.
	cell := image.Rect((i%cols)*cw, (i/cols)*ch, (i%cols+1)*cw, (i/cols+1)*ch).Intersect(b)
	bits := glyphBits(n)
	sx, sy := max(1, cw/4), max(1, ch/8)
	for gy := 0; gy < 8; gy++ {
		for gx := 0; gx < 4; gx++ {
			r := image.Rect(cell.Min.X+gx*sx, cell.Min.Y+gy*sy, cell.Min.X+(gx+1)*sx, cell.Min.Y+(gy+1)*sy).Intersect(cell)
			if bits&(1<<(gy*4+gx)) != 0 {
				s.fill(r, 30, 128, 128)
			} else {
				s.fill(r, 235, 128, 128)
			}
		}
	}
	if i%cols != 0 {
		damage = append(damage, cell)
	}

	// The moving box: erase the old one, draw the new one one step further.
	bh := max(2, b.Dy()/8)
	bw := bh
	top := b.Dy() - bh - max(0, (b.Dy()/4-bh)/2)
	span := max(1, b.Dx()-bw)
	x := int((n * 4) % uint64(span))
	nb := image.Rect(x, top, x+bw, top+bh).Intersect(b)
	if !s.box.Empty() {
		s.fill(s.box, 210, 128, 120)
		damage = append(damage, s.box)
	}
	s.fill(nb, 80, uint8(60+n%128), 200)
	damage = append(damage, nb)
	s.box = nb
	return damage
}

func glyphBits(n uint64) uint32 {
	// SplitMix64 step: deterministic and well mixed.
	z := n + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32(z ^ (z >> 31))
}

// fill paints r in one colour, chroma on the 2x2 blocks that r touches.
func (s *Synthetic) fill(r image.Rectangle, y, cb, cr uint8) {
	img := s.img
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	for yy := r.Min.Y; yy < r.Max.Y; yy++ {
		row := img.Y[yy*img.YStride+r.Min.X : yy*img.YStride+r.Max.X]
		for x := range row {
			row[x] = y
		}
	}
	for cy := r.Min.Y / 2; cy < (r.Max.Y+1)/2; cy++ {
		for cx := r.Min.X / 2; cx < (r.Max.X+1)/2; cx++ {
			img.Cb[cy*img.CStride+cx] = cb
			img.Cr[cy*img.CStride+cx] = cr
		}
	}
}

package workload

import (
	"errors"
	"fmt"
	"image"
)

// Geometry of the frame stamp: a row of StampCells black-or-white square cells of StampCell
// pixels, at the top-left corner of the screen, aligned to the 16-pixel macroblock grid so
// that lossy codecs keep each cell flat.
const (
	StampCell  = 16
	StampCells = 32
	// FrameBits and CounterBits are the widths of the two numbers a stamp carries.
	FrameBits   = 20
	CounterBits = 8
	syncCells   = 3 // white, black, white
)

// StampRect is the part of the screen the stamp covers.
var StampRect = image.Rect(0, 0, StampCell*StampCells, StampCell)

// ErrNoStamp is returned by ReadStamp when the picture carries no readable stamp (the
// sync cells or the parity do not match, or a cell is neither clearly black nor white).
var ErrNoStamp = errors.New("workload: no readable frame stamp")

// Stamp is the machine-readable label every workload frame carries: the frame number
// (modulo 2^20) and the response counter (modulo 2^8), which goes up each time the workload
// reacted to an input event.
type Stamp struct {
	Frame    uint32
	Response uint8
}

// String renders the stamp for logs and test failures.
func (s Stamp) String() string { return fmt.Sprintf("frame %d response %d", s.Frame, s.Response) }

// Bits returns the 32 cells of the stamp, true for white: 3 sync cells (1 0 1), the frame
// number (20 bits, most significant first), the response counter (8 bits) and an even
// parity cell over the 28 number bits.
func (s Stamp) Bits() [StampCells]bool {
	var b [StampCells]bool
	b[0], b[1], b[2] = true, false, true
	f := s.Frame & (1<<FrameBits - 1)
	parity := false
	for i := 0; i < FrameBits; i++ {
		v := f>>(FrameBits-1-i)&1 == 1
		b[syncCells+i] = v
		parity = parity != v
	}
	for i := 0; i < CounterBits; i++ {
		v := s.Response>>(CounterBits-1-i)&1 == 1
		b[syncCells+FrameBits+i] = v
		parity = parity != v
	}
	b[StampCells-1] = parity
	return b
}

// CellRects splits the stamp into the rectangles to paint white and those to paint black.
func (s Stamp) CellRects() (white, black []image.Rectangle) {
	for i, v := range s.Bits() {
		r := image.Rect(i*StampCell, 0, (i+1)*StampCell, StampCell).Add(StampRect.Min)
		if v {
			white = append(white, r)
		} else {
			black = append(black, r)
		}
	}
	return white, black
}

// Paint draws the stamp into an I420 picture (luma 235 for white, 16 for black, neutral
// chroma), as the X server shows it after the capture's BT.601 conversion. It is for tests
// and tools that make stamped pictures without an X server.
func (s Stamp) Paint(img *image.YCbCr) {
	for i, v := range s.Bits() {
		y := uint8(16)
		if v {
			y = 235
		}
		r := image.Rect(i*StampCell, 0, (i+1)*StampCell, StampCell).Add(StampRect.Min).Intersect(img.Rect)
		for py := r.Min.Y; py < r.Max.Y; py++ {
			for px := r.Min.X; px < r.Max.X; px++ {
				img.Y[img.YOffset(px, py)] = y
				c := img.COffset(px, py)
				img.Cb[c], img.Cr[c] = 128, 128
			}
		}
	}
}

// Thresholds on the mean luma of a cell's centre: at or below stampBlack a cell reads as
// black, at or above stampWhite as white, anything between makes the stamp unreadable.
const (
	stampBlack = 100
	stampWhite = 150
)

// ReadStamp reads the stamp of a decoded picture by averaging the luma of the central 8x8
// pixels of each cell. It returns ErrNoStamp if the picture is too small or the cells do not
// form a valid stamp.
func ReadStamp(img *image.YCbCr) (Stamp, error) {
	if img == nil {
		return Stamp{}, fmt.Errorf("%w: no picture", ErrNoStamp)
	}
	r := StampRect.Add(img.Rect.Min)
	if !r.In(img.Rect) || len(img.Y) < img.YOffset(r.Max.X-1, r.Max.Y-1)+1 {
		return Stamp{}, fmt.Errorf("%w: picture %v smaller than the stamp", ErrNoStamp, img.Rect)
	}
	var bits [StampCells]bool
	for i := range bits {
		x0, y0 := r.Min.X+i*StampCell+StampCell/4, r.Min.Y+StampCell/4
		sum := 0
		for y := y0; y < y0+StampCell/2; y++ {
			row := img.Y[img.YOffset(x0, y):]
			for x := 0; x < StampCell/2; x++ {
				sum += int(row[x])
			}
		}
		mean := sum / (StampCell * StampCell / 4)
		switch {
		case mean <= stampBlack:
		case mean >= stampWhite:
			bits[i] = true
		default:
			return Stamp{}, fmt.Errorf("%w: cell %d is grey (luma %d)", ErrNoStamp, i, mean)
		}
	}
	if !bits[0] || bits[1] || !bits[2] {
		return Stamp{}, fmt.Errorf("%w: sync cells do not match", ErrNoStamp)
	}
	var s Stamp
	parity := false
	for i := 0; i < FrameBits; i++ {
		s.Frame <<= 1
		if bits[syncCells+i] {
			s.Frame |= 1
			parity = !parity
		}
	}
	for i := 0; i < CounterBits; i++ {
		s.Response <<= 1
		if bits[syncCells+FrameBits+i] {
			s.Response |= 1
			parity = !parity
		}
	}
	if parity != bits[StampCells-1] {
		return Stamp{}, fmt.Errorf("%w: parity does not match", ErrNoStamp)
	}
	return s, nil
}

// FrameDiff returns how many frames lie from a to b, for frame numbers that wrap at 2^20:
// the result is in [-2^19, 2^19).
func FrameDiff(a, b uint32) int {
	const m = 1 << FrameBits
	d := int((b - a) & (m - 1))
	if d >= m/2 {
		d -= m
	}
	return d
}

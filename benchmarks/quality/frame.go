package quality

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Frame is one picture in YUV 4:2:0 planar form. Samples are stored as uint16 whatever the
// bit depth, so 8-bit and 10-bit input share one representation.
type Frame struct {
	Width, Height int // luma size in pixels; both even
	BitDepth      int // 8 or 10
	// Y has Width*Height samples; U and V have (Width/2)*(Height/2) each, row-major, no padding.
	Y, U, V []uint16
}

// NewFrame allocates a zeroed frame of the given size and bit depth.
func NewFrame(width, height, bitDepth int) (*Frame, error) {
	if err := checkFormat(width, height, bitDepth); err != nil {
		return nil, err
	}
	cw, ch := width/2, height/2
	return &Frame{
		Width: width, Height: height, BitDepth: bitDepth,
		Y: make([]uint16, width*height),
		U: make([]uint16, cw*ch),
		V: make([]uint16, cw*ch),
	}, nil
}

// Sentinel errors callers can branch on.
var (
	// ErrFormat reports an unsupported or inconsistent picture format (size, bit depth).
	ErrFormat = errors.New("quality: unsupported picture format")
	// ErrTruncated reports input that ends inside a frame: the file size is not a whole
	// number of frames.
	ErrTruncated = errors.New("quality: input ends inside a frame")
	// ErrMismatch reports reference and distorted inputs that differ in size, depth or length.
	ErrMismatch = errors.New("quality: reference and distorted inputs differ")
)

// minSide is the smallest picture side scored. ADM halves the picture four times, and its
// contrast masking reads each sample's left and right neighbours in the coarsest band: a
// side of 16 leaves that band one sample across, where libvmaf reads outside the band, so
// there is no answer to match.
const minSide = 18

func checkFormat(width, height, bitDepth int) error {
	switch {
	case width <= 0 || height <= 0:
		return fmt.Errorf("%w: size %dx%d must be positive", ErrFormat, width, height)
	case width%2 != 0 || height%2 != 0:
		return fmt.Errorf("%w: size %dx%d must be even for 4:2:0", ErrFormat, width, height)
	case width < minSide || height < minSide:
		return fmt.Errorf("%w: size %dx%d is below the %dx%d minimum", ErrFormat, width, height, minSide, minSide)
	case width > 16384 || height > 16384:
		return fmt.Errorf("%w: size %dx%d is above the 16384x16384 maximum", ErrFormat, width, height)
	case bitDepth != 8 && bitDepth != 10:
		return fmt.Errorf("%w: bit depth %d (want 8 or 10)", ErrFormat, bitDepth)
	}
	return nil
}

// FrameReader yields frames one at a time. Next returns io.EOF after the last frame.
// Implementations may reuse the returned frame's buffers on the next call only if the caller
// has released it; Compare never holds a frame past the next call to Release.
type FrameReader interface {
	// Next returns the next frame, or io.EOF when there are no more.
	Next(ctx context.Context) (*Frame, error)
}

// FrameSize returns the number of bytes one raw YUV 4:2:0 frame occupies on disk: 8-bit
// samples take one byte, 10-bit samples two (little-endian), as libvmaf reads them.
func FrameSize(width, height, bitDepth int) int {
	bps := 1
	if bitDepth > 8 {
		bps = 2
	}
	return (width*height + 2*(width/2)*(height/2)) * bps
}

// YUVReader reads raw planar YUV 4:2:0 frames (the .yuv files libvmaf's vmaf tool takes).
type YUVReader struct {
	r                    io.Reader
	width, height, depth int
	buf                  []byte
	index                int
}

// NewYUVReader returns a reader of width x height frames of the given bit depth (8 or 10)
// from r.
func NewYUVReader(r io.Reader, width, height, bitDepth int) (*YUVReader, error) {
	if err := checkFormat(width, height, bitDepth); err != nil {
		return nil, err
	}
	return &YUVReader{r: r, width: width, height: height, depth: bitDepth,
		buf: make([]byte, FrameSize(width, height, bitDepth))}, nil
}

// Next reads the next frame. It returns io.EOF at a clean end of input and an error wrapping
// ErrTruncated when the input ends inside a frame.
func (y *YUVReader) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, err := io.ReadFull(y.r, y.buf)
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case err == io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("%w: frame %d has %d of %d bytes", ErrTruncated, y.index, n, len(y.buf))
	case err != nil:
		return nil, fmt.Errorf("quality: reading frame %d: %w", y.index, err)
	}
	f, err := NewFrame(y.width, y.height, y.depth)
	if err != nil {
		return nil, err
	}
	if err := DecodeYUV(f, y.buf); err != nil {
		return nil, fmt.Errorf("frame %d: %w", y.index, err)
	}
	y.index++
	return f, nil
}

// DecodeYUV fills f from one raw frame in b (len(b) must be FrameSize of f). 10-bit samples
// above 1023 are rejected, since libvmaf's integer features assume they do not occur.
func DecodeYUV(f *Frame, b []byte) error {
	if len(b) != FrameSize(f.Width, f.Height, f.BitDepth) {
		return fmt.Errorf("%w: %d bytes for a %dx%d %d-bit frame", ErrFormat, len(b), f.Width, f.Height, f.BitDepth)
	}
	if f.BitDepth == 8 {
		off := 0
		for _, p := range [][]uint16{f.Y, f.U, f.V} {
			for i := range p {
				p[i] = uint16(b[off+i])
			}
			off += len(p)
		}
		return nil
	}
	maxv := uint16(1)<<f.BitDepth - 1
	off := 0
	for _, p := range [][]uint16{f.Y, f.U, f.V} {
		for i := range p {
			v := uint16(b[off+2*i]) | uint16(b[off+2*i+1])<<8
			if v > maxv {
				return fmt.Errorf("%w: sample %d exceeds %d-bit range", ErrFormat, v, f.BitDepth)
			}
			p[i] = v
		}
		off += 2 * len(p)
	}
	return nil
}

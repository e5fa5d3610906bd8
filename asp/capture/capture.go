package capture

import (
	"context"
	"image"
	"time"
)

// Frame is one captured picture of the screen in I420 (image.YCbCr, 4:2:0).
type Frame struct {
	// Image is the whole screen. It stays valid until the next call to Next.
	Image *image.YCbCr
	// Damage lists the rectangles that changed since the previous frame; empty means the
	// whole picture (first frame, resize, or a periodic refresh).
	Damage []image.Rectangle
	// Captured is when the pixels were read from the display.
	Captured time.Time
	// Seq counts frames from 1.
	Seq uint64
}

// Cursor is the pointer's position and, when it changed, its image.
type Cursor struct {
	X, Y    int
	Visible bool
	// Image is the new cursor shape in straight-alpha RGBA, or nil when only the position
	// changed.
	Image *image.NRGBA
	// HotX and HotY are the hotspot inside Image.
	HotX, HotY int
	// Serial identifies the shape; equal serials mean equal images.
	Serial uint32
}

// Source produces frames when the screen changes. Implementations: the X11 source and a
// synthetic source for tests that need no X server.
type Source interface {
	// Next blocks until the screen changed (or a refresh is due) and returns the new frame,
	// or returns ctx's error, or an error when the display went away.
	Next(ctx context.Context) (Frame, error)
	// Size returns the current screen size in pixels.
	Size() (width, height int)
	// Close releases the display resources.
	Close() error
}

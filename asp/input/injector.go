package input

import "context"

// Injector delivers input events to a display. The X11 implementation uses XTEST.
type Injector interface {
	// Inject delivers one event. Events with coordinates outside the screen are clamped.
	Inject(ctx context.Context, ev Event) error
	// Close releases the connection to the display.
	Close() error
}

package input

// Kind says which field of an Event is meaningful.
type Kind uint8

// The kinds of input event.
const (
	KeyDown Kind = iota + 1
	KeyUp
	MouseMove
	ButtonDown
	ButtonUp
	Wheel
)

// Button numbers follow X11: 1 left, 2 middle, 3 right.
const (
	ButtonLeft   = 1
	ButtonMiddle = 2
	ButtonRight  = 3
)

// Event is one keyboard or mouse action from the client.
type Event struct {
	Kind Kind
	// Keysym is the X11 keysym for key events (Unicode keysyms 0x01000000+rune for text
	// outside Latin-1).
	Keysym uint32
	// X and Y are absolute pointer coordinates in screen pixels for MouseMove, ButtonDown
	// and ButtonUp.
	X, Y int
	// Button is the X11 button number for ButtonDown and ButtonUp.
	Button uint8
	// DX and DY are wheel steps for Wheel: positive DY scrolls down, positive DX right.
	DX, DY int
}

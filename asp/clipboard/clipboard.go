package clipboard

import "context"

// Clipboard is the desktop side of clipboard sharing: it reports what applications on the
// desktop copy and lets the client's copies be pasted there. Text is UTF-8.
type Clipboard interface {
	// Changes returns a channel that receives the clipboard text each time an application on
	// the desktop sets it. The channel is closed when the Clipboard is closed.
	Changes() <-chan string
	// Set makes text the desktop's clipboard content, as if an application had copied it.
	Set(ctx context.Context, text string) error
	// Close releases the display resources and closes the Changes channel.
	Close() error
}

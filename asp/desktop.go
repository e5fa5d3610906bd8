package asp

import (
	"context"
	"errors"
	"fmt"

	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/clipboard"
	"github.com/shadowless-dev/shadowless/asp/input"
)

// Desktop is what one session streams and controls. Source is required; the others may be
// nil, which turns the matching feature off (a nil Injector makes a view-only session).
type Desktop struct {
	Source    capture.Source
	Cursors   <-chan capture.Cursor
	Injector  input.Injector
	Clipboard clipboard.Clipboard
}

// Close releases every part of the desktop that is set.
func (d *Desktop) Close() error {
	var errs []error
	if d.Clipboard != nil {
		errs = append(errs, d.Clipboard.Close())
	}
	if d.Injector != nil {
		errs = append(errs, d.Injector.Close())
	}
	if d.Source != nil {
		errs = append(errs, d.Source.Close())
	}
	return errors.Join(errs...)
}

// DesktopOpener opens the desktop for a new session; the server calls it once per session
// and closes what it returns when the session ends. Each session therefore has its own
// capture source, encoder, injector and clipboard connection: sessions cannot disturb one
// another (a resize or keyframe for one client costs the others nothing) at the price of one
// capture per viewer, which is cheap with MIT-SHM and damage-driven capture.
type DesktopOpener func(ctx context.Context) (*Desktop, error)

// X11Desktop opens X11 capture, XTEST input and the clipboard on an X display such as ":1".
func X11Desktop(display string, opts capture.X11Options) DesktopOpener {
	return func(ctx context.Context) (*Desktop, error) {
		src, err := capture.OpenX11(ctx, display, opts)
		if err != nil {
			return nil, fmt.Errorf("asp: capture %s: %w", display, err)
		}
		d := &Desktop{Source: src, Cursors: src.Cursors()}
		inj, err := input.OpenX11(ctx, display)
		if err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("asp: input %s: %w", display, err)
		}
		d.Injector = inj
		cb, err := clipboard.OpenX11(ctx, display)
		if err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("asp: clipboard %s: %w", display, err)
		}
		d.Clipboard = cb
		return d, nil
	}
}

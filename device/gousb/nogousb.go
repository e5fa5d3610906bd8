//go:build !gousb

package gousb

import "log/slog"

// Supported reports whether this build includes libusb support. This binary was built
// without the "gousb" build tag, so real USB devices cannot be listed or opened.
const Supported = false

// Open reports ErrNotBuilt: this binary has no libusb support.
func Open(*slog.Logger) (Backend, error) { return nil, ErrNotBuilt }

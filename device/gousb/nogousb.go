//go:build !gousb

package gousb

// Supported reports whether this build includes libusb support. This binary was built
// without the "gousb" build tag, so real USB devices cannot be listed or opened.
const Supported = false

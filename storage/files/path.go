package files

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on paths, in bytes.
const (
	// MaxNameLength is the longest name of one file or directory.
	MaxNameLength = 255
	// MaxPathLength is the longest path.
	MaxPathLength = 4096
)

// CleanPath turns a user-supplied path into the canonical form the service stores:
// "/"-separated, starting with "/", no trailing "/" (the root is "/"). A path is always
// relative to the user's own tree: a leading "/" is the root of that tree, never of a disk,
// so there is nothing outside to reach. Empty segments ("a//b") and a trailing "/" are
// tolerated; everything that could mean something else somewhere is refused with
// ErrInvalidPath: "." and ".." segments, NUL and other control characters, backslashes,
// Windows drive letters ("C:"), invalid UTF-8, names over MaxNameLength and paths over
// MaxPathLength.
func CleanPath(p string) (string, error) {
	if len(p) > MaxPathLength {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidPath, MaxPathLength)
	}
	if !utf8.ValidString(p) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidPath)
	}
	for _, r := range p {
		switch {
		case r == 0:
			return "", fmt.Errorf("%w: contains NUL", ErrInvalidPath)
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("%w: contains control character %U", ErrInvalidPath, r)
		case r == '\\':
			return "", fmt.Errorf("%w: contains a backslash", ErrInvalidPath)
		}
	}
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			continue
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%w: %q segment", ErrInvalidPath, seg)
		case len(seg) > MaxNameLength:
			return "", fmt.Errorf("%w: name longer than %d bytes", ErrInvalidPath, MaxNameLength)
		case b.Len() == 0 && len(seg) == 2 && seg[1] == ':' && isASCIILetter(seg[0]):
			return "", fmt.Errorf("%w: drive letter %q", ErrInvalidPath, seg)
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return "/", nil
	}
	return b.String(), nil
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// parentOf returns the parent of a clean path ("/" for top-level entries and the root).
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// baseOf returns the last segment of a clean path ("/" for the root).
func baseOf(p string) string {
	if p == "/" {
		return "/"
	}
	return p[strings.LastIndexByte(p, '/')+1:]
}

// within reports whether p is dir itself or inside it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// childPrefix is the key prefix of everything below a clean directory path.
func childPrefix(dir string) string {
	if dir == "/" {
		return "/"
	}
	return dir + "/"
}

package files

import "errors"

// Errors callers branch on. Every error the service returns wraps one of these (or a
// storage error from the ContentStore or the database).
var (
	// ErrInvalidPath: a path with "..", ".", NUL or control characters, a backslash, a
	// drive letter, invalid UTF-8, or a name or path that is too long.
	ErrInvalidPath = errors.New("files: invalid path")
	// ErrNotFound: the file, directory, parent directory or trash item does not exist.
	ErrNotFound = errors.New("files: not found")
	// ErrExist: the target already exists.
	ErrExist = errors.New("files: already exists")
	// ErrNotDir: a path component that must be a directory is a file.
	ErrNotDir = errors.New("files: not a directory")
	// ErrIsDir: a file operation was asked of a directory.
	ErrIsDir = errors.New("files: is a directory")
	// ErrInvalid: the operation makes no sense (moving a directory into itself, deleting
	// the root, writing to a file opened for reading).
	ErrInvalid = errors.New("files: invalid operation")
	// ErrQuotaExceeded: the operation would take the user above their quota. Nothing was
	// changed.
	ErrQuotaExceeded = errors.New("files: quota exceeded")
	// ErrDenied: policy does not allow this user to upload or download.
	ErrDenied = errors.New("files: denied by policy")
)

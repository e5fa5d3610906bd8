package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under continuous integration, where every outside
// program the project lists in scripts/install-deps.sh must be present.
func InCI() bool { return os.Getenv("CI") != "" }

// LookPath returns the absolute path of the named program. When it is missing, the test is
// failed in CI and skipped elsewhere, with a message that says how to install it.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	Unavailable(t, "%s not found in PATH (run scripts/install-deps.sh): %v", name, err)
	return ""
}

// Unavailable fails the test in CI and skips it elsewhere: use it when a precondition the
// environment should provide (a program, a kernel feature, a device) is absent.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

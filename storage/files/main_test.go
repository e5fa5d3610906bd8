package files

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server, upload and download goroutine must be gone when the tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package nbd

import (
	"testing"

	"go.uber.org/goleak"
)

// Every connection, request goroutine and listener must be gone when the tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package files

import (
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func newService(t testing.TB, opts ...Option) *Service {
	t.Helper()
	s, err := Open(t.TempDir(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// serve runs h on a loopback listener and returns its base URL.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

var testUsers = BasicAuth(Passwords(map[string]string{"alice": "wonderland", "bob": "builder"}))

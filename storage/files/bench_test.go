package files

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// BenchmarkHTTPTransfer measures upload (PUT) and download (GET) of 8 MiB files through the
// REST API over loopback, with contents in a DirStore.
func BenchmarkHTTPTransfer(b *testing.B) {
	const size = 8 << 20
	s := newService(b, WithDefaultQuota(1<<40))
	base := serve(b, s.Handler(testUsers))
	data := bytes.Repeat([]byte("shadowless-files"), size/16)
	put := func() {
		req, _ := http.NewRequest("PUT", base+"/api/v1/content/bench.bin", bytes.NewReader(data))
		req.SetBasicAuth("alice", "wonderland")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("PUT: %s", resp.Status)
		}
	}
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			put()
		}
	})
	b.Run("download", func(b *testing.B) {
		put()
		b.SetBytes(size)
		for b.Loop() {
			req, _ := http.NewRequest("GET", base+"/api/v1/content/bench.bin", nil)
			req.SetBasicAuth("alice", "wonderland")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n != size {
				b.Fatalf("downloaded %d bytes", n)
			}
		}
	})
}

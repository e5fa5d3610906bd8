package files

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebDAVTrashAndProps(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	base := serve(t, s.WebDAVHandler("/dav", testUsers))
	c := client{t, base, "alice", "wonderland"}

	resp, _ := c.do("MKCOL", "/dav/d", nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp, _ = c.do("PUT", "/dav/d/f.txt", strings.NewReader("payload"))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	etag := resp.Header.Get("ETag")
	fi, err := s.Stat(ctx, "alice", "/d/f.txt")
	require.NoError(t, err)
	assert.Equal(t, fi.ETag, etag, "the ETag given on PUT is the file's")
	resp, _ = c.do("PUT", "/dav/missing/f.txt", strings.NewReader("x"))
	assert.Equal(t, http.StatusConflict, resp.StatusCode)

	patch := `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>`
	resp, body := c.do("PROPPATCH", "/dav/d/f.txt", strings.NewReader(patch))
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, "%s", body)
	resp, body = c.do("MOVE", "/dav/d", nil, "Destination", base+"/dav/e")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	find := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:colour xmlns:Z="urn:x"/></D:prop></D:propfind>`
	resp, body = c.do("PROPFIND", "/dav/e/f.txt", strings.NewReader(find), "Depth", "0")
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
	assert.Contains(t, string(body), "blue", "dead properties move with their resource")

	// DELETE goes to the trash, and restoring brings contents and properties back.
	resp, _ = c.do("DELETE", "/dav/e", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, _ = c.do("GET", "/dav/e/f.txt", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	items, err := s.Trash(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, items, 1)
	_, err = s.Restore(ctx, "alice", items[0].ID, "")
	require.NoError(t, err)
	resp, body = c.do("GET", "/dav/e/f.txt", nil)
	assert.Equal(t, "payload", string(body))
	resp, body = c.do("PROPFIND", "/dav/e/f.txt", strings.NewReader(find), "Depth", "0")
	assert.Contains(t, string(body), "blue")

	// A PROPFIND with a prefix bound to the empty namespace is refused.
	bad := `<?xml version="1.0"?><propfind xmlns="DAV:"><prop><bar:foo xmlns:bar=""/></prop></propfind>`
	resp, _ = c.do("PROPFIND", "/dav/e", strings.NewReader(bad), "Depth", "0")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// Collections carry the RFC 4331 quota properties, which cannot be set.
	quota := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>`
	resp, body = c.do("PROPFIND", "/dav/", strings.NewReader(quota), "Depth", "0")
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
	us, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Contains(t, string(body), fmt.Sprintf("quota-available-bytes>%d<", us.Quota-us.Used))
	assert.Contains(t, string(body), fmt.Sprintf("quota-used-bytes>%d<", us.Used))
	setQuota := `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><D:quota-available-bytes>999999999999</D:quota-available-bytes><Z:other>x</Z:other></D:prop></D:set></D:propertyupdate>`
	resp, body = c.do("PROPPATCH", "/dav/e", strings.NewReader(setQuota))
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
	assert.Contains(t, string(body), "403")
	assert.Contains(t, string(body), "424")
	resp, body = c.do("PROPFIND", "/dav/e", strings.NewReader(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:other xmlns:Z="urn:x"/></D:prop></D:propfind>`), "Depth", "0")
	assert.Contains(t, string(body), "404", "nothing of a refused PROPPATCH is applied")

	// Listing with Depth 1 shows the children.
	resp, body = c.do("PROPFIND", "/dav/e", nil, "Depth", "1")
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
	assert.Contains(t, string(body), "/dav/e/f.txt")
}

// TestConcurrentUploadsRespectQuota races uploads that each fit but together do not:
// the quota is never exceeded and every accepted upload is complete.
func TestConcurrentUploadsRespectQuota(t *testing.T) {
	ctx := context.Background()
	s := newService(t, WithDefaultQuota(100))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok []string
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := fmt.Sprintf("/f%d", i)
			body := strings.Repeat(string(rune('a'+i)), 30)
			_, err := s.Upload(ctx, "alice", p, strings.NewReader(body), 30)
			if err != nil {
				assert.ErrorIs(t, err, ErrQuotaExceeded)
				return
			}
			mu.Lock()
			ok = append(ok, p)
			mu.Unlock()
		}()
	}
	wg.Wait()
	assert.Len(t, ok, 3)
	us, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, int64(90), us.Used)
	list, err := s.List(ctx, "alice", "/")
	require.NoError(t, err)
	assert.Len(t, list, 3)
	for _, p := range ok {
		assert.Len(t, content(t, s, "alice", p), 30)
	}
}

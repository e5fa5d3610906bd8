package files

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type client struct {
	t    *testing.T
	base string
	user string
	pass string
}

func (c client) do(method, path string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c client) json(method, path string, body any, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		r = bytes.NewReader(b)
	}
	resp, b := c.do(method, path, r)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(c.t, json.Unmarshal(b, out), "%s", b)
	}
	return resp.StatusCode
}

func TestHTTPAPI(t *testing.T) {
	s := newService(t)
	base := serve(t, s.Handler(testUsers))
	c := client{t, base, "alice", "wonderland"}

	resp, _ := client{t, base, "alice", "wrong"}.do("GET", "/api/v1/list/", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	resp, _ = client{t, base, "", ""}.do("PROPFIND", "/", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	var fi FileInfo
	require.Equal(t, http.StatusCreated, c.json("POST", "/api/v1/mkdir/docs", nil, &fi))
	assert.True(t, fi.Dir)
	resp, body := c.do("PUT", "/api/v1/content/docs/report.txt", strings.NewReader("0123456789abcdef"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	require.NoError(t, json.Unmarshal(body, &fi))
	assert.Equal(t, int64(16), fi.Size)
	etag := fi.ETag

	var list []FileInfo
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/list/docs", nil, &list))
	assert.Equal(t, []string{"report.txt"}, names(list))
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/stat/docs/report.txt", nil, &fi))
	assert.Equal(t, etag, fi.ETag)

	// Downloads with ranges.
	resp, body = c.do("GET", "/api/v1/content/docs/report.txt", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "0123456789abcdef", string(body))
	assert.Equal(t, etag, resp.Header.Get("ETag"))
	resp, body = c.do("GET", "/api/v1/content/docs/report.txt", nil, "Range", "bytes=4-7")
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "4567", string(body))
	assert.Equal(t, "bytes 4-7/16", resp.Header.Get("Content-Range"))
	resp, body = c.do("GET", "/api/v1/content/docs/report.txt", nil, "Range", "bytes=-3")
	assert.Equal(t, "def", string(body))
	resp, _ = c.do("GET", "/api/v1/content/docs/report.txt", nil, "Range", "bytes=16-20")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode)
	resp, body = c.do("GET", "/api/v1/content/docs/report.txt", nil, "Range", "bytes=0-1,14-15")
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "multipart/byteranges")
	assert.Contains(t, string(body), "01")
	assert.Contains(t, string(body), "ef")
	resp, _ = c.do("GET", "/api/v1/content/docs/report.txt", nil, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	resp, body = c.do("HEAD", "/api/v1/content/docs/report.txt", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "16", resp.Header.Get("Content-Length"))
	assert.Empty(t, body)

	// Rename, copy, move.
	require.Equal(t, http.StatusOK, c.json("POST", "/api/v1/move", map[string]any{"from": "/docs/report.txt", "to": "/docs/final.txt"}, &fi))
	assert.Equal(t, "/docs/final.txt", fi.Path)
	require.Equal(t, http.StatusOK, c.json("POST", "/api/v1/rename", map[string]any{"path": "/docs/final.txt", "name": "final-v2.txt"}, &fi))
	assert.Equal(t, "/docs/final-v2.txt", fi.Path)
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/rename", map[string]any{"path": "/docs/final-v2.txt", "name": "../x"}, nil))
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/rename", map[string]any{"path": "/docs/final-v2.txt", "name": ".."}, nil))
	require.Equal(t, http.StatusOK, c.json("POST", "/api/v1/rename", map[string]any{"path": "/docs/final-v2.txt", "name": "final.txt"}, &fi))
	require.Equal(t, http.StatusCreated, c.json("POST", "/api/v1/copy", map[string]any{"from": "/docs", "to": "/docs2"}, &fi))
	assert.True(t, fi.Dir)
	require.Equal(t, http.StatusConflict, c.json("POST", "/api/v1/copy", map[string]any{"from": "/docs", "to": "/docs2"}, nil))
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/copy", map[string]any{"from": "/docs", "to": "/docs/inner"}, nil))
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/move", map[string]any{"frm": "/docs"}, nil))
	require.Equal(t, http.StatusNotFound, c.json("POST", "/api/v1/move", map[string]any{"from": "/nope", "to": "/x"}, nil))

	// Delete to trash, list, restore, purge.
	var item TrashItem
	require.Equal(t, http.StatusOK, c.json("DELETE", "/api/v1/files/docs2", nil, &item))
	assert.Equal(t, "/docs2", item.Path)
	var items []TrashItem
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/trash", nil, &items))
	require.Len(t, items, 1)
	require.Equal(t, http.StatusOK, c.json("POST", fmt.Sprintf("/api/v1/trash/%d/restore", item.ID), map[string]string{"to": "/restored"}, &fi))
	assert.Equal(t, "/restored", fi.Path)
	resp, body = c.do("GET", "/api/v1/content/restored/final.txt", nil)
	assert.Equal(t, "0123456789abcdef", string(body))
	require.Equal(t, http.StatusOK, c.json("DELETE", "/api/v1/files/restored", nil, &item))
	require.Equal(t, http.StatusNoContent, c.json("DELETE", fmt.Sprintf("/api/v1/trash/%d", item.ID), nil, nil))
	require.Equal(t, http.StatusNotFound, c.json("DELETE", fmt.Sprintf("/api/v1/trash/%d", item.ID), nil, nil))
	require.Equal(t, http.StatusBadRequest, c.json("DELETE", "/api/v1/trash/abc", nil, nil))
	require.Equal(t, http.StatusOK, c.json("DELETE", "/api/v1/files/docs/final.txt", nil, nil))
	require.Equal(t, http.StatusNoContent, c.json("DELETE", "/api/v1/trash", nil, nil))
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/trash", nil, &items))
	assert.Empty(t, items)

	var us Usage
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/quota", nil, &us))
	assert.Equal(t, Usage{Quota: 1 << 30}, us)
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/recent?limit=5", nil, &list))
	assert.Empty(t, list, "deleted files leave the recent list")
	require.Equal(t, http.StatusBadRequest, c.json("GET", "/api/v1/recent?limit=0", nil, nil))

	// Bob sees nothing of Alice's.
	bob := client{t, base, "bob", "builder"}
	require.Equal(t, http.StatusOK, bob.json("GET", "/api/v1/list/", nil, &list))
	assert.Empty(t, list)
}

func TestBadPaths(t *testing.T) {
	s := newService(t)
	base := serve(t, s.Handler(testUsers))
	c := client{t, base, "alice", "wonderland"}
	require.Equal(t, http.StatusCreated, c.json("POST", "/api/v1/mkdir/safe", nil, nil))

	for _, p := range []string{"safe/%2e%2e/%2e%2e/etc", "a%00b", "safe/..%5C..%5Cx", "C:/x", "safe/%FF"} {
		resp, body := c.do("PUT", "/api/v1/content/"+p, strings.NewReader("x"))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", p, body)
		assert.Contains(t, string(body), "invalid path", p)
		resp, _ = c.do("GET", "/api/v1/stat/"+p, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, p)
	}
	// Paths that net/http itself cleans (literal "..") never leave the tree either.
	resp, _ := c.do("GET", "/api/v1/stat/safe/../../../../etc/passwd", nil)
	assert.NotEqual(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/move", map[string]any{"from": "/safe", "to": "/../escape"}, nil))
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/copy", map[string]any{"from": "/safe", "to": "/x\u0000y"}, nil))
	require.Equal(t, http.StatusBadRequest, c.json("POST", "/api/v1/trash/1/restore", map[string]any{"to": "/a/../b"}, nil))

	// WebDAV too.
	resp, _ = c.do("PUT", "/safe/a%00b", strings.NewReader("x"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = c.do("MKCOL", "/safe/back%5Cslash", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// Nothing was created anywhere.
	var list []FileInfo
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/list/", nil, &list))
	assert.Equal(t, []string{"safe"}, names(list))
	require.Equal(t, http.StatusOK, c.json("GET", "/api/v1/list/safe", nil, &list))
	assert.Empty(t, list)
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	s := newService(t, WithDefaultQuota(100), WithAdmins(func(u string) bool { return u == "bob" }))
	base := serve(t, s.Handler(testUsers))
	c := client{t, base, "alice", "wonderland"}
	admin := client{t, base, "bob", "builder"}

	resp, body := c.do("PUT", "/api/v1/content/a", bytes.NewReader(make([]byte, 60)))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)

	// Upload over quota: 507, and the existing file is intact.
	resp, body = c.do("PUT", "/api/v1/content/b", bytes.NewReader(make([]byte, 50)))
	assert.Equal(t, http.StatusInsufficientStorage, resp.StatusCode)
	assert.Contains(t, string(body), "quota exceeded")
	_, err := s.Stat(ctx, "alice", "/b")
	require.ErrorIs(t, err, ErrNotFound)
	// Overwriting within quota counts the old size as freed.
	resp, _ = c.do("PUT", "/api/v1/content/a", bytes.NewReader(bytes.Repeat([]byte{1}, 90)))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	// Overwriting over quota leaves the old contents.
	resp, _ = c.do("PUT", "/api/v1/content/a", bytes.NewReader(make([]byte, 101)))
	assert.Equal(t, http.StatusInsufficientStorage, resp.StatusCode)
	assert.Equal(t, string(bytes.Repeat([]byte{1}, 90)), content(t, s, "alice", "/a"))
	// Unknown length (chunked) is counted as it streams.
	resp, _ = c.do("PUT", "/api/v1/content/c", io.MultiReader(bytes.NewReader(make([]byte, 5)), bytes.NewReader(make([]byte, 10))))
	assert.Equal(t, http.StatusInsufficientStorage, resp.StatusCode)
	resp, _ = c.do("PUT", "/api/v1/content/c", io.MultiReader(bytes.NewReader(make([]byte, 5)), bytes.NewReader(make([]byte, 5))))
	assert.Equal(t, http.StatusCreated, resp.StatusCode)

	// Copy over quota: 507, nothing created.
	require.Equal(t, http.StatusInsufficientStorage, c.json("POST", "/api/v1/copy", map[string]any{"from": "/a", "to": "/a2"}, nil))
	_, err = s.Stat(ctx, "alice", "/a2")
	require.ErrorIs(t, err, ErrNotFound)

	// WebDAV PUT and COPY over quota: 507.
	resp, _ = c.do("PUT", "/dav-big", bytes.NewReader(make([]byte, 20)))
	assert.Equal(t, http.StatusInsufficientStorage, resp.StatusCode)
	resp, _ = c.do("COPY", "/a", nil, "Destination", base+"/a3")
	assert.Equal(t, http.StatusInsufficientStorage, resp.StatusCode)
	_, err = s.Stat(ctx, "alice", "/a3")
	require.ErrorIs(t, err, ErrNotFound)
	resp, _ = c.do("GET", "/a", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Trash counts toward the quota: deleting frees nothing until purged...
	us, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, Usage{Quota: 100, Used: 100}, us)
	item, err := s.Delete(ctx, "alice", "/a")
	require.NoError(t, err)
	us, err = s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, Usage{Quota: 100, Used: 100, Trash: 90}, us)

	// ...and restoring cannot bypass the quota when it was lowered meanwhile.
	require.NoError(t, s.SetQuota(ctx, "alice", 50))
	require.Equal(t, http.StatusInsufficientStorage, c.json("POST", fmt.Sprintf("/api/v1/trash/%d/restore", item.ID), nil, nil))
	items, err := s.Trash(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, items, 1, "the item stays in the trash")
	// Quota expansion by the admin lets the restore through; users cannot raise their own.
	require.Equal(t, http.StatusForbidden, c.json("PUT", "/api/v1/admin/quota/alice", map[string]int64{"quota": 1 << 40}, nil))
	require.Equal(t, http.StatusBadRequest, admin.json("PUT", "/api/v1/admin/quota/alice", map[string]int64{"quota": -1}, nil))
	require.Equal(t, http.StatusOK, admin.json("PUT", "/api/v1/admin/quota/alice", map[string]int64{"quota": 200}, &us))
	assert.Equal(t, int64(200), us.Quota)
	require.Equal(t, http.StatusOK, c.json("POST", fmt.Sprintf("/api/v1/trash/%d/restore", item.ID), nil, nil))
	assert.Equal(t, string(bytes.Repeat([]byte{1}, 90)), content(t, s, "alice", "/a"))
}

func TestTrashPurgedWhenFull(t *testing.T) {
	ctx := context.Background()
	s := newService(t, WithDefaultQuota(100))
	upload(t, s, "alice", "/old1", strings.Repeat("a", 40))
	upload(t, s, "alice", "/old2", strings.Repeat("b", 40))
	_, err := s.Delete(ctx, "alice", "/old1")
	require.NoError(t, err)
	_, err = s.Delete(ctx, "alice", "/old2")
	require.NoError(t, err)
	// 80 bytes in the trash; a 50-byte upload purges the oldest item only.
	upload(t, s, "alice", "/new", strings.Repeat("c", 50))
	items, err := s.Trash(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, "/old2", items[0].Path)
	us, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, Usage{Quota: 100, Used: 90, Trash: 40}, us)
	// An upload that would not fit even with an empty trash purges nothing.
	_, err = s.Upload(ctx, "alice", "/huge", strings.NewReader(strings.Repeat("d", 60)), 60)
	require.ErrorIs(t, err, ErrQuotaExceeded)
	items, err = s.Trash(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, items, 1)

	// Without auto-purge the trash blocks uploads until purged by hand.
	s2 := newService(t, WithDefaultQuota(100), WithAutoPurgeTrash(false))
	upload(t, s2, "alice", "/x", strings.Repeat("a", 80))
	_, err = s2.Delete(ctx, "alice", "/x")
	require.NoError(t, err)
	_, err = s2.Upload(ctx, "alice", "/y", strings.NewReader("0123456789012345678901"), 22)
	require.ErrorIs(t, err, ErrQuotaExceeded)
	require.NoError(t, s2.EmptyTrash(ctx, "alice"))
	upload(t, s2, "alice", "/y", "0123456789012345678901")
}

func TestPolicy(t *testing.T) {
	var allowDownload, allowUpload atomic.Bool
	allowDownload.Store(true)
	allowUpload.Store(true)
	var reads, revokeAfter atomic.Int64
	policy := func(_ context.Context, user string, a Action, p string) error {
		if user != "alice" {
			return nil
		}
		switch a {
		case ActionDownload:
			n := reads.Add(1)
			if !allowDownload.Load() || (revokeAfter.Load() > 0 && n > revokeAfter.Load()) {
				return fmt.Errorf("download of %s revoked", p)
			}
		case ActionUpload:
			if !allowUpload.Load() {
				return fmt.Errorf("uploads disabled")
			}
		}
		return nil
	}
	s := newService(t, WithPolicy(policy))
	base := serve(t, s.Handler(testUsers))
	c := client{t, base, "alice", "wonderland"}
	secret := strings.Repeat("secret!", 1000)
	resp, _ := c.do("PUT", "/api/v1/content/s.txt", strings.NewReader(secret))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	// Denied download: 403 and not one byte of the file, over REST and WebDAV.
	allowDownload.Store(false)
	resp, body := c.do("GET", "/api/v1/content/s.txt", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.NotContains(t, string(body), "secret")
	resp, body = c.do("GET", "/api/v1/content/s.txt", nil, "Range", "bytes=0-5")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.NotContains(t, string(body), "secret")
	resp, body = c.do("GET", "/s.txt", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.NotContains(t, string(body), "secret")
	// Listing and PROPFIND still work: only bytes are guarded.
	resp, _ = c.do("PROPFIND", "/s.txt", nil, "Depth", "0")
	assert.Equal(t, http.StatusMultiStatus, resp.StatusCode)

	// Denied upload: 403 and nothing written or changed.
	allowDownload.Store(true)
	allowUpload.Store(false)
	resp, _ = c.do("PUT", "/api/v1/content/s.txt", strings.NewReader("overwritten"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = c.do("PUT", "/new.txt", strings.NewReader("new"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, secret, content(t, s, "alice", "/s.txt"))
	_, err := s.Stat(context.Background(), "alice", "/new.txt")
	require.ErrorIs(t, err, ErrNotFound)
	allowUpload.Store(true)

	// Bob is not affected by Alice's policy.
	bob := client{t, base, "bob", "builder"}
	resp, _ = bob.do("PUT", "/api/v1/content/b.txt", strings.NewReader("bob"))
	assert.Equal(t, http.StatusCreated, resp.StatusCode)

	// Every read asks again: revoking during a download stops it. The policy revokes
	// itself after a few reads, so the cut does not depend on socket buffering.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	resp, _ = c.do("PUT", "/api/v1/content/big", bytes.NewReader(big))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	reads.Store(0)
	revokeAfter.Store(4)
	req, err := http.NewRequest("GET", base+"/api/v1/content/big", nil)
	require.NoError(t, err)
	req.SetBasicAuth("alice", "wonderland")
	dl, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer dl.Body.Close()
	require.Equal(t, http.StatusOK, dl.StatusCode)
	got, err := io.ReadAll(dl.Body)
	assert.Error(t, err, "the transfer must be cut short")
	assert.Less(t, len(got), len(big)/4, "only the reads before the revocation were served")
	assert.Equal(t, big[:len(got)], got)
	revokeAfter.Store(0)
	allowDownload.Store(false)
	resp, _ = c.do("GET", "/api/v1/content/big", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Greater(t, reads.Load(), int64(2), "policy asked per read, not once")
}

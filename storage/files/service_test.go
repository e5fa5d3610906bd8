package files

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func upload(t *testing.T, s *Service, user, p, body string) FileInfo {
	t.Helper()
	fi, err := s.Upload(context.Background(), user, p, strings.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	return fi
}

func content(t *testing.T, s *Service, user, p string) string {
	t.Helper()
	r, err := s.Open(context.Background(), user, p)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

func names(list []FileInfo) []string {
	var out []string
	for _, fi := range list {
		out = append(out, fi.Name)
	}
	return out
}

func TestTreeOperations(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	_, err := s.Mkdir(ctx, "alice", "/docs")
	require.NoError(t, err)
	_, err = s.Mkdir(ctx, "alice", "/docs")
	require.ErrorIs(t, err, ErrExist)
	_, err = s.Mkdir(ctx, "alice", "/no/such")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Mkdir(ctx, "alice", "/docs/sub")
	require.NoError(t, err)
	fi := upload(t, s, "alice", "/docs/a.txt", "hello")
	assert.Equal(t, int64(5), fi.Size)
	assert.Equal(t, "a.txt", fi.Name)
	upload(t, s, "alice", "/docs/sub/b.txt", "world!")
	upload(t, s, "alice", "/docs-x.txt", "sibling")
	_, err = s.Mkdir(ctx, "alice", "/docs/a.txt/x")
	require.ErrorIs(t, err, ErrNotDir)

	list, err := s.List(ctx, "alice", "/docs")
	require.NoError(t, err)
	assert.Equal(t, []string{"a.txt", "sub"}, names(list))
	list, err = s.List(ctx, "alice", "/")
	require.NoError(t, err)
	assert.Equal(t, []string{"docs", "docs-x.txt"}, names(list))
	_, err = s.List(ctx, "alice", "/docs/a.txt")
	require.ErrorIs(t, err, ErrNotDir)

	// Users are isolated.
	_, err = s.Stat(ctx, "bob", "/docs/a.txt")
	require.ErrorIs(t, err, ErrNotFound)

	// Overwrite replaces contents and usage.
	upload(t, s, "alice", "/docs/a.txt", "hello again")
	assert.Equal(t, "hello again", content(t, s, "alice", "/docs/a.txt"))
	us, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, int64(11+6+7), us.Used)

	// Rename and move a directory with its contents.
	require.NoError(t, s.Move(ctx, "alice", "/docs", "/papers", false))
	assert.Equal(t, "world!", content(t, s, "alice", "/papers/sub/b.txt"))
	_, err = s.Stat(ctx, "alice", "/docs/sub/b.txt")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "sibling", content(t, s, "alice", "/docs-x.txt"), "a sibling with a shared prefix is untouched")
	require.ErrorIs(t, s.Move(ctx, "alice", "/papers", "/papers/sub/x", false), ErrInvalid)
	require.ErrorIs(t, s.Move(ctx, "alice", "/papers/sub", "/papers", true), ErrInvalid)
	require.ErrorIs(t, s.Move(ctx, "alice", "/docs-x.txt", "/papers/a.txt", false), ErrExist)
	require.ErrorIs(t, s.Move(ctx, "alice", "/nope", "/x", false), ErrNotFound)
	require.ErrorIs(t, s.Move(ctx, "alice", "/", "/x", false), ErrInvalid)

	// Move with overwrite sends the replaced file to the trash: nothing lost.
	require.NoError(t, s.Move(ctx, "alice", "/docs-x.txt", "/papers/a.txt", true))
	assert.Equal(t, "sibling", content(t, s, "alice", "/papers/a.txt"))
	trash, err := s.Trash(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, trash, 1)
	assert.Equal(t, "/papers/a.txt", trash[0].Path)
	assert.Equal(t, int64(11), trash[0].Size)

	// Copy a tree.
	require.NoError(t, s.Copy(ctx, "alice", "/papers", "/backup", false))
	assert.Equal(t, "world!", content(t, s, "alice", "/backup/sub/b.txt"))
	upload(t, s, "alice", "/backup/sub/b.txt", "changed")
	assert.Equal(t, "world!", content(t, s, "alice", "/papers/sub/b.txt"), "a copy is independent")
	require.ErrorIs(t, s.Copy(ctx, "alice", "/papers", "/backup", false), ErrExist)

	// Delete to trash and restore.
	item, err := s.Delete(ctx, "alice", "/papers")
	require.NoError(t, err)
	assert.True(t, item.Dir)
	assert.Equal(t, int64(7+6), item.Size)
	_, err = s.Stat(ctx, "alice", "/papers/sub/b.txt")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Delete(ctx, "alice", "/")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.Delete(ctx, "alice", "/papers")
	require.ErrorIs(t, err, ErrNotFound)
	restored, err := s.Restore(ctx, "alice", item.ID, "")
	require.NoError(t, err)
	assert.Equal(t, "/papers", restored.Path)
	assert.Equal(t, "world!", content(t, s, "alice", "/papers/sub/b.txt"))
	_, err = s.Restore(ctx, "alice", item.ID, "")
	require.ErrorIs(t, err, ErrNotFound)

	// Restore onto an existing path is refused; to another path works.
	item, err = s.Delete(ctx, "alice", "/papers/sub/b.txt")
	require.NoError(t, err)
	upload(t, s, "alice", "/papers/sub/b.txt", "new")
	_, err = s.Restore(ctx, "alice", item.ID, "")
	require.ErrorIs(t, err, ErrExist)
	_, err = s.Restore(ctx, "alice", item.ID, "/papers/sub/b-old.txt")
	require.NoError(t, err)
	assert.Equal(t, "world!", content(t, s, "alice", "/papers/sub/b-old.txt"))

	// Purge releases the space.
	before, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	trash, err = s.Trash(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, trash, 1)
	require.NoError(t, s.PurgeTrash(ctx, "alice", trash[0].ID))
	after, err := s.Usage(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, before.Used-trash[0].Size, after.Used)
	assert.Zero(t, after.Trash)

	// Recent files, newest first.
	recent, err := s.Recent(ctx, "alice", 2)
	require.NoError(t, err)
	require.Len(t, recent, 2)
	assert.Equal(t, []string{"/papers/sub/b-old.txt", "/papers/sub/b.txt"}, []string{recent[0].Path, recent[1].Path},
		"the download of b-old.txt came after the upload of b.txt")
}

func TestUploadEdgeCases(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	_, err := s.Upload(ctx, "alice", "/x", strings.NewReader("abc"), 5)
	require.ErrorIs(t, err, ErrInvalid, "short body")
	_, err = s.Upload(ctx, "alice", "/x", strings.NewReader("abcdef"), 5)
	require.ErrorIs(t, err, ErrInvalid, "long body")
	_, err = s.Stat(ctx, "alice", "/x")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Upload(ctx, "alice", "/", strings.NewReader(""), 0)
	require.ErrorIs(t, err, ErrIsDir)
	_, err = s.Mkdir(ctx, "alice", "/d")
	require.NoError(t, err)
	_, err = s.Upload(ctx, "alice", "/d", strings.NewReader(""), 0)
	require.ErrorIs(t, err, ErrIsDir)
	_, err = s.Upload(ctx, "alice", "/missing/x", strings.NewReader(""), 0)
	require.ErrorIs(t, err, ErrNotFound)
	fi, err := s.Upload(ctx, "alice", "/big", bytes.NewReader(make([]byte, 300<<10)), -1)
	require.NoError(t, err)
	assert.Equal(t, int64(300<<10), fi.Size)
	_, err = s.Open(ctx, "alice", "/d")
	require.ErrorIs(t, err, ErrIsDir)
	_, err = s.Stat(ctx, "", "/")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.Stat(ctx, "bad\x00user", "/")
	require.ErrorIs(t, err, ErrInvalid)
}

func TestUploadRevokedBeforeCommit(t *testing.T) {
	ctx := context.Background()
	allowed := true
	s := newService(t, WithPolicy(func(context.Context, string, Action, string) error {
		if !allowed {
			return ErrDenied
		}
		return nil
	}))
	upload(t, s, "alice", "/f", "original")
	up, err := s.BeginUpload(ctx, "alice", "/f", -1)
	require.NoError(t, err)
	_, err = up.Write([]byte("replacement"))
	require.NoError(t, err)
	allowed = false
	_, err = up.Commit()
	require.ErrorIs(t, err, ErrDenied)
	allowed = true
	assert.Equal(t, "original", content(t, s, "alice", "/f"), "a revoked upload changes nothing")
	_, err = up.Write([]byte("more"))
	require.Error(t, err)
}

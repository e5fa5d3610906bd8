package files

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Upload is a file being written. Bytes go to a new blob; the tree entry is switched to it
// only by Commit, so until then the old contents (if any) stay intact, and a refused or
// abandoned upload changes nothing.
type Upload struct {
	s         *Service
	ctx       context.Context
	user      string
	path      string
	w         ContentWriter
	n         int64
	allowance int64
	err       error
	done      bool
}

// BeginUpload starts writing the file p. size is the expected length, or -1 if unknown;
// a known size over the remaining quota is refused at once.
func (s *Service) BeginUpload(ctx context.Context, user, p string, size int64) (*Upload, error) {
	p, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	if p == "/" {
		return nil, fmt.Errorf("%w: /", ErrIsDir)
	}
	if err := s.check(ctx, user, ActionUpload, p); err != nil {
		return nil, err
	}
	var allowance int64
	err = s.view(ctx, user, func(u *userTx) error {
		if err := u.parentDir(p); err != nil {
			return err
		}
		old, exists, err := u.get(p)
		if err != nil {
			return err
		}
		if exists && old.Dir {
			return fmt.Errorf("%w: %s", ErrIsDir, p)
		}
		allowance = u.allowance() + old.Size
		if size > allowance {
			return fmt.Errorf("%w: uploading %d bytes, %d left", ErrQuotaExceeded, size, allowance)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w, err := s.store.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &Upload{s: s, ctx: ctx, user: user, path: p, w: w, allowance: allowance}, nil
}

// Path is the clean path being written.
func (up *Upload) Path() string { return up.path }

// Written is the number of bytes written so far.
func (up *Upload) Written() int64 { return up.n }

// ETag is the ETag the file will have once committed.
func (up *Upload) ETag() string { return `"` + up.w.ID() + `"` }

// Write appends to the new contents. Going over the quota fails with ErrQuotaExceeded.
func (up *Upload) Write(p []byte) (int, error) {
	if up.err != nil {
		return 0, up.err
	}
	if up.done {
		return 0, fmt.Errorf("%w: upload already finished", ErrInvalid)
	}
	if up.n+int64(len(p)) > up.allowance {
		up.err = fmt.Errorf("%w: upload of %s passed the %d bytes left", ErrQuotaExceeded, up.path, up.allowance)
		return 0, up.err
	}
	n, err := up.w.Write(p)
	up.n += int64(n)
	if err != nil {
		up.err = fmt.Errorf("files: writing %s: %w", up.path, err)
	}
	return n, up.err
}

// Abort discards the upload.
func (up *Upload) Abort() {
	if !up.done {
		up.done = true
		up.w.Abort()
	}
}

// Commit makes the new contents the file's, atomically. Policy is asked again, so an
// upload revoked while in progress is dropped.
func (up *Upload) Commit() (FileInfo, error) {
	if up.err != nil || up.done {
		up.Abort()
		if up.err == nil {
			up.err = fmt.Errorf("%w: upload already finished", ErrInvalid)
		}
		return FileInfo{}, up.err
	}
	s := up.s
	if err := s.check(up.ctx, up.user, ActionUpload, up.path); err != nil {
		up.Abort()
		return FileInfo{}, err
	}
	up.done = true
	if err := up.w.Commit(); err != nil {
		return FileInfo{}, err
	}
	id := up.w.ID()
	var fi FileInfo
	var garbage []string
	err := s.update(up.ctx, up.user, func(u *userTx) error {
		if err := u.parentDir(up.path); err != nil {
			return err
		}
		old, exists, err := u.get(up.path)
		if err != nil {
			return err
		}
		if exists && old.Dir {
			return fmt.Errorf("%w: %s", ErrIsDir, up.path)
		}
		need := up.n - old.Size
		if garbage, err = u.makeRoom(need); err != nil {
			return err
		}
		if exists {
			garbage = append(garbage, old.Content)
		}
		now := s.now()
		n := node{Size: up.n, Mod: now.UnixNano(), Content: id}
		if err := u.put(up.path, n); err != nil {
			return err
		}
		if err := u.addCounter("used", need); err != nil {
			return err
		}
		fi = info(up.path, n)
		return u.touchRecent(up.path, now)
	})
	if err != nil {
		s.deleteContents([]string{id})
		return FileInfo{}, err
	}
	s.deleteContents(garbage)
	return fi, nil
}

// Upload writes the file p from r; size is the expected length or -1. A body shorter or
// longer than a known size is refused.
func (s *Service) Upload(ctx context.Context, user, p string, r io.Reader, size int64) (FileInfo, error) {
	up, err := s.BeginUpload(ctx, user, p, size)
	if err != nil {
		return FileInfo{}, err
	}
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1)
	}
	if _, err := io.Copy(up, src); err != nil {
		up.Abort()
		return FileInfo{}, err
	}
	if size >= 0 && up.n != size {
		up.Abort()
		return FileInfo{}, fmt.Errorf("%w: body has %d bytes, expected %d", ErrInvalid, up.n, size)
	}
	return up.Commit()
}

// Reader is an open file. Every Read asks the policy again, so revoking download
// permission stops a transfer in progress.
type Reader struct {
	s    *Service
	ctx  context.Context
	user string
	info FileInfo
	c    Content
	sr   *io.SectionReader
}

// Open opens the file p for download.
func (s *Service) Open(ctx context.Context, user, p string) (*Reader, error) {
	p, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, user, ActionDownload, p); err != nil {
		return nil, err
	}
	return s.openLatest(ctx, user, p, true)
}

// openLatest opens the current contents of the file p, remembering it as recent if touch
// is set. The file may be overwritten between reading its entry and opening its blob
// (whose old version is then deleted): it looks again in that case.
func (s *Service) openLatest(ctx context.Context, user, p string, touch bool) (*Reader, error) {
	for attempt := 0; ; attempt++ {
		var n node
		get := func(u *userTx) error {
			var err error
			if n, err = u.mustGet(p); err != nil {
				return err
			}
			if n.Dir {
				return fmt.Errorf("%w: %s", ErrIsDir, p)
			}
			if touch {
				return u.touchRecent(p, s.now())
			}
			return nil
		}
		var err error
		if touch {
			err = s.update(ctx, user, get)
		} else {
			err = s.view(ctx, user, get)
		}
		if err != nil {
			return nil, err
		}
		r, err := s.openNode(ctx, user, p, n)
		if err == nil || !errors.Is(err, ErrNotFound) || attempt == 2 {
			return r, err
		}
	}
}

func (s *Service) openNode(ctx context.Context, user, p string, n node) (*Reader, error) {
	c, err := s.store.Open(ctx, n.Content)
	if err != nil {
		return nil, fmt.Errorf("files: contents of %s: %w", p, err)
	}
	return &Reader{s: s, ctx: ctx, user: user, info: info(p, n), c: c, sr: io.NewSectionReader(c, 0, c.Size())}, nil
}

// Info describes the opened file.
func (r *Reader) Info() FileInfo { return r.info }

// Read reads the next bytes, after asking the policy.
func (r *Reader) Read(p []byte) (int, error) {
	if err := r.s.check(r.ctx, r.user, ActionDownload, r.info.Path); err != nil {
		return 0, err
	}
	return r.sr.Read(p)
}

// Seek sets the offset of the next Read.
func (r *Reader) Seek(off int64, whence int) (int64, error) { return r.sr.Seek(off, whence) }

// Close releases the file.
func (r *Reader) Close() error { return r.c.Close() }

// errorsIsAny reports whether err matches any of targets.
func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

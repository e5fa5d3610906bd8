package files

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"

	"golang.org/x/net/webdav"
)

// WebDAVHandler serves every user's tree over WebDAV (golang.org/x/net/webdav) below
// prefix (e.g. "" or "/dav"). auth identifies the user of each request. Quota exceeded
// answers 507 Insufficient Storage, policy denial 403, a bad path 400. DELETE moves to the
// trash. Dead properties (PROPPATCH) are kept in the metadata database and follow their
// resource through MOVE and COPY.
func (s *Service) WebDAVHandler(prefix string, auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := auth(r)
		if !ok {
			unauthorized(w)
			return
		}
		if r.Method == "PROPFIND" || r.Method == "PROPPATCH" {
			body, err := checkXMLBody(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		st := &davState{method: r.Method, contentLength: r.ContentLength}
		ctx := context.WithValue(r.Context(), davStateKey{}, st)
		rw := &davResponse{ResponseWriter: w, st: st}
		h := &webdav.Handler{
			Prefix:     prefix,
			FileSystem: &davFS{s: s, user: user},
			LockSystem: s.lockSystem(user),
			Logger: func(r *http.Request, err error) {
				if err != nil {
					s.log.Debug("webdav", "method", r.Method, "path", r.URL.Path, "err", err)
				}
			},
		}
		h.ServeHTTP(rw, r.WithContext(ctx))
	})
}

// maxXMLBody bounds PROPFIND and PROPPATCH bodies.
const maxXMLBody = 1 << 20

// checkXMLBody reads a PROPFIND/PROPPATCH body and refuses what x/net/webdav's parser
// lets through but XML namespaces forbid: a prefix bound to the empty namespace
// (xmlns:p=""), and bodies over maxXMLBody.
func checkXMLBody(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxXMLBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(b) > maxXMLBody {
		return nil, fmt.Errorf("%w: XML body over %d bytes", errBadRequest, maxXMLBody)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, nil // malformed XML is x/net/webdav's to refuse
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					return nil, fmt.Errorf("%w: namespace prefix %q bound to the empty name", errBadRequest, a.Name.Local)
				}
			}
		}
	}
}

func (s *Service) lockSystem(user string) webdav.LockSystem {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	ls, ok := s.locks[user]
	if !ok {
		ls = webdav.NewMemLS()
		s.locks[user] = ls
	}
	return ls
}

// davState carries what the webdav handler cannot: the request method (to know a GET
// from a PROPFIND when a file is opened) and the first error of ours, which decides the
// status code (507, 403, 400) that x/net/webdav has no notion of.
type davState struct {
	method        string
	contentLength int64
	err           error
}

type davStateKey struct{}

func stateOf(ctx context.Context) *davState {
	st, _ := ctx.Value(davStateKey{}).(*davState)
	if st == nil {
		st = &davState{}
	}
	return st
}

// note records err (the first one that decides a status) and converts it to what
// x/net/webdav expects: os.ErrNotExist and os.ErrExist as *fs.PathError.
func note(ctx context.Context, op, name string, err error) error {
	if err == nil {
		return nil
	}
	st := stateOf(ctx)
	if st.err == nil && errorsIsAny(err, ErrQuotaExceeded, ErrNoSpace, ErrDenied, ErrInvalidPath) {
		st.err = err
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	case errors.Is(err, ErrExist):
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrExist}
	}
	return err
}

// davResponse rewrites the status of a failed request from the error we recorded.
type davResponse struct {
	http.ResponseWriter
	st       *davState
	replaced bool
}

func (w *davResponse) WriteHeader(code int) {
	if code >= 400 && w.st.err != nil {
		status := httpStatus(w.st.err)
		if status != http.StatusInternalServerError {
			w.replaced = true
			w.ResponseWriter.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.ResponseWriter.WriteHeader(status)
			fmt.Fprintln(w.ResponseWriter, w.st.err.Error())
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *davResponse) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

type davFS struct {
	s    *Service
	user string
}

var _ webdav.FileSystem = (*davFS)(nil)

func (d *davFS) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	_, err := d.s.Mkdir(ctx, d.user, name)
	return note(ctx, "mkdir", name, err)
}

func (d *davFS) RemoveAll(ctx context.Context, name string) error {
	p, err := CleanPath(name)
	if err != nil {
		return note(ctx, "remove", name, err)
	}
	if _, err := d.s.Stat(ctx, d.user, p); errors.Is(err, ErrNotFound) {
		return nil // like os.RemoveAll
	}
	_, err = d.s.Delete(ctx, d.user, p)
	return note(ctx, "remove", name, err)
}

func (d *davFS) Rename(ctx context.Context, oldName, newName string) error {
	return note(ctx, "rename", newName, d.s.Move(ctx, d.user, oldName, newName, false))
}

func (d *davFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	fi, err := d.s.Stat(ctx, d.user, name)
	if err != nil {
		return nil, note(ctx, "stat", name, err)
	}
	return davInfo{fi}, nil
}

func (d *davFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	p, err := CleanPath(name)
	if err != nil {
		return nil, note(ctx, "open", name, err)
	}
	fi, err := d.s.Stat(ctx, d.user, p)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, note(ctx, "open", name, err)
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	switch {
	case exists && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, note(ctx, "open", name, fmt.Errorf("%w: %s", ErrExist, p))
	case writable && (flag&os.O_TRUNC != 0 || (!exists && flag&os.O_CREATE != 0)):
		if exists && fi.Dir {
			return nil, note(ctx, "open", name, fmt.Errorf("%w: %s", ErrIsDir, p))
		}
		size := int64(-1)
		if st := stateOf(ctx); st.method == http.MethodPut {
			size = st.contentLength
		}
		up, err := d.s.BeginUpload(ctx, d.user, p, size)
		if err != nil {
			return nil, note(ctx, "open", name, err)
		}
		return &davFile{d: d, ctx: ctx, path: p, up: up, mod: time.Now()}, nil
	case !exists:
		return nil, note(ctx, "open", name, fmt.Errorf("%w: %s", ErrNotFound, p))
	}
	f := &davFile{d: d, ctx: ctx, path: p, info: fi}
	if !fi.Dir {
		// Only a GET (or HEAD/POST) serves bytes: PROPFIND and PROPPATCH open files too.
		if m := stateOf(ctx).method; m == http.MethodGet || m == http.MethodHead || m == http.MethodPost {
			if err := d.s.check(ctx, d.user, ActionDownload, p); err != nil {
				return nil, note(ctx, "open", name, err)
			}
			f.checkRead = true
		}
		r, err := d.s.openLatest(ctx, d.user, p, false)
		if err != nil {
			return nil, note(ctx, "open", name, err)
		}
		f.r = r
	}
	return f, nil
}

// davFile is an open file or directory: reading (r), writing a new version (up), or a
// directory (neither).
type davFile struct {
	d         *davFS
	ctx       context.Context
	path      string
	info      FileInfo
	r         *Reader
	checkRead bool
	up        *Upload
	mod       time.Time
	pending   []webdav.Proppatch
	dirPos    int
	closed    bool
}

var (
	_ webdav.File            = (*davFile)(nil)
	_ webdav.DeadPropsHolder = (*davFile)(nil)
)

func (f *davFile) Read(p []byte) (int, error) {
	switch {
	case f.r == nil:
		return 0, note(f.ctx, "read", f.path, fmt.Errorf("%w: %s is not open for reading", ErrInvalid, f.path))
	case f.checkRead:
		n, err := f.r.Read(p)
		return n, note(f.ctx, "read", f.path, err)
	}
	return f.r.sr.Read(p)
}

func (f *davFile) Seek(off int64, whence int) (int64, error) {
	if f.r == nil {
		return 0, fmt.Errorf("%w: %s cannot seek", ErrInvalid, f.path)
	}
	return f.r.Seek(off, whence)
}

func (f *davFile) Write(p []byte) (int, error) {
	if f.up == nil {
		return 0, note(f.ctx, "write", f.path, fmt.Errorf("%w: %s is not open for writing", ErrInvalid, f.path))
	}
	n, err := f.up.Write(p)
	return n, note(f.ctx, "write", f.path, err)
}

func (f *davFile) Readdir(count int) ([]fs.FileInfo, error) {
	if !f.info.Dir || f.up != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotDir, f.path)
	}
	list, err := f.d.s.List(f.ctx, f.d.user, f.path)
	if err != nil {
		return nil, note(f.ctx, "readdir", f.path, err)
	}
	if f.dirPos > len(list) {
		f.dirPos = len(list)
	}
	list = list[f.dirPos:]
	if count > 0 {
		if len(list) == 0 {
			return nil, io.EOF
		}
		list = list[:min(count, len(list))]
	}
	f.dirPos += len(list)
	out := make([]fs.FileInfo, len(list))
	for i, fi := range list {
		out[i] = davInfo{fi}
	}
	return out, nil
}

func (f *davFile) Stat() (fs.FileInfo, error) {
	if f.up != nil {
		return davInfo{FileInfo{Path: f.path, Name: baseOf(f.path), Size: f.up.Written(), ModTime: f.mod, ETag: f.up.ETag()}}, nil
	}
	return davInfo{f.info}, nil
}

func (f *davFile) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if f.r != nil {
		return f.r.Close()
	}
	if f.up == nil {
		return nil
	}
	if _, err := f.up.Commit(); err != nil {
		return note(f.ctx, "close", f.path, err)
	}
	if len(f.pending) > 0 {
		if _, err := f.d.s.patchProps(f.ctx, f.d.user, f.path, f.pending); err != nil {
			return note(f.ctx, "close", f.path, err)
		}
	}
	return nil
}

func (f *davFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	if f.up != nil {
		ps, _ := applyPatches(nil, f.pending)
		m := map[xml.Name]webdav.Property{}
		for _, sp := range ps {
			n := xml.Name{Space: sp.Space, Local: sp.Local}
			m[n] = webdav.Property{XMLName: n, Lang: sp.Lang, InnerXML: []byte(sp.Inner)}
		}
		return m, nil
	}
	m, err := f.d.s.deadProps(f.ctx, f.d.user, f.path)
	if err != nil {
		return nil, note(f.ctx, "props", f.path, err)
	}
	if f.info.Dir {
		// RFC 4331 quota properties on collections, so clients can show free space.
		us, err := f.d.s.Usage(f.ctx, f.d.user)
		if err != nil {
			return nil, note(f.ctx, "props", f.path, err)
		}
		avail := max(us.Quota-us.Used, 0)
		for name, v := range map[xml.Name]int64{quotaAvailable: avail, quotaUsed: us.Used} {
			m[name] = webdav.Property{XMLName: name, InnerXML: []byte(strconv.FormatInt(v, 10))}
		}
	}
	return m, nil
}

// The RFC 4331 quota properties, computed, never stored.
var (
	quotaAvailable = xml.Name{Space: "DAV:", Local: "quota-available-bytes"}
	quotaUsed      = xml.Name{Space: "DAV:", Local: "quota-used-bytes"}
)

// protectedPatch refuses a PROPPATCH that touches a computed property: 403 for those,
// 424 for the rest, and nothing is changed (PROPPATCH is all or nothing).
func protectedPatch(patches []webdav.Proppatch) ([]webdav.Propstat, bool) {
	forbidden := webdav.Propstat{Status: http.StatusForbidden}
	failed := webdav.Propstat{Status: http.StatusFailedDependency}
	for _, patch := range patches {
		for _, p := range patch.Props {
			if p.XMLName == quotaAvailable || p.XMLName == quotaUsed {
				forbidden.Props = append(forbidden.Props, webdav.Property{XMLName: p.XMLName})
			} else {
				failed.Props = append(failed.Props, webdav.Property{XMLName: p.XMLName})
			}
		}
	}
	if len(forbidden.Props) == 0 {
		return nil, false
	}
	if len(failed.Props) == 0 {
		return []webdav.Propstat{forbidden}, true
	}
	return []webdav.Propstat{forbidden, failed}, true
}

func (f *davFile) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	if st, refused := protectedPatch(patches); refused {
		return st, nil
	}
	if f.up != nil {
		// Not committed yet (COPY copies properties before closing): apply on Close.
		f.pending = append(f.pending, patches...)
		_, st := applyPatches(nil, patches)
		return []webdav.Propstat{st}, nil
	}
	st, err := f.d.s.patchProps(f.ctx, f.d.user, f.path, patches)
	return st, note(f.ctx, "proppatch", f.path, err)
}

// davInfo adapts FileInfo to fs.FileInfo and webdav.ETager.
type davInfo struct{ fi FileInfo }

func (i davInfo) Name() string       { return i.fi.Name }
func (i davInfo) Size() int64        { return i.fi.Size }
func (i davInfo) ModTime() time.Time { return i.fi.ModTime }
func (i davInfo) IsDir() bool        { return i.fi.Dir }
func (i davInfo) Sys() any           { return nil }
func (i davInfo) Mode() fs.FileMode {
	if i.fi.Dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// ETag implements webdav.ETager.
func (i davInfo) ETag(context.Context) (string, error) {
	if i.fi.ETag == "" {
		return strconv.Quote(fmt.Sprintf("%x%x", i.fi.ModTime.UnixNano(), i.fi.Size)), nil
	}
	return i.fi.ETag, nil
}

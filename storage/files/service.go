package files

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/net/webdav"
)

// Action is what a policy decides on.
type Action int

// Actions a Policy is asked about.
const (
	// ActionDownload is reading a file's bytes out of the file center.
	ActionDownload Action = iota + 1
	// ActionUpload is putting new bytes into the file center.
	ActionUpload
)

// String names the action.
func (a Action) String() string {
	switch a {
	case ActionDownload:
		return "download"
	case ActionUpload:
		return "upload"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Policy decides whether user may perform action on path; a non-nil error denies. It is
// asked at the start of every upload and download, again when an upload commits, and
// before every read of a download in progress, so revoking a permission stops a transfer
// already under way. It must be cheap and safe for concurrent use.
type Policy func(ctx context.Context, user string, action Action, path string) error

// Option configures a Service.
type Option func(*Service)

// WithPolicy sets the upload/download policy hook (default: allow everything).
func WithPolicy(p Policy) Option { return func(s *Service) { s.policy = p } }

// WithDefaultQuota sets the quota of users who have none set (default 1 GiB).
func WithDefaultQuota(bytes int64) Option { return func(s *Service) { s.defaultQuota = bytes } }

// WithAutoPurgeTrash controls whether the oldest trash items are purged, oldest first,
// when an upload or copy needs their space (default true: a full trash never blocks work).
func WithAutoPurgeTrash(on bool) Option { return func(s *Service) { s.autoPurge = on } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithAdmins names who may change other users' quotas over the REST API
// (PUT /api/v1/admin/quota/{user}); by default nobody may (SetQuota remains for Go callers).
func WithAdmins(isAdmin func(user string) bool) Option {
	return func(s *Service) { s.isAdmin = isAdmin }
}

// WithRecentLimit sets how many recent files are remembered per user (default 100).
func WithRecentLimit(n int) Option { return func(s *Service) { s.recentLimit = n } }

// Service is the file center: per-user trees of directories and files with trash,
// recent files and quotas. Metadata lives in bbolt, contents in a ContentStore. All
// methods are safe for concurrent use.
type Service struct {
	db           *bolt.DB
	store        ContentStore
	ownDB        bool
	policy       Policy
	defaultQuota int64
	autoPurge    bool
	recentLimit  int
	isAdmin      func(user string) bool
	log          *slog.Logger
	now          func() time.Time

	locksMu sync.Mutex
	locks   map[string]webdav.LockSystem
}

// FileInfo describes a file or directory.
type FileInfo struct {
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Dir     bool      `json:"dir"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
	// ETag changes whenever the contents change.
	ETag string `json:"etag"`
}

// TrashItem is something deleted, with everything that was below it.
type TrashItem struct {
	ID        uint64    `json:"id"`
	Path      string    `json:"path"`
	Dir       bool      `json:"dir"`
	Size      int64     `json:"size"`
	DeletedAt time.Time `json:"deletedAt"`
}

// Usage is a user's quota and what counts against it. Used includes Trash.
type Usage struct {
	Quota int64 `json:"quota"`
	Used  int64 `json:"used"`
	Trash int64 `json:"trash"`
}

var bucketUsers = []byte("users")

// NewService returns a file center keeping metadata in db and contents in store. The
// caller keeps ownership of db.
func NewService(db *bolt.DB, store ContentStore, opts ...Option) (*Service, error) {
	s := &Service{
		db:           db,
		store:        store,
		defaultQuota: 1 << 30,
		autoPurge:    true,
		recentLimit:  100,
		log:          slog.New(slog.DiscardHandler),
		now:          time.Now,
		locks:        make(map[string]webdav.LockSystem),
	}
	for _, o := range opts {
		o(s)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketUsers)
		return err
	}); err != nil {
		return nil, fmt.Errorf("files: init metadata: %w", err)
	}
	return s, nil
}

// Open returns a file center kept in dir: metadata in dir/files.db, contents in
// dir/content. Close releases it.
func Open(dir string, opts ...Option) (*Service, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	store, err := NewDirStore(filepath.Join(dir, "content"))
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "files.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("files: open metadata: %w", err)
	}
	s, err := NewService(db, store, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownDB = true
	return s, nil
}

// Close closes the metadata database if the service opened it.
func (s *Service) Close() error {
	if s.ownDB {
		return s.db.Close()
	}
	return nil
}

// ---- metadata transactions ----

type node struct {
	Dir     bool   `json:"dir,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Mod     int64  `json:"mod"`
	Content string `json:"content,omitempty"`
}

type storedProp struct {
	Space string `json:"s"`
	Local string `json:"l"`
	Lang  string `json:"lang,omitempty"`
	Inner string `json:"x"`
}

type trashEntry struct {
	Path    string                  `json:"path"`
	Deleted int64                   `json:"deleted"`
	Size    int64                   `json:"size"`
	Dir     bool                    `json:"dir"`
	Nodes   map[string]node         `json:"nodes"` // relative path ("" is the item itself)
	Props   map[string][]storedProp `json:"props,omitempty"`
}

// userTx is one user's buckets inside a transaction.
type userTx struct {
	s                           *Service
	b, nodes, trash, rec, props *bolt.Bucket
}

func checkUser(user string) error {
	if user == "" || len(user) > 255 || !utf8.ValidString(user) || strings.ContainsFunc(user, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: bad user name %q", ErrInvalid, user)
	}
	return nil
}

func (s *Service) update(ctx context.Context, user string, fn func(u *userTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkUser(user); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		ub, err := tx.Bucket(bucketUsers).CreateBucketIfNotExists([]byte(user))
		if err != nil {
			return err
		}
		u := &userTx{s: s, b: ub}
		for _, x := range []struct {
			name string
			b    **bolt.Bucket
		}{{"nodes", &u.nodes}, {"trash", &u.trash}, {"recent", &u.rec}, {"props", &u.props}} {
			if *x.b, err = ub.CreateBucketIfNotExists([]byte(x.name)); err != nil {
				return err
			}
		}
		return fn(u)
	})
}

func (s *Service) view(ctx context.Context, user string, fn func(u *userTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkUser(user); err != nil {
		return err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUsers).Bucket([]byte(user))
		if ub == nil {
			return errNoUser
		}
		return fn(&userTx{s: s, b: ub, nodes: ub.Bucket([]byte("nodes")), trash: ub.Bucket([]byte("trash")), rec: ub.Bucket([]byte("recent")), props: ub.Bucket([]byte("props"))})
	})
	if errors.Is(err, errNoUser) {
		// First contact: create the user's empty tree and look again.
		if err := s.update(ctx, user, func(*userTx) error { return nil }); err != nil {
			return err
		}
		return s.view(ctx, user, fn)
	}
	return err
}

var errNoUser = errors.New("files: user not yet created")

func (u *userTx) get(p string) (node, bool, error) {
	if p == "/" {
		return node{Dir: true}, true, nil
	}
	v := u.nodes.Get([]byte(p))
	if v == nil {
		return node{}, false, nil
	}
	var n node
	if err := json.Unmarshal(v, &n); err != nil {
		return node{}, false, fmt.Errorf("files: corrupt metadata for %s: %w", p, err)
	}
	return n, true, nil
}

func (u *userTx) put(p string, n node) error {
	v, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return u.nodes.Put([]byte(p), v)
}

// mustGet returns the node at p or ErrNotFound.
func (u *userTx) mustGet(p string) (node, error) {
	n, ok, err := u.get(p)
	if err != nil {
		return node{}, err
	}
	if !ok {
		return node{}, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	return n, nil
}

// parentDir checks that p's parent exists and is a directory.
func (u *userTx) parentDir(p string) error {
	parent := parentOf(p)
	n, ok, err := u.get(parent)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: parent directory %s", ErrNotFound, parent)
	}
	if !n.Dir {
		return fmt.Errorf("%w: %s", ErrNotDir, parent)
	}
	return nil
}

type entry struct {
	path string
	n    node
}

// subtree returns p and everything below it, p first.
func (u *userTx) subtree(p string) ([]entry, error) {
	n, err := u.mustGet(p)
	if err != nil {
		return nil, err
	}
	out := []entry{{p, n}}
	if !n.Dir {
		return out, nil
	}
	prefix := []byte(childPrefix(p))
	c := u.nodes.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var cn node
		if err := json.Unmarshal(v, &cn); err != nil {
			return nil, fmt.Errorf("files: corrupt metadata for %s: %w", k, err)
		}
		out = append(out, entry{string(k), cn})
	}
	return out, nil
}

// children returns the direct children of the directory dir.
func (u *userTx) children(dir string) ([]entry, error) {
	prefix := childPrefix(dir)
	var out []entry
	c := u.nodes.Cursor()
	for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); {
		rest := string(k[len(prefix):])
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			// A grandchild: skip the whole subtree ('0' sorts right after '/').
			k, v = c.Seek([]byte(prefix + rest[:i] + "0"))
			continue
		}
		var n node
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, fmt.Errorf("files: corrupt metadata for %s: %w", k, err)
		}
		out = append(out, entry{string(k), n})
		k, v = c.Next()
	}
	return out, nil
}

func (u *userTx) counter(name string) int64 {
	v := u.b.Get([]byte("counter:" + name))
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func (u *userTx) setCounter(name string, v int64) error {
	return u.b.Put([]byte("counter:"+name), binary.BigEndian.AppendUint64(nil, uint64(v)))
}

func (u *userTx) addCounter(name string, d int64) error {
	return u.setCounter(name, u.counter(name)+d)
}

func (u *userTx) quota() int64 {
	if v := u.b.Get([]byte("counter:quota")); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return u.s.defaultQuota
}

// allowance is how many more bytes the user may store, counting trash that may be purged.
func (u *userTx) allowance() int64 {
	a := u.quota() - u.counter("used")
	if u.s.autoPurge {
		a += u.counter("trash")
	}
	return a
}

// makeRoom lets need more bytes be stored, purging the oldest trash items if allowed and
// necessary. It returns the content IDs to delete once the transaction commits, or
// ErrQuotaExceeded without purging anything if the bytes cannot fit.
func (u *userTx) makeRoom(need int64) ([]string, error) {
	used, quota := u.counter("used"), u.quota()
	if need <= 0 || used+need <= quota {
		return nil, nil
	}
	if !u.s.autoPurge || used-u.counter("trash")+need > quota {
		return nil, fmt.Errorf("%w: %d bytes needed, %d of %d used", ErrQuotaExceeded, need, used, quota)
	}
	var ids []string
	var keys [][]byte
	freed := int64(0)
	c := u.trash.Cursor()
	for k, v := c.First(); k != nil && used-freed+need > quota; k, v = c.Next() {
		var e trashEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("files: corrupt trash entry: %w", err)
		}
		freed += e.Size
		keys = append(keys, bytes.Clone(k))
		ids = append(ids, e.contentIDs()...)
		u.s.log.Info("purging trash to make room", "path", e.Path, "size", e.Size)
	}
	for _, k := range keys {
		if err := u.trash.Delete(k); err != nil {
			return nil, err
		}
	}
	if err := u.addCounter("used", -freed); err != nil {
		return nil, err
	}
	return ids, u.addCounter("trash", -freed)
}

func (e *trashEntry) contentIDs() []string {
	var ids []string
	for _, n := range e.Nodes {
		if n.Content != "" {
			ids = append(ids, n.Content)
		}
	}
	return ids
}

func (u *userTx) getProps(p string) ([]storedProp, error) {
	v := u.props.Get([]byte(p))
	if v == nil {
		return nil, nil
	}
	var ps []storedProp
	if err := json.Unmarshal(v, &ps); err != nil {
		return nil, fmt.Errorf("files: corrupt properties of %s: %w", p, err)
	}
	return ps, nil
}

func (u *userTx) putProps(p string, ps []storedProp) error {
	if len(ps) == 0 {
		return u.props.Delete([]byte(p))
	}
	v, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	if len(v) > 1<<20 {
		return fmt.Errorf("%w: more than 1 MiB of properties on %s", ErrQuotaExceeded, p)
	}
	return u.props.Put([]byte(p), v)
}

func (u *userTx) touchRecent(p string, t time.Time) error {
	if err := u.rec.Put([]byte(p), binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))); err != nil {
		return err
	}
	if u.rec.Stats().KeyN <= u.s.recentLimit {
		return nil
	}
	var oldest []byte
	var oldestT uint64 = 1<<64 - 1
	c := u.rec.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if t := binary.BigEndian.Uint64(v); t < oldestT {
			oldest, oldestT = bytes.Clone(k), t
		}
	}
	return u.rec.Delete(oldest)
}

// removeTree deletes p and everything below it from nodes, props and recent.
func (u *userTx) removeTree(tree []entry) error {
	for _, e := range tree {
		for _, b := range []*bolt.Bucket{u.nodes, u.props, u.rec} {
			if err := b.Delete([]byte(e.path)); err != nil {
				return err
			}
		}
	}
	return nil
}

// toTrash moves p and everything below it into the trash.
func (u *userTx) toTrash(p string, now time.Time) (TrashItem, error) {
	tree, err := u.subtree(p)
	if err != nil {
		return TrashItem{}, err
	}
	e := trashEntry{Path: p, Deleted: now.UnixNano(), Dir: tree[0].n.Dir, Nodes: map[string]node{}, Props: map[string][]storedProp{}}
	for _, te := range tree {
		rel := te.path[len(p):]
		e.Nodes[rel] = te.n
		e.Size += te.n.Size
		ps, err := u.getProps(te.path)
		if err != nil {
			return TrashItem{}, err
		}
		if len(ps) > 0 {
			e.Props[rel] = ps
		}
	}
	if err := u.removeTree(tree); err != nil {
		return TrashItem{}, err
	}
	id, err := u.trash.NextSequence()
	if err != nil {
		return TrashItem{}, err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return TrashItem{}, err
	}
	if err := u.trash.Put(binary.BigEndian.AppendUint64(nil, id), v); err != nil {
		return TrashItem{}, err
	}
	if err := u.addCounter("trash", e.Size); err != nil {
		return TrashItem{}, err
	}
	return e.item(id), nil
}

func (e *trashEntry) item(id uint64) TrashItem {
	return TrashItem{ID: id, Path: e.Path, Dir: e.Dir, Size: e.Size, DeletedAt: time.Unix(0, e.Deleted).UTC()}
}

func info(p string, n node) FileInfo {
	fi := FileInfo{Path: p, Name: baseOf(p), Dir: n.Dir, Size: n.Size, ModTime: time.Unix(0, n.Mod).UTC()}
	if n.Dir {
		fi.ETag = fmt.Sprintf(`"d%x"`, n.Mod)
	} else {
		fi.ETag = `"` + n.Content + `"`
	}
	return fi
}

// deleteContents removes blobs no longer referenced; failures only leak space.
func (s *Service) deleteContents(ids []string) {
	for _, id := range ids {
		if err := s.store.Delete(context.Background(), id); err != nil {
			s.log.Warn("cannot delete content", "id", id, "err", err)
		}
	}
}

func (s *Service) check(ctx context.Context, user string, a Action, p string) error {
	if s.policy == nil {
		return nil
	}
	if err := s.policy(ctx, user, a, p); err != nil {
		if errors.Is(err, ErrDenied) {
			return err
		}
		return fmt.Errorf("%w: %s of %s: %w", ErrDenied, a, p, err)
	}
	return nil
}

// ---- tree operations ----

// Stat describes the file or directory at p.
func (s *Service) Stat(ctx context.Context, user, p string) (FileInfo, error) {
	p, err := CleanPath(p)
	if err != nil {
		return FileInfo{}, err
	}
	var fi FileInfo
	err = s.view(ctx, user, func(u *userTx) error {
		n, err := u.mustGet(p)
		fi = info(p, n)
		return err
	})
	return fi, err
}

// List returns the entries of the directory p, sorted by name.
func (s *Service) List(ctx context.Context, user, p string) ([]FileInfo, error) {
	p, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	var out []FileInfo
	err = s.view(ctx, user, func(u *userTx) error {
		n, err := u.mustGet(p)
		if err != nil {
			return err
		}
		if !n.Dir {
			return fmt.Errorf("%w: %s", ErrNotDir, p)
		}
		kids, err := u.children(p)
		for _, k := range kids {
			out = append(out, info(k.path, k.n))
		}
		return err
	})
	return out, err
}

// Mkdir creates the directory p; its parent must exist.
func (s *Service) Mkdir(ctx context.Context, user, p string) (FileInfo, error) {
	p, err := CleanPath(p)
	if err != nil {
		return FileInfo{}, err
	}
	var fi FileInfo
	err = s.update(ctx, user, func(u *userTx) error {
		if _, ok, err := u.get(p); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("%w: %s", ErrExist, p)
			}
			return err
		}
		if err := u.parentDir(p); err != nil {
			return err
		}
		n := node{Dir: true, Mod: s.now().UnixNano()}
		fi = info(p, n)
		return u.put(p, n)
	})
	return fi, err
}

// Move moves (or renames) from to to, with everything below it. With overwrite, an
// existing target goes to the trash first; without, it is ErrExist.
func (s *Service) Move(ctx context.Context, user, from, to string, overwrite bool) error {
	from, to, err := cleanPair(from, to)
	if err != nil {
		return err
	}
	return s.update(ctx, user, func(u *userTx) error {
		tree, err := u.subtree(from)
		if err != nil {
			return err
		}
		if err := u.prepareTarget(to, overwrite); err != nil {
			return err
		}
		for _, e := range tree {
			np := to + e.path[len(from):]
			if err := u.nodes.Delete([]byte(e.path)); err != nil {
				return err
			}
			if err := u.put(np, e.n); err != nil {
				return err
			}
			for _, b := range []*bolt.Bucket{u.props, u.rec} {
				if v := b.Get([]byte(e.path)); v != nil {
					v = bytes.Clone(v)
					if err := b.Delete([]byte(e.path)); err != nil {
						return err
					}
					if err := b.Put([]byte(np), v); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// Rename gives p a new name in the same directory.
func (s *Service) Rename(ctx context.Context, user, p, name string) (FileInfo, error) {
	p, err := CleanPath(p)
	if err != nil {
		return FileInfo{}, err
	}
	if name == "" || strings.Contains(name, "/") {
		return FileInfo{}, fmt.Errorf("%w: a new name is one path segment, got %q", ErrInvalidPath, name)
	}
	to, err := CleanPath(parentOf(p) + "/" + name)
	if err != nil {
		return FileInfo{}, err
	}
	if err := s.Move(ctx, user, p, to, false); err != nil {
		return FileInfo{}, err
	}
	return s.Stat(ctx, user, to)
}

func cleanPair(from, to string) (string, string, error) {
	from, err := CleanPath(from)
	if err != nil {
		return "", "", err
	}
	to, err = CleanPath(to)
	if err != nil {
		return "", "", err
	}
	if from == "/" || to == "/" {
		return "", "", fmt.Errorf("%w: the root cannot be moved, copied or replaced", ErrInvalid)
	}
	if within(to, from) || within(from, to) {
		return "", "", fmt.Errorf("%w: %s and %s contain one another", ErrInvalid, from, to)
	}
	return from, to, nil
}

// prepareTarget checks that to may be created, sending an existing one to the trash when
// overwrite is set.
func (u *userTx) prepareTarget(to string, overwrite bool) error {
	if err := u.parentDir(to); err != nil {
		return err
	}
	_, exists, err := u.get(to)
	if err != nil || !exists {
		return err
	}
	if !overwrite {
		return fmt.Errorf("%w: %s", ErrExist, to)
	}
	_, err = u.toTrash(to, u.s.now())
	return err
}

// Copy copies from to to, with everything below it. The copy counts toward the quota.
func (s *Service) Copy(ctx context.Context, user, from, to string, overwrite bool) error {
	from, to, err := cleanPair(from, to)
	if err != nil {
		return err
	}
	var tree []entry
	var props map[string][]storedProp
	var total int64
	err = s.view(ctx, user, func(u *userTx) error {
		if tree, err = u.subtree(from); err != nil {
			return err
		}
		props = map[string][]storedProp{}
		for _, e := range tree {
			total += e.n.Size
			ps, err := u.getProps(e.path)
			if err != nil {
				return err
			}
			props[e.path] = ps
		}
		if total > u.allowance() {
			return fmt.Errorf("%w: copying %d bytes, %d left", ErrQuotaExceeded, total, u.allowance())
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Copy the bytes first, outside the metadata transaction.
	var created []string
	newIDs := map[string]string{}
	for _, e := range tree {
		if e.n.Dir {
			continue
		}
		id, err := s.copyContent(ctx, e.n.Content)
		if err != nil {
			s.deleteContents(created)
			return err
		}
		created = append(created, id)
		newIDs[e.path] = id
	}
	var purged []string
	err = s.update(ctx, user, func(u *userTx) error {
		if err := u.prepareTarget(to, overwrite); err != nil {
			return err
		}
		if purged, err = u.makeRoom(total); err != nil {
			return err
		}
		now := s.now().UnixNano()
		for _, e := range tree {
			np := to + e.path[len(from):]
			n := e.n
			n.Mod = now
			if !n.Dir {
				n.Content = newIDs[e.path]
			}
			if err := u.put(np, n); err != nil {
				return err
			}
			if err := u.putProps(np, props[e.path]); err != nil {
				return err
			}
		}
		return u.addCounter("used", total)
	})
	if err != nil {
		s.deleteContents(created)
		return err
	}
	s.deleteContents(purged)
	return nil
}

func (s *Service) copyContent(ctx context.Context, id string) (string, error) {
	src, err := s.store.Open(ctx, id)
	if err != nil {
		return "", err
	}
	defer src.Close()
	w, err := s.store.Create(ctx)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(w, io.NewSectionReader(src, 0, src.Size())); err != nil {
		w.Abort()
		return "", fmt.Errorf("files: copy content: %w", err)
	}
	if err := w.Commit(); err != nil {
		return "", err
	}
	return w.ID(), nil
}

// Delete moves p, with everything below it, to the trash. Trash still counts toward the
// quota until it is purged.
func (s *Service) Delete(ctx context.Context, user, p string) (TrashItem, error) {
	p, err := CleanPath(p)
	if err != nil {
		return TrashItem{}, err
	}
	if p == "/" {
		return TrashItem{}, fmt.Errorf("%w: the root cannot be deleted", ErrInvalid)
	}
	var item TrashItem
	err = s.update(ctx, user, func(u *userTx) error {
		item, err = u.toTrash(p, s.now())
		return err
	})
	return item, err
}

// ---- trash ----

// Trash lists the trash, newest first.
func (s *Service) Trash(ctx context.Context, user string) ([]TrashItem, error) {
	var out []TrashItem
	err := s.view(ctx, user, func(u *userTx) error {
		c := u.trash.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var e trashEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("files: corrupt trash entry: %w", err)
			}
			out = append(out, e.item(binary.BigEndian.Uint64(k)))
		}
		return nil
	})
	return out, err
}

func (u *userTx) trashEntry(id uint64) (trashEntry, error) {
	v := u.trash.Get(binary.BigEndian.AppendUint64(nil, id))
	if v == nil {
		return trashEntry{}, fmt.Errorf("%w: trash item %d", ErrNotFound, id)
	}
	var e trashEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return trashEntry{}, fmt.Errorf("files: corrupt trash entry: %w", err)
	}
	return e, nil
}

// Restore puts a trash item back at its old path, or at to if not empty. The target must
// not exist and its parent must. Restoring never lets a user exceed the quota: trash
// already counts toward it, and a user whose quota was lowered below their usage cannot
// restore until they make room (ErrQuotaExceeded; the item stays in the trash).
func (s *Service) Restore(ctx context.Context, user string, id uint64, to string) (FileInfo, error) {
	if to != "" {
		var err error
		if to, err = CleanPath(to); err != nil {
			return FileInfo{}, err
		}
	}
	var fi FileInfo
	err := s.update(ctx, user, func(u *userTx) error {
		e, err := u.trashEntry(id)
		if err != nil {
			return err
		}
		target := e.Path
		if to != "" {
			target = to
		}
		if target == "/" {
			return fmt.Errorf("%w: cannot restore onto the root", ErrInvalid)
		}
		if used, quota := u.counter("used"), u.quota(); used > quota {
			return fmt.Errorf("%w: %d of %d used; purge or delete before restoring", ErrQuotaExceeded, used, quota)
		}
		if err := u.prepareTarget(target, false); err != nil {
			return err
		}
		for rel, n := range e.Nodes {
			if err := u.put(target+rel, n); err != nil {
				return err
			}
			if err := u.putProps(target+rel, e.Props[rel]); err != nil {
				return err
			}
		}
		fi = info(target, e.Nodes[""])
		if err := u.trash.Delete(binary.BigEndian.AppendUint64(nil, id)); err != nil {
			return err
		}
		return u.addCounter("trash", -e.Size)
	})
	return fi, err
}

// PurgeTrash deletes one trash item for good, releasing its space.
func (s *Service) PurgeTrash(ctx context.Context, user string, id uint64) error {
	var ids []string
	err := s.update(ctx, user, func(u *userTx) error {
		e, err := u.trashEntry(id)
		if err != nil {
			return err
		}
		ids = e.contentIDs()
		if err := u.trash.Delete(binary.BigEndian.AppendUint64(nil, id)); err != nil {
			return err
		}
		if err := u.addCounter("trash", -e.Size); err != nil {
			return err
		}
		return u.addCounter("used", -e.Size)
	})
	if err == nil {
		s.deleteContents(ids)
	}
	return err
}

// EmptyTrash purges every trash item.
func (s *Service) EmptyTrash(ctx context.Context, user string) error {
	items, err := s.Trash(ctx, user)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := s.PurgeTrash(ctx, user, it.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// ---- recent files and quota ----

// Recent returns up to limit files most recently uploaded or downloaded, newest first.
func (s *Service) Recent(ctx context.Context, user string, limit int) ([]FileInfo, error) {
	type rec struct {
		fi FileInfo
		t  uint64
	}
	var all []rec
	err := s.view(ctx, user, func(u *userTx) error {
		c := u.rec.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n, ok, err := u.get(string(k))
			if err != nil {
				return err
			}
			if ok && !n.Dir {
				all = append(all, rec{info(string(k), n), binary.BigEndian.Uint64(v)})
			}
		}
		return nil
	})
	slices.SortFunc(all, func(a, b rec) int {
		if a.t != b.t {
			if a.t > b.t {
				return -1
			}
			return 1
		}
		return strings.Compare(a.fi.Path, b.fi.Path)
	})
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]FileInfo, len(all))
	for i, r := range all {
		out[i] = r.fi
	}
	return out, err
}

// Usage reports the user's quota and usage.
func (s *Service) Usage(ctx context.Context, user string) (Usage, error) {
	var us Usage
	err := s.view(ctx, user, func(u *userTx) error {
		us = Usage{Quota: u.quota(), Used: u.counter("used"), Trash: u.counter("trash")}
		return nil
	})
	return us, err
}

// SetQuota sets the user's quota (an administrator's expansion, or reduction: a reduced
// quota below current usage blocks new bytes and restores until the user makes room).
func (s *Service) SetQuota(ctx context.Context, user string, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("%w: negative quota", ErrInvalid)
	}
	return s.update(ctx, user, func(u *userTx) error { return u.setCounter("quota", bytes) })
}

// ---- dead properties (WebDAV) ----

func (s *Service) deadProps(ctx context.Context, user, p string) (map[xml.Name]webdav.Property, error) {
	m := map[xml.Name]webdav.Property{}
	err := s.view(ctx, user, func(u *userTx) error {
		ps, err := u.getProps(p)
		for _, sp := range ps {
			n := xml.Name{Space: sp.Space, Local: sp.Local}
			m[n] = webdav.Property{XMLName: n, Lang: sp.Lang, InnerXML: []byte(sp.Inner)}
		}
		return err
	})
	return m, err
}

func applyPatches(ps []storedProp, patches []webdav.Proppatch) ([]storedProp, webdav.Propstat) {
	st := webdav.Propstat{Status: 200}
	for _, patch := range patches {
		for _, p := range patch.Props {
			st.Props = append(st.Props, webdav.Property{XMLName: p.XMLName})
			ps = slices.DeleteFunc(ps, func(sp storedProp) bool {
				return sp.Space == p.XMLName.Space && sp.Local == p.XMLName.Local
			})
			if !patch.Remove {
				ps = append(ps, storedProp{Space: p.XMLName.Space, Local: p.XMLName.Local, Lang: p.Lang, Inner: string(p.InnerXML)})
			}
		}
	}
	return ps, st
}

func (s *Service) patchProps(ctx context.Context, user, p string, patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	var st webdav.Propstat
	err := s.update(ctx, user, func(u *userTx) error {
		if _, err := u.mustGet(p); err != nil {
			return err
		}
		ps, err := u.getProps(p)
		if err != nil {
			return err
		}
		ps, st = applyPatches(ps, patches)
		return u.putProps(p, ps)
	})
	if err != nil {
		return nil, err
	}
	return []webdav.Propstat{st}, nil
}

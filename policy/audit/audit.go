package audit

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"
)

// Entry is one audited action. Seq, Time, Prev and Hash are filled in by Log.Append.
type Entry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Actor is who acted and Role the role they acted in, e.g. "security-admin".
	Actor string `json:"actor"`
	Role  string `json:"role"`
	// Action says what was done, e.g. "grant", "policy.update", "session.clipboard".
	Action string `json:"action"`
	Target string `json:"target"`
	// Outcome is "ok", "denied" or "error".
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
	// Prev is the previous entry's Hash (empty for the first entry) and Hash this entry's,
	// both hexadecimal.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// Checkpoint is the head of a log: the last entry's sequence number and hash. Kept apart
// from the log (another machine, a printout, a signed message), it lets Verify notice
// entries removed from the end and a log rewritten wholesale.
type Checkpoint struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Log appends hash-chained entries as JSON lines to a writer. Each entry's hash covers its
// fields and the previous hash, so editing, removing or reordering any entry breaks every
// later link. With a key the hash is an HMAC, so only a key holder can forge a chain. A Log
// is safe for concurrent use.
type Log struct {
	mu    sync.Mutex
	w     io.Writer
	key   []byte
	clock func() time.Time
	head  Checkpoint
}

// Option configures a Log or a verification.
type Option func(*options)

type options struct {
	key   []byte
	clock func() time.Time
}

// WithKey makes entry hashes HMAC-SHA256 under key instead of plain SHA-256. Verify must be
// given the same key.
func WithKey(key []byte) Option { return func(o *options) { o.key = append([]byte(nil), key...) } }

// WithClock sets where entry times come from (time.Now by default).
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

func collect(opts []Option) options {
	o := options{clock: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// NewLog starts a log that writes to w after the entries up to head (the zero Checkpoint
// for a new log); resume an existing log with the Checkpoint Verify returned for it.
func NewLog(w io.Writer, head Checkpoint, opts ...Option) *Log {
	o := collect(opts)
	return &Log{w: w, key: o.key, clock: o.clock, head: head}
}

// Head returns the checkpoint of the last entry appended.
func (l *Log) Head() Checkpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Append stamps the entry with the next sequence number, the time and the chain hashes,
// writes it as one JSON line and returns it as written.
func (l *Log) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Seq = l.head.Seq + 1
	e.Time = l.clock().UTC()
	e.Prev = l.head.Hash
	e.Hash = entryHash(l.key, &e)
	line, err := json.Marshal(&e)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: encoding entry %d: %w", e.Seq, err)
	}
	if _, err := l.w.Write(append(line, '\n')); err != nil {
		return Entry{}, fmt.Errorf("audit: writing entry %d: %w", e.Seq, err)
	}
	l.head = Checkpoint{Seq: e.Seq, Hash: e.Hash}
	return e, nil
}

// entryHash hashes the previous hash and every field but Hash, each length-prefixed so
// that no two different entries encode alike.
func entryHash(key []byte, e *Entry) string {
	var h hash.Hash
	if key != nil {
		h = hmac.New(sha256.New, key)
	} else {
		h = sha256.New()
	}
	var num [8]byte
	binary.BigEndian.PutUint64(num[:], e.Seq)
	h.Write(num[:])
	for _, field := range []string{e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Role, e.Action, e.Target, e.Outcome, e.Detail, e.Prev} {
		binary.BigEndian.PutUint64(num[:], uint64(len(field)))
		h.Write(num[:])
		h.Write([]byte(field))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrTampered is wrapped by every TamperError.
var ErrTampered = errors.New("audit: log has been tampered with")

// TamperError says where verification found the chain broken.
type TamperError struct {
	// Line is the 1-based line of the JSON-lines input, 0 when the problem is the end of
	// the log.
	Line int
	// Seq is the sequence number the entry at Line claims.
	Seq     uint64
	Problem string
}

func (e *TamperError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("audit: log has been tampered with: %s", e.Problem)
	}
	return fmt.Sprintf("audit: log has been tampered with at line %d (entry %d): %s", e.Line, e.Seq, e.Problem)
}

// Unwrap makes errors.Is(err, ErrTampered) hold.
func (e *TamperError) Unwrap() error { return ErrTampered }

// Verify reads a JSON-lines log and checks every link of its chain: sequence numbers
// counting up from 1, each Prev equal to the previous Hash, each Hash matching its entry.
// When want is not nil the log must end exactly at that checkpoint, which catches entries
// cut from the end and a chain rebuilt from scratch. It returns the log's head, to resume
// appending with NewLog.
func Verify(r io.Reader, want *Checkpoint, opts ...Option) (Checkpoint, error) {
	o := collect(opts)
	var head Checkpoint
	err := scan(r, func(line int, e *Entry) error {
		broken := func(problem string, args ...any) error {
			return &TamperError{Line: line, Seq: e.Seq, Problem: fmt.Sprintf(problem, args...)}
		}
		switch {
		case e.Seq != head.Seq+1:
			return broken("sequence number %d follows %d (an entry was removed, added or moved)", e.Seq, head.Seq)
		case e.Prev != head.Hash:
			return broken("does not link to the entry before it (an entry was removed or moved)")
		case !hmac.Equal([]byte(e.Hash), []byte(entryHash(o.key, e))):
			return broken("contents do not match the hash (the entry was edited)")
		}
		head = Checkpoint{Seq: e.Seq, Hash: e.Hash}
		return nil
	})
	if err != nil {
		return Checkpoint{}, err
	}
	if want != nil && head != *want {
		return Checkpoint{}, &TamperError{Problem: fmt.Sprintf("log ends at entry %d, the checkpoint says %d (entries were removed from the end or the log was rewritten)", head.Seq, want.Seq)}
	}
	return head, nil
}

// ReadAll decodes a JSON-lines log without verifying it; run Verify first.
func ReadAll(r io.Reader) ([]Entry, error) {
	var entries []Entry
	err := scan(r, func(_ int, e *Entry) error {
		entries = append(entries, *e)
		return nil
	})
	return entries, err
}

// maxLine bounds one entry's encoded size, so a corrupt log cannot exhaust memory.
const maxLine = 1 << 20

func scan(r io.Reader, visit func(line int, e *Entry) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			return &TamperError{Line: line, Problem: "empty line"}
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return &TamperError{Line: line, Problem: fmt.Sprintf("not a JSON entry: %v", err)}
		}
		if err := visit(line, &e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("audit: reading log: %w", err)
	}
	return nil
}

package clipboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// ErrTooLarge is returned by Set for text over MaxSend bytes.
var ErrTooLarge = errors.New("clipboard: text too large")

// ErrClosed is returned by Set after Close.
var ErrClosed = errors.New("clipboard: closed")

// ErrNotOwner is returned by Set when the X server did not make us the selection owner.
var ErrNotOwner = errors.New("clipboard: did not become the CLIPBOARD owner")

// MaxSend bounds the text Set accepts. Text larger than one X request (about 256 KiB) is
// served incrementally (INCR).
const MaxSend = 16 << 20

// MaxReceive bounds the text read from another application (incremental transfers included);
// larger content is dropped with a log message.
const MaxReceive = 16 << 20

type atoms struct {
	clipboard, targets, utf8, text, incr, prop xproto.Atom
}

// The predefined atoms of the core protocol that we use.
const (
	atomAtom   = xproto.AtomAtom
	atomString = xproto.AtomString
)

// X11 is the Clipboard of an X display. It owns the CLIPBOARD selection with a hidden
// window when Set is called and answers other applications' requests for it (TARGETS,
// UTF8_STRING, TEXT, STRING). It watches ownership changes with XFIXES and reads
// each new owner's text (UTF8_STRING, falling back to STRING; incremental INCR transfers are
// followed) into Changes. Its own Set is not reported back.
type X11 struct {
	conn  *xgb.Conn
	win   xproto.Window
	atoms atoms
	chunk int // largest property data we write in one request
	log   *slog.Logger

	mu     sync.Mutex
	text   string
	owned  bool
	closed bool

	// Receive state, owned by the event loop.
	want    xproto.Atom // target we asked for (0: no transfer in progress)
	incr    bool
	incrBuf []byte

	// Incremental sends in progress, by requestor window and property.
	sends map[sendKey]*send

	changes chan string
	done    chan struct{}
	wg      sync.WaitGroup
}

// OpenX11 connects to display, creates the hidden window and starts watching the CLIPBOARD
// selection. When an application already owns it, its current text is the first Change.
func OpenX11(ctx context.Context, display string) (*X11, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("clipboard: connect to %s: %w", display, err)
	}
	x := &X11{
		conn:    conn,
		log:     slog.Default().With("display", display),
		changes: make(chan string, 1),
		sends:   map[sendKey]*send{},
		done:    make(chan struct{}),
	}
	if err := x.setup(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clipboard: %s: %w", display, err)
	}
	owner, err := xproto.GetSelectionOwner(conn, x.atoms.clipboard).Reply()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("clipboard: %s: %w", display, err)
	}
	if owner.Owner != 0 {
		x.request(x.atoms.utf8)
	}
	x.wg.Add(1)
	go x.loop()
	return x, nil
}

func (x *X11) setup() error {
	c := x.conn
	setup := xproto.Setup(c)
	screen := setup.DefaultScreen(c)
	// ChangeProperty's fixed part is 24 bytes; the rest of the longest request is data.
	x.chunk = min(int(setup.MaximumRequestLength)*4-24, 1<<18)

	for name, dst := range map[string]*xproto.Atom{
		"CLIPBOARD": &x.atoms.clipboard, "TARGETS": &x.atoms.targets, "UTF8_STRING": &x.atoms.utf8,
		"TEXT": &x.atoms.text, "INCR": &x.atoms.incr,
		"SHADOWLESS_CLIPBOARD": &x.atoms.prop,
	} {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			return fmt.Errorf("intern %s: %w", name, err)
		}
		*dst = r.Atom
	}
	var err error
	if x.win, err = xproto.NewWindowId(c); err != nil {
		return err
	}
	// An unmapped InputOnly window: never visible, receives selection and property events.
	if err := xproto.CreateWindowChecked(c, 0, x.win, screen.Root, -10, -10, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, xproto.CwEventMask,
		[]uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		return fmt.Errorf("create window: %w", err)
	}
	if err := xfixes.Init(c); err != nil {
		return fmt.Errorf("XFIXES extension: %w", err)
	}
	if _, err := xfixes.QueryVersion(c, 5, 0).Reply(); err != nil {
		return fmt.Errorf("XFIXES version: %w", err)
	}
	mask := uint32(xfixes.SelectionEventMaskSetSelectionOwner | xfixes.SelectionEventMaskSelectionWindowDestroy |
		xfixes.SelectionEventMaskSelectionClientClose)
	if err := xfixes.SelectSelectionInputChecked(c, x.win, x.atoms.clipboard, mask).Check(); err != nil {
		return fmt.Errorf("XFIXES selection input: %w", err)
	}
	return nil
}

// Changes returns the channel of texts other applications put on the clipboard. When the
// receiver falls behind, only the newest text is kept. Closed by Close.
func (x *X11) Changes() <-chan string { return x.changes }

// Set makes text the CLIPBOARD content, owned by our hidden window until another
// application takes it.
func (x *X11) Set(ctx context.Context, text string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	if len(text) > MaxSend {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(text), MaxSend)
	}
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return ErrClosed
	}
	x.text, x.owned = text, true
	x.mu.Unlock()

	// CurrentTime rather than a server timestamp (ICCCM prefers one): we own the selection
	// until someone else takes it, which is all a clipboard bridge needs.
	if err := xproto.SetSelectionOwnerChecked(x.conn, x.win, x.atoms.clipboard, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("clipboard: SetSelectionOwner: %w", err)
	}
	owner, err := xproto.GetSelectionOwner(x.conn, x.atoms.clipboard).Reply()
	if err != nil {
		return fmt.Errorf("clipboard: GetSelectionOwner: %w", err)
	}
	if owner.Owner != x.win {
		x.mu.Lock()
		x.owned = false
		x.mu.Unlock()
		return ErrNotOwner
	}
	return nil
}

// request asks the current owner to convert CLIPBOARD to target into our property.
func (x *X11) request(target xproto.Atom) {
	x.want, x.incr, x.incrBuf = target, false, nil
	xproto.ConvertSelection(x.conn, x.win, x.atoms.clipboard, target, x.atoms.prop, xproto.TimeCurrentTime)
}

func (x *X11) loop() {
	defer x.wg.Done()
	defer close(x.changes)
	for {
		ev, xerr := x.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			return
		}
		if xerr != nil {
			// Typically BadWindow from a requestor that vanished mid-answer.
			x.log.Debug("clipboard: X error", "err", xerr)
			continue
		}
		switch e := ev.(type) {
		case xfixes.SelectionNotifyEvent:
			if e.Selection != x.atoms.clipboard || e.Owner == x.win || e.Owner == 0 {
				continue // our own Set, or the owner went away
			}
			x.request(x.atoms.utf8)
		case xproto.SelectionClearEvent:
			if e.Selection == x.atoms.clipboard {
				x.mu.Lock()
				x.owned, x.text = false, ""
				x.mu.Unlock()
			}
		case xproto.SelectionRequestEvent:
			x.answer(e)
		case xproto.SelectionNotifyEvent:
			x.received(e)
		case xproto.PropertyNotifyEvent:
			if x.incr && e.Window == x.win && e.Atom == x.atoms.prop && e.State == xproto.PropertyNewValue {
				x.incrChunk()
			}
			if e.State == xproto.PropertyDelete {
				x.sendChunk(sendKey{e.Window, e.Atom})
			}
		case xproto.DestroyNotifyEvent:
			for k := range x.sends {
				if k.win == e.Window {
					delete(x.sends, k)
				}
			}
		}
	}
}

// received handles the owner's answer to our ConvertSelection.
func (x *X11) received(e xproto.SelectionNotifyEvent) {
	if e.Requestor != x.win || e.Selection != x.atoms.clipboard || x.want == 0 {
		return
	}
	if e.Property == 0 {
		if x.want == x.atoms.utf8 {
			x.request(atomString) // an old client: try Latin-1
			return
		}
		x.want = 0
		return
	}
	reply, err := xproto.GetProperty(x.conn, true, x.win, x.atoms.prop, xproto.GetPropertyTypeAny, 0, MaxReceive/4+1).Reply()
	if err != nil {
		x.want = 0
		return
	}
	if reply.Type == x.atoms.incr {
		// Deleting the property (done by GetProperty) tells the owner to send chunks.
		x.incr, x.incrBuf = true, nil
		return
	}
	x.deliver(reply.Type, reply.Value)
}

func (x *X11) incrChunk() {
	reply, err := xproto.GetProperty(x.conn, true, x.win, x.atoms.prop, xproto.GetPropertyTypeAny, 0, MaxReceive/4+1).Reply()
	if err != nil {
		x.incr, x.want = false, 0
		return
	}
	if len(reply.Value) == 0 { // end of transfer
		x.incr = false
		x.deliver(reply.Type, x.incrBuf)
		x.incrBuf = nil
		return
	}
	if len(x.incrBuf)+len(reply.Value) > MaxReceive {
		x.log.Warn("clipboard: incoming text over the limit dropped", "limit", MaxReceive)
		x.incr, x.want, x.incrBuf = false, 0, nil
		return
	}
	x.incrBuf = append(x.incrBuf, reply.Value...)
}

func (x *X11) deliver(typ xproto.Atom, data []byte) {
	target := x.want
	x.want = 0
	var text string
	switch {
	case typ == atomString || target == atomString && typ != x.atoms.utf8:
		text = latin1ToUTF8(data)
	default:
		text = strings.ToValidUTF8(string(data), "\uFFFD")
	}
	// Keep only the newest text when the receiver is behind.
	for {
		select {
		case x.changes <- text:
			return
		default:
		}
		select {
		case <-x.changes:
		default:
		}
	}
}

// answer serves another application's request for our selection.
func (x *X11) answer(e xproto.SelectionRequestEvent) {
	prop := e.Property
	if prop == 0 { // obsolete requestor: use the target as property name
		prop = e.Target
	}
	x.mu.Lock()
	text, owned := x.text, x.owned
	x.mu.Unlock()
	ok := owned && e.Selection == x.atoms.clipboard
	if ok {
		c := x.conn
		switch e.Target {
		case x.atoms.targets:
			list := []xproto.Atom{x.atoms.targets, x.atoms.utf8, x.atoms.text, atomString}
			buf := make([]byte, 4*len(list))
			for i, a := range list {
				xgb.Put32(buf[4*i:], uint32(a))
			}
			xproto.ChangeProperty(c, xproto.PropModeReplace, e.Requestor, prop, atomAtom, 32, uint32(len(list)), buf)
		case x.atoms.utf8, x.atoms.text:
			x.put(e.Requestor, prop, x.atoms.utf8, []byte(text))
		case atomString:
			x.put(e.Requestor, prop, atomString, utf8ToLatin1(text))
		default:
			ok = false
		}
	}
	if !ok {
		prop = 0 // refusal
	}
	notify := xproto.SelectionNotifyEvent{
		Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop,
	}
	xproto.SendEvent(x.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(notify.Bytes()))
}

type sendKey struct {
	win  xproto.Window
	prop xproto.Atom
}

// send is one incremental transfer to a requestor.
type send struct {
	typ  xproto.Atom
	data []byte
	off  int
	done bool // the final zero-length chunk was written
}

// put writes data to the requestor's property, in one piece when it fits in a request and
// with the ICCCM INCR protocol otherwise: an INCR property announcing the size, then one
// chunk each time the requestor deletes the property, then an empty chunk.
func (x *X11) put(win xproto.Window, prop, typ xproto.Atom, data []byte) {
	c := x.conn
	if len(data) <= x.chunk {
		xproto.ChangeProperty(c, xproto.PropModeReplace, win, prop, typ, 8, uint32(len(data)), data)
		return
	}
	// Watch the requestor's property deletions (and its destruction, to forget the transfer).
	xproto.ChangeWindowAttributes(c, win, xproto.CwEventMask,
		[]uint32{xproto.EventMaskPropertyChange | xproto.EventMaskStructureNotify})
	size := make([]byte, 4)
	xgb.Put32(size, uint32(len(data)))
	xproto.ChangeProperty(c, xproto.PropModeReplace, win, prop, x.atoms.incr, 32, 1, size)
	x.sends[sendKey{win, prop}] = &send{typ: typ, data: data}
}

// sendChunk continues an incremental transfer after the requestor deleted the property.
func (x *X11) sendChunk(k sendKey) {
	s, ok := x.sends[k]
	if !ok {
		return
	}
	if s.done {
		delete(x.sends, k)
		for other := range x.sends {
			if other.win == k.win {
				return // still sending another property to this window
			}
		}
		xproto.ChangeWindowAttributes(x.conn, k.win, xproto.CwEventMask, []uint32{xproto.EventMaskNoEvent})
		return
	}
	n := min(x.chunk, len(s.data)-s.off)
	xproto.ChangeProperty(x.conn, xproto.PropModeReplace, k.win, k.prop, s.typ, 8, uint32(n), s.data[s.off:s.off+n])
	s.off += n
	s.done = n == 0
}

// latin1ToUTF8 decodes ICCCM STRING (ISO 8859-1) text.
func latin1ToUTF8(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// utf8ToLatin1 encodes text as ICCCM STRING, '?' for characters outside Latin-1.
func utf8ToLatin1(s string) []byte {
	out := make([]byte, 0, utf8.RuneCountInString(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// Close destroys the hidden window (giving up ownership), closes the connection and the
// Changes channel. It is safe to call more than once.
func (x *X11) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	x.mu.Unlock()
	xproto.DestroyWindow(x.conn, x.win)
	x.conn.Close()
	x.wg.Wait()
	return nil
}

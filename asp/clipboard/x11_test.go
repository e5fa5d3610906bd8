package clipboard

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/asp/xvfb"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

func startX(t *testing.T) *xvfb.Server {
	t.Helper()
	testenv.LookPath(t, "Xvfb")
	srv, err := xvfb.Start(context.Background(), xvfb.Options{Width: 320, Height: 240})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func open(t *testing.T, display string) *X11 {
	t.Helper()
	c, err := OpenX11(context.Background(), display)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s, ok := <-ch:
		require.True(t, ok, "Changes closed")
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no clipboard change")
		return ""
	}
}

func quiet(t *testing.T, ch <-chan string) {
	t.Helper()
	select {
	case s := <-ch:
		t.Fatalf("unexpected change %q", s)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestX11TwoInstances(t *testing.T) {
	srv := startX(t)
	a := open(t, srv.Display())
	b := open(t, srv.Display())
	ctx := context.Background()

	require.NoError(t, a.Set(ctx, "hello from a"))
	assert.Equal(t, "hello from a", recv(t, b.Changes()))
	quiet(t, a.Changes()) // our own Set is not reported

	require.NoError(t, b.Set(ctx, "grüße 中文 €"))
	assert.Equal(t, "grüße 中文 €", recv(t, a.Changes()))
	quiet(t, b.Changes())

	// A later instance sees the current content at once.
	c := open(t, srv.Display())
	assert.Equal(t, "grüße 中文 €", recv(t, c.Changes()))

	big := strings.Repeat("0123456789abcdef", 10000) // 160 KB, one request
	require.NoError(t, a.Set(ctx, big))
	assert.Equal(t, big, recv(t, b.Changes()))

	huge := strings.Repeat("incremental transfer ß\n", 50000) // 1.2 MB: sent with INCR
	require.NoError(t, a.Set(ctx, huge))
	require.Equal(t, huge, recv(t, b.Changes()))

	err := a.Set(ctx, strings.Repeat("x", MaxSend+1))
	require.ErrorIs(t, err, ErrTooLarge)
}

// requestor converts CLIPBOARD to target as a bare X client would and returns the reply
// property's type name and value (nil type name when refused).
func convert(t *testing.T, display, target string) (string, []byte) {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	require.NoError(t, err)
	defer c.Close()
	atom := func(name string) xproto.Atom {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		require.NoError(t, err)
		return r.Atom
	}
	screen := xproto.Setup(c).DefaultScreen(c)
	win, err := xproto.NewWindowId(c)
	require.NoError(t, err)
	require.NoError(t, xproto.CreateWindowChecked(c, 0, win, screen.Root, 0, 0, 1, 1, 0, xproto.WindowClassInputOnly, 0, 0, nil).Check())
	prop := atom("RESULT")
	xproto.ConvertSelection(c, win, atom("CLIPBOARD"), atom(target), prop, xproto.TimeCurrentTime)
	deadline := time.After(5 * time.Second)
	for {
		evc := make(chan xgb.Event, 1)
		go func() { ev, _ := c.WaitForEvent(); evc <- ev }()
		select {
		case ev := <-evc:
			n, ok := ev.(xproto.SelectionNotifyEvent)
			if !ok {
				continue
			}
			if n.Property == 0 {
				return "", nil
			}
			r, err := xproto.GetProperty(c, true, win, prop, xproto.GetPropertyTypeAny, 0, 1<<20).Reply()
			require.NoError(t, err)
			name, err := xproto.GetAtomName(c, r.Type).Reply()
			require.NoError(t, err)
			return name.Name, r.Value
		case <-deadline:
			t.Fatal("no SelectionNotify")
		}
	}
}

func TestX11AnswersTargets(t *testing.T) {
	srv := startX(t)
	a := open(t, srv.Display())
	require.NoError(t, a.Set(context.Background(), "café 中"))

	typ, val := convert(t, srv.Display(), "UTF8_STRING")
	assert.Equal(t, "UTF8_STRING", typ)
	assert.Equal(t, "café 中", string(val))

	typ, val = convert(t, srv.Display(), "STRING")
	assert.Equal(t, "STRING", typ)
	assert.Equal(t, []byte("caf\xe9 ?"), val, "Latin-1, ? outside it")

	typ, val = convert(t, srv.Display(), "TARGETS")
	assert.Equal(t, "ATOM", typ)
	assert.Len(t, val, 4*4)

	typ, _ = convert(t, srv.Display(), "image/png")
	assert.Empty(t, typ, "unsupported targets are refused")
}

func TestX11WithXclip(t *testing.T) {
	testenv.LookPath(t, "xclip")
	srv := startX(t)
	a := open(t, srv.Display())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// xclip reads what we set.
	require.NoError(t, a.Set(ctx, "from shadowless é"))
	out, err := srv.Command(ctx, "xclip", "-selection", "clipboard", "-o").Output()
	require.NoError(t, err)
	assert.Equal(t, "from shadowless é", string(out))
	huge := strings.Repeat("to xclip with INCR é\n", 60000)
	require.NoError(t, a.Set(ctx, huge))
	out, err = srv.Command(ctx, "xclip", "-selection", "clipboard", "-o").Output()
	require.NoError(t, err)
	require.True(t, huge == string(out), "xclip got %d bytes, want %d", len(out), len(huge))

	// We read what xclip sets: small, and large enough that xclip sends it with INCR.
	for _, text := range []string{"from xclip 中", strings.Repeat("large clipboard line ü\n", 40000)} {
		cmd := srv.Command(ctx, "xclip", "-selection", "clipboard", "-i", "-quiet")
		cmd.Stdin = strings.NewReader(text)
		require.NoError(t, cmd.Start())
		got := recv(t, a.Changes())
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		require.Equal(t, len(text), len(got))
		require.True(t, bytes.Equal([]byte(text), []byte(got)))
	}
}

func TestX11CloseClosesChanges(t *testing.T) {
	srv := startX(t)
	a, err := OpenX11(context.Background(), srv.Display())
	require.NoError(t, err)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	_, ok := <-a.Changes()
	assert.False(t, ok)
	require.ErrorIs(t, a.Set(context.Background(), "x"), ErrClosed)
}

func TestLatin1(t *testing.T) {
	assert.Equal(t, "café", latin1ToUTF8([]byte("caf\xe9")))
	assert.Equal(t, []byte("caf\xe9 ?"), utf8ToLatin1("café 中"))
}

func FuzzLatin1RoundTrip(f *testing.F) {
	f.Add([]byte("caf\xe9"))
	f.Add([]byte{0, 0xff, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := latin1ToUTF8(b)
		require.Equal(t, b, utf8ToLatin1(s), "Latin-1 survives the round trip")
	})
}

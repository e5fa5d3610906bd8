package input

import (
	"bufio"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// gtkPython finds a python3 with the GTK3 bindings: Debian's python3-gi lives in the system
// interpreter, which a pyenv or venv python3 earlier in PATH does not see.
func gtkPython(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var out []byte
	var err error
	for _, py := range candidates {
		out, err = exec.Command(py, "-c", `import gi; gi.require_version("Gtk", "3.0"); gi.require_version("GdkX11", "3.0"); from gi.repository import Gtk, GdkX11`).CombinedOutput()
		if err == nil {
			return py
		}
	}
	testenv.Unavailable(t, "python3 GTK3 bindings missing (python3-gi, gir1.2-gtk-3.0; run scripts/install-deps.sh): %v: %s", err, out)
	return ""
}

// TestX11TypeIntoGTK3 types into a real GTK3 entry. GTK3 reads keys through XInput2 and is
// the case where plain core XTEST injection is known to be ignored (see FIELD-NOTES).
func TestX11TypeIntoGTK3(t *testing.T) {
	py := gtkPython(t)
	srv := startX(t, 320, 240)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cmd := srv.Command(ctx, py, "testdata/gtk_entry.py")
	cmd.Env = append(cmd.Env, "GDK_BACKEND=x11", "NO_AT_BRIDGE=1", "GTK_A11Y=none")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)

	require.True(t, lines.Scan(), "GTK app did not start: %v", lines.Err())
	ready := strings.Fields(lines.Text())
	require.Len(t, ready, 2, lines.Text())
	require.Equal(t, "ready", ready[0])
	xid, err := strconv.ParseUint(ready[1], 10, 32)
	require.NoError(t, err)

	// No window manager on Xvfb: give the window the focus ourselves.
	c, err := xgb.NewConnDisplay(srv.Display())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, xproto.SetInputFocusChecked(c, xproto.InputFocusPointerRoot, xproto.Window(xid), xproto.TimeCurrentTime).Check())

	inj := openInjector(t, srv.Display())
	require.NoError(t, inj.Inject(ctx, Event{Kind: MouseMove, X: 50, Y: 20}))
	want := "Hi GTK, é中!"
	typeText(t, inj, want+"\n")

	require.True(t, lines.Scan(), "no text from the GTK app: %v", lines.Err())
	require.Equal(t, "text "+want, lines.Text())
}

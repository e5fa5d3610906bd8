package xvfb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotFound is returned by Start when the Xvfb program is not installed.
var ErrNotFound = errors.New("xvfb: Xvfb program not found")

// Options configures Start. The zero value gives a 1920x1080 screen at depth 24.
type Options struct {
	// Width and Height of screen 0 in pixels (default 1920x1080).
	Width, Height int
	// Depth in bits per pixel (default 24).
	Depth int
	// Program is the Xvfb executable (default "Xvfb" looked up in PATH).
	Program string
	// ExtraArgs are appended to Xvfb's command line.
	ExtraArgs []string
	// StartTimeout bounds how long Start waits for the server to accept connections
	// (default 15 s).
	StartTimeout time.Duration
}

func (o *Options) defaults() {
	if o.Width <= 0 {
		o.Width = 1920
	}
	if o.Height <= 0 {
		o.Height = 1080
	}
	if o.Depth <= 0 {
		o.Depth = 24
	}
	if o.Program == "" {
		o.Program = "Xvfb"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
}

// Server is a running Xvfb process.
type Server struct {
	cmd     *exec.Cmd
	display string
	number  int
	width   int
	height  int
	done    chan struct{}
	waitErr error
	stderr  *tailBuffer

	closeOnce sync.Once
	closeErr  error
}

// Start launches Xvfb and waits until it accepts connections on its local socket. The
// process is killed when ctx is cancelled before Start returns; after that, only Close stops
// it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts.defaults()
	path, err := exec.LookPath(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("xvfb: pipe: %w", err)
	}
	defer r.Close()

	args := []string{
		"-displayfd", "3", // ExtraFiles[0] is fd 3 in the child
		"-screen", "0", fmt.Sprintf("%dx%dx%d", opts.Width, opts.Height, opts.Depth),
		"-nolisten", "tcp",
		"-noreset",
		"+extension", "MIT-SHM",
	}
	args = append(args, opts.ExtraArgs...)
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{w}
	stderr := &tailBuffer{max: 4096}
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	// Own process group: a terminal's Ctrl-C reaches only us, and we stop the server in order.
	// Pdeathsig stops it if we die without Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("xvfb: start %s: %w", path, err)
	}
	w.Close()

	s := &Server{cmd: cmd, width: opts.Width, height: opts.Height, done: make(chan struct{}), stderr: stderr}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	type result struct {
		n   int
		err error
	}
	got := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil && line == "" {
			got <- result{err: fmt.Errorf("reading display number: %w", err)}
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(line))
		got <- result{n: n, err: err}
	}()

	timer := time.NewTimer(opts.StartTimeout)
	defer timer.Stop()
	fail := func(err error) (*Server, error) {
		_ = s.Close()
		return nil, fmt.Errorf("xvfb: %w (stderr: %s)", err, strings.TrimSpace(stderr.String()))
	}
	var res result
	select {
	case res = <-got:
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-timer.C:
		return fail(errors.New("timed out waiting for the display number"))
	case <-s.done:
		return fail(fmt.Errorf("Xvfb exited early: %v", s.waitErr))
	}
	if res.err != nil {
		return fail(res.err)
	}
	s.number = res.n
	s.display = ":" + strconv.Itoa(res.n)

	// -displayfd is written when the server is ready; still make sure the filesystem socket
	// that pure-Go clients (xgb) dial is there, since some setups only have the abstract one.
	sock := s.SocketPath()
	for {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-timer.C:
			return fail(fmt.Errorf("display %s does not accept connections on %s: %w", s.display, sock, err))
		case <-s.done:
			return fail(fmt.Errorf("Xvfb exited early: %v", s.waitErr))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Display returns the display name, ":N", suitable for DISPLAY.
func (s *Server) Display() string { return s.display }

// Number returns the display number N.
func (s *Server) Number() int { return s.number }

// Size returns the size of screen 0 given at start.
func (s *Server) Size() (width, height int) { return s.width, s.height }

// SocketPath returns the Unix socket the server listens on.
func (s *Server) SocketPath() string { return "/tmp/.X11-unix/X" + strconv.Itoa(s.number) }

// Pid returns the Xvfb process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed when the Xvfb process has exited, whether through Close or not.
func (s *Server) Done() <-chan struct{} { return s.done }

// Command returns an exec.Cmd for a client program with DISPLAY set to this server (and the
// rest of the environment inherited). The command is killed when ctx is done.
func (s *Server) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	env := os.Environ()
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DISPLAY=") {
			out = append(out, kv)
		}
	}
	cmd.Env = append(out, "DISPLAY="+s.display)
	return cmd
}

// Close terminates the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit.
// It is safe to call more than once; later calls return the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.done:
			return // already gone; nothing to stop
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			s.closeErr = errors.New("xvfb: server did not stop on SIGTERM; killed")
		}
	})
	return s.closeErr
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

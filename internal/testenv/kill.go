package testenv

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// KillAfterAcks runs the test binary again as a child process with envVar=value in its
// environment. The child (the test package's TestMain, seeing envVar) does durable work and
// prints "ACK n" after each step it has made durable. Once the child has acknowledged step n
// or later, KillAfterAcks kills it with SIGKILL, mid-work, and returns the last step it
// acknowledged, counting acks printed before the kill landed. Crash-recovery tests then
// check that every acknowledged step survived.
func KillAfterAcks(t testing.TB, envVar, value string, n int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envVar+"="+value)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("child stdout: %v", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	sc := bufio.NewScanner(stdout)
	last := -1
	for last < n && sc.Scan() {
		k, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ACK "))
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("child printed %q, want ACK n; stderr: %s", sc.Text(), stderr.String())
		}
		last = k
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	for sc.Scan() {
		if k, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ACK ")); err == nil {
			last = k
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("child exited by itself before it was killed; stderr: %s", stderr.String())
	}
	if last < n {
		t.Fatalf("child acknowledged only %d of %d steps; stderr: %s", last, n, stderr.String())
	}
	return last
}

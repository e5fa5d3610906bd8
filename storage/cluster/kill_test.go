package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/shadowless-dev/shadowless/internal/testenv"
	"github.com/stretchr/testify/require"
)

const clusterChildEnv = "SHADOWLESS_CLUSTER_KILL_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(clusterChildEnv); dir != "" {
		os.Exit(writeUntilKilled(dir))
	}
	os.Exit(m.Run())
}

// killPattern is the content of write i: it lands in block i (spread over several chunks).
func killPattern(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("write-%05d;", i)), 4096)[:4096]
}

// writeUntilKilled is the child process: a whole cluster in one process, writing blocks and
// reporting each write once WriteAt returned (acknowledged), until it is killed.
func writeUntilKilled(dir string) int {
	ctx := context.Background()
	l, err := StartLocal(ctx, LocalConfig{Dir: dir, Nodes: 3, DefaultVolumeSize: 4 << 20, ChunkSize: testChunk, Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	vol, err := l.Manager.OpenVolume("default")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; i < 1024; i++ {
		if _, err := vol.WriteAt(ctx, killPattern(i), int64(i)*4096); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Fprintf(out, "ACK %d\n", i)
		out.Flush()
	}
	select {} // wait to be killed
}

// TestKillWholeClusterProcess kills (SIGKILL) a process running the metadata service and
// three chunk servers in the middle of writes, restarts the cluster from the same
// directory and checks that every acknowledged write is there, on all three replicas.
func TestKillWholeClusterProcess(t *testing.T) {
	dir := t.TempDir()
	last := testenv.KillAfterAcks(t, clusterChildEnv, dir, 80)

	ctx := context.Background()
	l := startLocal(t, dir, 3)
	defer l.Close()
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	for i := 0; i <= last; i++ {
		got := make([]byte, 4096)
		_, err := vol.ReadAt(ctx, got, int64(i)*4096)
		require.NoError(t, err)
		require.Equal(t, killPattern(i), got, "acknowledged write %d lost", i)
	}
	res, err := l.Manager.Scrub(ctx, "default")
	require.NoError(t, err)
	require.Zero(t, res.Mismatches, "replicas disagree after the crash")
}

package chunk

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/shadowless-dev/shadowless/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const childEnv = "SHADOWLESS_CHUNK_KILL_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(appendForever(dir))
	}
	os.Exit(m.Run())
}

func killBlock(i int) (ID, uint32, []byte) {
	if i%5 == 3 {
		// A large record, written partly with direct I/O, in a chunk of its own.
		return ID{Volume: 1, Index: 1<<20 + uint64(i)}, 0, pattern(fmt.Sprintf("big-%06d|", i), 96*BlockSize)
	}
	return ID{Volume: 1, Index: uint64(i / 16)}, uint32(i%16) * 2 * BlockSize, pattern(fmt.Sprintf("rec-%06d|", i), 2*BlockSize)
}

// appendForever is the child process: it appends records and reports each one once Write
// has returned (durable), until it is killed.
func appendForever(dir string) int {
	s, err := Open(dir, Options{SegmentSize: 512 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		id, off, data := killBlock(i)
		if i%10 == 8 {
			// Every other large record as a Framed payload at its record's page phase,
			// appended straight from this buffer (writeFramedInPlace).
			fr := framesAt(data, s.FramePhase(len(data)/BlockSize*FrameSize))
			if err := s.WriteMany(context.Background(), []WriteOp{{ID: id, Offset: off, Data: fr, Version: uint64(i + 1), Epoch: 1, Framed: true}})[0]; err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
		} else if err := s.Write(context.Background(), id, off, data, uint64(i+1), 1); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Fprintf(out, "ACK %d\n", i)
		out.Flush()
	}
}

// TestKillDuringAppend kills a real process (SIGKILL) in the middle of appending (small
// records, large ones copied into a record and large ones appended in place from the
// caller's buffer) and checks that the store reopens with every acknowledged record intact.
func TestKillDuringAppend(t *testing.T) {
	dir := t.TempDir()
	last := testenv.KillAfterAcks(t, childEnv, dir, 150)

	s := openT(t, dir, 512<<10)
	for i := 0; i <= last; i++ {
		id, off, want := killBlock(i)
		got := make([]byte, len(want))
		_, err := s.Read(context.Background(), id, off, got)
		require.NoError(t, err, "record %d", i)
		require.Equal(t, want, got, "acknowledged record %d lost", i)
	}
	id, off, _ := killBlock(last + 1)
	assert.NoError(t, s.Write(context.Background(), id, off, pattern("after", BlockSize), uint64(last+10), 1))
}

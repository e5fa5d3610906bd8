package cluster

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type regInput struct {
	block int
	write bool
	value uint64
}

// registerModel is one register per block: a read returns the last written value.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, op := range history {
			b := op.Input.(regInput).block
			by[b] = append(by[b], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range by {
			out = append(out, ops)
		}
		return out
	},
	Init: func() interface{} { return uint64(0) },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(regInput)
		if in.write {
			return true, in.value
		}
		return output.(uint64) == state.(uint64), state
	},
}

func blockValue(v uint64) []byte {
	b := make([]byte, 4096)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], v)
	}
	return b
}

// TestLinearizablePerBlock records concurrent reads and writes of a few blocks (two chunks)
// from several goroutines against the replicated volume, stopping a chunk server halfway,
// and checks the history against a register model per block with porcupine.
func TestLinearizablePerBlock(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 4)
	defer l.Close()
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	offsets := []int64{0, 4096, testChunk, testChunk + 8192}

	var mu sync.Mutex
	var history []porcupine.Operation
	var next atomic.Uint64
	var ops atomic.Int64
	const clients, perClient = 6, 40
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 99))
			for i := 0; i < perClient; i++ {
				b := r.IntN(len(offsets))
				in := regInput{block: b, write: r.IntN(2) == 0}
				call := time.Now().UnixNano()
				var out uint64
				var err error
				if in.write {
					in.value = next.Add(1)
					_, err = vol.WriteAt(ctx, blockValue(in.value), offsets[b])
				} else {
					buf := make([]byte, 4096)
					_, err = vol.ReadAt(ctx, buf, offsets[b])
					out = binary.LittleEndian.Uint64(buf)
					assert.Equal(t, blockValue(out), buf, "torn block")
				}
				ret := time.Now().UnixNano()
				ops.Add(1)
				if err != nil {
					if !in.write {
						continue // a failed read observed nothing
					}
					ret = math.MaxInt64 // a failed write may or may not have happened
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}(c)
	}
	require.Eventually(t, func() bool { return ops.Load() > clients*perClient/3 }, 20*time.Second, time.Millisecond)
	require.NoError(t, l.StopNode(1))
	wg.Wait()
	require.Greater(t, len(history), clients*perClient/2)
	reads := 0
	for _, op := range history {
		if in := op.Input.(regInput); !in.write && op.Output.(uint64) != 0 {
			reads++
		}
	}
	require.Greater(t, reads, 20, "too few reads observed a write to check anything")
	assert.True(t, porcupine.CheckOperations(registerModel, history), "history is not linearizable")
}

// TestRegisterModelRejectsStaleRead makes sure the checker would catch a stale read.
func TestRegisterModelRejectsStaleRead(t *testing.T) {
	h := []porcupine.Operation{
		{ClientId: 0, Input: regInput{block: 0, write: true, value: 1}, Call: 0, Return: 10},
		{ClientId: 1, Input: regInput{block: 0, write: true, value: 2}, Call: 20, Return: 30},
		{ClientId: 2, Input: regInput{block: 0}, Output: uint64(1), Call: 40, Return: 50},
	}
	assert.False(t, porcupine.CheckOperations(registerModel, h))
	h[2].Output = uint64(2)
	assert.True(t, porcupine.CheckOperations(registerModel, h))
}

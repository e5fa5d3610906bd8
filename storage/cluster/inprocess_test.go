package cluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInProcessTransport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there: only the in-process handler can answer

	var local inProcess
	hc := withInProcess(newDataClient(), &local)
	defer hc.CloseIdleConnections()
	post := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, baseURL(addr)+"/echo?x=1", strings.NewReader("ping"))
		require.NoError(t, err)
		req.Header.Set("X-Test", "yes")
		return hc.Do(req)
	}

	local.set(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.Equal(t, "in-process", r.RemoteAddr)
		assert.Equal(t, "/echo?x=1", r.RequestURI)
		assert.Equal(t, addr, r.Host)
		assert.Equal(t, "yes", r.Header.Get("X-Test"))
		w.Header().Set("X-Reply", "pong")
		w.WriteHeader(http.StatusAccepted)
		w.Write(append(body, '!'))
	}), nil)
	resp, err := post()
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "pong", resp.Header.Get("X-Reply"))
	assert.Equal(t, "ping!", string(got))
	assert.Equal(t, int64(5), resp.ContentLength)

	// A caller whose context ends does not wait for a stuck handler.
	release := make(chan struct{})
	local.set(addr, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL(addr)+"/stuck", nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = hc.Do(req)
	cancel()
	close(release)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	// Once forgotten (the node stopped) the address goes over the network, where nobody
	// listens: the data plane reports the node unavailable.
	local.set(addr, nil, nil)
	_, err = post()
	require.Error(t, err)
	_, err = postWrites(context.Background(), hc, baseURL(addr), sampleWrites())
	assert.Equal(t, connect.CodeUnavailable, connect.CodeOf(err))
}

// TestInProcessWritesAreChecked sends batches in-process to a real chunk server: the
// payloads are sealed from the caller's buffers but checked as from the network.
func TestInProcessWritesAreChecked(t *testing.T) {
	ctx := context.Background()
	l := startLocal(t, t.TempDir(), 3)
	defer l.Close()
	cs := l.Servers[0]
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	goodFrames, goodUnits := testFrames(9, 2)
	damagedFrames, _ := testFrames(10, 1)
	good := newChunkWrite(vol.ID(), 50, 0, goodFrames, 1, 1)
	damaged := newChunkWrite(vol.ID(), 51, 0, damagedFrames, 1, 1)
	damaged.CRC ^= 1
	errs, err := postWrites(ctx, l.Manager.data, baseURL(cs.Addr()), []chunkWrite{good, damaged})
	require.NoError(t, err)
	assert.NoError(t, errs[0])
	assert.Equal(t, connect.CodeDataLoss, connect.CodeOf(errs[1]))
	got := make([]byte, 2*sealedSize)
	_, err = cs.Store().Read(ctx, chunkID(vol.ID(), 50), 0, got)
	require.NoError(t, err)
	assert.Equal(t, goodUnits, got)

	// A batch body whose payload does not match its descriptor is refused whole.
	bb := newBatchBody([]chunkWrite{good})
	bb.bufs[1] = bb.bufs[1][:frameSize]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL(cs.Addr())+writesPath, bb)
	require.NoError(t, err)
	req.Header.Set("Content-Type", writesType)
	resp, err := l.Manager.data.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// TestInPlaceAppends writes large sequential writes through an in-process cluster: after
// the first write has placed a chunk, the manager seals into a buffer at the page phase
// the replicas' records will have, and every replica appends it without copying. The
// data reads back, also after a restart of the cluster.
func TestInPlaceAppends(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := func() *Local {
		l, err := StartLocal(ctx, LocalConfig{
			Dir: dir, Nodes: 3, DefaultVolumeSize: 8 << 20, ChunkSize: 4 << 20,
			HeartbeatTimeout: 5 * time.Second, Heartbeat: 100 * time.Millisecond,
			RepairInterval: time.Hour, Logger: quietLogger(),
		})
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		return l
	}
	l := start()
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	var want []byte
	for i := 0; i < 8; i++ {
		p := randBytes(uint64(i+1), 256<<10)
		_, err := vol.WriteAt(ctx, p, int64(i)*int64(len(p)))
		require.NoError(t, err)
		want = append(want, p...)
	}
	got := make([]byte, len(want))
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	require.Equal(t, want, got)
	for i, cs := range l.Servers {
		assert.Positive(t, cs.Store().Stats().InPlaceAppends, "server %d appended without copying", i+1)
	}
	require.NoError(t, l.Close())

	l2 := start()
	vol2, err := l2.Manager.OpenVolume("default")
	require.NoError(t, err)
	clear(got)
	_, err = vol2.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

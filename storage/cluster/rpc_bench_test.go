package cluster

import (
	"context"
	"math/rand/v2"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/storage/storagepb"
)

// BenchmarkRPCStat measures the bare Connect round trip to a chunk server (no disk), the
// floor under every replicated operation.
func BenchmarkRPCStat(b *testing.B) {
	l, _ := benchCluster(b, 3)
	c, err := l.Manager.nodeClient(l.Servers[0].ID())
	require.NoError(b, err)
	b.ResetTimer()
	d, err := runConcurrent(b.N, benchWorkers(), func(*rand.Rand) error {
		_, err := c.Stat(context.Background(), connect.NewRequest(&storagepb.StatRequest{Chunk: &storagepb.ChunkRef{Volume: 1}}))
		return err
	})
	require.NoError(b, err)
	b.ReportMetric(float64(b.N)/d.Seconds(), "RPC/s")
}

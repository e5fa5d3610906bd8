package cluster

import (
	"context"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

func chunkID(vol, idx uint64) chunk.ID { return chunk.ID{Volume: vol, Index: idx} }

// replicaPlain reads one replica's copy of a whole chunk straight from its store and opens
// it with the volume's key, as the manager would.
func replicaPlain(ctx context.Context, vol *Volume, cs *ChunkServer, idx uint64) ([]byte, error) {
	sealed := make([]byte, sealedLen(vol.ChunkSize()))
	if _, err := cs.Store().Read(ctx, chunkID(vol.ID(), idx), 0, sealed); err != nil {
		return nil, err
	}
	bc, err := vol.cipher()
	if err != nil {
		return nil, err
	}
	plain := make([]byte, vol.ChunkSize())
	return plain, bc.open(plain, sealed, idx, 0)
}

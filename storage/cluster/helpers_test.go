package cluster

import "github.com/shadowless-dev/shadowless/storage/chunk"

func chunkID(vol, idx uint64) chunk.ID { return chunk.ID{Volume: vol, Index: idx} }

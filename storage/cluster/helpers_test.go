package cluster

import (
	"context"
	"encoding/binary"
	"hash/crc32"

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

// testFrames returns n frames as the manager sends them (opaque 4124-byte units, each
// followed by its CRC32C) and the units alone, as a chunk server stores and returns them.
func testFrames(seed uint64, n int) (frames, units []byte) {
	units = randBytes(seed, n*sealedSize)
	for i := 0; i < n; i++ {
		u := units[i*sealedSize : (i+1)*sealedSize]
		frames = append(frames, u...)
		frames = binary.LittleEndian.AppendUint32(frames, crc32.Checksum(u, castagnoli))
	}
	return frames, units
}

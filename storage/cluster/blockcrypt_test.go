package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testCipher(t testing.TB, seed uint64, keyVolume uint64) *blockCipher {
	t.Helper()
	bc, err := newBlockCipher(randBytes(seed, 32), keyVolume)
	require.NoError(t, err)
	return bc
}

func sealT(t testing.TB, bc *blockCipher, plain []byte, chunkIdx uint64, first uint32) []byte {
	t.Helper()
	sealed := make([]byte, sealedLen(int64(len(plain))))
	require.NoError(t, bc.seal(sealed, plain, chunkIdx, first, sealedSize))
	return sealed
}

// TestBlockSealing covers the sealed-block scheme: blocks open only at the place and under
// the key they were sealed for; tampering, moving, replaying elsewhere and wrong keys all
// fail with ErrDecrypt naming the block; zero units are holes.
func TestBlockSealing(t *testing.T) {
	bc := testCipher(t, 1, 7)
	plain := randBytes(2, 3*blockSize)
	sealed := sealT(t, bc, plain, 5, 10)
	require.Len(t, sealed, 3*sealedSize)
	assert.False(t, bytes.Contains(sealed, plain[:64]), "plaintext in the sealed form")

	got := make([]byte, len(plain))
	require.NoError(t, bc.open(got, sealed, 5, 10))
	assert.Equal(t, plain, got)

	// The same plaintext sealed again gets fresh nonces: different bytes, same meaning.
	again := sealT(t, bc, plain, 5, 10)
	assert.NotEqual(t, sealed[:nonceSize], again[:nonceSize])
	assert.NotEqual(t, sealed, again)

	open1 := func(unit []byte, chunkIdx uint64, block uint32) error {
		return bc.open(make([]byte, blockSize), unit, chunkIdx, block)
	}
	first := sealed[:sealedSize]
	t.Run("tamper", func(t *testing.T) {
		for _, at := range []int{0, nonceSize, nonceSize + 100, sealedSize - 1} {
			c := bytes.Clone(first)
			c[at] ^= 1
			err := open1(c, 5, 10)
			assert.ErrorIs(t, err, ErrDecrypt, "byte %d", at)
			assert.Contains(t, err.Error(), "chunk 5 block 10")
		}
	})
	t.Run("move", func(t *testing.T) {
		assert.ErrorIs(t, open1(first, 5, 11), ErrDecrypt, "another block of the chunk")
		assert.ErrorIs(t, open1(first, 6, 10), ErrDecrypt, "the same block of another chunk")
		other := &blockCipher{aead: bc.aead, keyVolume: 8}
		assert.ErrorIs(t, other.open(make([]byte, blockSize), first, 5, 10), ErrDecrypt, "another volume under the same key")
		// Blocks swapped within one read.
		swapped := append(bytes.Clone(sealed[sealedSize:2*sealedSize]), sealed[:sealedSize]...)
		assert.ErrorIs(t, bc.open(make([]byte, 2*blockSize), swapped, 5, 10), ErrDecrypt)
	})
	t.Run("replay elsewhere", func(t *testing.T) {
		// An old sealed block of block 10 replayed over block 12 of the same chunk.
		err := bc.open(make([]byte, 3*blockSize), append(bytes.Clone(sealed[:2*sealedSize]), first...), 5, 10)
		assert.ErrorIs(t, err, ErrDecrypt)
		assert.Contains(t, err.Error(), "block 12")
	})
	t.Run("wrong key", func(t *testing.T) {
		wrong := testCipher(t, 3, 7)
		assert.ErrorIs(t, wrong.open(make([]byte, 3*blockSize), sealed, 5, 10), ErrDecrypt)
	})
	t.Run("holes", func(t *testing.T) {
		out := bytes.Repeat([]byte{0xee}, 2*blockSize)
		units := append(make([]byte, sealedSize), first...)
		units = units[:2*sealedSize]
		// block 0 of this read is a hole, block 1 is sealed for block 10 at position 10.
		require.NoError(t, bc.open(out, units, 5, 9))
		assert.Equal(t, make([]byte, blockSize), out[:blockSize])
		assert.Equal(t, plain[:blockSize], out[blockSize:])
		// A zero nonce on a unit that is not all zeroes is not a hole.
		c := bytes.Clone(first)
		clear(c[:nonceSize])
		assert.ErrorIs(t, open1(c, 5, 10), ErrDecrypt)
	})
	t.Run("sizes", func(t *testing.T) {
		assert.ErrorIs(t, bc.open(make([]byte, blockSize), sealed[:sealedSize-1], 5, 10), ErrDecrypt)
		assert.Error(t, bc.seal(make([]byte, sealedSize), make([]byte, blockSize-1), 5, 10, sealedSize))
		assert.Error(t, bc.seal(make([]byte, 2*sealedSize), make([]byte, blockSize), 5, 10, 2*sealedSize), "stride")
		// Frames: each sealed block followed by its CRC32C.
		frames := make([]byte, 2*frameSize)
		require.NoError(t, bc.seal(frames, plain[:2*blockSize], 5, 10, frameSize))
		for i := 0; i < 2; i++ {
			fr := frames[i*frameSize : (i+1)*frameSize]
			assert.Equal(t, crc32.Checksum(fr[:sealedSize], castagnoli), binary.LittleEndian.Uint32(fr[sealedSize:]))
			out := make([]byte, blockSize)
			require.NoError(t, bc.open(out, fr[:sealedSize], 5, 10+uint32(i)))
			assert.Equal(t, plain[i*blockSize:(i+1)*blockSize], out)
		}
		_, err := newBlockCipher(make([]byte, 16), 1)
		assert.Error(t, err, "AES-256 only")
	})
}

// FuzzOpenSealed: arbitrary bytes given as sealed blocks either open (only possible for
// all-zero holes or the genuine sealed seed) or fail with ErrDecrypt; never a panic.
func FuzzOpenSealed(f *testing.F) {
	bc := testCipher(f, 11, 3)
	plain := randBytes(12, 2*blockSize)
	sealed := sealT(f, bc, plain, 1, 0)
	f.Add(sealed, uint64(1), uint32(0))
	f.Add(sealed[:sealedSize], uint64(1), uint32(0))
	f.Add(make([]byte, sealedSize), uint64(0), uint32(0))
	f.Add(sealed[:sealedSize+3], uint64(1), uint32(0))
	f.Add([]byte{}, uint64(0), uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, chunkIdx uint64, first uint32) {
		n := len(b) / sealedSize
		out := make([]byte, n*blockSize)
		err := bc.open(out, b, chunkIdx, first)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(b)%sealedSize != 0 {
			t.Fatalf("opened %d bytes that are not whole sealed blocks", len(b))
		}
		for i := 0; i < n; i++ {
			u := b[i*sealedSize : (i+1)*sealedSize]
			if isZero(u) {
				if !isZero(out[i*blockSize : (i+1)*blockSize]) {
					t.Fatalf("hole %d did not read as zeroes", i)
				}
				continue
			}
			// Anything else that opens must be a genuine sealing of the seed's plaintext
			// (under this key; the nonces differ from process to process) at its own place.
			pos := uint64(first) + uint64(i)
			if chunkIdx != 1 || pos >= 2 || !bytes.Equal(out[i*blockSize:(i+1)*blockSize], plain[pos*blockSize:(pos+1)*blockSize]) {
				t.Fatalf("forged block %d opened", i)
			}
		}
	})
}

// TestMovedBlockOnReplica: a replica that serves a sealed block moved from another place
// (with a valid checksum, so only authentication can tell) is skipped for the read, which
// returns the right data from another replica, and repaired.
func TestMovedBlockOnReplica(t *testing.T) {
	ctx := context.Background()
	l, vol := startDefault(t)
	data := randBytes(41, 2*blockSize)
	_, err := vol.WriteAt(ctx, data, 0)
	require.NoError(t, err)
	p, ok, err := l.Manager.Meta().Placement(vol.ID(), 0)
	require.NoError(t, err)
	require.True(t, ok)
	var victim *ChunkServer
	for _, cs := range l.Servers {
		if cs.ID() == p.Nodes[0] { // read first for chunk 0
			victim = cs
		}
	}
	require.NotNil(t, victim)
	id := chunkID(vol.ID(), 0)
	info, ok := victim.Store().Stat(id)
	require.True(t, ok)
	units := make([]byte, 2*sealedSize)
	_, err = victim.Store().Read(ctx, id, 0, units)
	require.NoError(t, err)
	// Block 1's sealed bytes written over block 0, at the current version and epoch.
	require.NoError(t, victim.Store().Write(ctx, id, 0, units[sealedSize:], info.Version, info.Epoch))
	_, err = replicaPlain(ctx, vol, victim, 0)
	require.ErrorIs(t, err, ErrDecrypt)

	got := make([]byte, 2*blockSize)
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	vol.WaitRepairs()
	fixed, err := replicaPlain(ctx, vol, victim, 0)
	require.NoError(t, err, "replica not repaired")
	assert.Equal(t, data, fixed[:2*blockSize])
}

// TestChunkServersHoldNoKey: what a chunk server stores for a write is the same sealed
// bytes on every replica (encrypted once), never the plaintext.
func TestChunkServersHoldNoKey(t *testing.T) {
	ctx := context.Background()
	l, vol := startDefault(t)
	data := bytes.Repeat([]byte("secret!!"), blockSize/8)
	_, err := vol.WriteAt(ctx, data, 0)
	require.NoError(t, err)
	var first []byte
	for _, cs := range l.Servers {
		units := make([]byte, sealedSize)
		_, err := cs.Store().Read(ctx, chunkID(vol.ID(), 0), 0, units)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(units, []byte("secret!!")))
		if first == nil {
			first = units
		}
		assert.Equal(t, first, units, "replicas hold identical sealed bytes")
	}
	assert.Equal(t, sealedSize, l.Servers[0].Store().Unit())
}

// TestOverwriteGCRemovesOldCiphertext: the raw-file pattern test at the cluster level. The
// disks hold only sealed bytes, so the pattern searched for is the sealed form of the
// overwritten data (taken from a replica before the overwrite): after GC it is on no disk,
// while the new data still reads back.
func TestOverwriteGCRemovesOldCiphertext(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := startLocal(t, dir, 3)
	defer l.Close()
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(t, err)
	old := bytes.Repeat([]byte("OLD-SECRET"), 4*blockSize/10+1)[:4*blockSize]
	_, err = vol.WriteAt(ctx, old, 0)
	require.NoError(t, err)
	oldSealed := make([]byte, 4*sealedSize)
	_, err = l.Servers[0].Store().Read(ctx, chunkID(vol.ID(), 0), 0, oldSealed)
	require.NoError(t, err)
	onDisk := func(needle []byte) bool {
		found := false
		require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			found = found || (err == nil && bytes.Contains(b, needle))
			return err
		}))
		return found
	}
	needle := oldSealed[2*sealedSize+100 : 2*sealedSize+164] // ciphertext of block 2
	require.True(t, onDisk(needle), "the sealed bytes are what the disks hold")
	assert.False(t, onDisk(old[:64]), "plaintext on a disk")

	newData := randBytes(77, 4*blockSize)
	_, err = vol.WriteAt(ctx, newData, 0)
	require.NoError(t, err)
	for _, cs := range l.Servers {
		_, err := cs.Store().GC(ctx)
		require.NoError(t, err)
	}
	assert.False(t, onDisk(needle), "old ciphertext still on disk after overwrite and GC")
	got := make([]byte, len(newData))
	_, err = vol.ReadAt(ctx, got, 0)
	require.NoError(t, err)
	assert.Equal(t, newData, got)
}

package cluster

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Encryption at rest happens here, in the volume layer, once per write: the manager seals
// each 4 KiB block with its volume's data key and sends the same sealed bytes to every
// replica. Chunk servers store, checksum, copy and compare sealed blocks and never hold a
// key. See ../PROTOCOL.md ("Sealed blocks").
//
// A sealed block is nonce (12 B, random) | AES-256-GCM ciphertext (4096 B) | tag (16 B).
// The additional data binds it to its place: magic | key volume | chunk index | block
// number in the chunk. The key volume is the volume whose key seals the block (a snapshot
// uses its volume's), so a snapshot's copy of a chunk opens in the snapshot and back in the
// volume after a restore, while a block moved to another chunk, another offset or another
// volume's key family does not open. An all-zero unit is a block never written (or
// trimmed): a real nonce is never all zeroes.

const (
	nonceSize = 12
	tagSize   = 16
	// sealedSize is the size of one sealed block: what chunk servers store per block.
	sealedSize = nonceSize + blockSize + tagSize
	// frameSize is a sealed block with its CRC32C, as written to chunk servers (and as
	// they store it on disk).
	frameSize = sealedSize + 4
	// aadMagic versions the additional data.
	aadMagic = 0x534c4231 // "SLB1"
)

// ErrDecrypt is returned when a stored block does not authenticate under its volume's key
// at its place: a wrong key, or bytes changed, moved or replayed from elsewhere.
var ErrDecrypt = errors.New("cluster: block does not authenticate")

// sealedLen is the number of sealed bytes for n bytes of whole blocks.
func sealedLen(n int64) int64 { return n / blockSize * sealedSize }

// framedLen is the number of bytes of sealed frames for n bytes of whole blocks.
func framedLen(n int64) int64 { return n / blockSize * frameSize }

// blockCipher seals and opens the blocks of one key family (a volume and its snapshots).
type blockCipher struct {
	aead      cipher.AEAD
	keyVolume uint64
}

func newBlockCipher(key []byte, keyVolume uint64) (*blockCipher, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("cluster: data key of volume %d is %d bytes, want 32", keyVolume, len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return &blockCipher{aead: a, keyVolume: keyVolume}, nil
}

func (c *blockCipher) aad(a *[28]byte, chunkIdx uint64, block uint32) []byte {
	binary.LittleEndian.PutUint32(a[0:], aadMagic)
	binary.LittleEndian.PutUint64(a[4:], c.keyVolume)
	binary.LittleEndian.PutUint64(a[12:], chunkIdx)
	binary.LittleEndian.PutUint32(a[20:], block)
	binary.LittleEndian.PutUint32(a[24:], 0)
	return a[:]
}

// seal encrypts plain (whole blocks, the first being block number first of chunk chunkIdx)
// into dst, one sealed block every stride bytes: stride sealedSize packs sealed blocks,
// stride frameSize makes frames (each sealed block followed by its CRC32C, computed while
// it is in cache). Every block gets a fresh random nonce.
func (c *blockCipher) seal(dst, plain []byte, chunkIdx uint64, first uint32, stride int) error {
	n := len(plain) / blockSize
	if len(plain)%blockSize != 0 || (stride != sealedSize && stride != frameSize) || len(dst) != n*stride {
		return fmt.Errorf("cluster: seal %d bytes into %d", len(plain), len(dst))
	}
	// One read of the random source for all nonces of the write.
	nonces := make([]byte, n*nonceSize)
	if _, err := rand.Read(nonces); err != nil {
		return fmt.Errorf("cluster: nonces: %w", err)
	}
	var a [28]byte
	for i := 0; i < n; i++ {
		u := dst[i*stride : i*stride+sealedSize]
		nonce := nonces[i*nonceSize : (i+1)*nonceSize]
		for isZero(nonce) { // all zeroes marks a hole; never use it
			if _, err := rand.Read(nonce); err != nil {
				return fmt.Errorf("cluster: nonces: %w", err)
			}
		}
		copy(u, nonce)
		c.aead.Seal(u[nonceSize:nonceSize], nonce, plain[i*blockSize:(i+1)*blockSize], c.aad(&a, chunkIdx, first+uint32(i)))
		if stride == frameSize {
			binary.LittleEndian.PutUint32(dst[i*stride+sealedSize:], crc32.Checksum(u, castagnoli))
		}
	}
	return nil
}

// open checks and decrypts sealed blocks (the first being block number first of chunk
// chunkIdx) into dst (len(sealed)/sealedSize blocks). All-zero units read as zero blocks.
func (c *blockCipher) open(dst, sealed []byte, chunkIdx uint64, first uint32) error {
	n := len(sealed) / sealedSize
	if len(sealed)%sealedSize != 0 || len(dst) != n*blockSize {
		return fmt.Errorf("%w: %d sealed bytes for %d plain", ErrDecrypt, len(sealed), len(dst))
	}
	var a [28]byte
	for i := 0; i < n; i++ {
		u := sealed[i*sealedSize : (i+1)*sealedSize]
		out := dst[i*blockSize : (i+1)*blockSize]
		if isZero(u[:nonceSize]) {
			if !isZero(u) {
				return fmt.Errorf("%w: volume key %d chunk %d block %d: zero nonce on a non-empty block", ErrDecrypt, c.keyVolume, chunkIdx, first+uint32(i))
			}
			clear(out)
			continue
		}
		if _, err := c.aead.Open(out[:0], u[:nonceSize], u[nonceSize:], c.aad(&a, chunkIdx, first+uint32(i))); err != nil {
			return fmt.Errorf("%w: volume key %d chunk %d block %d", ErrDecrypt, c.keyVolume, chunkIdx, first+uint32(i))
		}
	}
	return nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

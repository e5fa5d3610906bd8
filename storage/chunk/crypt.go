package chunk

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of a volume data key: AES-256.
const KeySize = 32

// ErrNoKey is returned when the store has no data key for a volume (it was never given, or
// the volume was deleted and its key destroyed).
var ErrNoKey = errors.New("chunk: no data key for volume")

// ErrDecrypt is returned when a block does not authenticate under the volume's key: a wrong
// key, or bytes changed after their checksum was computed.
var ErrDecrypt = errors.New("chunk: block does not authenticate")

// Keys gives a store the data key of a volume. The store derives its own subkey from it
// (HKDF-SHA256 with the store's random identity as salt), so the same volume key on two
// stores never encrypts under the same key and nonce.
type Keys interface {
	VolumeKey(volume uint64) ([]byte, error)
}

// KeyMap is a Keys backed by a map; safe only when not modified concurrently.
type KeyMap map[uint64][]byte

// VolumeKey implements Keys.
func (m KeyMap) VolumeKey(volume uint64) ([]byte, error) {
	k, ok := m[volume]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrNoKey, volume)
	}
	return k, nil
}

func newAEAD(volumeKey []byte, storeID [16]byte, volume uint64) (cipher.AEAD, error) {
	if len(volumeKey) != KeySize {
		return nil, fmt.Errorf("chunk: volume %d key is %d bytes, want %d", volume, len(volumeKey), KeySize)
	}
	info := binary.LittleEndian.AppendUint64([]byte("shadowless chunk v1 volume "), volume)
	sub, err := hkdf.Key(sha256.New, volumeKey, storeID[:], string(info), KeySize)
	if err != nil {
		return nil, fmt.Errorf("chunk: derive key: %w", err)
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	return cipher.NewGCM(block)
}

// nonce is the record sequence number and the block's number in its chunk: unique per store
// subkey because sequence numbers are never reused (see seqReservation).
func nonce(seq uint64, block uint32) []byte {
	var n [12]byte
	binary.LittleEndian.PutUint64(n[:], seq)
	binary.LittleEndian.PutUint32(n[8:], block)
	return n[:]
}

// aad binds a block's ciphertext to where it belongs, so a block moved elsewhere on disk
// does not authenticate.
func aad(id ID, block uint32, seq uint64) []byte {
	var a [28]byte
	binary.LittleEndian.PutUint64(a[:], id.Volume)
	binary.LittleEndian.PutUint64(a[8:], id.Index)
	binary.LittleEndian.PutUint32(a[16:], block)
	binary.LittleEndian.PutUint64(a[20:], seq)
	return a[:]
}

// sealFrame encrypts one block into frame (FrameSize bytes) and appends its CRC32C.
func sealFrame(aead cipher.AEAD, frame, plain []byte, id ID, block uint32, seq uint64) {
	aead.Seal(frame[:0], nonce(seq, block), plain, aad(id, block, seq))
	binary.LittleEndian.PutUint32(frame[BlockSize+tagSize:], frameChecksum(frame))
}

// openFrame checks and decrypts one frame into dst (BlockSize bytes).
func openFrame(aead cipher.AEAD, dst, frame []byte, id ID, block uint32, seq uint64) error {
	if !checkFrame(frame) {
		return fmt.Errorf("%w: chunk %s block %d", ErrBlockChecksum, id, block)
	}
	if _, err := aead.Open(dst[:0], nonce(seq, block), frame[:BlockSize+tagSize], aad(id, block, seq)); err != nil {
		return fmt.Errorf("%w: chunk %s block %d", ErrDecrypt, id, block)
	}
	return nil
}

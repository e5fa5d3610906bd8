package chunk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// BlockSize is the unit of checksums and addressing inside a chunk: every offset and range
// length given to a Store is a multiple of it.
const BlockSize = 4096

const (
	// HeaderSize is the size of a record header on disk.
	HeaderSize = 64
	crcSize    = 4
	// MaxUnit bounds the bytes a store keeps per block (Options.UnitSize).
	MaxUnit = 2 * BlockSize
	// FrameSize is the on-disk size of one block of a store with the default unit
	// (Options.UnitSize zero): the block's BlockSize bytes and their CRC32C.
	FrameSize = BlockSize + crcSize
	// MaxRecordLength bounds the plaintext carried by one data record.
	MaxRecordLength = 64 << 20

	magic         uint32 = 0x534c4331 // "SLC1"
	formatVersion uint8  = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// RecordType says what a log record does.
type RecordType uint8

// Record types.
const (
	// RecordData carries the stored bytes of the blocks of a block-aligned range of a chunk
	// (opaque to the store: the cluster stores each block sealed).
	RecordData RecordType = 1
	// RecordTrim makes a block-aligned range of a chunk read as zeroes.
	RecordTrim RecordType = 2
	// RecordDropChunk removes a chunk (its blocks, version and epoch).
	RecordDropChunk RecordType = 3
	// RecordDropVolume removes every chunk of a volume.
	RecordDropVolume RecordType = 4
	// RecordVersion sets a chunk's version and epoch (the end of installing a rebuilt replica).
	RecordVersion RecordType = 5
)

// String names the record type.
func (t RecordType) String() string {
	switch t {
	case RecordData:
		return "data"
	case RecordTrim:
		return "trim"
	case RecordDropChunk:
		return "drop-chunk"
	case RecordDropVolume:
		return "drop-volume"
	case RecordVersion:
		return "version"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ID names a chunk: the volume it belongs to and its index in the volume.
type ID struct {
	Volume uint64
	Index  uint64
}

// String formats the id as volume/index.
func (id ID) String() string { return fmt.Sprintf("%d/%d", id.Volume, id.Index) }

// Header is the fixed part of every log record.
type Header struct {
	Type RecordType
	ID   ID
	// Offset and Length are the byte range of the chunk the record covers (block-aligned).
	Offset  uint32
	Length  uint32
	Version uint64
	Epoch   uint64
	// Seq orders records of one store: the record with the higher Seq wins.
	Seq uint64
	// Unit is the number of bytes stored per block in a data record (zero otherwise); each
	// block's frame on disk is Unit bytes and their CRC32C.
	Unit uint32
}

// Decoding errors. They are wrapped with the position where they were found.
var (
	// ErrShortRecord means the bytes end before the record does (a torn tail).
	ErrShortRecord = errors.New("chunk: record truncated")
	// ErrBadMagic means the bytes do not start with a record header.
	ErrBadMagic = errors.New("chunk: bad record magic")
	// ErrBadHeader means the header checksum or a header field is wrong.
	ErrBadHeader = errors.New("chunk: bad record header")
	// ErrBlockChecksum means a block's CRC32C does not match its bytes.
	ErrBlockChecksum = errors.New("chunk: block checksum mismatch")
)

// BodySize is the number of bytes that follow the header on disk.
func (h Header) BodySize() int64 {
	if h.Type != RecordData {
		return 0
	}
	return int64(h.Length/BlockSize) * h.FrameSize()
}

// FrameSize is the on-disk size of one block of a data record: Unit bytes and a CRC32C.
func (h Header) FrameSize() int64 { return int64(h.Unit) + crcSize }

// Blocks is the number of blocks the record covers.
func (h Header) Blocks() uint32 { return h.Length / BlockSize }

// AppendHeader appends the encoded header to b.
func AppendHeader(b []byte, h Header) []byte {
	var buf [HeaderSize]byte
	binary.LittleEndian.PutUint32(buf[0:], magic)
	buf[4] = byte(h.Type)
	buf[5] = formatVersion
	binary.LittleEndian.PutUint64(buf[8:], h.ID.Volume)
	binary.LittleEndian.PutUint64(buf[16:], h.ID.Index)
	binary.LittleEndian.PutUint32(buf[24:], h.Offset)
	binary.LittleEndian.PutUint32(buf[28:], h.Length)
	binary.LittleEndian.PutUint64(buf[32:], h.Version)
	binary.LittleEndian.PutUint64(buf[40:], h.Epoch)
	binary.LittleEndian.PutUint64(buf[48:], h.Seq)
	binary.LittleEndian.PutUint32(buf[56:], h.Unit)
	binary.LittleEndian.PutUint32(buf[60:], crc32.Checksum(buf[:60], castagnoli))
	return append(b, buf[:]...)
}

// DecodeHeader decodes and validates a record header.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d of %d header bytes", ErrShortRecord, len(b), HeaderSize)
	}
	if m := binary.LittleEndian.Uint32(b[0:]); m != magic {
		return Header{}, fmt.Errorf("%w: %#08x", ErrBadMagic, m)
	}
	if want, got := binary.LittleEndian.Uint32(b[60:]), crc32.Checksum(b[:60], castagnoli); want != got {
		return Header{}, fmt.Errorf("%w: header crc %#08x, computed %#08x", ErrBadHeader, want, got)
	}
	if b[5] != formatVersion {
		return Header{}, fmt.Errorf("%w: format version %d", ErrBadHeader, b[5])
	}
	h := Header{
		Type:    RecordType(b[4]),
		ID:      ID{Volume: binary.LittleEndian.Uint64(b[8:]), Index: binary.LittleEndian.Uint64(b[16:])},
		Offset:  binary.LittleEndian.Uint32(b[24:]),
		Length:  binary.LittleEndian.Uint32(b[28:]),
		Version: binary.LittleEndian.Uint64(b[32:]),
		Epoch:   binary.LittleEndian.Uint64(b[40:]),
		Seq:     binary.LittleEndian.Uint64(b[48:]),
		Unit:    binary.LittleEndian.Uint32(b[56:]),
	}
	if err := h.validate(); err != nil {
		return Header{}, err
	}
	return h, nil
}

func (h Header) validate() error {
	switch h.Type {
	case RecordData, RecordTrim:
		if h.Offset%BlockSize != 0 || h.Length%BlockSize != 0 || h.Length == 0 {
			return fmt.Errorf("%w: %s range %d+%d not block-aligned", ErrBadHeader, h.Type, h.Offset, h.Length)
		}
		if h.Type == RecordData && h.Length > MaxRecordLength {
			return fmt.Errorf("%w: data length %d over %d", ErrBadHeader, h.Length, MaxRecordLength)
		}
		if h.Type == RecordData && (h.Unit == 0 || h.Unit > MaxUnit) {
			return fmt.Errorf("%w: data record with %d bytes per block", ErrBadHeader, h.Unit)
		}
		if h.Type == RecordTrim && h.Unit != 0 {
			return fmt.Errorf("%w: trim with a block unit", ErrBadHeader)
		}
		if uint64(h.Offset)+uint64(h.Length) > 1<<32 {
			return fmt.Errorf("%w: range %d+%d overflows", ErrBadHeader, h.Offset, h.Length)
		}
	case RecordDropChunk, RecordDropVolume, RecordVersion:
		if h.Offset != 0 || h.Length != 0 || h.Unit != 0 {
			return fmt.Errorf("%w: %s with a range", ErrBadHeader, h.Type)
		}
	default:
		return fmt.Errorf("%w: unknown record type %d", ErrBadHeader, uint8(h.Type))
	}
	return nil
}

// frameChecksum computes the CRC32C stored at the end of a frame.
func frameChecksum(frame []byte) uint32 {
	return crc32.Checksum(frame[:len(frame)-crcSize], castagnoli)
}

// checkFrame verifies one frame's CRC32C.
func checkFrame(frame []byte) bool {
	return binary.LittleEndian.Uint32(frame[len(frame)-crcSize:]) == frameChecksum(frame)
}

// putFrame stores a block's bytes and their CRC32C in frame (len(unit)+4 bytes).
func putFrame(frame, unit []byte) {
	copy(frame, unit)
	binary.LittleEndian.PutUint32(frame[len(unit):], crc32.Checksum(unit, castagnoli))
}

// DecodeRecord decodes one whole record from the start of b, verifying the header and every
// block checksum. It returns the header, the body (frames: Unit bytes and a CRC per block) and
// the number of bytes the record occupies. A record cut short returns ErrShortRecord; a block
// whose checksum fails returns ErrBlockChecksum naming the block. It never reads past b.
func DecodeRecord(b []byte) (Header, []byte, int, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return Header{}, nil, 0, err
	}
	size := int64(HeaderSize) + h.BodySize()
	if int64(len(b)) < size {
		return Header{}, nil, 0, fmt.Errorf("%w: %s record needs %d bytes, have %d", ErrShortRecord, h.Type, size, len(b))
	}
	body := b[HeaderSize:size]
	fs := int(h.FrameSize())
	for i := 0; i < len(body); i += fs {
		if !checkFrame(body[i : i+fs]) {
			return Header{}, nil, 0, fmt.Errorf("%w: chunk %s block %d", ErrBlockChecksum, h.ID, h.Offset/BlockSize+uint32(i/fs))
		}
	}
	return h, body, int(size), nil
}

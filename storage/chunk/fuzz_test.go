package chunk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func seedRecord() []byte {
	h := Header{Type: RecordData, ID: ID{Volume: 3, Index: 9}, Offset: BlockSize, Length: BlockSize, Version: 4, Epoch: 2, Seq: 77, Unit: BlockSize}
	rec := AppendHeader(nil, h)
	frame := make([]byte, FrameSize)
	copy(frame, "ciphertext")
	binary.LittleEndian.PutUint32(frame[BlockSize:], frameChecksum(frame))
	return append(rec, frame...)
}

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder: it must never panic or read
// past its input, must name what is wrong, and anything it accepts must re-encode to the
// same header bytes.
func FuzzDecodeRecord(f *testing.F) {
	good := seedRecord()
	f.Add(good)
	f.Add(good[:HeaderSize])
	f.Add(good[:len(good)-1])
	f.Add(AppendHeader(nil, Header{Type: RecordTrim, ID: ID{Volume: 1}, Length: BlockSize, Seq: 1}))
	f.Add(AppendHeader(nil, Header{Type: RecordDropVolume, ID: ID{Volume: 1}, Seq: 2}))
	f.Add([]byte{})
	bad := bytes.Clone(good)
	bad[HeaderSize+5] ^= 1
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, body, n, err := DecodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrShortRecord) && !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrBadHeader) && !errors.Is(err, ErrBlockChecksum) {
				t.Fatalf("unclassified error: %v", err)
			}
			if n != 0 || body != nil {
				t.Fatalf("error with output")
			}
			return
		}
		if n > len(b) || n != HeaderSize+int(h.BodySize()) || len(body) != int(h.BodySize()) {
			t.Fatalf("bad sizes n=%d len=%d body=%d", n, len(b), len(body))
		}
		if !bytes.Equal(AppendHeader(nil, h), b[:HeaderSize]) {
			t.Fatalf("header does not re-encode")
		}
	})
}

package chunk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

const recoveryRecords = 6

func recoveryData(i int) []byte { return pattern(fmt.Sprintf("record-%d|", i), BlockSize) }

// FuzzRecovery damages a store's log (a cut at any offset, or a flipped byte anywhere) and
// reopens it. Open must either succeed or fail with ErrCorrupt (never for a mere cut), and
// every read must return the data written there, zeroes (a dropped torn tail) or a clear
// ErrCorrupt: never wrong bytes. Records that end before the damage must read back intact.
func FuzzRecovery(f *testing.F) {
	src := f.TempDir()
	s, err := Open(src, Options{})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < recoveryRecords; i++ {
		if err := s.Write(context.Background(), ID{Volume: 1}, uint32(i)*BlockSize, recoveryData(i), uint64(i+1), 1); err != nil {
			f.Fatal(err)
		}
	}
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(src, "seg-*.log"))
	var seg []byte
	var segName string
	for _, p := range segs {
		if b, _ := os.ReadFile(p); len(b) > len(seg) {
			seg, segName = b, filepath.Base(p)
		}
	}
	id, err := os.ReadFile(filepath.Join(src, "store.id"))
	if err != nil {
		f.Fatal(err)
	}
	recSize := HeaderSize + FrameSize
	f.Add(false, uint32(len(seg)-10), byte(0))
	f.Add(false, uint32(2*recSize+5), byte(0))
	f.Add(true, uint32(recSize+3), byte(0x40))           // a header in the middle
	f.Add(true, uint32(3*recSize+HeaderSize+7), byte(1)) // a data block in the middle
	f.Add(true, uint32(len(seg)-1), byte(0x80))          // the last block (torn tail)
	f.Add(true, uint32(5*recSize+2), byte(0xff))         // the last header
	f.Fuzz(func(t *testing.T, flip bool, at uint32, val byte) {
		dir := t.TempDir()
		damaged := bytes.Clone(seg)
		pos := int(at) % len(seg)
		if flip {
			damaged[pos] ^= val | 1
		} else {
			damaged = damaged[:pos]
		}
		if err := os.WriteFile(filepath.Join(dir, segName), damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "store.id"), id, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{})
		if err != nil {
			if !flip || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open after damage at %d (flip=%v): %v", pos, flip, err)
			}
			return
		}
		defer s.Close()
		for i := 0; i < recoveryRecords; i++ {
			got := make([]byte, BlockSize)
			_, err := s.Read(context.Background(), ID{Volume: 1}, uint32(i)*BlockSize, got)
			intact := (i+1)*recSize <= pos
			switch {
			case err != nil:
				if !errors.Is(err, ErrCorrupt) || intact {
					t.Fatalf("record %d (damage at %d): %v", i, pos, err)
				}
			case bytes.Equal(got, recoveryData(i)):
			case bytes.Equal(got, make([]byte, BlockSize)) && !intact:
			default:
				t.Fatalf("record %d read wrong bytes after damage at %d", i, pos)
			}
		}
	})
}

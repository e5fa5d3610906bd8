package chunk_test

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

func Example() {
	dir, _ := os.MkdirTemp("", "chunk-example")
	defer os.RemoveAll(dir)
	s, err := chunk.Open(dir, chunk.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	id := chunk.ID{Volume: 1, Index: 0}
	data := bytes.Repeat([]byte("hi"), chunk.BlockSize/2)
	if err := s.Write(ctx, id, 0, data, 1, 1); err != nil { // durable when it returns
		fmt.Println(err)
		return
	}
	got := make([]byte, chunk.BlockSize)
	version, _ := s.Read(ctx, id, 0, got)
	fmt.Println(version, string(got[:4]))
	// Output: 1 hihi
}

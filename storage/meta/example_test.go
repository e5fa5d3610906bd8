package meta_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shadowless-dev/shadowless/storage/meta"
)

func ExampleStore_Place() {
	dir, _ := os.MkdirTemp("", "meta-example")
	defer os.RemoveAll(dir)
	s, err := meta.Open(filepath.Join(dir, "meta.db"), bytes.Repeat([]byte{1}, meta.KeySize))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for _, zone := range []string{"z1", "z2", "z3"} {
		s.UpsertNode(meta.Node{ID: "node-" + zone, Addr: "127.0.0.1:0", Zone: zone, Healthy: true})
	}
	v, _ := s.CreateVolume("default", 64<<20, 4<<20)
	p, _ := s.Place(v.ID, 0)
	fmt.Println(v.Chunks(), len(p.Nodes), p.Epoch)
	// Output: 16 3 1
}

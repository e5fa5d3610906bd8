package storagepb_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/shadowless-dev/shadowless/storage/storagepb"
)

// A batched chunk read as it travels from the volume manager to a chunk server.
func Example() {
	req := &storagepb.ReadBatchRequest{Reads: []*storagepb.ReadRequest{{
		Chunk:  &storagepb.ChunkRef{Volume: 1, Index: 2},
		Offset: 4096,
		Length: 8192,
	}}}
	wire, err := proto.Marshal(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	var got storagepb.ReadBatchRequest
	if err := proto.Unmarshal(wire, &got); err != nil {
		fmt.Println(err)
		return
	}
	r := got.GetReads()[0]
	fmt.Println(r.GetChunk().GetIndex(), r.GetOffset(), r.GetLength())
	// Output: 2 4096 8192
}

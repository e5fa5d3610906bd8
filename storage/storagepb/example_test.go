package storagepb_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/shadowless-dev/shadowless/storage/storagepb"
)

// A chunk write as it travels from the volume manager to a chunk server.
func Example() {
	req := &storagepb.WriteRequest{
		Chunk:   &storagepb.ChunkRef{Volume: 1, Index: 2},
		Offset:  4096,
		Data:    make([]byte, 4096),
		Version: 7,
		Epoch:   3,
	}
	wire, err := proto.Marshal(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	var got storagepb.WriteRequest
	if err := proto.Unmarshal(wire, &got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.GetChunk().GetIndex(), got.GetOffset(), len(got.GetData()), got.GetVersion(), got.GetEpoch())
	// Output: 2 4096 4096 7 3
}

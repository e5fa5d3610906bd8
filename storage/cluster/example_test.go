package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/shadowless-dev/shadowless/storage/cluster"
)

func ExampleStartLocal() {
	dir, _ := os.MkdirTemp("", "cluster-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	l, err := cluster.StartLocal(ctx, cluster.LocalConfig{
		Dir: dir, Nodes: 3, DefaultVolumeSize: 16 << 20, ChunkSize: 1 << 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	vol, _ := l.Manager.OpenVolume("default")
	// The write returns once all three replicas have it on disk.
	if _, err := vol.WriteAt(ctx, []byte("hello, replicated world"), 1<<20-5); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 23)
	vol.ReadAt(ctx, buf, 1<<20-5)
	fmt.Println(string(buf))
	// Output: hello, replicated world
}

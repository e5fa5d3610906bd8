package scheduler_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shadowless-dev/shadowless/scheduler"
)

func mustResources(s string) scheduler.Resources {
	r, err := scheduler.ParseResources(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Place sessions on a small fleet, release one, and read why a request does not fit.
func ExampleScheduler_Place() {
	ctx := context.Background()
	s, err := scheduler.New(scheduler.WithIndexedLabels("zone"))
	if err != nil {
		panic(err)
	}
	_ = s.AddNode(scheduler.Node{Name: "h1", Capacity: mustResources("cpu=8,memory=32Gi"), Labels: map[string]string{"zone": "a"}})
	_ = s.AddNode(scheduler.Node{Name: "h2", Capacity: mustResources("cpu=8,memory=32Gi"), Labels: map[string]string{"zone": "b"}})
	_ = s.AddNode(scheduler.Node{Name: "h3", Capacity: mustResources("cpu=16,memory=64Gi"), Draining: true})

	desk, err := s.Place(ctx, &scheduler.Request{ID: "desk-1", Resources: mustResources("cpu=6,memory=8Gi"),
		NodeSelector: map[string]string{"zone": "a"}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s on %s (score %.1f)\n", desk.Request, desk.Node, desk.Score)

	app, err := s.Place(ctx, &scheduler.Request{ID: "app-1", Resources: mustResources("cpu=500m,memory=1Gi")})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s on %s (the emptier node)\n", app.Request, app.Node)

	_, err = s.Place(ctx, &scheduler.Request{ID: "desk-2", Resources: mustResources("cpu=4,memory=8Gi"),
		NodeSelector: map[string]string{"zone": "a"}})
	var nf *scheduler.NoFitError
	if errors.As(err, &nf) {
		fmt.Println(nf.Explain(0))
	}

	_ = s.Release(ctx, desk)
	again, _ := s.Place(ctx, &scheduler.Request{ID: "desk-2", Resources: mustResources("cpu=4,memory=8Gi"),
		NodeSelector: map[string]string{"zone": "a"}})
	fmt.Printf("after release: %s on %s\n", again.Request, again.Node)
	// Output:
	// desk-1 on h1 (score 50.0)
	// app-1 on h2 (the emptier node)
	// request desk-2: 0/3 nodes available: 1 draining, 1 insufficient cpu, 1 node affinity mismatch
	// node h1: insufficient cpu: requested 4000m, free 2000m of 8000m
	// node h2: node selector wants label zone=a; the node has zone=b
	// node h3: node is draining (being emptied for scale-in or maintenance); it takes no new sessions
	// after release: desk-2 on h1
}

// CPU quantities are millicores: 0.1 vCPU is 100m.
func ExampleParseCPU() {
	for _, q := range []string{"100m", "0.1", "0.5", "2"} {
		m, _ := scheduler.ParseCPU(q)
		fmt.Printf("%s = %dm\n", q, m)
	}
	b, _ := scheduler.ParseBytes("4Gi")
	fmt.Println("4Gi =", b, "bytes")
	// Output:
	// 100m = 100m
	// 0.1 = 100m
	// 0.5 = 500m
	// 2 = 2000m
	// 4Gi = 4294967296 bytes
}

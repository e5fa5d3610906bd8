package netem_test

import (
	"fmt"
	"time"

	"github.com/shadowless-dev/shadowless/benchmarks/netem"
)

// A 10 Mbit/s path with 20 ms of added round trip: a 1250-byte packet takes 1 ms to
// serialise and 10 ms to cross one way.
func ExampleLink() {
	sp, err := netem.ParseSpec("10mbit,20ms,0%")
	if err != nil {
		fmt.Println(err)
		return
	}
	link := netem.NewLink(sp, 1)
	t0 := time.Unix(0, 0)
	at, ok := link.Send(t0, 1250)
	fmt.Println(sp, at.Sub(t0), ok)
	// Output:
	// 10mbit,20ms,0% 11ms true
}

package adapt_test

import (
	"fmt"
	"log"
	"time"

	"github.com/shadowless-dev/shadowless/asp/adapt"
)

// The transport enqueues channel messages and dequeues whenever the connection can take
// more; input overtakes a file transfer that is already queued.
func ExampleScheduler() {
	s, err := adapt.NewScheduler(
		adapt.ChannelConfig{Name: "input", Class: adapt.Realtime},
		adapt.ChannelConfig{Name: "file", Class: adapt.Shared, Weight: 1},
	)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	video, data := adapt.DefaultBudget.Split(4_000_000, 0)
	s.SetDataRate(data, now)
	fmt.Println("video gets", video, "bit/s; channels may use", data)

	_ = s.Enqueue(1, []byte("file chunk 1"))
	_ = s.Enqueue(1, []byte("file chunk 2"))
	_ = s.Enqueue(0, []byte("key press"))
	for {
		ch, msg, ok := s.Dequeue(now)
		if !ok {
			break
		}
		fmt.Println(ch, string(msg))
	}
	// Output:
	// video gets 4000000 bit/s; channels may use 1600000
	// 0 key press
	// 1 file chunk 1
	// 1 file chunk 2
}

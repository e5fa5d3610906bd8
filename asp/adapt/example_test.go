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

// An encoder that overshoots its target by 8% is held under an 8 Mbit/s ceiling: every
// 150 ms the session tells the ceiling what it sent under the target in force, and the
// ceiling returns the target to use next.
func ExampleSendCeiling() {
	c := &adapt.SendCeiling{Limit: 8_000_000}
	now := time.Unix(0, 0)
	const step = 150 * time.Millisecond
	target := c.Allowed()
	for range 100 { // 15 s
		sent := float64(target) * 1.08 * step.Seconds()
		now = now.Add(step)
		target = c.Update(now, step, int64(sent), target)
	}
	fmt.Printf("target %.1f Mbit/s, sent %.1f Mbit/s\n", float64(target)/1e6, float64(c.Rate())/1e6)
	// Output:
	// target 7.1 Mbit/s, sent 7.7 Mbit/s
}

// A pan moves each 32-pixel cell of the thumbnail a little; a cut replaces the picture.
func ExampleCutDetector() {
	const w, h = 256, 128
	frame := func(shift, seed int) []byte {
		y := make([]byte, w*h)
		for py := range h {
			for px := range w {
				y[py*w+px] = uint8(((px+shift)/16*7 + py/16*13 + seed) % 200)
			}
		}
		return y
	}
	var d adapt.CutDetector
	var thumb []uint8
	for i := range 8 {
		seed := 0
		if i >= 6 {
			seed = 97 // the film cuts to another scene
		}
		thumb = adapt.Thumbnail(thumb, frame(2*i, seed), w, w, h)
		fmt.Print(d.Observe(thumb), " ")
	}
	fmt.Println()
	// Output:
	// false false false false false false true false
}

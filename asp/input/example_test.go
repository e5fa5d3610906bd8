package input_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shadowless-dev/shadowless/asp/input"
)

// Events are plain values: keysyms for keys, absolute coordinates for the pointer.
func ExampleEvent() {
	text := "Hi é"
	var evs []input.Event
	for _, r := range text {
		ks := uint32(r) // Latin-1 keysyms equal their code points
		if r > 0xff {
			ks = 0x01000000 + uint32(r)
		}
		evs = append(evs, input.Event{Kind: input.KeyDown, Keysym: ks}, input.Event{Kind: input.KeyUp, Keysym: ks})
	}
	evs = append(evs, input.Event{Kind: input.ButtonDown, X: 100, Y: 200, Button: input.ButtonLeft})
	fmt.Println(len(evs), evs[0].Keysym == 'H', evs[len(evs)-1].Button)
	// Output: 9 true 1
}

// Type a character and click on an X display (such as one started with asp/xvfb).
func ExampleOpenX11() {
	ctx := context.Background()
	inj, err := input.OpenX11(ctx, ":0")
	if err != nil {
		log.Fatal(err)
	}
	defer inj.Close()
	for _, ev := range []input.Event{
		{Kind: input.KeyDown, Keysym: 0x01000000 + '中'}, // bound to a spare keycode
		{Kind: input.KeyUp, Keysym: 0x01000000 + '中'},
		{Kind: input.ButtonDown, X: 100, Y: 200, Button: input.ButtonLeft},
		{Kind: input.ButtonUp, X: 100, Y: 200, Button: input.ButtonLeft},
		{Kind: input.Wheel, DY: 3}, // scroll down three steps
	} {
		if err := inj.Inject(ctx, ev); err != nil {
			log.Fatal(err)
		}
	}
}

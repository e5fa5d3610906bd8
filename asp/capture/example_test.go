package capture_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shadowless-dev/shadowless/asp/capture"
)

// A synthetic source needs no X server: the first frame is full (no Damage), later frames
// list the rectangles that changed.
func ExampleNewSynthetic() {
	var src capture.Source = capture.NewSynthetic(320, 240, capture.SyntheticOptions{})
	defer src.Close()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		f, err := src.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Seq, f.Image.Rect.Dx(), f.Image.Rect.Dy(), len(f.Damage) > 0)
	}
	// Output:
	// 1 320 240 false
	// 2 320 240 true
	// 3 320 240 true
}

// Capture an X display (such as one started with asp/xvfb) and follow its cursor.
func ExampleOpenX11() {
	ctx := context.Background()
	src, err := capture.OpenX11(ctx, ":0", capture.X11Options{MaxFPS: 30})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	go func() {
		for c := range src.Cursors() {
			fmt.Println("pointer at", c.X, c.Y, "new shape:", c.Image != nil)
		}
	}()
	for {
		f, err := src.Next(ctx)
		if err != nil {
			log.Fatal(err) // errors.Is(err, capture.ErrDisplayClosed) when the server is gone
		}
		fmt.Println("frame", f.Seq, "changed rectangles:", len(f.Damage))
	}
}

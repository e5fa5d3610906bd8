package clipboard_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shadowless-dev/shadowless/asp/clipboard"
)

// Bridge the clipboard of an X display (such as one started with asp/xvfb): paste the
// client's text into the desktop and forward what desktop applications copy.
func ExampleOpenX11() {
	ctx := context.Background()
	cb, err := clipboard.OpenX11(ctx, ":0")
	if err != nil {
		log.Fatal(err)
	}
	defer cb.Close()
	if err := cb.Set(ctx, "text the client copied"); err != nil {
		log.Fatal(err)
	}
	for text := range cb.Changes() {
		fmt.Printf("desktop copied %d bytes\n", len(text))
	}
}

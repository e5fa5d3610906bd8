package xvfb_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/shadowless-dev/shadowless/asp/xvfb"
)

// Start a small headless display, run a client on it, and stop it again.
func ExampleStart() {
	ctx := context.Background()
	srv, err := xvfb.Start(ctx, xvfb.Options{Width: 640, Height: 480})
	if err != nil {
		log.Fatal(err) // Xvfb is not installed: run scripts/install-deps.sh
	}
	defer srv.Close()

	out, err := srv.Command(ctx, "xdpyinfo").Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(srv.Display(), ":"), strings.Contains(string(out), "640x480 pixels"))
	// Output: true true
}

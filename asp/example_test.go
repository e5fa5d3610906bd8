package asp_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
	"github.com/shadowless-dev/shadowless/asp/input"
)

// Stream a desktop (here a synthetic one; asp.X11Desktop(":1", ...) for a real display) and
// watch it with the Go client. Browsers open the same URL.
func ExampleNewServer() {
	open := func(context.Context) (*asp.Desktop, error) {
		return &asp.Desktop{Source: capture.NewSynthetic(640, 480, capture.SyntheticOptions{FPS: 30})}, nil
	}
	srv, err := asp.NewServer(open, asp.WithSettingEngine(asp.LoopbackOnly))
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv) // or srv.ListenAndServe(ctx, "127.0.0.1:8080")
	defer hs.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, hs.URL, client.Options{SettingEngine: asp.LoopbackOnly})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	frame := <-conn.Frames()
	fmt.Println("screen", frame.Image.Rect.Dx(), "x", frame.Image.Rect.Dy())
	// Output: screen 640 x 480
}

// The channel messages are plain byte layouts (PROTOCOL.md).
func ExampleAppendInput() {
	b := asp.AppendInput(nil, input.Event{Kind: input.ButtonDown, Button: input.ButtonLeft, X: 100, Y: 200})
	fmt.Printf("% x\n", b)
	ev, err := asp.DecodeInput(b)
	fmt.Println(ev.Kind == input.ButtonDown, ev.X, ev.Y, err)
	// Output:
	// 04 01 64 00 c8 00
	// true 100 200 <nil>
}

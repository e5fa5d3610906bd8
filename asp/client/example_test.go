package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
	"github.com/shadowless-dev/shadowless/asp/client"
)

func ExampleDial() {
	// A server to talk to; in real use this is a URL such as http://127.0.0.1:8080/.
	open := func(context.Context) (*asp.Desktop, error) {
		return &asp.Desktop{Source: capture.NewSynthetic(320, 240, capture.SyntheticOptions{FPS: 30})}, nil
	}
	srv, err := asp.NewServer(open, asp.WithSettingEngine(asp.LoopbackOnly))
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, hs.URL, client.Options{SettingEngine: asp.LoopbackOnly})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	w := conn.Welcome()
	fmt.Println("screen", w.Width, "x", w.Height)
	for i := 0; i < 3; i++ {
		f := <-conn.Frames()
		fmt.Println("frame", f.Seq, f.Image.Rect.Dx(), "x", f.Image.Rect.Dy(), !f.Received.After(f.Decoded))
	}
	// Output:
	// screen 320 x 240
	// frame 1 320 x 240 true
	// frame 2 320 x 240 true
	// frame 3 320 x 240 true
}

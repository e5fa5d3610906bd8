package direct_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shadowless-dev/shadowless/asp/direct"
)

// A server on loopback, a client that pins its certificate, and one echoed message.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cert, err := direct.GenerateCertificate("example", time.Hour)
	if err != nil {
		panic(err)
	}
	l, err := direct.Listen(ctx, direct.ServerConfig{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Certificate: cert})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	// The server echoes every message on every channel.
	go func() {
		conn, err := l.Accept(ctx)
		if err != nil {
			return
		}
		defer conn.Close()
		ch, err := conn.AcceptChannel(ctx)
		if err != nil {
			return
		}
		for {
			msg, err := ch.Recv(ctx)
			if err != nil {
				return
			}
			if err := ch.Send(msg); err != nil {
				return
			}
		}
	}()

	conn, err := direct.Dial(ctx, direct.ClientConfig{Addr: l.Addr(), ServerFingerprint: l.Fingerprint()})
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	ch, err := conn.OpenChannel(ctx, "control", direct.Reliable())
	if err != nil {
		panic(err)
	}
	if err := ch.Send([]byte("hello")); err != nil {
		panic(err)
	}
	reply, err := ch.Recv(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(conn.Transport(), ch.Label(), string(reply))
	// Output: udp control hello
}

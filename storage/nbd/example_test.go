package nbd_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/shadowless-dev/shadowless/storage/blockdevtest"
	"github.com/shadowless-dev/shadowless/storage/nbd"
)

// Serve an in-memory disk as the export "default" and talk to it with the package's own
// wire functions: negotiate with NBD_OPT_GO, write a block and read it back.
func ExampleServer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	disk := blockdevtest.NewMemory(1 << 20)
	srv := nbd.NewServer(nbd.NewExportSet(nbd.Export{Name: "default", Device: disk}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ctx, ln)

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	greeting := make([]byte, nbd.GreetingSize)
	io.ReadFull(r, greeting)
	flags, _ := nbd.ParseGreeting(greeting)
	fmt.Println("fixed newstyle:", flags&nbd.FlagFixedNewstyle != 0)

	// Client flags, then GO for the export.
	msg := binary.BigEndian.AppendUint32(nil, uint32(nbd.FlagFixedNewstyle|nbd.FlagNoZeroes))
	msg = nbd.AppendOption(msg, nbd.OptGo, nbd.AppendInfoRequest(nil, nbd.InfoRequest{Name: "default"}))
	conn.Write(msg)
	for {
		hdr := make([]byte, nbd.OptionReplySize)
		io.ReadFull(r, hdr)
		rep, _ := nbd.DecodeOptionReply(hdr)
		data := make([]byte, rep.Length)
		io.ReadFull(r, data)
		if rep.Type == nbd.RepInfo && binary.BigEndian.Uint16(data) == nbd.InfoExport {
			fmt.Println("export size:", binary.BigEndian.Uint64(data[2:]))
		}
		if rep.Type == nbd.RepAck {
			break
		}
	}

	// WRITE then READ, each answered by a simple reply.
	w := nbd.AppendRequest(nil, nbd.Request{Type: nbd.CmdWrite, Handle: 1, Offset: 512, Length: 5})
	w = append(w, "hello"...)
	w = nbd.AppendRequest(w, nbd.Request{Type: nbd.CmdRead, Handle: 2, Offset: 512, Length: 5})
	conn.Write(w)
	for range 2 {
		hdr := make([]byte, nbd.SimpleReplySize)
		io.ReadFull(r, hdr)
		errno, handle, _ := nbd.DecodeSimpleReply(hdr)
		if handle == 2 {
			data := make([]byte, 5)
			io.ReadFull(r, data)
			fmt.Printf("read %q errno %d\n", data, errno)
		} else {
			fmt.Printf("write errno %d\n", errno)
		}
	}
	// Output:
	// fixed newstyle: true
	// export size: 1048576
	// write errno 0
	// read "hello" errno 0
}

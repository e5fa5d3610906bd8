// Package nbd exports block devices (storage.BlockDevice, i.e. volumes) over the Network
// Block Device protocol, which is what QEMU, qemu-img, qemu-io and the Linux nbd driver use
// as a virtual machine's disk.
//
// The server speaks the fixed newstyle handshake: NBD_OPT_GO, NBD_OPT_INFO (with
// NBD_INFO_EXPORT, NAME, DESCRIPTION and BLOCK_SIZE), NBD_OPT_LIST, NBD_OPT_EXPORT_NAME and
// NBD_OPT_ABORT; structured replies, metadata contexts, extended headers and TLS are refused
// with NBD_REP_ERR_UNSUP, so clients fall back to simple replies. One export per volume,
// named after it; the empty name means the export "default". In transmission it serves
// READ, WRITE, FLUSH, TRIM, WRITE_ZEROES (a hole unless NBD_CMD_FLAG_NO_HOLE asks for
// written zeroes) and DISC, honours FUA by flushing after the write, and advertises
// CAN_MULTI_CONN because a BlockDevice write is durable on all replicas once acknowledged,
// so a flush on any connection covers every connection.
//
// Requests of one connection run concurrently (bounded by WithMaxInFlight); a request waits
// only for earlier in-flight requests that overlap it and change data, and FLUSH waits for
// every earlier change, so a read always sees the writes sent before it. Replies are never
// interleaved. Malformed requests get the protocol's errno (EINVAL for unknown commands or
// flags and oversized or out-of-range reads, ENOSPC for writes past the end, EPERM for
// changes to a read-only export) and the connection carries on; only a request with a bad
// magic, which means the stream is out of sync, ends the connection.
//
// The wire format lives in pure functions without I/O (AppendGreeting, DecodeOptionHeader,
// ParseInfoRequest, DecodeRequest, Validate, AppendSimpleReply, …) and the option haggling
// in the Handshake state machine; Server only moves bytes between them and the socket.
//
// Typical use, with the volumes of a cluster:
//
//	exports := nbd.NewExportSet(nbd.Export{Name: "default", Device: volume})
//	srv := nbd.NewServer(exports, nbd.WithLogger(logger))
//	ln, _ := net.Listen("tcp", "127.0.0.1:10809")
//	err := srv.Serve(ctx, ln) // returns nil when ctx is cancelled
//
// and then: qemu-io -f raw nbd://127.0.0.1:10809/default -c 'read 0 1M'. ExportFuncs serves
// a cluster's volumes straight from its own lookup, without a second list to keep.
package nbd

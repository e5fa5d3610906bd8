package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net"
	"net/http"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

// The data plane: chunk writes travel as the raw body of an HTTP/1.1 POST rather than as
// Connect messages, so a megabyte of payload is neither marshaled nor unmarshaled: the
// manager seals each write once into frames (sealed block and CRC32C per block) and writes
// each replica's body straight from that buffer (one writev), the chunk server streams it
// from the socket into place in the chunk store's record, which checks every frame's CRC
// piece by piece while it is in the CPU cache and stores the frames as they are (a manager
// in the same process hands over its buffers instead, see inprocess.go). The control plane (everything else) stays Connect.
// The format is specified in ../PROTOCOL.md ("Data plane"); the decoders below are pure
// functions over bytes.

const (
	// writesPath is the data-plane endpoint for batched chunk writes.
	writesPath = "/shadowless.storage.v1.Data/Write"
	// writesType and resultsType are the request and response content types.
	writesType  = "application/vnd.shadowless.chunk-writes"
	resultsType = "application/vnd.shadowless.chunk-results"

	writeMagic  = 0x534c5731 // "SLW1"
	resultMagic = 0x534c5231 // "SLR1"
	wireVersion = 1

	// batchPrefixSize, descriptorSize and the trailing CRC make up a batch's header
	// section: prefix, one descriptor per write, CRC32C of both.
	batchPrefixSize = 8
	descriptorSize  = 48
	// maxResultMessage bounds the error text of one result.
	maxResultMessage = 1024
	// maxWritesPayload bounds the payload bytes of one batch: the batcher packs up to
	// maxBatchBytes, but a single write may carry a whole record (of sealed blocks).
	maxWritesPayload = chunk.MaxRecordLength / blockSize * frameSize
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errWire marks a malformed data-plane message.
var errWire = errors.New("cluster: malformed data-plane message")

// writeHeader describes one chunk write on the data plane.
type writeHeader struct {
	Volume, Index  uint64
	Offset, Length uint32
	Version, Epoch uint64
	// CRC is the CRC32C (Castagnoli) of the payload's frame checksums (the 4-byte
	// trailers of its frames, concatenated).
	CRC uint32
}

// chunkWrite is a write header and its payload.
type chunkWrite struct {
	writeHeader
	Data []byte
}

// newChunkWrite returns a write of frames (sealed blocks, each followed by its CRC32C)
// with the descriptor's checksum filled in.
func newChunkWrite(volume, index uint64, offset uint32, frames []byte, version, epoch uint64) chunkWrite {
	return chunkWrite{writeHeader: writeHeader{
		Volume: volume, Index: index, Offset: offset, Length: uint32(len(frames)),
		Version: version, Epoch: epoch, CRC: trailerCRC(frames),
	}, Data: frames}
}

// trailerCRC is the CRC32C of the checksums of the whole frames in b.
func trailerCRC(b []byte) uint32 {
	crc := uint32(0)
	for i := 0; i+frameSize <= len(b); i += frameSize {
		crc = crc32.Update(crc, castagnoli, b[i+sealedSize:i+frameSize])
	}
	return crc
}

// headerSectionSize is the size of the header section of a batch of n writes.
func headerSectionSize(n int) int { return batchPrefixSize + n*descriptorSize + 4 }

// appendBatchHeader appends the header section of a batch: prefix, descriptors, CRC.
func appendBatchHeader(b []byte, hs []writeHeader) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, writeMagic)
	b = append(b, wireVersion, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hs)))
	for _, h := range hs {
		b = binary.LittleEndian.AppendUint64(b, h.Volume)
		b = binary.LittleEndian.AppendUint64(b, h.Index)
		b = binary.LittleEndian.AppendUint32(b, h.Offset)
		b = binary.LittleEndian.AppendUint32(b, h.Length)
		b = binary.LittleEndian.AppendUint64(b, h.Version)
		b = binary.LittleEndian.AppendUint64(b, h.Epoch)
		b = binary.LittleEndian.AppendUint32(b, h.CRC)
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// decodeBatchPrefix decodes the 8-byte prefix of a batch and returns its write count.
func decodeBatchPrefix(b []byte) (int, error) {
	if len(b) < batchPrefixSize {
		return 0, fmt.Errorf("%w: batch prefix of %d bytes", errWire, len(b))
	}
	if m := binary.LittleEndian.Uint32(b); m != writeMagic {
		return 0, fmt.Errorf("%w: bad batch magic %#x", errWire, m)
	}
	if b[4] != wireVersion || b[5] != 0 {
		return 0, fmt.Errorf("%w: batch format %d (reserved %d)", errWire, b[4], b[5])
	}
	n := int(binary.LittleEndian.Uint16(b[6:]))
	if n == 0 || n > maxBatchItems {
		return 0, fmt.Errorf("%w: batch of %d writes", errWire, n)
	}
	return n, nil
}

// decodeBatchHeader decodes a whole header section (exactly headerSectionSize bytes for
// the count in its prefix) and checks that the payloads it announces fit one batch.
func decodeBatchHeader(b []byte) ([]writeHeader, error) {
	n, err := decodeBatchPrefix(b)
	if err != nil {
		return nil, err
	}
	if len(b) != headerSectionSize(n) {
		return nil, fmt.Errorf("%w: header section of %d bytes for %d writes", errWire, len(b), n)
	}
	if got, want := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.Checksum(b[:len(b)-4], castagnoli); got != want {
		return nil, fmt.Errorf("%w: header checksum %#x, want %#x", errWire, got, want)
	}
	hs := make([]writeHeader, n)
	total := uint64(0)
	for i := range hs {
		d := b[batchPrefixSize+i*descriptorSize:]
		hs[i] = writeHeader{
			Volume:  binary.LittleEndian.Uint64(d),
			Index:   binary.LittleEndian.Uint64(d[8:]),
			Offset:  binary.LittleEndian.Uint32(d[16:]),
			Length:  binary.LittleEndian.Uint32(d[20:]),
			Version: binary.LittleEndian.Uint64(d[24:]),
			Epoch:   binary.LittleEndian.Uint64(d[32:]),
			CRC:     binary.LittleEndian.Uint32(d[40:]),
		}
		if binary.LittleEndian.Uint32(d[44:]) != 0 {
			return nil, fmt.Errorf("%w: reserved descriptor bytes set", errWire)
		}
		total += uint64(hs[i].Length)
	}
	if total > maxWritesPayload {
		return nil, fmt.Errorf("%w: batch of %d payload bytes", errWire, total)
	}
	return hs, nil
}

// readBatchHeader reads a batch's header section from r and decodes it.
func readBatchHeader(r io.Reader) ([]writeHeader, error) {
	var prefix [batchPrefixSize]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", errWire, err)
	}
	n, err := decodeBatchPrefix(prefix[:])
	if err != nil {
		return nil, err
	}
	b := make([]byte, headerSectionSize(n))
	copy(b, prefix[:])
	if _, err := io.ReadFull(r, b[batchPrefixSize:]); err != nil {
		return nil, fmt.Errorf("%w: %w", errWire, err)
	}
	return decodeBatchHeader(b)
}

// payloadBytes is the sum of the writes' lengths.
func payloadBytes(hs []writeHeader) int64 {
	var n int64
	for _, h := range hs {
		n += int64(h.Length)
	}
	return n
}

// appendWriteBatch appends the wire form of a whole batch (header section, payloads).
func appendWriteBatch(b []byte, ws []chunkWrite) []byte {
	b = appendBatchHeader(b, headers(ws))
	for _, w := range ws {
		b = append(b, w.Data...)
	}
	return b
}

func headers(ws []chunkWrite) []writeHeader {
	hs := make([]writeHeader, len(ws))
	for i, w := range ws {
		hs[i] = w.writeHeader
	}
	return hs
}

// appendWriteResults appends the wire form of a batch's outcomes: errs[i] nil is success,
// otherwise its Connect code and (truncated) text.
func appendWriteResults(b []byte, errs []error) []byte {
	b = binary.LittleEndian.AppendUint32(b, resultMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(errs)))
	for _, err := range errs {
		if err == nil {
			b = binary.LittleEndian.AppendUint64(b, 0)
			continue
		}
		var ce *connect.Error
		if !errors.As(err, &ce) {
			ce = toConnect(err).(*connect.Error)
		}
		msg := ce.Message()
		if len(msg) > maxResultMessage {
			msg = msg[:maxResultMessage]
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(ce.Code()))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(msg)))
		b = append(b, msg...)
	}
	return b
}

// decodeWriteResults decodes the outcomes of a batch of n writes: nil for success, a
// *connect.Error with the server's code and text otherwise.
func decodeWriteResults(b []byte, n int) ([]error, error) {
	if len(b) < 8 || binary.LittleEndian.Uint32(b) != resultMagic {
		return nil, fmt.Errorf("%w: bad results header", errWire)
	}
	if got := binary.LittleEndian.Uint32(b[4:]); uint64(got) != uint64(n) {
		return nil, fmt.Errorf("%w: %d results for %d writes", errWire, got, n)
	}
	b = b[8:]
	errs := make([]error, n)
	for i := range errs {
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: results cut short", errWire)
		}
		code, size := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		b = b[8:]
		if size > maxResultMessage || uint64(size) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: result message of %d bytes", errWire, size)
		}
		switch {
		case code == 0 && size != 0:
			return nil, fmt.Errorf("%w: success with a message", errWire)
		case code == 0:
		case code > uint32(connect.CodeUnauthenticated):
			return nil, fmt.Errorf("%w: result code %d", errWire, code)
		default:
			errs[i] = connect.NewError(connect.Code(code), errors.New(string(b[:size])))
		}
		b = b[size:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the results", errWire, len(b))
	}
	return errs, nil
}

// batchBody is a write batch's request body: headers and payloads as a list of buffers,
// written without copying (writev) when the HTTP transport hands it to a dataConn.
type batchBody struct {
	bufs net.Buffers
	n    int64
}

func newBatchBody(ws []chunkWrite) *batchBody {
	b := &batchBody{bufs: make(net.Buffers, 0, 1+len(ws))}
	b.bufs = append(b.bufs, appendBatchHeader(make([]byte, 0, headerSectionSize(len(ws))), headers(ws)))
	for _, w := range ws {
		b.bufs = append(b.bufs, w.Data)
	}
	b.n = int64(headerSectionSize(len(ws))) + payloadBytes(headers(ws))
	return b
}

// Close implements io.Closer: a batchBody is its own io.ReadCloser, so the HTTP transport
// hands it to dataConn.ReadFrom unwrapped.
func (b *batchBody) Close() error { return nil }

// Read implements io.Reader (the fallback when the transport does not use dataConn).
func (b *batchBody) Read(p []byte) (int, error) {
	n, err := b.bufs.Read(p)
	return n, err
}

// writeTo writes at most limit bytes of what is left to w.
func (b *batchBody) writeTo(w io.Writer, limit int64) (int64, error) {
	var out net.Buffers
	var n int64
	for len(b.bufs) > 0 && n < limit {
		p := b.bufs[0]
		if int64(len(p)) > limit-n {
			p = p[:limit-n]
		}
		out = append(out, p)
		n += int64(len(p))
		if len(p) == len(b.bufs[0]) {
			b.bufs = b.bufs[1:]
		} else {
			b.bufs[0] = b.bufs[0][len(p):]
		}
	}
	return out.WriteTo(w)
}

// dataConn wraps a connection of the data-plane HTTP client. The transport copies a
// request body into the connection with ReadFrom, handing over the body wrapped in an
// io.LimitedReader; for a batchBody that becomes one writev of the caller's buffers
// instead of a copy through a 32 KiB buffer and a write call per piece. Anything else is
// copied as usual.
type dataConn struct{ net.Conn }

// ReadFrom implements io.ReaderFrom.
func (c dataConn) ReadFrom(r io.Reader) (int64, error) {
	switch r := r.(type) {
	case *batchBody:
		return r.writeTo(c.Conn, math.MaxInt64)
	case *io.LimitedReader:
		if b, ok := r.R.(*batchBody); ok {
			n, err := b.writeTo(c.Conn, r.N)
			r.N -= n
			return n, err
		}
	}
	return io.Copy(c.Conn, r)
}

// httpCode maps a data-plane HTTP status to the Connect code of the failure.
func httpCode(status int) connect.Code {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusLengthRequired, http.StatusUnsupportedMediaType:
		return connect.CodeInvalidArgument
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return connect.CodeUnimplemented
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return connect.CodeUnavailable
	default:
		return connect.CodeInternal
	}
}

// transportError gives a failed data-plane exchange the Connect code the volume layer
// branches on: network failures are CodeUnavailable (the node is marked down).
func transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	default:
		return connect.NewError(connect.CodeUnavailable, err)
	}
}

// postWrites sends a write batch to the chunk server at base and returns each write's
// outcome, or one error when the exchange itself failed.
func postWrites(ctx context.Context, hc *http.Client, base string, ws []chunkWrite) ([]error, error) {
	body := newBatchBody(ws)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+writesPath, body)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	req.ContentLength = body.n
	// Writes are idempotent (a chunk server accepts a write again at the same version),
	// so the transport may resend a batch on a kept-alive connection the server closed.
	req.GetBody = func() (io.ReadCloser, error) { return newBatchBody(ws), nil }
	req.Header.Set("Content-Type", writesType)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%d/%d@%d", ws[0].Volume, ws[0].Index, ws[0].Version))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(8+len(ws)*(8+maxResultMessage))+1))
	if err != nil {
		return nil, transportError(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, connect.NewError(httpCode(resp.StatusCode), fmt.Errorf("chunk server: %s: %s", resp.Status, bytes.TrimSpace(b)))
	}
	errs, err := decodeWriteResults(b, len(ws))
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	return errs, nil
}

// serveWrites is the chunk server's data-plane handler: it reads a batch's header
// section, then streams each payload from the request body into the chunk store, which
// checks its frames' CRC32Cs piece by piece as they arrive, appends the writes that pass
// their checks with one write call and one fsync (chunk.Store.WriteMany), and answers with
// every write's outcome.
func (cs *ChunkServer) serveWrites(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodPost:
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	case r.Header.Get("Content-Type") != writesType:
		http.Error(w, "content type must be "+writesType, http.StatusUnsupportedMediaType)
		return
	case r.ContentLength < 0:
		http.Error(w, "Content-Length required", http.StatusLengthRequired)
		return
	}
	if bb, ok := r.Body.(*batchBody); ok {
		// Called in-process by a manager of this process: seal straight from its buffers.
		cs.writeInProcess(w, r, bb)
		return
	}
	hs, err := readBatchHeader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if want := int64(headerSectionSize(len(hs))) + payloadBytes(hs); r.ContentLength != want {
		http.Error(w, fmt.Sprintf("%v: body of %d bytes, the header announces %d", errWire, r.ContentLength, want), http.StatusBadRequest)
		return
	}
	ops := make([]chunk.WriteOp, len(hs))
	for i, h := range hs {
		ops[i] = chunk.WriteOp{
			ID: chunk.ID{Volume: h.Volume, Index: h.Index}, Offset: h.Offset, Version: h.Version, Epoch: h.Epoch,
			Src: r.Body, Length: h.Length, CheckCRC: true, CRC: h.CRC, Framed: true,
		}
	}
	errs := cs.store.WriteMany(r.Context(), ops)
	w.Header().Set("Content-Type", resultsType)
	w.Write(appendWriteResults(nil, errs))
}

// writeInProcess serves a write batch handed over in-process: the header section is
// decoded as from the network, the payloads are the caller's buffers (copied once, into
// the record) and their frames are checked as from the network. The manager reuses a
// frames buffer only when every replica answered, never one a replica may still read.
func (cs *ChunkServer) writeInProcess(w http.ResponseWriter, r *http.Request, bb *batchBody) {
	if len(bb.bufs) == 0 {
		http.Error(w, fmt.Sprintf("%v: empty body", errWire), http.StatusBadRequest)
		return
	}
	hs, err := decodeBatchHeader(bb.bufs[0])
	if err == nil && len(bb.bufs) != 1+len(hs) {
		err = fmt.Errorf("%w: %d payloads for %d writes", errWire, len(bb.bufs)-1, len(hs))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ops := make([]chunk.WriteOp, len(hs))
	for i, h := range hs {
		data := bb.bufs[1+i]
		if len(data) != int(h.Length) {
			http.Error(w, fmt.Sprintf("%v: payload of %d bytes, descriptor says %d", errWire, len(data), h.Length), http.StatusBadRequest)
			return
		}
		ops[i] = chunk.WriteOp{
			ID: chunk.ID{Volume: h.Volume, Index: h.Index}, Offset: h.Offset, Data: data, Version: h.Version, Epoch: h.Epoch,
			CheckCRC: true, CRC: h.CRC, Framed: true,
		}
	}
	bb.bufs = nil
	errs := cs.store.WriteMany(r.Context(), ops)
	w.Header().Set("Content-Type", resultsType)
	w.Write(appendWriteResults(nil, errs))
}

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
	"sync"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

// The data plane: chunk writes travel as the raw body of an HTTP/1.1 POST rather than as
// Connect messages, so a megabyte of payload is neither marshaled nor unmarshaled: the
// manager writes each replica's body straight from the caller's buffer (one writev), the
// chunk server reads it into one pooled buffer and seals blocks out of it. The control
// plane (everything else) stays Connect. The format is specified in ../PROTOCOL.md
// ("Data plane"); the decoders below are pure functions over bytes.

const (
	// writesPath is the data-plane endpoint for batched chunk writes.
	writesPath = "/shadowless.storage.v1.Data/Write"
	// writesType and resultsType are the request and response content types.
	writesType  = "application/vnd.shadowless.chunk-writes"
	resultsType = "application/vnd.shadowless.chunk-results"

	writeMagic  = 0x534c5731 // "SLW1"
	resultMagic = 0x534c5231 // "SLR1"
	wireVersion = 1

	// writeHeaderSize is the fixed header in front of each write's payload.
	writeHeaderSize = 56
	// maxResultMessage bounds the error text of one result.
	maxResultMessage = 1024
	// maxWritesBody bounds a write batch's body: the batcher packs up to maxBatchBytes,
	// but a single write may carry a whole record.
	maxWritesBody = maxBatchItems*writeHeaderSize + chunk.MaxRecordLength
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errWire marks a malformed data-plane message.
var errWire = errors.New("cluster: malformed data-plane message")

// errPayloadChecksum is the outcome of a write whose payload arrived damaged.
var errPayloadChecksum = fmt.Errorf("%w: write payload fails its CRC32C", chunk.ErrCorrupt)

// writeHeader describes one chunk write on the data plane.
type writeHeader struct {
	Volume, Index  uint64
	Offset, Length uint32
	Version, Epoch uint64
	// CRC is the CRC32C (Castagnoli) of the payload.
	CRC uint32
}

// chunkWrite is a write header and its payload. On the receiving side Corrupt is set when
// the payload does not match the header's CRC.
type chunkWrite struct {
	writeHeader
	Data    []byte
	Corrupt bool
}

// newChunkWrite returns a write of data with its checksum filled in.
func newChunkWrite(volume, index uint64, offset uint32, data []byte, version, epoch uint64) chunkWrite {
	return chunkWrite{writeHeader: writeHeader{
		Volume: volume, Index: index, Offset: offset, Length: uint32(len(data)),
		Version: version, Epoch: epoch, CRC: crc32.Checksum(data, castagnoli),
	}, Data: data}
}

// appendWriteHeader appends the 56-byte wire form of h.
func appendWriteHeader(b []byte, h writeHeader) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, writeMagic)
	b = append(b, wireVersion, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, h.Volume)
	b = binary.LittleEndian.AppendUint64(b, h.Index)
	b = binary.LittleEndian.AppendUint32(b, h.Offset)
	b = binary.LittleEndian.AppendUint32(b, h.Length)
	b = binary.LittleEndian.AppendUint64(b, h.Version)
	b = binary.LittleEndian.AppendUint64(b, h.Epoch)
	b = binary.LittleEndian.AppendUint32(b, h.CRC)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// decodeWriteHeader decodes a write header from the first writeHeaderSize bytes of b.
func decodeWriteHeader(b []byte) (writeHeader, error) {
	if len(b) < writeHeaderSize {
		return writeHeader{}, fmt.Errorf("%w: write header of %d bytes", errWire, len(b))
	}
	b = b[:writeHeaderSize]
	if m := binary.LittleEndian.Uint32(b); m != writeMagic {
		return writeHeader{}, fmt.Errorf("%w: bad write magic %#x", errWire, m)
	}
	if got, want := binary.LittleEndian.Uint32(b[52:]), crc32.Checksum(b[:52], castagnoli); got != want {
		return writeHeader{}, fmt.Errorf("%w: write header checksum %#x, want %#x", errWire, got, want)
	}
	if b[4] != wireVersion || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return writeHeader{}, fmt.Errorf("%w: write header version %d or reserved bytes set", errWire, b[4])
	}
	h := writeHeader{
		Volume:  binary.LittleEndian.Uint64(b[8:]),
		Index:   binary.LittleEndian.Uint64(b[16:]),
		Offset:  binary.LittleEndian.Uint32(b[24:]),
		Length:  binary.LittleEndian.Uint32(b[28:]),
		Version: binary.LittleEndian.Uint64(b[32:]),
		Epoch:   binary.LittleEndian.Uint64(b[40:]),
		CRC:     binary.LittleEndian.Uint32(b[48:]),
	}
	if h.Length > chunk.MaxRecordLength {
		return writeHeader{}, fmt.Errorf("%w: write of %d bytes", errWire, h.Length)
	}
	return h, nil
}

// appendWriteBatch appends the wire form of a batch (headers and payloads) to b.
func appendWriteBatch(b []byte, ws []chunkWrite) []byte {
	for _, w := range ws {
		b = appendWriteHeader(b, w.writeHeader)
		b = append(b, w.Data...)
	}
	return b
}

// decodeWriteBatch decodes a whole write batch. The payloads alias body. A write whose
// payload fails its CRC is returned with Corrupt set (it fails alone); a malformed header,
// a truncated payload or more than maxBatchItems writes fail the whole batch.
func decodeWriteBatch(body []byte) ([]chunkWrite, error) {
	var ws []chunkWrite
	for len(body) > 0 {
		if len(ws) == maxBatchItems {
			return nil, fmt.Errorf("%w: more than %d writes in a batch", errWire, maxBatchItems)
		}
		h, err := decodeWriteHeader(body)
		if err != nil {
			return nil, err
		}
		body = body[writeHeaderSize:]
		if uint64(h.Length) > uint64(len(body)) {
			return nil, fmt.Errorf("%w: write of %d bytes, %d left in the body", errWire, h.Length, len(body))
		}
		data := body[:h.Length:h.Length]
		body = body[h.Length:]
		ws = append(ws, chunkWrite{writeHeader: h, Data: data, Corrupt: crc32.Checksum(data, castagnoli) != h.CRC})
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("%w: empty write batch", errWire)
	}
	return ws, nil
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
	hdrs := make([]byte, 0, len(ws)*writeHeaderSize)
	b := &batchBody{bufs: make(net.Buffers, 0, 2*len(ws))}
	for _, w := range ws {
		hdrs = appendWriteHeader(hdrs, w.writeHeader)
		b.bufs = append(b.bufs, hdrs[len(hdrs)-writeHeaderSize:], w.Data)
		b.n += writeHeaderSize + int64(len(w.Data))
	}
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

// bodyPool recycles the buffers chunk servers read write batches into.
type bodyPool struct{ p sync.Pool }

func (bp *bodyPool) get(n int) *[]byte {
	b, _ := bp.p.Get().(*[]byte)
	if b == nil || cap(*b) < n {
		nb := make([]byte, n)
		return &nb
	}
	*b = (*b)[:n]
	return b
}

func (bp *bodyPool) put(b *[]byte) { bp.p.Put(b) }

// serveWrites is the chunk server's data-plane handler: it reads a write batch, appends
// the writes that pass their checks with one write call and one fsync (chunk.WriteMany)
// and answers with every write's outcome.
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
	case r.ContentLength > maxWritesBody:
		http.Error(w, fmt.Sprintf("write batch of %d bytes", r.ContentLength), http.StatusRequestEntityTooLarge)
		return
	}
	bp := cs.bodies.get(int(r.ContentLength))
	defer cs.bodies.put(bp)
	if _, err := io.ReadFull(r.Body, *bp); err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	ws, err := decodeWriteBatch(*bp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	errs := make([]error, len(ws))
	ops := make([]chunk.WriteOp, 0, len(ws))
	where := make([]int, 0, len(ws))
	for i, wr := range ws {
		if wr.Corrupt {
			errs[i] = errPayloadChecksum
			continue
		}
		ops = append(ops, chunk.WriteOp{ID: chunk.ID{Volume: wr.Volume, Index: wr.Index}, Offset: wr.Offset, Data: wr.Data, Version: wr.Version, Epoch: wr.Epoch})
		where = append(where, i)
	}
	if len(ops) > 0 {
		for j, err := range cs.store.WriteMany(r.Context(), ops) {
			errs[where[j]] = err
		}
	}
	w.Header().Set("Content-Type", resultsType)
	w.Write(appendWriteResults(nil, errs))
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/chunk"
	"github.com/shadowless-dev/shadowless/storage/meta"
)

// newH2CClient returns an HTTP client speaking unencrypted HTTP/2 (h2c), for Connect
// between nodes on loopback or a private network.
func newH2CClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:           &p,
		HTTP2:               h2Config(),
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
	}}
}

// newDataClient returns an HTTP/1.1 client for the data plane (raw write batches) and the
// batched Connect reads. Large bodies cost fewer copies over HTTP/1.1 than over HTTP/2:
// the request body goes from the caller's buffers straight to the socket, and the server
// reads it from the socket into one buffer, where HTTP/2 copies each megabyte into frames,
// flow-control buffers and stream pipes on both sides. A batcher keeps at most one call in flight per node and
// direction, so a handful of kept-alive connections per chunk server suffices.
func newDataClient() *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	d := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Protocols: &p,
		// dataConn sends write batches with one writev from the callers' buffers.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return dataConn{c}, nil
		},
		MaxIdleConnsPerHost: 8,
		// Only request headers and the start of a body pass through the write buffer.
		WriteBufferSize:    8 << 10,
		ReadBufferSize:     64 << 10,
		DisableCompression: true,
	}}
}

// h2Config sizes HTTP/2 flow-control windows and frames for megabyte chunk writes, so a
// 1 MiB write does not wait a round trip for window updates.
func h2Config() *http.HTTP2Config {
	return &http.HTTP2Config{
		MaxReadFrameSize:              1 << 20,
		MaxReceiveBufferPerStream:     16 << 20,
		MaxReceiveBufferPerConnection: 64 << 20,
	}
}

// clientOptions turn off response compression: chunk data is ciphertext or random-looking
// and gzip only burns CPU.
func clientOptions() []connect.ClientOption {
	return []connect.ClientOption{connect.WithAcceptCompression("gzip", nil, nil)}
}

// serveH2C serves handler on ln with HTTP/1.1 and h2c.
func serveH2C(ln net.Listener, handler http.Handler) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: handler, Protocols: &p, HTTP2: h2Config(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv
}

func baseURL(addr string) string { return "http://" + addr }

// toConnect maps library errors to Connect codes so the other side can branch on them.
func toConnect(err error) error {
	if err == nil {
		return nil
	}
	var code connect.Code
	switch {
	case errors.Is(err, chunk.ErrStaleEpoch), errors.Is(err, chunk.ErrStaleVersion):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, chunk.ErrCorrupt), errors.Is(err, ErrDecrypt):
		code = connect.CodeDataLoss
	case errors.Is(err, chunk.ErrRange), errors.Is(err, chunk.ErrUnit), errors.Is(err, meta.ErrInvalid), errors.Is(err, meta.ErrShrink):
		code = connect.CodeInvalidArgument
	case errors.Is(err, meta.ErrNotFound), errors.Is(err, ErrNoVolume):
		code = connect.CodeNotFound
	case errors.Is(err, meta.ErrExists):
		code = connect.CodeAlreadyExists
	case errors.Is(err, meta.ErrNotEnoughNodes), errors.Is(err, chunk.ErrClosed):
		code = connect.CodeUnavailable
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	default:
		code = connect.CodeInternal
	}
	return connect.NewError(code, err)
}

// replicaError records which replica failed how.
type replicaError struct {
	Node string
	Err  error
}

func (e replicaError) Error() string { return fmt.Sprintf("replica %s: %v", e.Node, e.Err) }
func (e replicaError) Unwrap() error { return e.Err }

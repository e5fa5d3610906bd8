package cluster

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/shadowless-dev/shadowless/storage/chunk"
)

// When the whole cluster runs in one process (StartLocal, the embedded default), pushing
// every replica's megabyte through the kernel's loopback TCP stack to talk to ourselves
// costs two copies per replica and a network round trip of wakeups. The manager's HTTP
// clients therefore hand requests for chunk servers of the same process straight to their
// handlers: the same Connect services and the same data-plane handler, with the same
// checks, only without a socket. Nodes elsewhere (or in-process ones with
// LocalConfig.Network set) are reached over the network as always.

// inProcess maps the addresses of chunk servers running in this process to their handlers
// and their stores (whose append phase the manager asks for, see framePhase).
type inProcess struct {
	mu       sync.RWMutex
	handlers map[string]http.Handler
	stores   map[string]*chunk.Store
}

// set registers the chunk server at addr (its handler and store), or with h nil removes it.
func (p *inProcess) set(addr string, h http.Handler, st *chunk.Store) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handlers == nil {
		p.handlers = map[string]http.Handler{}
		p.stores = map[string]*chunk.Store{}
	}
	if h == nil {
		delete(p.handlers, addr)
		delete(p.stores, addr)
	} else {
		p.handlers[addr] = h
		p.stores[addr] = st
	}
}

// framePhase returns the memory phase (chunk.Store.FramePhase) at which a Framed payload
// of n bytes lets every one of the chunk servers at addrs append it without copying, or
// -1 when one of them is not in this process or they disagree.
func (p *inProcess) framePhase(addrs []string, n int) int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	phase := -1
	for _, a := range addrs {
		st := p.stores[a]
		if st == nil {
			return -1
		}
		ph := st.FramePhase(n)
		if phase >= 0 && ph != phase {
			return -1
		}
		phase = ph
	}
	return phase
}

func (p *inProcess) get(addr string) http.Handler {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.handlers[addr]
}

// inProcessTransport serves requests to in-process chunk servers by calling their
// handlers and sends the rest over next.
type inProcessTransport struct {
	local *inProcess
	next  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.local.get(req.URL.Host)
	if h == nil {
		return t.next.RoundTrip(req)
	}
	// The handler sees the request as a server would.
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Host = req.URL.Host
	sreq.RemoteAddr = "in-process"
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	if req.Body == nil {
		sreq.Body = http.NoBody
	}
	w := &memResponse{header: http.Header{}}
	// Like a server, the handler runs on its own: a caller whose context ends gets its
	// error at once, as over the network, instead of waiting out a stuck disk.
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, sreq)
	}()
	select {
	case <-done:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	if req.Body != nil {
		req.Body.Close()
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode: w.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// memResponse is an http.ResponseWriter that keeps the response in memory.
type memResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *memResponse) Header() http.Header { return w.header }

func (w *memResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *memResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush implements http.Flusher (there is nothing to flush).
func (w *memResponse) Flush() {}

// withInProcess wraps an HTTP client's transport so that requests to in-process chunk
// servers skip the network.
func withInProcess(hc *http.Client, local *inProcess) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = inProcessTransport{local: local, next: next}
	return hc
}

// CloseIdleConnections closes the idle connections of the network transport.
func (t inProcessTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

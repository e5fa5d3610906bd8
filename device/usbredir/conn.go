package usbredir

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

// wire is the I/O edge shared by both roles: it owns the codec and serialises writes.
type wire struct {
	rw  io.ReadWriteCloser
	log *slog.Logger

	cmu   sync.Mutex // guards codec
	codec *Codec

	wmu sync.Mutex // serialises writes
	buf []byte

	// helloDone is closed once our hello has been written (or failed): nothing else may
	// be sent before it. The hello is written concurrently with reading, so that
	// synchronous transports (net.Pipe, some channel implementations) cannot deadlock
	// with both sides writing their hello at once.
	helloDone chan struct{}
	helloErr  error
}

func newWire(rw io.ReadWriteCloser, caps Caps, log *slog.Logger) *wire {
	return &wire{rw: rw, codec: NewCodec(caps), log: log, helloDone: make(chan struct{})}
}

// sendHello writes our hello and releases other senders.
func (w *wire) sendHello(h Hello) error {
	w.helloErr = w.send(0, h)
	close(w.helloDone)
	return w.helloErr
}

// afterHello waits until our hello is out.
func (w *wire) afterHello() error {
	<-w.helloDone
	return w.helloErr
}

// send encodes and writes one packet.
func (w *wire) send(id uint64, m Message) error {
	if m.Type() != TypeHello {
		if err := w.afterHello(); err != nil {
			return err
		}
	}
	w.cmu.Lock()
	hdr, data, err := w.codec.Encode(id, m)
	w.cmu.Unlock()
	if err != nil {
		return err
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if len(data) > 16<<10 {
		if _, ok := w.rw.(net.Conn); ok {
			bufs := net.Buffers{hdr, data}
			_, err = bufs.WriteTo(w.rw)
			if err != nil {
				return fmt.Errorf("usbredir: write: %w", err)
			}
			return nil
		}
	}
	w.buf = append(append(w.buf[:0], hdr...), data...)
	if _, err := w.rw.Write(w.buf); err != nil {
		return fmt.Errorf("usbredir: write: %w", err)
	}
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
	return nil
}

func (w *wire) negotiated() Caps {
	w.cmu.Lock()
	defer w.cmu.Unlock()
	return w.codec.Negotiated()
}

// readLoop reads packets and hands each to handle until an error, which it returns. A
// clean EOF is returned as io.EOF.
func (w *wire) readLoop(handle func(Packet) error) error {
	buf := make([]byte, 256<<10)
	for {
		n, err := w.rw.Read(buf)
		if n > 0 {
			w.cmu.Lock()
			w.codec.Feed(buf[:n])
			w.cmu.Unlock()
			for {
				w.cmu.Lock()
				p, ok, perr := w.codec.Next()
				w.cmu.Unlock()
				if perr != nil {
					return perr
				}
				if !ok {
					break
				}
				if herr := handle(p); herr != nil {
					return herr
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("usbredir: read: %w", err)
		}
	}
}

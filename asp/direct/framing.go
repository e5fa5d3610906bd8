package direct

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// On TCP, SCTP packets travel in the TLS byte stream as frames: a 2-byte big-endian
// length (1..maxFramePayload) followed by that many bytes of one SCTP packet.
// framedConn turns the stream back into a packet-preserving net.Conn for pion/sctp.

const (
	frameHeaderLen = 2
	// maxFramePayload is the largest SCTP packet on TCP; pion/sctp reads inbound packets
	// into an 8192-byte buffer, and the TCP association's MTU (tcpMTU) stays below it.
	maxFramePayload = 8192
	tcpMTU          = 8000
)

// framedConn is a packet-preserving net.Conn over a byte stream.
type framedConn struct {
	net.Conn
	r    *bufio.Reader
	rmu  sync.Mutex
	wmu  sync.Mutex
	wbuf []byte
}

func newFramedConn(c net.Conn) *framedConn {
	return &framedConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), wbuf: make([]byte, 0, frameHeaderLen+maxFramePayload)}
}

// Write sends p as one frame.
func (f *framedConn) Write(p []byte) (int, error) {
	if len(p) == 0 || len(p) > maxFramePayload {
		return 0, fmt.Errorf("%w: packet of %d bytes does not fit a frame", ErrProtocol, len(p))
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.wbuf = appendFrame(f.wbuf[:0], p)
	if _, err := f.Conn.Write(f.wbuf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read returns the payload of the next frame. It fails with ErrProtocol on a frame
// length of 0 or above maxFramePayload and with io.ErrShortBuffer (after discarding the
// frame) when p is too small.
func (f *framedConn) Read(p []byte) (int, error) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	return readFrame(f.r, p)
}

// appendFrame appends the frame carrying p to dst.
func appendFrame(dst, p []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(p)))
	return append(dst, p...)
}

// readFrame reads one frame from r into p.
func readFrame(r *bufio.Reader, p []byte) (int, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > maxFramePayload {
		return 0, fmt.Errorf("%w: frame length %d", ErrProtocol, n)
	}
	if n > len(p) {
		if _, err := r.Discard(n); err != nil {
			return 0, unexpectedEOF(err)
		}
		return 0, io.ErrShortBuffer
	}
	if _, err := io.ReadFull(r, p[:n]); err != nil {
		return 0, unexpectedEOF(err)
	}
	return n, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

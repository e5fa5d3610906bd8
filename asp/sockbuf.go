package asp

import (
	"fmt"
	"net"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// SocketBufferBytes is the UDP send and receive buffer LargeSocketBuffers asks for. A
// 1080p keyframe or refinement frame leaves in one burst of 100–200 packets; the kernel
// accounts each at about twice its size, so Linux's default 208 kB receive buffer
// overflows as soon as the reader is a few milliseconds late (measured: 414 packets lost
// on loopback in 10 s of the web scenario). The kernel caps the request at
// net.core.rmem_max / wmem_max.
const SocketBufferBytes = 4 << 20

// LargeSocketBuffers configures a SettingEngine for big video frames: the UDP sockets ICE
// opens get SocketBufferBytes of send and receive buffer, and the SRTP replay window holds
// SRTPReplayWindow packets so that retransmissions of a big frame are accepted. The server applies it to every peer
// connection and the native client to its own; pass it through WithSettingEngine only to
// build a SettingEngine of your own.
func LargeSocketBuffers(se *webrtc.SettingEngine) {
	se.SetSRTPReplayProtectionWindow(SRTPReplayWindow)
	n, err := stdnet.NewNet()
	if err != nil {
		return // pion falls back to its own standard network
	}
	se.SetNet(bufferedNet{n})
}

// SRTPReplayWindow is the SRTP replay-protection window LargeSocketBuffers sets, in
// packets. pion's default of 64 rejects a NACK retransmission as a replay once 64 newer
// packets have arrived, which is less than one 1080p frame (40–230 packets): a packet lost
// early in a keyframe could never be repaired, and the stream fell into a loop of
// keyframes.
const SRTPReplayWindow = 4096

// bufferedNet is the standard network with large buffers on every UDP socket.
type bufferedNet struct{ transport.Net }

type socketBuffers interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

func grow(c any) {
	if b, ok := c.(socketBuffers); ok {
		_ = b.SetReadBuffer(SocketBufferBytes)  // best effort: capped by the kernel
		_ = b.SetWriteBuffer(SocketBufferBytes) // best effort: capped by the kernel
	}
}

func (n bufferedNet) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, fmt.Errorf("asp: listen udp: %w", err)
	}
	grow(c)
	return c, nil
}

func (n bufferedNet) ListenPacket(network, addr string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, addr)
	if err != nil {
		return nil, fmt.Errorf("asp: listen packet: %w", err)
	}
	grow(c)
	return c, nil
}

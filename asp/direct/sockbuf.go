package direct

import "syscall"

// udpSocketBuffer is the kernel buffer size asked for on UDP sockets: bursts of a fast
// association overflow the usual 208 KiB default and every overflow costs SCTP a
// retransmission timeout. The kernel caps it at net.core.rmem_max / wmem_max.
const udpSocketBuffer = 4 << 20

// setSocketBuffers is a net.ListenConfig.Control function that enlarges the socket's
// buffers; failures are ignored (the defaults still work, only slower).
func setSocketBuffers(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) { setBuffers(fd, udpSocketBuffer) })
}

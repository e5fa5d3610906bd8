package asp

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pion/transport/v5/stdnet"
	"github.com/stretchr/testify/require"
)

func rcvbuf(t *testing.T, c *net.UDPConn) int {
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	var size int
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		size, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}))
	require.NoError(t, serr)
	return size
}

// The sockets ICE opens through LargeSocketBuffers' network get more receive buffer than
// the default (as much as the kernel allows, which is at least the default).
func TestLargeSocketBuffers(t *testing.T) {
	std, err := stdnet.NewNet()
	require.NoError(t, err)
	plain, err := std.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer plain.Close()
	big, err := bufferedNet{std}.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer big.Close()
	def, got := rcvbuf(t, plain.(*net.UDPConn)), rcvbuf(t, big.(*net.UDPConn))
	require.GreaterOrEqual(t, got, def)
	if b, err := os.ReadFile("/proc/sys/net/core/rmem_max"); err == nil {
		if max, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && 2*max > def {
			require.Greater(t, got, def, "the kernel allows more than its default")
		}
	}
	pc, err := bufferedNet{std}.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	require.GreaterOrEqual(t, rcvbuf(t, pc.(*net.UDPConn)), got)
}

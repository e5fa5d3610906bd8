package netem

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func udp(t *testing.T) *net.UDPConn {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func addr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// TestRelayDelays sends packets both ways through a relay with 60 ms added round trip and
// checks each way takes about 30 ms more.
func TestRelayDelays(t *testing.T) {
	client, server := udp(t), udp(t)
	r, err := NewRelay(Spec{Delay: 60 * time.Millisecond}, 1)
	require.NoError(t, err)
	defer r.Close()
	r.SetClient(addr(client))
	r.SetServer(addr(server))
	buf := make([]byte, 100)
	for i := 0; i < 3; i++ {
		start := time.Now()
		_, err := client.WriteToUDPAddrPort([]byte("ping"), r.ClientSide())
		require.NoError(t, err)
		require.NoError(t, server.SetReadDeadline(time.Now().Add(2*time.Second)))
		n, from, err := server.ReadFromUDPAddrPort(buf)
		require.NoError(t, err)
		assert.Equal(t, "ping", string(buf[:n]))
		assert.Equal(t, r.ServerSide(), from, "the server sees the relay, not the client")
		up := time.Since(start)
		_, err = server.WriteToUDPAddrPort([]byte("pong"), from)
		require.NoError(t, err)
		require.NoError(t, client.SetReadDeadline(time.Now().Add(2*time.Second)))
		n, from, err = client.ReadFromUDPAddrPort(buf)
		require.NoError(t, err)
		assert.Equal(t, "pong", string(buf[:n]))
		assert.Equal(t, r.ClientSide(), from)
		rtt := time.Since(start)
		assert.GreaterOrEqual(t, up, 30*time.Millisecond)
		assert.Less(t, up, 60*time.Millisecond)
		assert.GreaterOrEqual(t, rtt, 60*time.Millisecond)
		assert.Less(t, rtt, 110*time.Millisecond)
	}
	st := r.Stats()
	assert.Equal(t, uint64(3), st.UpPackets)
	assert.Equal(t, uint64(12), st.DownBytes)
}

func TestRewriteCandidates(t *testing.T) {
	sdp := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\na=candidate:2 1 udp 2130706431 127.0.0.1 50000 typ host generation 0\r\na=end-of-candidates\r\n"
	to := netip.MustParseAddrPort("127.0.0.1:40000")
	out, was, err := RewriteCandidates(sdp, to)
	require.NoError(t, err)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:50000"), was)
	assert.Contains(t, out, "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n")
	assert.Contains(t, out, "127.0.0.1 40000 typ host generation 0\r\n")
	assert.NotContains(t, out, "50000")

	_, _, err = RewriteCandidates("v=0\r\n", to)
	require.Error(t, err)
	_, _, err = RewriteCandidates("a=candidate:1 1 udp 1 127.0.0.1 1 typ host\na=candidate:1 1 udp 1 127.0.0.1 2 typ host\n", to)
	require.Error(t, err, "two different loopback candidates")
}

func FuzzRewriteCandidates(f *testing.F) {
	f.Add("a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n")
	f.Add("a=candidate:1 1 UDP 1 127.0.0.1 99999 typ host\n")
	f.Add("a=candidate: 1 udp 1 ::1 5 typ host")
	f.Fuzz(func(t *testing.T, sdp string) {
		to := netip.MustParseAddrPort("127.0.0.1:40000")
		out, was, err := RewriteCandidates(sdp, to)
		if err != nil {
			return
		}
		require.True(t, was.IsValid())
		_, again, err := RewriteCandidates(out, to)
		require.NoError(t, err)
		require.Equal(t, to, again, "rewriting is idempotent")
	})
}

package direct

import (
	"net"
	"testing"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/dtls/v3"
	"github.com/pion/sctp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The channel handshake is WebRTC's DCEP: pion/datachannel, the implementation behind
// pion/webrtc's data channels, opens and accepts channels with an asp/direct server. The
// client here does not offer I-DATA, so this also covers a peer without interleaving.
func TestInteropWithPionDatachannel(t *testing.T) {
	l := listen(t, bothAddrs())
	ctx := ctxT(t, 10*time.Second)
	log := slogFactory{log: discardLogger(nil)}

	uc, err := net.DialUDP("udp", nil, l.UDPAddr().(*net.UDPAddr))
	require.NoError(t, err)
	dc, err := dtls.ClientWithOptions(connectedPacketConn{uc}, uc.RemoteAddr(),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(verifyFingerprint(l.Fingerprint())),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(log))
	require.NoError(t, err)
	require.NoError(t, dc.HandshakeContext(ctx))
	assoc, err := sctp.ClientContext(ctx, sctp.WithNetConn(dc), sctp.WithLoggerFactory(log))
	require.NoError(t, err)
	defer assoc.Close()
	server, err := l.Accept(ctx)
	require.NoError(t, err)
	defer server.Close()

	// pion opens, we accept.
	pc, err := datachannel.Dial(assoc, 0, &datachannel.Config{
		ChannelType: datachannel.ChannelTypeReliable, Label: "control", Protocol: "asp", LoggerFactory: log,
	})
	require.NoError(t, err)
	_, err = pc.WriteDataChannel([]byte("hello"), false)
	require.NoError(t, err)
	_, err = pc.WriteDataChannel(nil, false)
	require.NoError(t, err)
	ch, err := server.AcceptChannel(ctx)
	require.NoError(t, err)
	assert.Equal(t, "control", ch.Label())
	assert.Equal(t, "asp", ch.Options().Protocol)
	assert.True(t, ch.Options().Ordered)
	msg, err := ch.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(msg))
	msg, err = ch.Recv(ctx)
	require.NoError(t, err)
	assert.Empty(t, msg)
	require.NoError(t, ch.Send([]byte("welcome")))
	buf := make([]byte, 1500)
	n, isString, err := pc.ReadDataChannel(buf)
	require.NoError(t, err)
	assert.False(t, isString)
	assert.Equal(t, "welcome", string(buf[:n]))

	// We open, pion accepts.
	opened := make(chan error, 1)
	var video *Channel
	go func() {
		var err error
		video, err = server.OpenChannel(ctx, "video", Video())
		opened <- err
	}()
	pv, err := datachannel.Accept(assoc, &datachannel.Config{LoggerFactory: log})
	require.NoError(t, err)
	assert.Equal(t, "video", pv.Config.Label)
	assert.Equal(t, datachannel.ChannelTypePartialReliableRexmitUnordered, pv.Config.ChannelType)
	assert.Equal(t, uint32(1), pv.Config.ReliabilityParameter)
	assert.Equal(t, uint16(1), pv.StreamIdentifier())
	require.NoError(t, <-opened)
	require.NoError(t, video.Send([]byte("frame")))
	n, _, err = pv.ReadDataChannel(buf)
	require.NoError(t, err)
	assert.Equal(t, "frame", string(buf[:n]))

	require.NoError(t, pc.Close())
	_, err = ch.Recv(ctx)
	require.ErrorIs(t, err, ErrClosed, "pion's close (a stream reset) closes our channel")
	_ = pv.Close()
}

// Package direct is the ASP transport for native thin clients that do without WebRTC and
// ICE: one SCTP association (github.com/pion/sctp) per connection, carried over DTLS on
// UDP (github.com/pion/dtls/v3) or, when UDP is blocked, over TLS 1.3 on TCP with a
// 2-byte length framing that keeps SCTP packets whole. The server serves both at once,
// on the same port number; the client tries UDP first and falls back to TCP by itself
// when UDP gets no answer within ClientConfig.UDPTimeout (1.5 s by default) or is
// refused. The client authenticates the server by pinning the SHA-256 fingerprint of its
// certificate (what a connection ticket carries) on both paths.
//
// A Conn carries labelled message channels with the same model as WebRTC data channels,
// so an ASP session runs over either transport unchanged: the client opens "input",
// "cursor", "clipboard" and "control" with Reliable() options and the server opens
// "video" with Video() options (unordered, partially reliable: a frame that cannot be
// delivered is dropped whole, never delivered corrupt or in part). A channel keeps message
// boundaries (up to MaxMessageSize, 4 MiB, so a keyframe is one message), never blocks in
// Send, and exposes BufferedAmount and OnBufferedAmountLow for the sender-side channel
// scheduler's backpressure.
//
// On the video channel each message is one frame behind a small header (AppendVideoFrame,
// DecodeVideoFrame: frame number, capture time, keyframe flag); VideoReorder, a pure
// state machine, turns the unordered, lossy arrival into a decodable sequence and says
// when to ask for a keyframe.
//
// Channels are opened with the Data Channel Establishment Protocol of RFC 8832; the wire
// format, port use and framing are specified in PROTOCOL.md next to this file.
//
// Server:
//
//	l, err := direct.Listen(ctx, direct.ServerConfig{UDPAddr: ":4443", TCPAddr: ":4443", Certificate: cert})
//	conn, err := l.Accept(ctx)
//	ch, err := conn.AcceptChannel(ctx) // "input", "cursor", ...
//
// Client:
//
//	conn, err := direct.Dial(ctx, direct.ClientConfig{Addr: "host:4443", ServerFingerprint: fp})
//	ch, err := conn.OpenChannel(ctx, "control", direct.Reliable())
package direct

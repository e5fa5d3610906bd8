// Package client is the native Go client of Shadowless streaming: what a thin client, a test
// or a benchmark needs to watch and drive a desktop served by asp.Server. Dial posts a
// WebRTC offer to the server's /api/offer, receives the video track and reassembles each
// frame from RTP as soon as its last packet is in (no extra frame of delay), decodes it with
// asp/codec and delivers it on Frames with its receive and decode times, so click-to-photon
// latency can be measured. Input events, typed text, clicks and clipboard text go up through
// methods; cursor updates and clipboard text come down on channels. A lost packet that NACK
// does not recover, or a frame that fails to decode, makes the client send a PLI for a
// keyframe, repeated every 300 ms until one arrives; a complete keyframe behind a hole is
// delivered at once, and a big frame still arriving on a slow link is waited for. The UDP
// sockets get large buffers and the SRTP replay window holds a 1080p keyframe's
// retransmissions (asp.LargeSocketBuffers). Close frees the peer connection, the decoder
// and every goroutine.
package client

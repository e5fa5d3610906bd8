// Package codec compresses and decompresses video: VP8 and VP9 through libvpx and H.264
// constrained baseline through OpenH264, behind the Encoder and Decoder interfaces. It is the
// only asp package that uses cgo.
//
// Encoders are tuned for interactive streaming: one-pass CBR with no look-ahead and no
// B-frames (every Encode returns the packet of the picture it was given), the realtime
// deadline, error resilience, optional screen-content tuning, keyframes only at the start,
// on request and at an optional interval. Bitrate, frame rate and quantiser range change
// while the stream runs (SetBitrate, SetFrameRate, QuantizerSetter). EncoderConfig.MaxFrameRatio
// selects a single-frame VBV so that no frame is much larger than bitrate/fps.
//
// Decoders return Go-owned *image.YCbCr pictures (4:2:0) reused across calls; they reject
// garbage with an error wrapping ErrCorrupt and never keep pointers into the caller's data.
// No Go pointer is kept in C memory: input pictures are copied by the codec libraries during
// the call and encoded packets are copied out into Go slices.
//
// Build tags novpx and noopenh264 leave a library out; without cgo no codec is available and
// Available returns an empty list.
package codec

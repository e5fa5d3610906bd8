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
// libvpx's own VBV does not hold a frame to its budget on a large change: its rate control
// predicts the quantiser from the frames before, and a page of text after a quiet desktop
// comes out 5-15 times over. CappedEncoder (VP8) makes the cap real for the frames the
// caller marks at risk: the picture is encoded as a trial with VP8_EFLAG_NO_UPD_LAST/GF/ARF
// and NO_UPD_ENTROPY, which leaves the decoder's state as it was, and then for real with the
// quantiser pinned, the trial's when it fitted, else one CapQuantizer predicts (about 8 steps
// of 0-63 per halving). When not even the coarsest quantiser fits, the frame goes out at it,
// over the budget (a page of 1080p text). VP9 keeps
// state those flags do not cover (cyclic refresh, frame contexts): a trial desynchronises
// its decoder, so VP9 encodes once, capped by VP9E_SET_MAX_INTER_BITRATE_PCT. OpenH264 has
// no VBV that caps one frame (it skips the frames after one that overshot) and does not
// implement CappedEncoder: with H.264 a large change goes out whole, and the caller's pacing
// spreads its cost over the frames after it.
//
// Decoders return Go-owned *image.YCbCr pictures (4:2:0) reused across calls; they reject
// garbage with an error wrapping ErrCorrupt and never keep pointers into the caller's data.
// No Go pointer is kept in C memory: input pictures are copied by the codec libraries during
// the call and encoded packets are copied out into Go slices.
//
// Build tags novpx and noopenh264 leave a library out; without cgo no codec is available and
// Available returns an empty list.
package codec

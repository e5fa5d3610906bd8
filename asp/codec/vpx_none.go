//go:build !cgo || novpx

package codec

const haveVPX = false

func newVPXEncoder(EncoderConfig) (Encoder, error) { return nil, ErrUnsupported }

func newVPXDecoder(Codec) (Decoder, error) { return nil, ErrUnsupported }

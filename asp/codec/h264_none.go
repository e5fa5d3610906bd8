//go:build !cgo || noopenh264

package codec

const haveOpenH264 = false

func newH264Encoder(EncoderConfig) (Encoder, error) { return nil, ErrUnsupported }

func newH264Decoder() (Decoder, error) { return nil, ErrUnsupported }

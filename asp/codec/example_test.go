package codec_test

import (
	"fmt"
	"image"

	"github.com/shadowless-dev/shadowless/asp/codec"
)

// Encode one synthetic 4:2:0 picture with VP8 and decode it again.
func Example() {
	enc, err := codec.NewEncoder(codec.EncoderConfig{
		Codec:         codec.VP8,
		Width:         64,
		Height:        48,
		FrameRate:     30,
		BitrateKbps:   500,
		ScreenContent: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer enc.Close()

	img := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	for y := range 48 {
		for x := range 64 {
			img.Y[y*img.YStride+x] = uint8(16 + 3*x) // a horizontal ramp
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}

	pkt, err := enc.Encode(img, 0, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	dec, err := codec.NewDecoder(codec.VP8)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dec.Close()
	out, err := dec.Decode(pkt.Data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("keyframe:", pkt.Keyframe)
	fmt.Println("decoded:", out.Rect.Dx(), "x", out.Rect.Dy())
	// Output:
	// keyframe: true
	// decoded: 64 x 48
}

func ExampleAvailable() {
	for _, c := range codec.Available() {
		fmt.Println(c, c.MimeType())
	}
	// Output:
	// VP8 video/VP8
	// VP9 video/VP9
	// H264 video/H264
}

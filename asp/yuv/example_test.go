package yuv_test

import (
	"fmt"
	"image"

	"github.com/shadowless-dev/shadowless/asp/yuv"
)

// Convert a 2×2 screen grab of pure red (bytes B, G, R, X per pixel) to I420 and back.
func ExampleBGRAToI420() {
	grab := []byte{
		0, 0, 255, 0, 0, 0, 255, 0,
		0, 0, 255, 0, 0, 0, 255, 0,
	}
	pic := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	yuv.BGRAToI420(pic, grab, 8, pic.Rect)
	fmt.Println("Y", pic.Y[0], "Cb", pic.Cb[0], "Cr", pic.Cr[0])

	rgba := image.NewRGBA(pic.Rect)
	yuv.I420ToRGBA(rgba, pic)
	fmt.Println(rgba.RGBAAt(1, 1))
	// Output:
	// Y 82 Cb 90 Cr 240
	// {255 1 0 255}
}

package quality_test

import (
	"context"
	"fmt"
	"os"

	"github.com/shadowless-dev/shadowless/benchmarks/quality"
)

// Score a distorted 160x90 8-bit clip against its reference, as `vmaf -r ... -d ...` does.
func ExampleCompare() {
	open := func(name string) *quality.YUVReader {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			panic(err)
		}
		r, err := quality.NewYUVReader(f, 160, 90, 8)
		if err != nil {
			panic(err)
		}
		return r
	}
	res, err := quality.Compare(context.Background(), open("ref_160x90.yuv"), open("dis_160x90.yuv"),
		quality.Options{PSNR: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("frames: %d\n", len(res.Frames))
	fmt.Printf("vmaf mean: %.2f\n", res.VMAF())
	fmt.Printf("psnr_y of frame 0: %.2f dB\n", res.Metric(quality.MetricPSNRY)[0])
	// Output:
	// frames: 48
	// vmaf mean: 92.52
	// psnr_y of frame 0: 42.88 dB
}

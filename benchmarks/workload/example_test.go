package workload_test

import (
	"fmt"
	"image"

	"github.com/shadowless-dev/shadowless/benchmarks/workload"
)

// A scenario name, and the frame stamp that pairs sent and received pictures.
func ExampleReadStamp() {
	sc, err := workload.ParseScenario("video-window-60")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sc.Kind, sc.FPS, sc.Windowed)

	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	workload.Stamp{Frame: 4711, Response: 3}.Paint(img)
	st, err := workload.ReadStamp(img)
	fmt.Println(st, err)
	// Output:
	// video 60 true
	// frame 4711 response 3 <nil>
}

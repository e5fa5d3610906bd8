package harness_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shadowless-dev/shadowless/benchmarks/harness"
)

// Measure the office-typing scenario on a small screen for two seconds (needs Xvfb).
func ExampleRun() {
	res, err := harness.Run(context.Background(), harness.Config{
		Scenario: "typing", Width: 640, Height: 480, Duration: 2 * time.Second, SkipQuality: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("scenario:", res.Scenario)
	fmt.Println("inputs answered:", res.LatencyMS.Answered > 0)
	fmt.Println("under the 70 ms target:", res.LatencyMS.P50 < harness.TargetAvgLatencyMS)
	// Output:
	// scenario: typing
	// inputs answered: true
	// under the 70 ms target: true
}

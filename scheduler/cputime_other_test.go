//go:build !unix

package scheduler

import "time"

// cpuTime is unavailable here; benchmarks then report wall-clock throughput only.
func cpuTime() time.Duration { return 0 }

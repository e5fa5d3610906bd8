//go:build unix

package scheduler

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user + system), so benchmarks on a shared
// machine can report throughput per CPU-second next to throughput per wall-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

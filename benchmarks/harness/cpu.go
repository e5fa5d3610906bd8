package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is processor time used so far by this process and by the X server.
type cpuSample struct {
	self, xvfb time.Duration
}

const clockTicks = 100 // USER_HZ on Linux

func readCPU(xvfbPid int) cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if d, err := procCPU(xvfbPid); err == nil {
		s.xvfb = d
	}
	return s
}

// procCPU reads utime+stime of a process from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may contain spaces
	if i < 0 {
		return 0, fmt.Errorf("harness: odd /proc stat %q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("harness: short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14 of the full line
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("harness: bad /proc stat times")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

func (s cpuSample) sub(before cpuSample, window time.Duration) CPU {
	c := CPU{ProcessSeconds: (s.self - before.self).Seconds(), XvfbSeconds: (s.xvfb - before.xvfb).Seconds()}
	if window > 0 {
		c.Cores = (c.ProcessSeconds + c.XvfbSeconds) / window.Seconds()
	}
	return c
}

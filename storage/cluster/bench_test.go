package cluster

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benchmarks compare the replicated path (3 replicas, in-process cluster over loopback
// Connect, every write fsynced on every replica) with the same I/O on one plain file with
// fsync, measured in the same run. On one machine the replicas share a disk, so the write
// limit is a third of the plain-file rate; "of_limit" reports replicated / (baseline / 3).

const benchVolume = 256 << 20

// benchWorkers is the number of concurrent writers or readers (SHADOWLESS_BENCH_WORKERS,
// default 32).
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("SHADOWLESS_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 32
}

func benchCluster(b *testing.B, nodes int) (*Local, *Volume) {
	return benchClusterOver(b, nodes, false)
}

// benchClusterOver starts a local cluster whose manager reaches the chunk servers
// in-process (the embedded default) or, with network, over loopback TCP as it would reach
// separate machines.
func benchClusterOver(b *testing.B, nodes int, network bool) (*Local, *Volume) {
	b.Helper()
	l, err := StartLocal(context.Background(), LocalConfig{
		Dir: b.TempDir(), Nodes: nodes, DefaultVolumeSize: benchVolume, ChunkSize: 4 << 20, Logger: quietLogger(),
		HeartbeatTimeout: time.Hour, RepairInterval: time.Hour, Network: network,
	})
	require.NoError(b, err)
	b.Cleanup(func() { l.Close() })
	vol, err := l.Manager.OpenVolume("default")
	require.NoError(b, err)
	return l, vol
}

func plainFile(b *testing.B) *os.File {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "plain"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(b, err)
	require.NoError(b, f.Truncate(benchVolume))
	require.NoError(b, f.Sync())
	b.Cleanup(func() { f.Close() })
	return f
}

// interleave runs n operations of each kind in alternating rounds (so both see the same
// machine load) and returns the total time of each.
func interleave(n, workers int, a, b func(r *rand.Rand) error) (time.Duration, time.Duration, error) {
	const rounds = 8
	var ta, tb time.Duration
	for i := 0; i < rounds; i++ {
		k := n / rounds
		if i < n%rounds {
			k++
		}
		if k == 0 {
			continue
		}
		d, err := runConcurrent(k, workers, a)
		if err != nil {
			return ta, tb, err
		}
		ta += d
		d, err = runConcurrent(k, workers, b)
		if err != nil {
			return ta, tb, err
		}
		tb += d
	}
	return ta, tb, nil
}

// runConcurrent runs n operations over the given number of goroutines and returns the
// elapsed time.
func runConcurrent(n, workers int, op func(r *rand.Rand) error) (time.Duration, error) {
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for next.Add(1) <= int64(n) {
				if err := op(r); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	if e, ok := firstErr.Load().(error); ok {
		return el, e
	}
	return el, nil
}

func report(b *testing.B, unit string, n int, bytesPerOp int, baseline, replicated time.Duration, writes bool) {
	mbps := func(d time.Duration) float64 { return float64(n*bytesPerOp) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(baseline), "baseline_MB/s")
	b.ReportMetric(mbps(replicated), "replicated_MB/s")
	b.ReportMetric(float64(n)/baseline.Seconds(), "baseline_"+unit)
	b.ReportMetric(float64(n)/replicated.Seconds(), "replicated_"+unit)
	if writes {
		b.ReportMetric(baseline.Seconds()*3/replicated.Seconds(), "of_limit")
	} else {
		b.ReportMetric(baseline.Seconds()/replicated.Seconds(), "of_baseline")
	}
}

// BenchmarkSeqWrite1MiB: one writer, 1 MiB sequential writes, the chunk servers in the
// manager's process (the embedded default: no sockets between them).
func BenchmarkSeqWrite1MiB(b *testing.B) { seqWrite1MiB(b, false) }

// BenchmarkSeqWrite1MiBNetwork: the same over loopback TCP, as with separate machines
// (on one machine the manager and all three servers then also pay for the copies into
// and out of the kernel's socket buffers).
func BenchmarkSeqWrite1MiBNetwork(b *testing.B) { seqWrite1MiB(b, true) }

func seqWrite1MiB(b *testing.B, network bool) {
	ctx := context.Background()
	_, vol := benchClusterOver(b, 3, network)
	f := plainFile(b)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	n := b.N
	b.ResetTimer()
	// Baseline and replicated writes alternate, so both see the same machine load.
	var baseline, replicated time.Duration
	var cpuBase, cpuRepl time.Duration
	for i := 0; i < n; i++ {
		off := int64(i%(benchVolume>>20)) << 20
		c0 := cpuTime()
		start := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		baseline += time.Since(start)
		c1 := cpuTime()
		start = time.Now()
		if _, err := vol.WriteAt(ctx, buf, off); err != nil {
			b.Fatal(err)
		}
		replicated += time.Since(start)
		cpuRepl += cpuTime() - c1
		cpuBase += c1 - c0
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuBase.Microseconds())/float64(n), "baseline_cpu_us/op")
	b.ReportMetric(float64(cpuRepl.Microseconds())/float64(n), "replicated_cpu_us/op")
	report(b, "ops/s", n, len(buf), baseline, replicated, true)
}

// BenchmarkRandWrite4KiB: 32 concurrent writers, 4 KiB random aligned writes (group commit
// on the chunk servers shares fsyncs between them). The baseline runs the same 32 writers
// on one plain file, each write followed by its own fsync.
func BenchmarkRandWrite4KiB(b *testing.B) { randWrite4KiB(b, false) }

// BenchmarkRandWrite4KiBNetwork: the same over loopback TCP.
func BenchmarkRandWrite4KiBNetwork(b *testing.B) { randWrite4KiB(b, true) }

func randWrite4KiB(b *testing.B, network bool) {
	ctx := context.Background()
	_, vol := benchClusterOver(b, 3, network)
	f := plainFile(b)
	workers := benchWorkers()
	blocks := benchVolume / 4096
	n := b.N
	b.ResetTimer()
	cpu0 := cpuTime()
	baseline, replicated, err := interleave(n, workers, func(r *rand.Rand) error {
		buf := make([]byte, 4096)
		buf[0] = byte(r.Uint32())
		if _, err := f.WriteAt(buf, int64(r.IntN(blocks))*4096); err != nil {
			return err
		}
		return f.Sync()
	}, func(r *rand.Rand) error {
		buf := make([]byte, 4096)
		buf[0] = byte(r.Uint32())
		_, err := vol.WriteAt(ctx, buf, int64(r.IntN(blocks))*4096)
		return err
	})
	require.NoError(b, err)
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu_us/op")
	report(b, "IOPS", n, 4096, baseline, replicated, true)
}

// BenchmarkRandRead4KiB: 32 concurrent readers, 4 KiB random reads of written data.
func BenchmarkRandRead4KiB(b *testing.B) {
	ctx := context.Background()
	_, vol := benchCluster(b, 3)
	f := plainFile(b)
	const span = 32 << 20 // the part of the volume that is written first
	fill := make([]byte, 4<<20)
	for i := range fill {
		fill[i] = byte(i)
	}
	for off := int64(0); off < span; off += int64(len(fill)) {
		_, err := vol.WriteAt(ctx, fill, off)
		require.NoError(b, err)
		_, err = f.WriteAt(fill, off)
		require.NoError(b, err)
	}
	require.NoError(b, f.Sync())
	const workers = 32
	blocks := span / 4096
	n := b.N
	b.ResetTimer()
	baseline, replicated, err := interleave(n, workers, func(r *rand.Rand) error {
		buf := make([]byte, 4096)
		_, err := f.ReadAt(buf, int64(r.IntN(blocks))*4096)
		return err
	}, func(r *rand.Rand) error {
		buf := make([]byte, 4096)
		_, err := vol.ReadAt(ctx, buf, int64(r.IntN(blocks))*4096)
		return err
	})
	require.NoError(b, err)
	b.StopTimer()
	report(b, "IOPS", n, 4096, baseline, replicated, false)
}

// BenchmarkRebuild measures how fast the replicas of a lost chunk server are rebuilt onto
// a spare: 64 MiB of written chunks, one of four servers stopped, then a repair pass.
func BenchmarkRebuild(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	var bytes int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, vol := benchCluster(b, 4)
		fill := make([]byte, 4<<20)
		for j := range fill {
			fill[j] = byte(j * 3)
		}
		for off := int64(0); off < 64<<20; off += int64(len(fill)) {
			_, err := vol.WriteAt(ctx, fill, off)
			require.NoError(b, err)
		}
		victim := l.Servers[0].ID()
		require.NoError(b, l.StopNode(1))
		require.NoError(b, l.Manager.Meta().SetHealth(victim, false))
		before := l.Manager.repairBytes.Load()
		b.StartTimer()
		start := time.Now()
		n, err := l.Manager.RepairDegraded(ctx)
		total += time.Since(start)
		b.StopTimer()
		require.NoError(b, err)
		require.Positive(b, n)
		bytes += int64(l.Manager.repairBytes.Load() - before)
		l.Close()
	}
	b.ReportMetric(float64(bytes)/total.Seconds()/1e6, "rebuild_MB/s")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

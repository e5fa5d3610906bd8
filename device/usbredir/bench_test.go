package usbredir_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/msc"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

// memDisk is an in-memory disk, so benchmarks measure the protocol, not the page cache.
type memDisk struct{ b []byte }

func (m *memDisk) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, errors.New("out of range")
	}
	return copy(p, m.b[off:]), nil
}
func (m *memDisk) WriteAt(p []byte, off int64) (int, error) { return copy(m.b[off:], p), nil }

// link emulates a network link on top of a real connection. Each write is cut into
// packets of at most 64 KiB placed on a virtual wire timeline: a packet starts when both
// it has been written and the wire is free, takes size/rate to serialise, and is delivered
// delay after it has been serialised. The timeline is exact, so late wake-ups of the
// delivery goroutine never add throughput (no credit is banked while idle) nor lose it.
// At most 1 MiB waits in the queue (the link's buffer); a writer blocks beyond that.
// Each direction is paced by its own writer (full duplex).
type link struct {
	net.Conn
	rate  float64 // bytes per second
	delay time.Duration

	mu       sync.Mutex
	wireFree time.Time
	q        chan pkt
	done     chan struct{}
	once     sync.Once
}

type pkt struct {
	b  []byte
	at time.Time
}

func newLink(c net.Conn, bitsPerSecond float64, delay time.Duration) *link {
	l := &link{Conn: c, rate: bitsPerSecond / 8, delay: delay, q: make(chan pkt, 16), done: make(chan struct{})}
	go l.deliver()
	return l
}

func (l *link) Write(p []byte) (int, error) {
	for off := 0; off < len(p); {
		n := min(len(p)-off, 64<<10)
		l.mu.Lock()
		start := time.Now()
		if l.wireFree.After(start) {
			start = l.wireFree
		}
		l.wireFree = start.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
		at := l.wireFree.Add(l.delay)
		l.mu.Unlock()
		select {
		case l.q <- pkt{append([]byte(nil), p[off:off+n]...), at}:
		case <-l.done:
			return off, net.ErrClosed
		}
		off += n
	}
	return len(p), nil
}

func (l *link) deliver() {
	for {
		select {
		case p := <-l.q:
			if d := time.Until(p.at); d > 0 {
				time.Sleep(d)
			}
			if _, err := l.Conn.Write(p.b); err != nil {
				return
			}
		case <-l.done:
			return
		}
	}
}

func (l *link) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Conn.Close()
}

// benchSession serves a 64 MiB in-memory drive and returns a BOT client on the remote side.
func benchSession(b *testing.B, wrap func(net.Conn) net.Conn) *msc.Client {
	disk := &memDisk{b: make([]byte, 64<<20)}
	ms := virtual.NewMassStorage(disk, disk, int64(len(disk.b)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		_ = usbredir.Serve(ctx, wrap(c), ms)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(b, err)
	r, err := usbredir.NewRemote(context.Background(), wrap(c))
	require.NoError(b, err)
	b.Cleanup(func() {
		r.Close()
		cancel()
		<-done
	})
	cl, err := msc.NewClient(r)
	require.NoError(b, err)
	return cl
}

func plain(c net.Conn) net.Conn { return c }

func benchRead(b *testing.B, cl *msc.Client, size int) {
	buf := make([]byte, size)
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		lba := uint32((i * size / 512) % (64<<20/512 - size/512))
		if err := cl.ReadBlocks(ctx, lba, buf, 512); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStorageReadDirect is the baseline: the BOT client on the virtual drive with no
// protocol or network in between.
func BenchmarkStorageReadDirect(b *testing.B) {
	disk := &memDisk{b: make([]byte, 64<<20)}
	cl, err := msc.NewClient(virtual.NewMassStorage(disk, disk, int64(len(disk.b))))
	require.NoError(b, err)
	benchRead(b, cl, 4<<20)
}

// BenchmarkStorageReadLoopback reads the virtual drive through usbredir over loopback TCP:
// 4 MiB READ(10) commands, each moved in sixteen 256 KiB bulk URBs in flight at once.
func BenchmarkStorageReadLoopback(b *testing.B) {
	benchRead(b, benchSession(b, plain), 4<<20)
}

// BenchmarkStorageWriteLoopback is the write direction of the same.
func BenchmarkStorageWriteLoopback(b *testing.B) {
	cl := benchSession(b, plain)
	size := 4 << 20
	buf := make([]byte, size)
	ctx := context.Background()
	b.SetBytes(int64(size))
	for i := 0; b.Loop(); i++ {
		lba := uint32((i * size / 512) % (64<<20/512 - size/512))
		if err := cl.WriteBlocks(ctx, lba, buf, 512); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStorageReadEmulatedLink reads through usbredir over an emulated 1 Gbit/s link
// with 1 ms one-way delay (2 ms round trip), and reports the share of the link rate used.
func BenchmarkStorageReadEmulatedLink(b *testing.B) {
	const bps = 1e9
	cl := benchSession(b, func(c net.Conn) net.Conn { return newLink(c, bps, time.Millisecond) })
	size := 8 << 20
	buf := make([]byte, size)
	ctx := context.Background()
	b.SetBytes(int64(size))
	start := time.Now()
	n := 0
	for i := 0; b.Loop(); i++ {
		lba := uint32((i * size / 512) % (64<<20/512 - size/512))
		if err := cl.ReadBlocks(ctx, lba, buf, 512); err != nil {
			b.Fatal(err)
		}
		n++
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(100*float64(n*size)*8/el/bps, "%link")
}

// BenchmarkControlRoundTrip measures one GET_DESCRIPTOR(DEVICE) through usbredir over
// loopback TCP: the latency a control transfer adds.
func BenchmarkControlRoundTrip(b *testing.B) {
	kb := virtual.NewKeyboard()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		ln.Close()
		if err == nil {
			_ = usbredir.Serve(ctx, c, kb)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(b, err)
	r, err := usbredir.NewRemote(context.Background(), c)
	require.NoError(b, err)
	defer func() {
		r.Close()
		cancel()
		<-done
	}()
	bg := context.Background()
	for b.Loop() {
		if _, err := device.GetDescriptor(bg, r, device.DescDevice, 0, 0, 18); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStorageWriteEmulatedLink is the write direction over the emulated link.
func BenchmarkStorageWriteEmulatedLink(b *testing.B) {
	const bps = 1e9
	cl := benchSession(b, func(c net.Conn) net.Conn { return newLink(c, bps, time.Millisecond) })
	size := 8 << 20
	buf := make([]byte, size)
	ctx := context.Background()
	b.SetBytes(int64(size))
	start := time.Now()
	n := 0
	for i := 0; b.Loop(); i++ {
		lba := uint32((i * size / 512) % (64<<20/512 - size/512))
		if err := cl.WriteBlocks(ctx, lba, buf, 512); err != nil {
			b.Fatal(err)
		}
		n++
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(100*float64(n*size)*8/el/bps, "%link")
}

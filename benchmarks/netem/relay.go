package netem

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Relay forwards UDP between a client and a server through two emulated Links. The
// client talks to ClientSide (which it believes is the server) and the server to
// ServerSide (which it believes is the client).
type Relay struct {
	spec       Spec
	clientSide *net.UDPConn
	serverSide *net.UDPConn

	mu       sync.Mutex
	client   netip.AddrPort // the client's real address
	server   netip.AddrPort // the server's real address
	up, down *Link
	wg       sync.WaitGroup
	done     chan struct{}
	once     sync.Once
}

// Stats counts what crossed the relay in each direction. Lost includes BurstLost, the
// packets a loss burst (SetBurst) dropped.
type Stats struct {
	UpPackets, UpBytes, UpLost, UpQueueDrops, UpBurstLost           uint64
	DownPackets, DownBytes, DownLost, DownQueueDrops, DownBurstLost uint64
}

// NewRelay opens the two loopback sockets of a relay for sp; seed makes the losses
// reproducible.
func NewRelay(sp Spec, seed uint64) (*Relay, error) {
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("netem: listen: %w", err)
	}
	b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("netem: listen: %w", err)
	}
	_ = a.SetReadBuffer(4 << 20)
	_ = b.SetReadBuffer(4 << 20)
	r := &Relay{spec: sp, clientSide: a, serverSide: b, up: NewLink(sp, seed), down: NewLink(sp, seed+1), done: make(chan struct{})}
	r.wg.Add(2)
	go r.pump(a, b, true)
	go r.pump(b, a, false)
	return r, nil
}

// ClientSide is the address the client must send to.
func (r *Relay) ClientSide() netip.AddrPort {
	return r.clientSide.LocalAddr().(*net.UDPAddr).AddrPort()
}

// ServerSide is the address the server must send to.
func (r *Relay) ServerSide() netip.AddrPort {
	return r.serverSide.LocalAddr().(*net.UDPAddr).AddrPort()
}

// SetClient sets the client's real address (packets from the server go there).
func (r *Relay) SetClient(a netip.AddrPort) { r.mu.Lock(); r.client = a; r.mu.Unlock() }

// SetServer sets the server's real address (packets from the client go there).
func (r *Relay) SetServer(a netip.AddrPort) { r.mu.Lock(); r.server = a; r.mu.Unlock() }

// Stats returns the counters so far.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{
		UpPackets: r.up.Packets, UpBytes: r.up.Bytes, UpLost: r.up.Lost, UpQueueDrops: r.up.QueueDrops, UpBurstLost: r.up.BurstLost,
		DownPackets: r.down.Packets, DownBytes: r.down.Bytes, DownLost: r.down.Lost, DownQueueDrops: r.down.QueueDrops,
		DownBurstLost: r.down.BurstLost,
	}
}

// SetBurst schedules a loss burst in both directions: packets arriving at the relay from
// b.From to b.To are lost with probability b.Loss.
func (r *Relay) SetBurst(b Burst) {
	r.mu.Lock()
	r.up.SetBurst(b)
	r.down.SetBurst(b)
	r.mu.Unlock()
}

type pending struct {
	at  time.Time
	buf []byte
	to  netip.AddrPort
}

// pump reads from in, runs each packet through its direction's Link and writes it from out
// when it is due. Delivery times are monotonic per direction, so a FIFO suffices.
func (r *Relay) pump(in, out *net.UDPConn, up bool) {
	defer r.wg.Done()
	queue := make(chan pending, 8192)
	var sender sync.WaitGroup
	sender.Add(1)
	go func() {
		defer sender.Done()
		for p := range queue {
			if d := time.Until(p.at); d > 0 {
				select {
				case <-time.After(d):
				case <-r.done:
					return
				}
			}
			_, _ = out.WriteToUDPAddrPort(p.buf, p.to)
		}
	}()
	defer func() { close(queue); sender.Wait() }()
	buf := make([]byte, 65536)
	for {
		n, _, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		r.mu.Lock()
		link, to := r.down, r.client
		if up {
			link, to = r.up, r.server
		}
		at, ok := link.Send(now, n)
		r.mu.Unlock()
		if !ok || !to.IsValid() {
			continue
		}
		p := pending{at: at, buf: append([]byte(nil), buf[:n]...), to: to}
		select {
		case queue <- p:
		default: // the sender is hopelessly behind: drop like a full NIC queue
		}
	}
}

// Close stops the relay.
func (r *Relay) Close() error {
	r.once.Do(func() {
		close(r.done)
		r.clientSide.Close()
		r.serverSide.Close()
		r.wg.Wait()
	})
	return nil
}

// Run closes the relay when ctx is done.
func (r *Relay) Run(ctx context.Context) {
	select {
	case <-ctx.Done():
		_ = r.Close()
	case <-r.done:
	}
}

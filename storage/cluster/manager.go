package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/meta"
	"github.com/shadowless-dev/shadowless/storage/storagepb"
	"github.com/shadowless-dev/shadowless/storage/storagepb/storagepbconnect"
)

// ErrNoVolume is returned for a volume the manager does not know.
var ErrNoVolume = errors.New("cluster: no such volume")

// ErrWriteFailed is returned when a write could not be made durable on a full replica set
// (the write is not acknowledged; some replicas may hold it).
var ErrWriteFailed = errors.New("cluster: write not durable on every replica")

// ManagerConfig configures the metadata service and volume manager.
type ManagerConfig struct {
	// Meta is the opened metadata store.
	Meta Metadata
	// Listen is the address to serve MetaService and VolumeService on.
	Listen string
	// HeartbeatTimeout marks a node unhealthy after this long without a heartbeat; zero
	// means three seconds.
	HeartbeatTimeout time.Duration
	// RepairInterval is how often degraded chunks are looked for; zero means one second.
	RepairInterval time.Duration
	// RPCTimeout bounds each call to a chunk server; zero means ten seconds.
	RPCTimeout time.Duration
	// ScrubInterval runs a scrub of every volume this often; zero means every 24 hours,
	// negative never.
	ScrubInterval time.Duration
	// SweepInterval drops replicas left on nodes that are no longer in their chunk's
	// placement (or whose volume was deleted) this often; zero means one minute.
	SweepInterval time.Duration
	Logger        *slog.Logger
}

// Manager is the metadata service plus the owner of every volume's data path: it serves
// MetaService (for chunk servers) and VolumeService (for administration), opens volumes as
// block devices, watches node health and repairs degraded chunks in the background.
type Manager struct {
	cfg  ManagerConfig
	meta Metadata
	log  *slog.Logger
	hc   *http.Client
	ln   net.Listener
	srv  *http.Server

	mu   sync.Mutex
	hcs  [connsPerNode]*http.Client
	data *http.Client // HTTP/1.1, for the batched data path
	// local holds the handlers of chunk servers running in this process, which the
	// clients above reach without a socket.
	local    inProcess
	clients  map[string]*clientPool // by address
	addrs    map[string]string      // node id -> address
	lastSeen map[string]time.Time
	nodeStat map[string]*storagepb.Node
	volumes  map[uint64]*Volume

	// sealedBufs recycles the sealed copies of large writes (see Volume.writeChunk): a
	// 1 MiB write would otherwise allocate, and the garbage collector scan, a megabyte.
	sealedBufs sync.Pool

	repairsDone, repairsFailed, repairBytes, repairsPending atomic.Uint64
	scrubbed, scrubMismatch                                 atomic.Uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var (
	_ storagepbconnect.MetaServiceHandler   = (*Manager)(nil)
	_ storagepbconnect.VolumeServiceHandler = volumeService{}
)

// StartManager starts serving and the health and repair loops.
func StartManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 3 * time.Second
	}
	if cfg.RepairInterval <= 0 {
		cfg.RepairInterval = time.Second
	}
	if cfg.RPCTimeout <= 0 {
		cfg.RPCTimeout = 10 * time.Second
	}
	if cfg.ScrubInterval == 0 {
		cfg.ScrubInterval = 24 * time.Hour
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	m := &Manager{
		cfg: cfg, meta: cfg.Meta, log: cfg.Logger, hc: newH2CClient(), ln: ln,
		clients: map[string]*clientPool{}, addrs: map[string]string{}, lastSeen: map[string]time.Time{},
		nodeStat: map[string]*storagepb.Node{}, volumes: map[uint64]*Volume{},
	}
	withInProcess(m.hc, &m.local)
	for i := range m.hcs {
		m.hcs[i] = withInProcess(newH2CClient(), &m.local)
	}
	m.data = withInProcess(newDataClient(), &m.local)
	mux := http.NewServeMux()
	mux.Handle(storagepbconnect.NewMetaServiceHandler(m))
	mux.Handle(storagepbconnect.NewVolumeServiceHandler(volumeService{m}))
	m.srv = serveH2C(ln, mux)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(1)
	go m.loop(ctx)
	return m, nil
}

// Addr is the address MetaService and VolumeService are served on.
func (m *Manager) Addr() string { return m.ln.Addr().String() }

// Meta is the metadata store.
func (m *Manager) Meta() Metadata { return m.meta }

// Close stops the manager (not the chunk servers).
func (m *Manager) Close() error {
	m.cancel()
	m.srv.Close()
	m.wg.Wait()
	m.hc.CloseIdleConnections()
	for _, hc := range m.hcs {
		hc.CloseIdleConnections()
	}
	m.data.CloseIdleConnections()
	return nil
}

// connsPerNode is the number of HTTP/2 connections kept to each chunk server: one
// connection's reader and writer loops serialize every stream on it, so a few connections
// in parallel carry more small RPCs.
const connsPerNode = 4

func (m *Manager) client(addr string) storagepbconnect.ChunkServiceClient {
	m.mu.Lock()
	defer m.mu.Unlock()
	pool, ok := m.clients[addr]
	if !ok {
		pool = &clientPool{}
		for i := range pool.c {
			pool.c[i] = storagepbconnect.NewChunkServiceClient(m.hcs[i], baseURL(addr), clientOptions()...)
		}
		pool.batchers = newNodeBatchers(storagepbconnect.NewChunkServiceClient(m.data, baseURL(addr), clientOptions()...), m.data, addr)
		m.clients[addr] = pool
	}
	return pool.c[pool.next.Add(1)%connsPerNode]
}

type clientPool struct {
	c        [connsPerNode]storagepbconnect.ChunkServiceClient
	next     atomic.Uint32
	batchers *nodeBatchers
}

// batchers returns the read and write batchers of a node by id.
func (m *Manager) batchers(id string) (*nodeBatchers, error) {
	if _, err := m.nodeClient(id); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clients[m.addrs[id]].batchers, nil
}

// nodeClient returns the client of a node by id. Addresses are cached from heartbeats
// and, for nodes not heard from since start, read from the metadata store.
func (m *Manager) nodeClient(id string) (storagepbconnect.ChunkServiceClient, error) {
	m.mu.Lock()
	addr, ok := m.addrs[id]
	m.mu.Unlock()
	if !ok {
		nodes, err := m.meta.Nodes()
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		for _, n := range nodes {
			if _, seen := m.addrs[n.ID]; !seen {
				m.addrs[n.ID] = n.Addr
			}
		}
		addr, ok = m.addrs[id]
		m.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("%w: node %q", meta.ErrNotFound, id)
		}
	}
	return m.client(addr), nil
}

func (m *Manager) rpcCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, m.cfg.RPCTimeout)
}

// markDown records that a node failed to answer, so placement avoids it until its next
// heartbeat.
func (m *Manager) markDown(id string, err error) {
	if connect.CodeOf(err) != connect.CodeUnavailable && connect.CodeOf(err) != connect.CodeDeadlineExceeded && connect.CodeOf(err) != connect.CodeUnknown {
		return
	}
	m.log.Warn("chunk server unreachable", "node", id, "err", err)
	m.mu.Lock()
	delete(m.lastSeen, id)
	m.mu.Unlock()
	if err := m.meta.SetHealth(id, false); err != nil {
		m.log.Warn("mark node down", "node", id, "err", err)
	}
}

// RegisterNode implements storagepbconnect.MetaServiceHandler (registration and heartbeat).
func (m *Manager) RegisterNode(_ context.Context, req *connect.Request[storagepb.RegisterNodeRequest]) (*connect.Response[storagepb.RegisterNodeResponse], error) {
	n := req.Msg.Node
	if n == nil || n.Id == "" || n.Addr == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("node id and addr required"))
	}
	now := time.Now()
	m.mu.Lock()
	_, known := m.lastSeen[n.Id]
	prev := m.nodeStat[n.Id]
	m.lastSeen[n.Id] = now
	m.nodeStat[n.Id] = n
	m.addrs[n.Id] = n.Addr
	m.mu.Unlock()
	if !known || prev == nil || prev.Addr != n.Addr || prev.Zone != n.Zone || prev.Rack != n.Rack || prev.Host != n.Host {
		err := m.meta.UpsertNode(meta.Node{ID: n.Id, Addr: n.Addr, Zone: n.Zone, Rack: n.Rack, Host: n.Host, Healthy: true, LastSeenUnixMilli: now.UnixMilli()})
		if err != nil {
			return nil, toConnect(err)
		}
	}
	return connect.NewResponse(&storagepb.RegisterNodeResponse{}), nil
}

func (m *Manager) loop(ctx context.Context) {
	defer m.wg.Done()
	health := time.NewTicker(m.cfg.HeartbeatTimeout / 3)
	repair := time.NewTicker(m.cfg.RepairInterval)
	sweep := time.NewTicker(m.cfg.SweepInterval)
	defer health.Stop()
	defer repair.Stop()
	defer sweep.Stop()
	var scrub <-chan time.Time
	if m.cfg.ScrubInterval > 0 {
		t := time.NewTicker(m.cfg.ScrubInterval)
		defer t.Stop()
		scrub = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-health.C:
			m.checkHealth()
		case <-repair.C:
			if _, err := m.RepairDegraded(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("repair pass", "err", err)
			}
		case <-sweep.C:
			if _, err := m.SweepOrphans(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("orphan sweep", "err", err)
			}
		case <-scrub:
			if res, err := m.Scrub(ctx, ""); err != nil && ctx.Err() == nil {
				m.log.Warn("scrub", "err", err)
			} else if res.Mismatches > 0 {
				m.log.Warn("scrub repaired replicas", "chunks", res.Chunks, "mismatches", res.Mismatches, "repaired", res.Repaired)
			}
		}
	}
}

// SweepOrphans asks every healthy node for its chunks and drops those it should not hold:
// replicas of chunks whose placement moved elsewhere (a replaced node that came back) and
// chunks of deleted volumes (a node that was down during the delete). It returns the number
// of chunks dropped.
func (m *Manager) SweepOrphans(ctx context.Context) (int, error) {
	nodes, err := m.meta.Nodes()
	if err != nil {
		return 0, err
	}
	vols, err := m.meta.Volumes()
	if err != nil {
		return 0, err
	}
	known := map[uint64]bool{}
	for _, v := range vols {
		known[v.ID] = true
	}
	dropped := 0
	for _, n := range nodes {
		if !n.Healthy {
			continue
		}
		c := m.client(n.Addr)
		rctx, cancel := m.rpcCtx(ctx)
		list, err := c.List(rctx, connect.NewRequest(&storagepb.ListRequest{}))
		cancel()
		if err != nil {
			m.markDown(n.ID, err)
			continue
		}
		gone := map[uint64]bool{}
		for _, ci := range list.Msg.Chunks {
			vol, idx := ci.Chunk.GetVolume(), ci.Chunk.GetIndex()
			rctx, cancel := m.rpcCtx(ctx)
			switch {
			case !known[vol]:
				if !gone[vol] {
					gone[vol] = true
					if _, err := c.DropVolume(rctx, connect.NewRequest(&storagepb.DropVolumeRequest{Volume: vol})); err == nil {
						dropped++
					}
				}
			default:
				p, ok, err := m.meta.Placement(vol, idx)
				if err == nil && (!ok || !slices.Contains(p.Nodes, n.ID)) {
					if _, err := c.DropChunk(rctx, connect.NewRequest(&storagepb.DropChunkRequest{Chunk: ci.Chunk})); err == nil {
						dropped++
					}
				}
			}
			cancel()
		}
	}
	if dropped > 0 {
		m.log.Info("dropped orphan replicas", "count", dropped)
	}
	return dropped, nil
}

func (m *Manager) checkHealth() {
	nodes, err := m.meta.Nodes()
	if err != nil {
		return
	}
	now := time.Now()
	for _, n := range nodes {
		m.mu.Lock()
		seen, ok := m.lastSeen[n.ID]
		m.mu.Unlock()
		healthy := ok && now.Sub(seen) <= m.cfg.HeartbeatTimeout
		if healthy != n.Healthy {
			m.log.Info("node health changed", "node", n.ID, "healthy", healthy)
			m.meta.SetHealth(n.ID, healthy)
		}
	}
}

// OpenVolume returns the block device of a volume (or snapshot) by name. The same *Volume
// is returned to every caller.
func (m *Manager) OpenVolume(name string) (*Volume, error) {
	v, err := m.meta.Volume(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoVolume, err)
	}
	return m.volume(v), nil
}

func (m *Manager) volume(v meta.Volume) *Volume {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vol, ok := m.volumes[v.ID]; ok {
		return vol
	}
	vol := newVolume(m, v)
	m.volumes[v.ID] = vol
	return vol
}

func (m *Manager) volumeByID(id uint64) (*Volume, error) {
	m.mu.Lock()
	vol, ok := m.volumes[id]
	m.mu.Unlock()
	if ok {
		return vol, nil
	}
	v, err := m.meta.VolumeByID(id)
	if err != nil {
		return nil, err
	}
	return m.volume(v), nil
}

// RepairDegraded replaces every replica that sits on an unhealthy node and rebuilds it from
// a healthy one. It returns the number of chunks repaired.
func (m *Manager) RepairDegraded(ctx context.Context) (int, error) {
	nodes, err := m.meta.Nodes()
	if err != nil {
		return 0, err
	}
	down := map[string]bool{}
	for _, n := range nodes {
		if !n.Healthy {
			down[n.ID] = true
		}
	}
	if len(down) == 0 {
		m.repairsPending.Store(0)
		return 0, nil
	}
	ps, err := m.meta.Placements(0)
	if err != nil {
		return 0, err
	}
	var todo []meta.Placement
	for _, p := range ps {
		for _, n := range p.Nodes {
			if down[n] {
				todo = append(todo, p)
				break
			}
		}
	}
	m.repairsPending.Store(uint64(len(todo)))
	// Chunks are repaired by a few workers at once: each holds only its own chunk's lock,
	// and sources and targets differ from chunk to chunk.
	var (
		mu       sync.Mutex
		repaired int
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan meta.Placement)
	for w := 0; w < repairWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				vol, err := m.volumeByID(p.Volume)
				if err == nil {
					err = vol.repairChunk(ctx, p.Index, down)
				}
				mu.Lock()
				if err != nil {
					m.repairsFailed.Add(1)
					if firstErr == nil {
						firstErr = err
					}
				} else {
					repaired++
				}
				mu.Unlock()
				m.repairsPending.Add(^uint64(0))
			}
		}()
	}
	for _, p := range todo {
		if ctx.Err() != nil {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return repaired, ctx.Err()
	}
	return repaired, firstErr
}

// repairWorkers is the number of chunks rebuilt at once.
const repairWorkers = 4

// VolumeNames lists the names of volumes and snapshots (for exports).
func (m *Manager) VolumeNames(context.Context) ([]string, error) {
	vols, err := m.meta.Volumes()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(vols))
	for _, v := range vols {
		names = append(names, v.Name)
	}
	return names, nil
}

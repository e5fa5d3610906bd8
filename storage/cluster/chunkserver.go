package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/chunk"
	"github.com/shadowless-dev/shadowless/storage/storagepb"
	"github.com/shadowless-dev/shadowless/storage/storagepb/storagepbconnect"
)

// ChunkServerConfig configures a chunk server.
type ChunkServerConfig struct {
	// Dir holds the chunk store's segment files.
	Dir string
	// Listen is the address to serve on, e.g. "127.0.0.1:0".
	Listen string
	// MetaAddr is the metadata service's address (host:port).
	MetaAddr string
	// ID names the node; empty means one is made from the store's identity.
	ID string
	// Zone, Rack and Host are the node's failure-domain labels.
	Zone, Rack, Host string
	// Heartbeat is the registration interval; zero means one second.
	Heartbeat time.Duration
	// SegmentSize is passed to the chunk store.
	SegmentSize int64
	// GCInterval runs a GC when at least half the store is garbage; zero means 30 seconds.
	GCInterval time.Duration
	Logger     *slog.Logger
}

// ChunkServer serves one chunk store over Connect (storagepb.ChunkService) plus the raw
// data-plane endpoint for chunk writes, and keeps itself registered with the metadata
// service. It never holds a data key: it stores, checksums, copies and compares blocks
// sealed by the manager.
type ChunkServer struct {
	cfg   ChunkServerConfig
	store *chunk.Store
	meta  storagepbconnect.MetaServiceClient
	hc    *http.Client
	srv   *http.Server
	// handler serves ChunkService and the data plane (also called in-process by a
	// manager of the same process).
	handler http.Handler
	ln      net.Listener
	log     *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ storagepbconnect.ChunkServiceHandler = (*ChunkServer)(nil)

// StartChunkServer opens the store, starts serving and registers with the metadata service
// (retrying with every heartbeat if that service is not up yet).
func StartChunkServer(ctx context.Context, cfg ChunkServerConfig) (*ChunkServer, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.GCInterval <= 0 {
		cfg.GCInterval = 30 * time.Second
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	hc := newH2CClient()
	metaClient := storagepbconnect.NewMetaServiceClient(hc, baseURL(cfg.MetaAddr), clientOptions()...)
	// A replica that finds damage in the middle of its log drops the affected chunks and
	// lets the cluster rebuild them, rather than refusing to start.
	store, err := chunk.Open(cfg.Dir, chunk.Options{UnitSize: sealedSize, SegmentSize: cfg.SegmentSize, Logger: cfg.Logger, DropDamaged: true})
	if err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		id := store.ID()
		cfg.ID = fmt.Sprintf("node-%x", id[:4])
	}
	if cfg.Host == "" {
		cfg.Host = cfg.ID
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cs := &ChunkServer{cfg: cfg, store: store, meta: metaClient, hc: hc, ln: ln, log: cfg.Logger.With("node", cfg.ID)}
	mux := http.NewServeMux()
	mux.Handle(storagepbconnect.NewChunkServiceHandler(cs))
	mux.HandleFunc(writesPath, cs.serveWrites)
	cs.handler = mux
	cs.srv = serveH2C(ln, mux)
	if err := cs.register(ctx); err != nil {
		// The metadata service may start later; the heartbeat loop keeps trying.
		cs.log.Warn("not registered yet", "err", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	cs.cancel = cancel
	cs.wg.Add(1)
	go cs.background(bg)
	return cs, nil
}

// ID is the node id.
func (cs *ChunkServer) ID() string { return cs.cfg.ID }

// Addr is the address the server listens on.
func (cs *ChunkServer) Addr() string { return cs.ln.Addr().String() }

// Store is the server's chunk store (for tests and tools).
func (cs *ChunkServer) Store() *chunk.Store { return cs.store }

func (cs *ChunkServer) register(ctx context.Context) error {
	st := cs.store.Stats()
	_, err := cs.meta.RegisterNode(ctx, connect.NewRequest(&storagepb.RegisterNodeRequest{Node: &storagepb.Node{
		Id: cs.cfg.ID, Addr: cs.Addr(), Zone: cs.cfg.Zone, Rack: cs.cfg.Rack, Host: cs.cfg.Host,
		TotalBytes: st.TotalBytes, LiveBytes: st.LiveBytes, Chunks: uint32(st.Chunks),
	}}))
	if err != nil {
		return fmt.Errorf("cluster: register %s with %s: %w", cs.cfg.ID, cs.cfg.MetaAddr, err)
	}
	return nil
}

func (cs *ChunkServer) background(ctx context.Context) {
	defer cs.wg.Done()
	hb := time.NewTicker(cs.cfg.Heartbeat)
	gc := time.NewTicker(cs.cfg.GCInterval)
	defer hb.Stop()
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.C:
			if err := cs.register(ctx); err != nil && ctx.Err() == nil {
				cs.log.Warn("heartbeat failed", "err", err)
			}
		case <-gc.C:
			st := cs.store.Stats()
			if g := st.TotalBytes - st.LiveBytes; g > 1<<20 && g*2 > st.TotalBytes {
				if _, err := cs.store.GC(ctx); err != nil && ctx.Err() == nil {
					cs.log.Error("gc failed", "err", err)
				}
			}
		}
	}
}

// Stop stops serving and closes the store (as a crash would, minus the lost page cache:
// every acknowledged write is already durable).
func (cs *ChunkServer) Stop() error {
	if cs.cancel != nil {
		cs.cancel()
	}
	cs.srv.Close()
	cs.wg.Wait()
	cs.hc.CloseIdleConnections()
	return cs.store.Close()
}

func ref(r *storagepb.ChunkRef) (chunk.ID, error) {
	if r == nil {
		return chunk.ID{}, connect.NewError(connect.CodeInvalidArgument, errors.New("missing chunk"))
	}
	return chunk.ID{Volume: r.Volume, Index: r.Index}, nil
}

// Read implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) Read(ctx context.Context, req *connect.Request[storagepb.ReadRequest]) (*connect.Response[storagepb.ReadResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	if req.Msg.Length > chunk.MaxRecordLength || req.Msg.Length%chunk.BlockSize != 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("read of %d bytes", req.Msg.Length))
	}
	buf := make([]byte, sealedLen(int64(req.Msg.Length)))
	v, err := cs.store.Read(ctx, id, req.Msg.Offset, buf)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.ReadResponse{Data: buf, Version: v}), nil
}

// Trim implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) Trim(ctx context.Context, req *connect.Request[storagepb.TrimRequest]) (*connect.Response[storagepb.TrimResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	if err := cs.store.Trim(ctx, id, req.Msg.Offset, req.Msg.Length, req.Msg.Version, req.Msg.Epoch); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.TrimResponse{}), nil
}

// Stat implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) Stat(_ context.Context, req *connect.Request[storagepb.StatRequest]) (*connect.Response[storagepb.StatResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	info, ok := cs.store.Stat(id)
	return connect.NewResponse(&storagepb.StatResponse{Present: ok, Version: info.Version, Epoch: info.Epoch, Blocks: uint32(info.Blocks)}), nil
}

// Digest implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) Digest(ctx context.Context, req *connect.Request[storagepb.DigestRequest]) (*connect.Response[storagepb.DigestResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	sum, v, err := cs.store.Digest(ctx, id, req.Msg.Size)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.DigestResponse{Sha256: sum[:], Version: v}), nil
}

// Fetch implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) Fetch(ctx context.Context, req *connect.Request[storagepb.FetchRequest]) (*connect.Response[storagepb.FetchResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	if req.Msg.Size == 0 || req.Msg.Size%chunk.BlockSize != 0 || req.Msg.Size > chunk.MaxRecordLength {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("fetch size %d", req.Msg.Size))
	}
	buf := make([]byte, sealedLen(int64(req.Msg.Size)))
	v, err := cs.store.Read(ctx, id, 0, buf)
	if err != nil {
		return nil, toConnect(err)
	}
	info, _ := cs.store.Stat(id)
	return connect.NewResponse(&storagepb.FetchResponse{Data: buf, Present: cs.store.Present(id, req.Msg.Size/chunk.BlockSize), Version: v, Epoch: info.Epoch}), nil
}

// Install implements storagepbconnect.ChunkServiceHandler: it replaces the chunk with the
// given contents. Blocks are written at version 0 and the version is set last, so a copy
// cut short never claims the current version.
func (cs *ChunkServer) Install(ctx context.Context, req *connect.Request[storagepb.InstallRequest]) (*connect.Response[storagepb.InstallResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	data, present := req.Msg.Data, req.Msg.Present
	if len(data)%sealedSize != 0 || len(present) < (len(data)/sealedSize+7)/8 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("install: bad data or bitmap size"))
	}
	if err := cs.store.DropChunk(ctx, id); err != nil {
		return nil, toConnect(err)
	}
	n := len(data) / sealedSize
	has := func(b int) bool { return present[b/8]&(1<<(b%8)) != 0 }
	for b := 0; b < n; {
		if !has(b) {
			b++
			continue
		}
		e := b + 1
		for e < n && has(e) && e-b < 256 {
			e++
		}
		if err := cs.store.Write(ctx, id, uint32(b*chunk.BlockSize), data[b*sealedSize:e*sealedSize], 0, req.Msg.Epoch); err != nil {
			return nil, toConnect(err)
		}
		b = e
	}
	if err := cs.store.SetVersion(ctx, id, req.Msg.Version, req.Msg.Epoch); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.InstallResponse{}), nil
}

// DropChunk implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) DropChunk(ctx context.Context, req *connect.Request[storagepb.DropChunkRequest]) (*connect.Response[storagepb.DropChunkResponse], error) {
	id, err := ref(req.Msg.Chunk)
	if err != nil {
		return nil, err
	}
	if err := cs.store.DropChunk(ctx, id); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.DropChunkResponse{}), nil
}

// DropVolume implements storagepbconnect.ChunkServiceHandler: it drops the volume's chunks.
func (cs *ChunkServer) DropVolume(ctx context.Context, req *connect.Request[storagepb.DropVolumeRequest]) (*connect.Response[storagepb.DropVolumeResponse], error) {
	if err := cs.store.DropVolume(ctx, req.Msg.Volume); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.DropVolumeResponse{}), nil
}

// List implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) List(_ context.Context, req *connect.Request[storagepb.ListRequest]) (*connect.Response[storagepb.ListResponse], error) {
	var out []*storagepb.ChunkInfo
	for _, in := range cs.store.List(req.Msg.Volume) {
		out = append(out, &storagepb.ChunkInfo{Chunk: &storagepb.ChunkRef{Volume: in.ID.Volume, Index: in.ID.Index}, Version: in.Version, Epoch: in.Epoch, Blocks: uint32(in.Blocks)})
	}
	return connect.NewResponse(&storagepb.ListResponse{Chunks: out}), nil
}

// GC implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) GC(ctx context.Context, _ *connect.Request[storagepb.GCRequest]) (*connect.Response[storagepb.GCResponse], error) {
	st, err := cs.store.GC(ctx)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.GCResponse{BytesBefore: st.BytesBefore, BytesAfter: st.BytesAfter}), nil
}

// ReadBatch implements storagepbconnect.ChunkServiceHandler.
func (cs *ChunkServer) ReadBatch(ctx context.Context, req *connect.Request[storagepb.ReadBatchRequest]) (*connect.Response[storagepb.ReadBatchResponse], error) {
	results := make([]*storagepb.ReadResult, len(req.Msg.Reads))
	for i, r := range req.Msg.Reads {
		res := &storagepb.ReadResult{}
		results[i] = res
		id, err := ref(r.Chunk)
		if err == nil && (r.Length > chunk.MaxRecordLength || r.Length%chunk.BlockSize != 0) {
			err = connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("read of %d bytes", r.Length))
		}
		if err == nil {
			res.Data = make([]byte, sealedLen(int64(r.Length)))
			res.Version, err = cs.store.Read(ctx, id, r.Offset, res.Data)
			err = toConnect(err)
		}
		if err != nil {
			res.Data = nil
			res.Code, res.Message = uint32(connect.CodeOf(err)), err.Error()
		}
	}
	return connect.NewResponse(&storagepb.ReadBatchResponse{Results: results}), nil
}

package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/shadowless-dev/shadowless/storage/meta"
)

// LoadMasterKey reads the 32-byte master key at path, creating it (mode 0600) if missing.
// In production the master key belongs in a KMS or HSM, not next to the data.
func LoadMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != meta.KeySize {
			return nil, fmt.Errorf("%w: master key %s is %d bytes", meta.ErrInvalid, path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	k := make([]byte, meta.KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err := writeFileSync(path, k); err != nil {
		return nil, err
	}
	return k, nil
}

// LocalConfig configures a whole cluster in one process.
type LocalConfig struct {
	// Dir holds meta/ (metadata and master key) and node-N/ per chunk server.
	Dir string
	// Nodes is the number of chunk servers (at least 3); zero means 3.
	Nodes int
	// MetaListen is the address of the metadata and volume services; empty means a free
	// loopback port.
	MetaListen string
	// DefaultVolumeSize, when positive, creates a volume named "default" of this size if
	// it does not exist yet. ChunkSize is its chunk size (zero: 4 MiB).
	DefaultVolumeSize int64
	ChunkSize         int64
	// HeartbeatTimeout, RepairInterval and Heartbeat tune failure detection (zero: defaults).
	HeartbeatTimeout time.Duration
	RepairInterval   time.Duration
	Heartbeat        time.Duration
	// ScrubInterval is the period of background scrubs (zero: 24 h, negative: never).
	ScrubInterval time.Duration
	// SegmentSize is the chunk stores' segment size (zero: 64 MiB).
	SegmentSize int64
	// Network makes the manager talk to the chunk servers over loopback TCP, as it would
	// to separate machines. By default requests to them are handed to their handlers
	// in-process (same services, same checks, no socket).
	Network bool
	Logger  *slog.Logger
}

// Local is a metadata service and its chunk servers running in one process. The manager
// calls the chunk servers' handlers in-process (or over loopback TCP with
// LocalConfig.Network); each chunk server is its own failure domain (zone-N).
type Local struct {
	cfg     LocalConfig
	Manager *Manager
	Servers []*ChunkServer
	meta    *meta.Store
}

// StartLocal starts (or restarts, from the same Dir) a local cluster.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.Nodes < meta.Replicas {
		return nil, fmt.Errorf("%w: %d nodes, need at least %d", meta.ErrInvalid, cfg.Nodes, meta.Replicas)
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mk, err := LoadMasterKey(filepath.Join(cfg.Dir, "meta", "master.key"))
	if err != nil {
		return nil, err
	}
	ms, err := meta.Open(filepath.Join(cfg.Dir, "meta", "meta.db"), mk)
	if err != nil {
		return nil, err
	}
	mgr, err := StartManager(ManagerConfig{Meta: ms, Listen: cfg.MetaListen, HeartbeatTimeout: cfg.HeartbeatTimeout, RepairInterval: cfg.RepairInterval, ScrubInterval: cfg.ScrubInterval, Logger: cfg.Logger})
	if err != nil {
		ms.Close()
		return nil, err
	}
	l := &Local{cfg: cfg, Manager: mgr, meta: ms}
	for i := 1; i <= cfg.Nodes; i++ {
		if _, err := l.StartNode(ctx, i); err != nil {
			l.Close()
			return nil, err
		}
	}
	if cfg.DefaultVolumeSize > 0 {
		if _, err := ms.Volume("default"); errors.Is(err, meta.ErrNotFound) {
			if _, err := mgr.CreateVolume(ctx, "default", cfg.DefaultVolumeSize, cfg.ChunkSize); err != nil {
				l.Close()
				return nil, err
			}
		}
	}
	return l, nil
}

// NodeDir is the directory of chunk server i (1-based).
func (l *Local) NodeDir(i int) string { return filepath.Join(l.cfg.Dir, fmt.Sprintf("node-%d", i)) }

// StartNode starts chunk server i (1-based), replacing a stopped one at that position.
func (l *Local) StartNode(ctx context.Context, i int) (*ChunkServer, error) {
	cs, err := StartChunkServer(ctx, ChunkServerConfig{
		Dir: l.NodeDir(i), MetaAddr: l.Manager.Addr(), ID: fmt.Sprintf("node-%d", i),
		Zone: fmt.Sprintf("zone-%d", i), Host: fmt.Sprintf("host-%d", i),
		Heartbeat: l.cfg.Heartbeat, SegmentSize: l.cfg.SegmentSize, Logger: l.cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	for len(l.Servers) < i {
		l.Servers = append(l.Servers, nil)
	}
	l.Servers[i-1] = cs
	if !l.cfg.Network {
		l.Manager.local.set(cs.Addr(), cs.handler, cs.store)
	}
	return cs, nil
}

// StopNode stops chunk server i (1-based).
func (l *Local) StopNode(i int) error {
	cs := l.Servers[i-1]
	if cs == nil {
		return nil
	}
	l.Servers[i-1] = nil
	l.Manager.local.set(cs.Addr(), nil, nil)
	return cs.Stop()
}

// Close stops every chunk server and the manager.
func (l *Local) Close() error {
	var errs []error
	for i := range l.Servers {
		errs = append(errs, l.StopNode(i+1))
	}
	errs = append(errs, l.Manager.Close(), l.meta.Close())
	return errors.Join(errs...)
}

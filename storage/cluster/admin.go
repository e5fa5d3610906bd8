package cluster

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/meta"
	"github.com/shadowless-dev/shadowless/storage/storagepb"
)

func pbVolume(v meta.Volume) *storagepb.Volume {
	return &storagepb.Volume{Id: v.ID, Name: v.Name, Size: v.Size, ChunkSize: v.ChunkSize, Parent: v.Parent, Snapshot: v.Snapshot, CreatedUnixMilli: v.CreatedUnixMilli}
}

// CreateVolume creates a volume and returns its block device.
func (m *Manager) CreateVolume(_ context.Context, name string, size, chunkSize int64) (*Volume, error) {
	v, err := m.meta.CreateVolume(name, size, chunkSize)
	if err != nil {
		return nil, err
	}
	return m.volume(v), nil
}

// ResizeVolume grows a volume online: open block devices see the new size at once.
func (m *Manager) ResizeVolume(_ context.Context, name string, size int64) (meta.Volume, error) {
	v, err := m.meta.Resize(name, size)
	if err != nil {
		return meta.Volume{}, err
	}
	m.volume(v).size.Store(v.Size)
	return v, nil
}

// forEachPlaced calls fn for every chunk of vol that has a placement, in index order.
func (m *Manager) placedIndexes(vol uint64) ([]uint64, error) {
	ps, err := m.meta.Placements(vol)
	if err != nil {
		return nil, err
	}
	idx := make([]uint64, 0, len(ps))
	for _, p := range ps {
		idx = append(idx, p.Index)
	}
	slices.Sort(idx)
	return idx, nil
}

// copyChunk installs src's chunk idx (at its current version) as dst's chunk idx at a new
// version on every replica of dst's placement, or trims dst's chunk when src has none.
// Both handles must be write-locked and loaded.
func (m *Manager) copyChunk(ctx context.Context, src *Volume, sh *chunkHandle, dst *Volume, dh *chunkHandle, idx uint64) error {
	if !sh.placed {
		if !dh.placed {
			return nil
		}
		return dst.replicate(ctx, dh, idx, func(ctx context.Context, node string, version, epoch uint64) error {
			c, err := m.nodeClient(node)
			if err != nil {
				return err
			}
			_, err = c.Trim(ctx, connect.NewRequest(&storagepb.TrimRequest{Chunk: dst.ref(idx), Offset: 0, Length: uint32(dst.chunkSize), Version: version, Epoch: epoch}))
			return err
		})
	}
	data, present, err := src.fetchGood(ctx, sh, idx, sh.p.Nodes)
	if err != nil {
		return err
	}
	if !dh.placed {
		p, err := m.meta.Place(dst.id, idx)
		if err != nil {
			return err
		}
		dh.p, dh.placed, dh.version = p, true, 0
	}
	dh.version++
	var failed []string
	for _, n := range dh.p.Nodes {
		if err := dst.install(ctx, n, idx, data, present, dh.version, dh.p.Epoch); err != nil {
			failed = append(failed, n)
		}
	}
	if len(failed) == len(dh.p.Nodes) {
		dh.loaded = false
		return fmt.Errorf("%w: copy to %s chunk %d", ErrWriteFailed, dst.name, idx)
	}
	if len(failed) > 0 {
		return dst.replaceWith(ctx, dh, idx, failed, data, present)
	}
	return nil
}

// Snapshot takes a consistent, copy-on-write snapshot of a volume ("vol@snap"): I/O to the
// volume pauses only while the metadata records which chunks the snapshot shares; the
// volume copies a shared chunk to the snapshot the first time it changes it afterwards.
// The snapshot is read-only, encrypted with the volume's key, and deleted with the volume.
func (m *Manager) Snapshot(ctx context.Context, volume, snapshot string) (meta.Volume, error) {
	vol, err := m.OpenVolume(volume)
	if err != nil {
		return meta.Volume{}, err
	}
	vol.quiesce.Lock()
	defer vol.quiesce.Unlock()
	sm, err := m.meta.CreateSnapshot(volume, snapshot)
	if err != nil {
		return meta.Volume{}, err
	}
	vol.snapGen.Add(1)
	return sm, nil
}

// Restore makes a volume's contents those of one of its snapshots (the size stays).
// Chunks the snapshot still shares with the volume are already right; the others are
// copied back (after other snapshots sharing them got their own copy).
func (m *Manager) Restore(ctx context.Context, volume, snapshot string) (meta.Volume, error) {
	vol, err := m.OpenVolume(volume)
	if err != nil {
		return meta.Volume{}, err
	}
	snap, err := m.OpenVolume(meta.SnapshotName(volume, snapshot))
	if err != nil {
		return meta.Volume{}, err
	}
	vol.quiesce.Lock()
	defer vol.quiesce.Unlock()
	a, err := m.placedIndexes(vol.id)
	if err != nil {
		return meta.Volume{}, err
	}
	b, err := m.placedIndexes(snap.id)
	if err != nil {
		return meta.Volume{}, err
	}
	all := append(a, b...)
	slices.Sort(all)
	for _, idx := range slices.Compact(all) {
		if err := m.restoreChunk(ctx, vol, snap, idx); err != nil {
			return meta.Volume{}, fmt.Errorf("cluster: restore %s from %s: %w", volume, snapshot, err)
		}
	}
	return m.meta.Volume(volume)
}

func (m *Manager) restoreChunk(ctx context.Context, vol, snap *Volume, idx uint64) error {
	h, err := vol.lockLoaded(ctx, idx)
	if err != nil {
		return err
	}
	defer h.mu.Unlock()
	ids, err := m.meta.SharedWith(vol.id, idx)
	if err != nil {
		return err
	}
	if slices.Contains(ids, snap.id) {
		return nil // unchanged since the snapshot
	}
	if err := vol.preserveLocked(ctx, h, idx, true); err != nil {
		return err
	}
	sh, err := snap.lockLoaded(ctx, idx)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	return m.copyChunk(ctx, snap, sh, vol, h, idx)
}

// DeleteVolume deletes a volume (with its snapshots) or one snapshot: its wrapped key is
// destroyed at once (and the manager drops its cipher), so its blocks can no longer be
// opened by anyone; then every chunk server drops the chunks and compacts its log so the
// ciphertext leaves the disk too.
func (m *Manager) DeleteVolume(ctx context.Context, name string) ([]uint64, error) {
	removed, err := m.meta.DeleteVolume(name)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	for _, id := range removed {
		if v, ok := m.volumes[id]; ok {
			v.forget()
			delete(m.volumes, id)
		}
	}
	m.mu.Unlock()
	nodes, err := m.meta.Nodes()
	if err != nil {
		return removed, err
	}
	for _, n := range nodes {
		c := m.client(n.Addr)
		rctx, cancel := m.rpcCtx(ctx)
		for _, id := range removed {
			if _, err := c.DropVolume(rctx, connect.NewRequest(&storagepb.DropVolumeRequest{Volume: id})); err != nil {
				m.log.Warn("drop volume on node (its copy is unreadable without the key)", "node", n.ID, "volume", id, "err", err)
			}
		}
		if _, err := c.GC(rctx, connect.NewRequest(&storagepb.GCRequest{})); err != nil {
			m.log.Warn("gc after delete", "node", n.ID, "err", err)
		}
		cancel()
	}
	return removed, nil
}

type backupManifest struct {
	Format     int      `json:"format"`
	Name       string   `json:"name"`
	Size       int64    `json:"size"`
	ChunkSize  int64    `json:"chunk_size"`
	WrappedKey []byte   `json:"wrapped_key"`
	Chunks     []uint64 `json:"chunks"`
}

// Backup writes a consistent copy of a volume to dir: a manifest and one file per written
// chunk, encrypted (AES-256-GCM) with a fresh backup key wrapped by the master key, so the
// backup outlives the volume and its key.
func (m *Manager) Backup(ctx context.Context, volume, dir string) (chunks int, bytes int64, err error) {
	vol, err := m.OpenVolume(volume)
	if err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, fmt.Errorf("cluster: backup: %w", err)
	}
	key := make([]byte, meta.KeySize)
	if _, err := rand.Read(key); err != nil {
		return 0, 0, err
	}
	defer clear(key)
	aead, err := gcm(key)
	if err != nil {
		return 0, 0, err
	}
	wrapped, err := m.meta.WrapBackupKey(key)
	if err != nil {
		return 0, 0, err
	}
	vol.quiesce.Lock()
	defer vol.quiesce.Unlock()
	idxs, err := m.placedIndexes(vol.id)
	if err != nil {
		return 0, 0, err
	}
	if vol.parent != 0 {
		// A snapshot's chunks that it still shares live in its volume.
		shared, err := m.meta.SharedChunks(vol.parent)
		if err != nil {
			return 0, 0, err
		}
		for _, idx := range shared {
			if ids, err := m.meta.SharedWith(vol.parent, idx); err == nil && slices.Contains(ids, vol.id) {
				idxs = append(idxs, idx)
			}
		}
		slices.Sort(idxs)
		idxs = slices.Compact(idxs)
	}
	man := backupManifest{Format: 1, Name: vol.name, Size: vol.Size(), ChunkSize: vol.chunkSize, WrappedKey: wrapped}
	for _, idx := range idxs {
		off := int64(idx) * vol.chunkSize
		if off >= vol.Size() {
			continue
		}
		data := make([]byte, min(vol.chunkSize, vol.Size()-off))
		if _, err := vol.readAt(ctx, data, off); err != nil {
			return chunks, bytes, err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return chunks, bytes, err
		}
		sealed := aead.Seal(nonce, nonce, data, binary.BigEndian.AppendUint64(nil, idx))
		if err := writeFileSync(filepath.Join(dir, fmt.Sprintf("chunk-%08d.bin", idx)), sealed); err != nil {
			return chunks, bytes, err
		}
		man.Chunks = append(man.Chunks, idx)
		chunks++
		bytes += int64(len(data))
	}
	raw, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return chunks, bytes, err
	}
	return chunks, bytes, writeFileSync(filepath.Join(dir, "manifest.json"), raw)
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("cluster: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cluster: %w", err)
	}
	return f.Close()
}

// RestoreBackup creates a new volume named name from a backup directory.
func (m *Manager) RestoreBackup(ctx context.Context, dir, name string) (meta.Volume, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return meta.Volume{}, fmt.Errorf("cluster: restore backup: %w", err)
	}
	var man backupManifest
	if err := json.Unmarshal(raw, &man); err != nil || man.Format != 1 {
		return meta.Volume{}, fmt.Errorf("%w: backup manifest in %s (%v)", meta.ErrInvalid, dir, err)
	}
	key, err := m.meta.UnwrapBackupKey(man.WrappedKey)
	if err != nil {
		return meta.Volume{}, err
	}
	defer clear(key)
	aead, err := gcm(key)
	if err != nil {
		return meta.Volume{}, err
	}
	vol, err := m.CreateVolume(ctx, name, man.Size, man.ChunkSize)
	if err != nil {
		return meta.Volume{}, err
	}
	for _, idx := range man.Chunks {
		sealed, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("chunk-%08d.bin", idx)))
		if err != nil {
			return meta.Volume{}, fmt.Errorf("cluster: restore backup: %w", err)
		}
		ns := aead.NonceSize()
		if len(sealed) < ns {
			return meta.Volume{}, fmt.Errorf("%w: backup chunk %d truncated", meta.ErrInvalid, idx)
		}
		data, err := aead.Open(nil, sealed[:ns], sealed[ns:], binary.BigEndian.AppendUint64(nil, idx))
		if err != nil {
			return meta.Volume{}, fmt.Errorf("%w: backup chunk %d does not authenticate", meta.ErrInvalid, idx)
		}
		off := int64(idx) * man.ChunkSize
		data = data[:min(int64(len(data)), man.Size-off)]
		if _, err := vol.WriteAt(ctx, data, off); err != nil {
			return meta.Volume{}, err
		}
	}
	return m.meta.Volume(name)
}

// ScrubResult says what a scrub found.
type ScrubResult struct {
	Chunks, Mismatches, Repaired uint64
}

// Scrub reads every replica of every chunk (of one volume, or all when volume is empty),
// checks every block's checksum, compares versions and content digests across replicas and
// repairs the ones that disagree with the current version's majority.
func (m *Manager) Scrub(ctx context.Context, volume string) (ScrubResult, error) {
	var vols []meta.Volume
	if volume != "" {
		v, err := m.meta.Volume(volume)
		if err != nil {
			return ScrubResult{}, err
		}
		vols = []meta.Volume{v}
	} else {
		all, err := m.meta.Volumes()
		if err != nil {
			return ScrubResult{}, err
		}
		vols = all
	}
	var res ScrubResult
	for _, mv := range vols {
		vol := m.volume(mv)
		idxs, err := m.placedIndexes(vol.id)
		if err != nil {
			return res, err
		}
		for _, idx := range idxs {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			bad, err := vol.scrubChunk(ctx, idx)
			res.Chunks++
			m.scrubbed.Add(1)
			if bad > 0 {
				res.Mismatches += uint64(bad)
				m.scrubMismatch.Add(uint64(bad))
				if err == nil {
					res.Repaired += uint64(bad)
				}
			}
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func (v *Volume) scrubChunk(ctx context.Context, idx uint64) (int, error) {
	h, err := v.lockLoaded(ctx, idx)
	if err != nil {
		return 0, err
	}
	defer h.mu.Unlock()
	if !h.placed {
		return 0, nil
	}
	type dig struct {
		sum string
		err error
	}
	digs := make([]dig, len(h.p.Nodes))
	var wg sync.WaitGroup
	for i, node := range h.p.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := v.m.nodeClient(node)
			if err != nil {
				digs[i].err = err
				return
			}
			rctx, cancel := v.m.rpcCtx(ctx)
			defer cancel()
			resp, err := c.Digest(rctx, connect.NewRequest(&storagepb.DigestRequest{Chunk: v.ref(idx), Size: uint32(v.chunkSize)}))
			if err != nil {
				digs[i].err = err
				return
			}
			if resp.Msg.Version != h.version {
				digs[i].err = fmt.Errorf("version %d, want %d", resp.Msg.Version, h.version)
				return
			}
			digs[i].sum = string(resp.Msg.Sha256)
		}()
	}
	wg.Wait()
	count := map[string]int{}
	for _, d := range digs {
		if d.err == nil {
			count[d.sum]++
		}
	}
	if len(count) == 0 {
		return len(digs), fmt.Errorf("cluster: scrub %s chunk %d: no replica readable: %w", v.name, idx, digs[0].err)
	}
	sums := make([]string, 0, len(count))
	for s := range count {
		sums = append(sums, s)
	}
	sort.Slice(sums, func(i, j int) bool { return count[sums[i]] > count[sums[j]] })
	truth := sums[0]
	if len(sums) > 1 && count[sums[0]] == count[sums[1]] {
		return 0, fmt.Errorf("cluster: scrub %s chunk %d: replicas disagree with no majority", v.name, idx)
	}
	var bad []string
	for i, d := range digs {
		if d.err != nil || d.sum != truth {
			bad = append(bad, h.p.Nodes[i])
		}
	}
	if len(bad) == 0 {
		return 0, nil
	}
	v.m.log.Warn("scrub found bad replicas", "volume", v.name, "chunk", idx, "replicas", bad)
	// fix copies from the replicas not listed as bad, which all hold the majority content.
	return len(bad), v.fix(ctx, h, idx, bad)
}

// Status reports nodes, volume health and repair and scrub counters.
func (m *Manager) Status(_ context.Context) (*storagepb.StatusResponse, error) {
	nodes, err := m.meta.Nodes()
	if err != nil {
		return nil, err
	}
	out := &storagepb.StatusResponse{
		RepairsDone: m.repairsDone.Load(), RepairsFailed: m.repairsFailed.Load(), RepairsPending: m.repairsPending.Load(),
		RepairBytes: m.repairBytes.Load(), ScrubbedChunks: m.scrubbed.Load(), ScrubMismatches: m.scrubMismatch.Load(),
	}
	down := map[string]bool{}
	for _, n := range nodes {
		pn := &storagepb.Node{Id: n.ID, Addr: n.Addr, Zone: n.Zone, Rack: n.Rack, Host: n.Host, Healthy: n.Healthy}
		m.mu.Lock()
		if st := m.nodeStat[n.ID]; st != nil {
			pn.TotalBytes, pn.LiveBytes, pn.Chunks = st.TotalBytes, st.LiveBytes, st.Chunks
		}
		if t, ok := m.lastSeen[n.ID]; ok {
			pn.LastSeenUnixMilli = t.UnixMilli()
		}
		m.mu.Unlock()
		out.Nodes = append(out.Nodes, pn)
		down[n.ID] = !n.Healthy
	}
	vols, err := m.meta.Volumes()
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		ps, err := m.meta.Placements(v.ID)
		if err != nil {
			return nil, err
		}
		vh := &storagepb.VolumeHealth{Name: v.Name, ChunksPlaced: uint64(len(ps))}
		for _, p := range ps {
			for _, n := range p.Nodes {
				if down[n] {
					vh.Degraded++
					break
				}
			}
		}
		out.Volumes = append(out.Volumes, vh)
	}
	return out, nil
}

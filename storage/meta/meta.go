package meta

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("meta: not found")
	ErrExists   = errors.New("meta: already exists")
	ErrShrink   = errors.New("meta: volumes only grow")
	ErrConflict = errors.New("meta: placement changed concurrently")
	ErrInvalid  = errors.New("meta: invalid argument")
)

// KeySize is the size of volume data keys and of the master key (AES-256).
const KeySize = 32

// Volume is a volume or a snapshot of one.
type Volume struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	// Size is the volume size in bytes; ChunkSize the bytes per chunk.
	Size      int64 `json:"size"`
	ChunkSize int64 `json:"chunk_size"`
	// Parent is the volume a snapshot was taken of (0 for a volume).
	Parent uint64 `json:"parent,omitempty"`
	// Snapshot is the snapshot's own name (empty for a volume).
	Snapshot string `json:"snapshot,omitempty"`
	// KeyVolume is the volume whose data key encrypts this one: itself for a volume, the
	// parent for a snapshot. Snapshots share their volume's key and die with it.
	KeyVolume        uint64 `json:"key_volume"`
	CreatedUnixMilli int64  `json:"created_unix_milli"`
}

// Chunks is the number of chunks the volume spans.
func (v Volume) Chunks() uint64 { return uint64((v.Size + v.ChunkSize - 1) / v.ChunkSize) }

// Placement is where a chunk's replicas live. Epoch grows by one on every change, so a
// chunk server can refuse requests from an older placement.
type Placement struct {
	Volume uint64   `json:"volume"`
	Index  uint64   `json:"index"`
	Nodes  []string `json:"nodes"`
	Epoch  uint64   `json:"epoch"`
}

var (
	bVolumes    = []byte("volumes")    // name -> Volume
	bKeys       = []byte("keys")       // volume id -> wrapped key
	bNodes      = []byte("nodes")      // id -> Node
	bPlacements = []byte("placements") // volume id | index -> Placement
	bSeq        = []byte("seq")
	bCOW        = []byte("cow") // volume id | index -> snapshot ids still sharing the chunk
)

// Store is the metadata service's state in a bbolt file: volumes, their wrapped data keys,
// nodes and chunk placement. It is safe for concurrent use.
type Store struct {
	path   string
	master cipher.AEAD

	mu   sync.RWMutex
	db   *bolt.DB
	load map[string]int // chunks placed per node
}

// Open opens (or creates) the metadata file. master is the 32-byte master key that wraps
// every volume data key.
func Open(path string, master []byte) (*Store, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrInvalid, len(master), KeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	s := &Store{path: path, master: gcm}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) open() error {
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("meta: open %s: %w", s.path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bVolumes, bKeys, bNodes, bPlacements, bSeq, bCOW} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("meta: %w", err)
	}
	s.db = db
	s.load = map[string]int{}
	return db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bPlacements).ForEach(func(_, v []byte) error {
			var p Placement
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("meta: %w", err)
			}
			for _, n := range p.Nodes {
				s.load[n]++
			}
			return nil
		})
	})
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func placementKey(vol, idx uint64) []byte { return append(u64(vol), u64(idx)...) }

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(fn)
}

func getJSON(b *bolt.Bucket, k []byte, v any) error {
	raw := b.Get(k)
	if raw == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("meta: decode %q: %w", k, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}

func (s *Store) wrap(vol uint64, key []byte) ([]byte, error) {
	n := make([]byte, s.master.NonceSize())
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	return s.master.Seal(n, n, key, u64(vol)), nil
}

func (s *Store) unwrap(vol uint64, wrapped []byte) ([]byte, error) {
	ns := s.master.NonceSize()
	if len(wrapped) < ns {
		return nil, fmt.Errorf("%w: wrapped key of volume %d too short", ErrInvalid, vol)
	}
	k, err := s.master.Open(nil, wrapped[:ns], wrapped[ns:], u64(vol))
	if err != nil {
		return nil, fmt.Errorf("meta: unwrap key of volume %d (wrong master key?): %w", vol, err)
	}
	return k, nil
}

// ValidName reports whether a volume or snapshot name is acceptable.
func ValidName(name string) error {
	if name == "" || len(name) > 128 || strings.ContainsAny(name, "@/\x00") {
		return fmt.Errorf("%w: name %q (1-128 bytes, no '@', '/' or NUL)", ErrInvalid, name)
	}
	return nil
}

// SnapshotName is the name under which a snapshot of a volume is stored.
func SnapshotName(volume, snapshot string) string { return volume + "@" + snapshot }

// CreateVolume creates a volume with a fresh random data key wrapped by the master key.
func (s *Store) CreateVolume(name string, size, chunkSize int64) (Volume, error) {
	if err := ValidName(name); err != nil {
		return Volume{}, err
	}
	if chunkSize <= 0 || chunkSize%4096 != 0 || chunkSize > 64<<20 {
		return Volume{}, fmt.Errorf("%w: chunk size %d (a multiple of 4096 up to 64 MiB)", ErrInvalid, chunkSize)
	}
	if size <= 0 || size%4096 != 0 {
		return Volume{}, fmt.Errorf("%w: size %d (a positive multiple of 4096)", ErrInvalid, size)
	}
	return s.create(Volume{Name: name, Size: size, ChunkSize: chunkSize}, true)
}

func (s *Store) create(v Volume, newKey bool) (Volume, error) {
	err := s.update(func(tx *bolt.Tx) error { return s.createTx(tx, &v, newKey) })
	if err != nil {
		return Volume{}, err
	}
	return v, nil
}

func (s *Store) createTx(tx *bolt.Tx, v *Volume, newKey bool) error {
	vb := tx.Bucket(bVolumes)
	if vb.Get([]byte(v.Name)) != nil {
		return fmt.Errorf("%w: volume %q", ErrExists, v.Name)
	}
	id, err := tx.Bucket(bSeq).NextSequence()
	if err != nil {
		return err
	}
	v.ID = id
	v.CreatedUnixMilli = time.Now().UnixMilli()
	if newKey {
		v.KeyVolume = id
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		w, err := s.wrap(id, key)
		clear(key)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bKeys).Put(u64(id), w); err != nil {
			return err
		}
	}
	return putJSON(vb, []byte(v.Name), *v)
}

// CreateSnapshot records a snapshot of a volume, copying no data: every chunk the volume
// has placed is marked as shared with the snapshot (copy-on-write), and the volume copies a
// shared chunk to the snapshot before it next changes it (see SharedWith and Unshare). The
// snapshot shares the volume's data key: deleting the volume destroys its snapshots too.
func (s *Store) CreateSnapshot(volume, snapshot string) (Volume, error) {
	if err := ValidName(snapshot); err != nil {
		return Volume{}, err
	}
	v, err := s.Volume(volume)
	if err != nil {
		return Volume{}, err
	}
	if v.Parent != 0 {
		return Volume{}, fmt.Errorf("%w: %q is a snapshot", ErrInvalid, volume)
	}
	snap := Volume{Name: SnapshotName(volume, snapshot), Size: v.Size, ChunkSize: v.ChunkSize,
		Parent: v.ID, Snapshot: snapshot, KeyVolume: v.KeyVolume}
	err = s.update(func(tx *bolt.Tx) error {
		if err := s.createTx(tx, &snap, false); err != nil {
			return err
		}
		cb := tx.Bucket(bCOW)
		c := tx.Bucket(bPlacements).Cursor()
		prefix := u64(v.ID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var ids []uint64
			if raw := cb.Get(k); raw != nil {
				if err := json.Unmarshal(raw, &ids); err != nil {
					return err
				}
			}
			if err := putJSON(cb, k, append(ids, snap.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Volume{}, err
	}
	return snap, nil
}

// SharedWith returns the snapshots that still share chunk idx of volume vol (the chunk has
// not changed since they were taken, and they hold no copy of their own).
func (s *Store) SharedWith(vol, idx uint64) ([]uint64, error) {
	var ids []uint64
	err := s.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bCOW).Get(placementKey(vol, idx))
		if raw == nil {
			return nil
		}
		return json.Unmarshal(raw, &ids)
	})
	return ids, err
}

// Unshare records that snapshot snap now has its own copy of chunk idx of volume vol.
func (s *Store) Unshare(vol, idx, snap uint64) error {
	return s.update(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bCOW)
		k := placementKey(vol, idx)
		var ids []uint64
		if raw := cb.Get(k); raw != nil {
			if err := json.Unmarshal(raw, &ids); err != nil {
				return err
			}
		}
		ids = slices.DeleteFunc(ids, func(id uint64) bool { return id == snap })
		if len(ids) == 0 {
			return cb.Delete(k)
		}
		return putJSON(cb, k, ids)
	})
}

// SharedChunks returns the chunk indexes of vol that some snapshot still shares.
func (s *Store) SharedChunks(vol uint64) ([]uint64, error) {
	var out []uint64
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bCOW).Cursor()
		prefix := u64(vol)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, binary.BigEndian.Uint64(k[8:]))
		}
		return nil
	})
	return out, err
}

// Volume returns a volume or snapshot ("vol@snap") by name.
func (s *Store) Volume(name string) (Volume, error) {
	var v Volume
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bVolumes), []byte(name), &v) })
	if errors.Is(err, ErrNotFound) {
		return Volume{}, fmt.Errorf("%w: volume %q", ErrNotFound, name)
	}
	return v, err
}

// VolumeByID returns a volume by its id.
func (s *Store) VolumeByID(id uint64) (Volume, error) {
	vols, err := s.Volumes()
	if err != nil {
		return Volume{}, err
	}
	for _, v := range vols {
		if v.ID == id {
			return v, nil
		}
	}
	return Volume{}, fmt.Errorf("%w: volume id %d", ErrNotFound, id)
}

// Volumes lists volumes and snapshots by name.
func (s *Store) Volumes() ([]Volume, error) {
	var out []Volume
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bVolumes).ForEach(func(k, raw []byte) error {
			var v Volume
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("meta: decode %q: %w", k, err)
			}
			out = append(out, v)
			return nil
		})
	})
	return out, err
}

// Resize grows a volume online.
func (s *Store) Resize(name string, size int64) (Volume, error) {
	var v Volume
	err := s.update(func(tx *bolt.Tx) error {
		vb := tx.Bucket(bVolumes)
		if err := getJSON(vb, []byte(name), &v); err != nil {
			return fmt.Errorf("%w: volume %q", err, name)
		}
		if v.Parent != 0 {
			return fmt.Errorf("%w: snapshots cannot be resized", ErrInvalid)
		}
		if size < v.Size {
			return fmt.Errorf("%w: %d < %d", ErrShrink, size, v.Size)
		}
		if size%4096 != 0 {
			return fmt.Errorf("%w: size %d not a multiple of 4096", ErrInvalid, size)
		}
		v.Size = size
		return putJSON(vb, []byte(name), v)
	})
	return v, err
}

// DataKey returns the unwrapped data key that encrypts a volume (or snapshot).
func (s *Store) DataKey(volume uint64) ([]byte, error) {
	v, err := s.VolumeByID(volume)
	if err != nil {
		return nil, err
	}
	var wrapped []byte
	err = s.view(func(tx *bolt.Tx) error {
		w := tx.Bucket(bKeys).Get(u64(v.KeyVolume))
		if w == nil {
			return fmt.Errorf("%w: key of volume %d", ErrNotFound, v.KeyVolume)
		}
		wrapped = append([]byte(nil), w...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.unwrap(v.KeyVolume, wrapped)
}

// WrappedKey returns the stored (wrapped) key of a volume; tests use it to check erasure.
func (s *Store) WrappedKey(volume uint64) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		w := tx.Bucket(bKeys).Get(u64(volume))
		if w == nil {
			return fmt.Errorf("%w: key of volume %d", ErrNotFound, volume)
		}
		out = append([]byte(nil), w...)
		return nil
	})
	return out, err
}

// DeleteVolume removes a volume, or a single snapshot ("vol@snap"). Deleting a volume
// destroys its wrapped data key (crypto-erase) and removes its snapshots, which share that
// key, and all placement records. The metadata file is then rewritten (compacted) so that
// the wrapped key does not linger in freed pages. It returns the ids removed.
func (s *Store) DeleteVolume(name string) ([]uint64, error) {
	var removed []uint64
	err := s.update(func(tx *bolt.Tx) error {
		vb := tx.Bucket(bVolumes)
		var v Volume
		if err := getJSON(vb, []byte(name), &v); err != nil {
			return fmt.Errorf("%w: volume %q", err, name)
		}
		var victims []Volume
		victims = append(victims, v)
		if v.Parent == 0 {
			err := vb.ForEach(func(_, raw []byte) error {
				var o Volume
				if err := json.Unmarshal(raw, &o); err != nil {
					return err
				}
				if o.Parent == v.ID {
					victims = append(victims, o)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := tx.Bucket(bKeys).Delete(u64(v.ID)); err != nil {
				return err
			}
		}
		pb := tx.Bucket(bPlacements)
		if err := dropShares(tx.Bucket(bCOW), v); err != nil {
			return err
		}
		for _, o := range victims {
			if err := vb.Delete([]byte(o.Name)); err != nil {
				return err
			}
			c := pb.Cursor()
			prefix := u64(o.ID)
			var keys [][]byte
			for k, raw := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, raw = c.Next() {
				var p Placement
				if err := json.Unmarshal(raw, &p); err == nil {
					for _, n := range p.Nodes {
						s.load[n]--
					}
				}
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				if err := pb.Delete(k); err != nil {
					return err
				}
			}
			removed = append(removed, o.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, s.compact()
}

// dropShares removes the copy-on-write records a deleted volume or snapshot leaves.
func dropShares(cb *bolt.Bucket, v Volume) error {
	type upd struct {
		k   []byte
		ids []uint64
	}
	var updates []upd
	c := cb.Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		owner := binary.BigEndian.Uint64(k)
		if v.Parent == 0 {
			if owner == v.ID {
				updates = append(updates, upd{k: bytes.Clone(k)})
			}
			continue
		}
		if owner != v.Parent {
			continue
		}
		var ids []uint64
		if err := json.Unmarshal(raw, &ids); err != nil {
			return err
		}
		updates = append(updates, upd{bytes.Clone(k), slices.DeleteFunc(ids, func(id uint64) bool { return id == v.ID })})
	}
	for _, u := range updates {
		var err error
		if len(u.ids) == 0 {
			err = cb.Delete(u.k)
		} else {
			err = putJSON(cb, u.k, u.ids)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// compact rewrites the bbolt file without its free pages, then replaces the old file.
func (s *Store) compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("meta: compact: %w", err)
	}
	if err := bolt.Compact(dst, s.db, 1<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("meta: compact: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("meta: compact: %w", err)
	}
	dst.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("meta: compact: %w", err)
	}
	// Keep a handle on the old file, swap the compacted one in atomically, then overwrite
	// the old inode's pages so a freed page holding a wrapped key is not left behind.
	old, oerr := os.OpenFile(s.path, os.O_WRONLY, 0)
	if err := os.Rename(tmp, s.path); err != nil {
		if oerr == nil {
			old.Close()
		}
		return fmt.Errorf("meta: compact: %w", err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	if oerr == nil {
		if st, err := old.Stat(); err == nil {
			old.WriteAt(make([]byte, st.Size()), 0)
			old.Sync()
		}
		old.Close()
	}
	return s.open()
}

// UpsertNode records a node (registration or heartbeat).
func (s *Store) UpsertNode(n Node) error {
	if n.ID == "" {
		return fmt.Errorf("%w: node without id", ErrInvalid)
	}
	return s.update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bNodes), []byte(n.ID), n) })
}

// SetHealth marks a node healthy or not.
func (s *Store) SetHealth(id string, healthy bool) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bNodes)
		var n Node
		if err := getJSON(b, []byte(id), &n); err != nil {
			return fmt.Errorf("%w: node %q", err, id)
		}
		n.Healthy = healthy
		return putJSON(b, []byte(id), n)
	})
}

// Nodes lists the known nodes by id.
func (s *Store) Nodes() ([]Node, error) {
	var out []Node
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bNodes).ForEach(func(_, raw []byte) error {
			var n Node
			if err := json.Unmarshal(raw, &n); err != nil {
				return err
			}
			out = append(out, n)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// Placement returns a chunk's placement; ok is false if the chunk was never written.
func (s *Store) Placement(vol, idx uint64) (Placement, bool, error) {
	var p Placement
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bPlacements), placementKey(vol, idx), &p) })
	if errors.Is(err, ErrNotFound) {
		return Placement{}, false, nil
	}
	return p, err == nil, err
}

// Placements lists the placements of a volume (0: all volumes).
func (s *Store) Placements(vol uint64) ([]Placement, error) {
	var out []Placement
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bPlacements).ForEach(func(k, raw []byte) error {
			if vol != 0 && binary.BigEndian.Uint64(k) != vol {
				return nil
			}
			var p Placement
			if err := json.Unmarshal(raw, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// Place returns a chunk's placement, choosing one (epoch 1) if the chunk has none.
func (s *Store) Place(vol, idx uint64) (Placement, error) {
	var p Placement
	err := s.update(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bPlacements)
		if err := getJSON(pb, placementKey(vol, idx), &p); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		nodes, err := nodesTx(tx)
		if err != nil {
			return err
		}
		chosen, err := Place(nodes, nil, nil, Replicas, s.load, fmt.Sprintf("%d/%d", vol, idx))
		if err != nil {
			return err
		}
		p = Placement{Volume: vol, Index: idx, Nodes: chosen, Epoch: 1}
		for _, n := range chosen {
			s.load[n]++
		}
		return putJSON(pb, placementKey(vol, idx), p)
	})
	return p, err
}

func nodesTx(tx *bolt.Tx) ([]Node, error) {
	var nodes []Node
	err := tx.Bucket(bNodes).ForEach(func(_, raw []byte) error {
		var n Node
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	})
	return nodes, err
}

// Replace swaps failed nodes out of a chunk's placement for new ones and bumps its epoch.
// epoch must be the placement's current epoch (else ErrConflict).
func (s *Store) Replace(vol, idx uint64, failed []string, epoch uint64) (Placement, error) {
	var p Placement
	err := s.update(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bPlacements)
		if err := getJSON(pb, placementKey(vol, idx), &p); err != nil {
			return fmt.Errorf("%w: placement %d/%d", err, vol, idx)
		}
		if p.Epoch != epoch {
			return fmt.Errorf("%w: %d/%d at epoch %d, caller saw %d", ErrConflict, vol, idx, p.Epoch, epoch)
		}
		bad := map[string]bool{}
		for _, f := range failed {
			bad[f] = true
		}
		var keep []string
		for _, n := range p.Nodes {
			if !bad[n] {
				keep = append(keep, n)
			}
		}
		nodes, err := nodesTx(tx)
		if err != nil {
			return err
		}
		chosen, err := Place(nodes, keep, failed, Replicas, s.load, fmt.Sprintf("%d/%d", vol, idx))
		if err != nil {
			return err
		}
		for _, n := range p.Nodes {
			s.load[n]--
		}
		for _, n := range chosen {
			s.load[n]++
		}
		p.Nodes = chosen
		p.Epoch++
		return putJSON(pb, placementKey(vol, idx), p)
	})
	return p, err
}

// WrapBackupKey wraps a backup's own data key with the master key.
func (s *Store) WrapBackupKey(key []byte) ([]byte, error) { return s.wrap(0, key) }

// UnwrapBackupKey unwraps a key made by WrapBackupKey.
func (s *Store) UnwrapBackupKey(wrapped []byte) ([]byte, error) { return s.unwrap(0, wrapped) }

package files

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BlobInfo names a committed blob and when it was written.
type BlobInfo struct {
	ID      string
	Created time.Time
}

// BlobLister is implemented by content stores that can enumerate their blobs, which lets
// Service.CollectGarbage find blobs no file refers to.
type BlobLister interface {
	ListBlobs(ctx context.Context) ([]BlobInfo, error)
}

// ListBlobs lists the committed blobs of a DirStore.
func (d *DirStore) ListBlobs(ctx context.Context) ([]BlobInfo, error) {
	var out []BlobInfo
	err := filepath.WalkDir(d.dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == "tmp" {
				return filepath.SkipDir
			}
			return ctx.Err()
		}
		if _, perr := d.path(e.Name()); perr != nil {
			return nil // not one of ours
		}
		fi, err := e.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		out = append(out, BlobInfo{ID: e.Name(), Created: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("files: listing blobs: %w", err)
	}
	return out, nil
}

// ListBlobs lists the committed blobs of a VolumeStore.
func (v *VolumeStore) ListBlobs(context.Context) ([]BlobInfo, error) {
	var out []BlobInfo
	err := v.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(k, val []byte) error {
			var r blobRecord
			if err := json.Unmarshal(val, &r); err != nil {
				return fmt.Errorf("files: corrupt blob record %s: %w", k, err)
			}
			out = append(out, BlobInfo{ID: string(k), Created: time.Unix(0, r.Created)})
			return nil
		})
	})
	return out, err
}

// CollectGarbage deletes blobs that no file or trash item refers to and that are older
// than minAge, returning how many it deleted. Such blobs are left behind only when the
// process dies between writing a blob and recording it (or between dropping a file and
// deleting its blob); minAge keeps it from taking the blob of an upload that is about to
// commit (an hour is safe). It needs a store that implements BlobLister.
func (s *Service) CollectGarbage(ctx context.Context, minAge time.Duration) (int, error) {
	lister, ok := s.store.(BlobLister)
	if !ok {
		return 0, fmt.Errorf("%w: the content store cannot list its blobs", ErrInvalid)
	}
	blobs, err := lister.ListBlobs(ctx)
	if err != nil {
		return 0, err
	}
	live := map[string]bool{}
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEachBucket(func(user []byte) error {
			ub := tx.Bucket(bucketUsers).Bucket(user)
			if nodes := ub.Bucket([]byte("nodes")); nodes != nil {
				if err := nodes.ForEach(func(_, v []byte) error {
					var n node
					if err := json.Unmarshal(v, &n); err != nil {
						return err
					}
					live[n.Content] = true
					return nil
				}); err != nil {
					return err
				}
			}
			if trash := ub.Bucket([]byte("trash")); trash != nil {
				return trash.ForEach(func(_, v []byte) error {
					var e trashEntry
					if err := json.Unmarshal(v, &e); err != nil {
						return err
					}
					for _, id := range e.contentIDs() {
						live[id] = true
					}
					return nil
				})
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("files: collecting live blobs: %w", err)
	}
	cutoff := s.now().Add(-minAge)
	n := 0
	for _, b := range blobs {
		if live[b.ID] || b.Created.After(cutoff) {
			continue
		}
		if err := s.store.Delete(ctx, b.ID); err != nil {
			return n, err
		}
		s.log.Info("deleted unreferenced blob", "id", b.ID, "created", b.Created)
		n++
	}
	return n, nil
}

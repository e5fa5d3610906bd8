package cluster

import "github.com/shadowless-dev/shadowless/storage/meta"

// Metadata is what the manager needs of the metadata store. *meta.Store (bbolt) is the
// embedded implementation; a store that must survive the loss of a machine (etcd) fits
// behind the same methods.
type Metadata interface {
	CreateVolume(name string, size, chunkSize int64) (meta.Volume, error)
	CreateSnapshot(volume, snapshot string) (meta.Volume, error)
	Volume(name string) (meta.Volume, error)
	VolumeByID(id uint64) (meta.Volume, error)
	Volumes() ([]meta.Volume, error)
	Resize(name string, size int64) (meta.Volume, error)
	DeleteVolume(name string) ([]uint64, error)
	DataKey(volume uint64) ([]byte, error)
	WrapBackupKey(key []byte) ([]byte, error)
	UnwrapBackupKey(wrapped []byte) ([]byte, error)

	UpsertNode(n meta.Node) error
	SetHealth(id string, healthy bool) error
	Nodes() ([]meta.Node, error)

	Placement(vol, idx uint64) (meta.Placement, bool, error)
	Placements(vol uint64) ([]meta.Placement, error)
	Place(vol, idx uint64) (meta.Placement, error)
	Replace(vol, idx uint64, failed []string, epoch uint64) (meta.Placement, error)

	SharedWith(vol, idx uint64) ([]uint64, error)
	Unshare(vol, idx, snap uint64) error
	SharedChunks(vol uint64) ([]uint64, error)
}

var _ Metadata = (*meta.Store)(nil)

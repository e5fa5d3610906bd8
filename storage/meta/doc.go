// Package meta is the metadata service's state: volumes (size, chunk size, snapshots),
// each volume's AES-256 data key wrapped by a master key (envelope encryption), the chunk
// servers (address, zone/rack/host failure-domain labels, health) and where every chunk's
// three replicas live, with an epoch that grows on every placement change so a replica of
// an older placement is refused. State lives in a bbolt file; Place is the pure placement
// function (spread over zones, then racks, then hosts, then by load).
//
// Snapshots are copy-on-write at chunk granularity: CreateSnapshot records, for every chunk
// the volume has placed, that the snapshot shares it (SharedWith); the volume copies such a
// chunk to the snapshot before it first changes it and then calls Unshare.
//
// Snapshot and key rule: a snapshot is encrypted with its volume's key and dies with it.
// Deleting a volume destroys its wrapped key, its snapshots and its placements, then
// compacts the bbolt file so the wrapped key is not left in a freed page. Data meant to
// outlive its volume must be backed up (backups carry their own key).
package meta

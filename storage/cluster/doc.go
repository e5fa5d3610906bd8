// Package cluster runs the replicated cloud disk: chunk servers (ChunkServer, one chunk.Store
// each, served over Connect, with chunk writes on a raw HTTP/1.1 data plane), the metadata
// service and volume manager (Manager, over a meta.Store) and the volumes themselves
// (Volume, a storage.BlockDevice).
//
// Every chunk of a volume lives on three chunk servers in distinct failure domains. A write
// goes to all replicas of the chunk's current placement and returns only when every one has
// it durably; a replica that fails is replaced (new placement, epoch + 1) and rebuilt from
// one that has the write before the write is acknowledged, or the write fails with
// ErrWriteFailed. Chunk servers refuse requests from an older epoch, and reads accept only a
// replica at the chunk's current version, so a replica that missed writes never serves.
// Encryption at rest happens once, in the Volume: each 4 KiB block is sealed with the
// volume's data key (AES-256-GCM, random nonce, its place as additional data) and the same
// sealed bytes go to every replica; chunk servers never hold a key. Reads check every
// block's CRC32C (chunk server) and GCM tag (manager), fall back to another replica and
// repair the bad one. Scrub compares digests of the sealed bytes across replicas and
// repairs the minority; a background
// loop re-places replicas of nodes that stopped sending heartbeats. Snapshots are
// copy-on-write per chunk and read-only.
//
// The Manager serves storagepb.MetaService (node registration and heartbeats) and storagepb.VolumeService (create, resize, snapshot, restore,
// backup, delete, status, scrub). StartLocal runs a whole cluster in one process, the
// embedded default behind `shadowless storage up`: the manager calls its chunk servers'
// handlers in-process (LocalConfig.Network sends the same requests over loopback TCP).
// The wire protocol is described in ../PROTOCOL.md; durability figures are in
// ../DURABILITY.md.
package cluster

// Package chunk keeps the chunks of a chunk server in log-structured, append-only segment
// files.
//
// Every change is a record: a 64-byte header (magic, type, chunk id, offset, length, version,
// epoch, sequence number, bytes per block, header CRC32C) followed, for data, by one frame
// per 4 KiB block: the block's stored bytes and a CRC32C over them. The store never looks
// inside those bytes (Options.UnitSize says how many there are per block): the cluster
// hands it blocks already sealed by the volume manager, which alone holds the keys, so a
// store never sees plaintext or a key.
//
// Write returns only after fsync; concurrent writers share fsyncs (group commit). On Linux
// the fsync is submitted through native AIO and awaited in the runtime's poller, so a
// writer waiting for the disk does not hold one of the process's scheduler slots (with
// three replicas' stores in one process on two cores it did, and the third replica's
// append waited for another's fsync); elsewhere, or where the kernel refuses, it is a plain
// fsync. Large appends bypass the page cache for their page-aligned middle (O_DIRECT where
// the file system supports it), which saves the kernel a copy of every megabyte; a caller
// in the same process that lays out a large Framed payload at its record's page phase
// (Store.FramePhase) has it written straight from its buffer, without a copy. Open
// replays the segments to rebuild the in-memory index; a torn tail (a record that never
// became durable) is truncated, a damaged record with valid records after it fails Open with
// a *CorruptionError. GC copies live frames verbatim into a new segment and
// deletes the old ones, so overwritten, trimmed and dropped bytes physically leave the disk;
// writers keep going during GC.
package chunk

// Package chunk keeps the chunks of a chunk server in log-structured, append-only segment
// files.
//
// Every change is a record: a 64-byte header (magic, type, chunk id, offset, length, version,
// epoch, sequence number, header CRC32C) followed, for data, by one frame per 4 KiB block:
// the block encrypted with AES-256-GCM, its tag, and a CRC32C over both (so scrub checks
// integrity without keys). Each volume's data key is turned into a per-store subkey with
// HKDF; the GCM nonce is the record's sequence number and the block's number, and sequence
// numbers are reserved on disk before use so no nonce ever repeats, across crashes too.
// Plaintext never reaches the disk, which is what makes destroying a volume's key a purge.
//
// Write returns only after fsync; concurrent writers share fsyncs (group commit). Large
// appends bypass the page cache for their page-aligned middle (O_DIRECT where the file
// system supports it), which saves the kernel a copy of every megabyte. Open
// replays the segments to rebuild the in-memory index; a torn tail (a record that never
// became durable) is truncated, a damaged record with valid records after it fails Open with
// a *CorruptionError. GC copies live blocks (ciphertext verbatim) into a new segment and
// deletes the old ones, so overwritten, trimmed and dropped bytes physically leave the disk;
// writers keep going during GC.
package chunk

// Package files is the file center: every user's own tree of directories and files in the
// cloud, served over a small JSON/REST API (HTTPHandler) and over WebDAV (WebDAVHandler,
// built on golang.org/x/net/webdav), with upload and download (HTTP range requests),
// create, rename, copy, move, delete to a trash with restore and purge, recent files, and
// a per-user quota that an administrator can raise (SetQuota).
//
// Rules that come from what went wrong elsewhere:
//
//   - The trash counts toward the quota, so restoring from it can never take a user over
//     their quota; a user whose quota was lowered below their usage cannot restore until
//     they make room. When an upload or copy needs space, the oldest trash items are
//     purged to make it (WithAutoPurgeTrash), so a full trash never blocks work.
//   - Permission is checked on every byte served: the Policy hook is asked at the start of
//     each upload and download, again when an upload commits, and before every read of a
//     download in progress, so a revocation stops a transfer already under way.
//   - Nothing is lost on a refused operation: an upload writes a new blob and switches
//     the file to it in one metadata transaction only at the end, so exceeding the quota,
//     a policy denial or a broken connection leaves the old contents in place; a move or
//     copy that replaces its target sends the target to the trash.
//   - Paths are always inside the user's tree: CleanPath refuses "..", ".", NUL and
//     control characters, backslashes, drive letters, invalid UTF-8 and overlong names,
//     and a leading "/" means the root of the user's tree.
//
// Metadata (tree, trash, recent files, quota and usage, WebDAV dead properties) lives in
// go.etcd.io/bbolt, one bucket per user. File contents live in a ContentStore of
// immutable blobs, an interface small enough (create a blob, open it, delete it) for any
// store: DirStore keeps blobs as files in a local directory; VolumeStore keeps them on a
// storage.BlockDevice — a replicated volume — as extents whose map lives in bbolt next to
// the tree, so files get the volume's three replicas, checksums and encryption. Blobs
// are never rewritten in place, which suits a log-structured volume. Give the file center
// a volume of its own: a volume exported over NBD to a virtual machine must not also hold
// a VolumeStore. A crash between writing a blob and recording it leaves an unreferenced
// blob; Service.CollectGarbage finds and deletes those (run it at start-up).
//
// Wiring, as `shadowless storage up --webdav ADDR` does it:
//
//	svc, err := files.Open(filepath.Join(dir, "files"), files.WithPolicy(policy))
//	auth := files.BasicAuth(files.Passwords(map[string]string{user: password}))
//	srv := &http.Server{Handler: svc.Handler(auth)} // REST at /api/v1/, WebDAV elsewhere
//	srv.Serve(listener)
//
// The REST API is specified in PROTOCOL.md next to this file.
package files

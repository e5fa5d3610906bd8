// Package audit is Shadowless's tamper-evident audit log: entries are appended as JSON lines,
// each hash-chained to the one before it (optionally with an HMAC key), and Verify finds any
// entry that was edited, removed, inserted or reordered. Entries export as CSV and JSON.
package audit

// Package web is the browser client of Shadowless streaming: one HTML page and one plain
// JavaScript file (no build step), embedded in the binary and served by asp.Server on "/".
// The page sends a WebRTC offer to /api/offer, shows the desktop video at the right aspect
// ratio, sends keyboard, mouse and wheel input while focused, shows the remote cursor
// shape, syncs the clipboard both ways, and reconnects with backoff after a network drop.
// The wire format is asp/PROTOCOL.md.
package web

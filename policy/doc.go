// Package policy decides what a session may do: clipboard, USB, file transfer, display,
// watermark, timers, network and peripherals. Policies from the organisation, group, user and
// desktop scopes are resolved once per session into an immutable decision that the hot path
// checks per event. It also holds the administrator roles and a tamper-evident audit log.
package policy

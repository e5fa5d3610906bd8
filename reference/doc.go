// Package reference holds the reference services that assemble the Shadowless libraries into
// the product: the shadowless command (reference/cmd/shadowless), its Connect services,
// persistence, metrics and the web user interface.
package reference

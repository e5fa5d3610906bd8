// Package capture reads the screen: an X11 source (MIT-SHM grabs, DAMAGE for changed regions,
// XFIXES for the cursor, RANDR for resizes) and a synthetic source for tests, both producing
// I420 frames through the Source interface.
package capture

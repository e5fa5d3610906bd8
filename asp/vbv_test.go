package asp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCapGate(t *testing.T) {
	const px = 1920 * 1080
	var g capGate
	// 1200 kbit/s at 15 fps: 10 kB a frame, frameBudget 2 → 20 kB.
	budget := 1200 * 1000 / 8 / 15 * frameBudget
	// Before any frame: a full-screen change at the first guess (78 kB) is at risk, a
	// cursor's worth of damage is not.
	assert.Equal(t, budget, g.cap(budget, 1, px))
	assert.Zero(t, g.cap(budget, 0.001, px))
	assert.Zero(t, g.cap(0, 1, px), "no budget, no cap")
	assert.Zero(t, g.cap(budget, 0, px), "no damage")
	// A fast link: the budget is above what the change costs.
	assert.Zero(t, g.cap(20000*1000/8/15*frameBudget, 1, px))
	// Cheap full-screen frames (a video at its rate): no trial encodes.
	for range 20 {
		g.frame(8000, 1, px)
	}
	assert.Zero(t, g.cap(budget, 1, px))
	// One expensive frame (a page of text, 40 kB for a tenth of the screen) raises the
	// estimate at once: a change of a third of the screen is at risk now.
	g.frame(40000, 0.1, px)
	assert.Equal(t, budget, g.cap(budget, 0.3, px))
	// Zero-sized (dropped) frames, frames without damage and small changes (a typed
	// character: 300 B for 200 pixels) do not move the estimate.
	before := g.bpp
	g.frame(0, 1, px)
	g.frame(1000, 0, px)
	g.frame(300, 200.0/px, px)
	assert.Equal(t, before, g.bpp)
}

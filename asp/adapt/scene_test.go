package adapt

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trace is a damage trace: the time and damaged screen fraction of each captured frame.
type trace []damageSample

// steady returns frames at fps changing fraction of the screen (±20% jitter) for d.
func steady(start time.Time, d time.Duration, fps float64, fraction float64, rng *rand.Rand) trace {
	var tr trace
	step := time.Duration(float64(time.Second) / fps)
	for at := start; at.Before(start.Add(d)); at = at.Add(step) {
		tr = append(tr, damageSample{at, fraction * (0.8 + 0.4*rng.Float64())})
	}
	return tr
}

// typing is a person typing in a document: bursts of a few keys, each damaging a glyph or
// two, with pauses between words.
func typing(start time.Time, d time.Duration, rng *rand.Rand) trace {
	var tr trace
	at := start
	for at.Before(start.Add(d)) {
		for range 2 + rng.IntN(6) {
			at = at.Add(time.Duration(60+rng.IntN(120)) * time.Millisecond)
			tr = append(tr, damageSample{at, 0.0004 + 0.0004*rng.Float64()})
		}
		at = at.Add(time.Duration(200+rng.IntN(600)) * time.Millisecond)
	}
	return tr
}

// replay feeds a trace to a classifier, ticking every 50 ms between frames as a server's
// loop would, and returns the mode at each 100 ms mark after start.
func replay(c *Classifier, tr trace, start, until time.Time) map[time.Duration]Mode {
	modes := map[time.Duration]Mode{}
	i := 0
	for now := start; !now.After(until); now = now.Add(50 * time.Millisecond) {
		for i < len(tr) && !tr[i].at.After(now) {
			c.Observe(tr[i].at, tr[i].fraction)
			i++
		}
		m := c.Update(now)
		if off := now.Sub(start); off%(100*time.Millisecond) == 0 {
			modes[off] = m
		}
	}
	return modes
}

func TestClassifierOnTraces(t *testing.T) {
	t0 := time.Unix(1_000, 0)
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	for _, tc := range []struct {
		name   string
		trace  func(*rand.Rand) trace
		until  time.Duration
		expect map[time.Duration]Mode // mode at these offsets
	}{
		{"typing stays office", func(r *rand.Rand) trace { return typing(t0, 10*time.Second, r) }, sec(10),
			map[time.Duration]Mode{sec(2): ModeOffice, sec(5): ModeOffice, sec(10): ModeOffice}},
		{"cursor blink stays office", func(r *rand.Rand) trace { return steady(t0, 10*time.Second, 2, 0.0001, r) }, sec(10),
			map[time.Duration]Mode{sec(9): ModeOffice}},
		{"dragging a window briefly stays office", func(r *rand.Rand) trace { return steady(t0, 600*time.Millisecond, 30, 0.15, r) }, sec(4),
			map[time.Duration]Mode{sec(0.5): ModeOffice, sec(1): ModeOffice, sec(3): ModeOffice}},
		{"video in a window becomes video", func(r *rand.Rand) trace { return steady(t0, 6*time.Second, 24, 640*360/(1920*1080.0), r) }, sec(6),
			map[time.Duration]Mode{sec(0.5): ModeOffice, sec(2.5): ModeVideo, sec(5.5): ModeVideo}},
		{"full-screen game becomes game", func(r *rand.Rand) trace { return steady(t0, 5*time.Second, 60, 0.95, r) }, sec(5),
			map[time.Duration]Mode{sec(0.5): ModeOffice, sec(2.5): ModeGame, sec(4.5): ModeGame}},
		{"scrolling then reading returns to office", func(r *rand.Rand) trace { return steady(t0, 3*time.Second, 30, 0.7, r) }, sec(8),
			map[time.Duration]Mode{sec(2.5): ModeVideo, sec(4): ModeVideo, sec(7): ModeOffice}},
		{"video with a paused second stays video", func(r *rand.Rand) trace {
			tr := steady(t0, 3*time.Second, 30, 0.5, r)
			return append(tr, steady(t0.Add(4*time.Second), 3*time.Second, 30, 0.5, r)...)
		}, sec(7), map[time.Duration]Mode{sec(2.5): ModeVideo, sec(3.8): ModeVideo, sec(6): ModeVideo}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(5) {
				rng := rand.New(rand.NewPCG(seed, 42))
				tr := tc.trace(rng)
				require.NotEmpty(t, tr)
				modes := replay(NewClassifier(SceneConfig{}), tr, t0, t0.Add(tc.until))
				for at, want := range tc.expect {
					assert.Equal(t, want, modes[at], "seed %d at %v", seed, at)
				}
			}
		})
	}
}

func TestClassifierDoesNotFlap(t *testing.T) {
	// Alternating half-second bursts of video and stillness: the mode changes at most twice.
	c := NewClassifier(SceneConfig{})
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(0, 0)
	var tr trace
	for i := range 10 {
		tr = append(tr, steady(t0.Add(time.Duration(i)*time.Second), 500*time.Millisecond, 30, 0.6, rng)...)
	}
	modes := replay(c, tr, t0, t0.Add(10*time.Second))
	changes := 0
	prev := ModeOffice
	for at := time.Duration(0); at <= 10*time.Second; at += 100 * time.Millisecond {
		if modes[at] != prev {
			changes++
			prev = modes[at]
		}
	}
	assert.LessOrEqual(t, changes, 2)
}

func TestRefinementOncePerStillPeriod(t *testing.T) {
	c := NewClassifier(SceneConfig{})
	t0 := time.Unix(0, 0)
	assert.False(t, c.RefinementDue(t0), "nothing was sent yet")
	c.Observe(t0, 0.001)
	assert.False(t, c.RefinementDue(t0.Add(100*time.Millisecond)), "not still long enough")
	assert.True(t, c.RefinementDue(t0.Add(400*time.Millisecond)))
	assert.False(t, c.RefinementDue(t0.Add(5*time.Second)), "an idle screen sends nothing more")
	c.Observe(t0.Add(6*time.Second), 0.001)
	assert.True(t, c.RefinementDue(t0.Add(7*time.Second)), "a new change earns a new refinement")

	// No refinement while video plays; one after it stops and the mode returns to office.
	for _, s := range steady(t0.Add(10*time.Second), 3*time.Second, 30, 0.5, rand.New(rand.NewPCG(3, 3))) {
		c.Observe(s.at, s.fraction)
	}
	require.Equal(t, ModeVideo, c.Mode())
	assert.False(t, c.RefinementDue(t0.Add(13500*time.Millisecond)))
	assert.True(t, c.RefinementDue(t0.Add(16*time.Second)))
	assert.Equal(t, ModeOffice, c.Mode())
}

func TestProfiles(t *testing.T) {
	office, video, game := ProfileFor(ModeOffice), ProfileFor(ModeVideo), ProfileFor(ModeGame)
	assert.True(t, office.Refine)
	assert.False(t, video.Refine)
	assert.Less(t, office.MinQ, video.MinQ, "office may go finer: text stays sharp")
	assert.Less(t, video.MinQ, game.MinQ, "game spends its bits on frames")
	for _, p := range []Profile{office, video, game} {
		assert.Equal(t, 63, p.MaxQ, "the rate control may always go coarse enough to hold the bitrate")
	}
	assert.Less(t, RefineQ[1], 63)
	assert.GreaterOrEqual(t, game.MaxFPS, video.MaxFPS)
	assert.Less(t, office.MaxFPS, video.MaxFPS)
	assert.Equal(t, "game", ModeGame.String())
}

func TestRefineAtOncePerStillPeriod(t *testing.T) {
	c := NewClassifier(SceneConfig{RefineAfter: 300 * time.Millisecond})
	_, ok := c.RefineAt()
	assert.False(t, ok, "no frame yet")
	t0 := time.Unix(100, 0)
	c.Observe(t0, 0.01)
	at, ok := c.RefineAt()
	require.True(t, ok)
	assert.Equal(t, t0.Add(300*time.Millisecond), at)
	assert.False(t, c.RefinementDue(at.Add(-time.Millisecond)))
	assert.True(t, c.RefinementDue(at))
	_, ok = c.RefineAt()
	assert.False(t, ok, "refined already")
}

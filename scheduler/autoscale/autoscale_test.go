package autoscale

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shadowless-dev/shadowless/scheduler"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)

func kinds(as []Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		if a.Kind == ScaleOut {
			out[i] = fmt.Sprintf("%s %d", a.Kind, a.Count)
		} else {
			out[i] = fmt.Sprintf("%s %s", a.Kind, a.Node)
		}
	}
	return out
}

func TestScaleOutKeepsStandby(t *testing.T) {
	p := Policy{StandbySlots: 10, SlotsPerNode: 8, MinNodes: 1, MaxNodes: 10}
	acts, err := Decide(p, Snapshot{Now: t0, Pending: 5, Nodes: []Node{
		{Name: "a", Slots: 8, Used: 7}, {Name: "b", Slots: 8, Used: 8},
	}})
	require.NoError(t, err)
	// free 1, need 15 → 14 more slots → 2 nodes
	assert.Equal(t, []string{"scale-out 2"}, kinds(acts))
	assert.Equal(t, "scale-out 2: 1 free slots, 15 needed (5 pending + 10 standby), 2 nodes", acts[0].String())

	// provisioning capacity counts: nothing more to do
	acts, err = Decide(p, Snapshot{Now: t0, Pending: 5, Nodes: []Node{
		{Name: "a", Slots: 8, Used: 7}, {Name: "b", Slots: 8, Used: 8},
		{Name: "c", State: Provisioning, Slots: 8}, {Name: "d", State: Provisioning, Slots: 8},
	}})
	require.NoError(t, err)
	assert.Empty(t, acts)

	// MaxNodes caps scale-out
	p.MaxNodes = 3
	acts, err = Decide(p, Snapshot{Now: t0, Pending: 50, Nodes: []Node{{Name: "a", Slots: 8, Used: 8}, {Name: "b", Slots: 8, Used: 8}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"scale-out 1"}, kinds(acts))

	// MinNodes is honoured even with no demand
	acts, err = Decide(Policy{SlotsPerNode: 4, MinNodes: 2}, Snapshot{Now: t0})
	require.NoError(t, err)
	assert.Equal(t, []string{"scale-out 2"}, kinds(acts))
}

func TestUndrainBeforeScaleOut(t *testing.T) {
	p := Policy{StandbySlots: 4, SlotsPerNode: 8}
	acts, err := Decide(p, Snapshot{Now: t0, Nodes: []Node{
		{Name: "a", Slots: 8, Used: 8},
		{Name: "b", State: Draining, Slots: 8, Used: 2},
		{Name: "c", State: Draining, Slots: 8, Used: 6},
	}})
	require.NoError(t, err)
	assert.Equal(t, []string{"undrain b"}, kinds(acts), "the draining node with the most room comes back")
}

func TestScaleInDrainsEmptiest(t *testing.T) {
	p := Policy{StandbySlots: 4, SlotsPerNode: 8, MinNodes: 1, MaxScaleInPerDecision: 2}
	acts, err := Decide(p, Snapshot{Now: t0, Nodes: []Node{
		{Name: "a", Slots: 8, Used: 6}, {Name: "b", Slots: 8, Used: 1},
		{Name: "c", Slots: 8, Used: 0}, {Name: "d", Slots: 8, Used: 3},
		{Name: "old", State: Draining, Slots: 8, Used: 0},
	}})
	require.NoError(t, err)
	// free 2+7+8+5 = 22, need 4: drain c (free 14), then b (free 7) — two per decision
	assert.Equal(t, []string{"remove old", "drain c", "drain b"}, kinds(acts))
	assert.Equal(t, "drain c: 0 sessions; 14 free slots without it, 4 needed", acts[1].String())

	// never below what is needed
	acts, err = Decide(Policy{StandbySlots: 10, SlotsPerNode: 8}, Snapshot{Now: t0, Nodes: []Node{
		{Name: "a", Slots: 8, Used: 2}, {Name: "b", Slots: 8, Used: 2},
	}})
	require.NoError(t, err)
	assert.Empty(t, acts)
	// nor below MinNodes
	acts, err = Decide(Policy{SlotsPerNode: 8, MinNodes: 2}, Snapshot{Now: t0, Nodes: []Node{
		{Name: "a", Slots: 8}, {Name: "b", Slots: 8},
	}})
	require.NoError(t, err)
	assert.Empty(t, acts)
}

func TestSelfHeal(t *testing.T) {
	p := Policy{SlotsPerNode: 8, UnhealthyGrace: 5 * time.Minute}
	acts, err := Decide(p, Snapshot{Now: t0, Nodes: []Node{
		{Name: "a", Slots: 8, Used: 4},
		{Name: "sick", State: Unhealthy, Slots: 8, Since: t0.Add(-6 * time.Minute)},
		{Name: "flaky", State: Unhealthy, Slots: 8, Since: t0.Add(-time.Minute)},
	}})
	require.NoError(t, err)
	assert.Equal(t, []string{"replace sick"}, kinds(acts))
	assert.Equal(t, "replace sick: unhealthy for 6m0s (grace 5m0s)", acts[0].String())
}

func TestPolicyValidation(t *testing.T) {
	for _, p := range []Policy{{}, {SlotsPerNode: 1, StandbySlots: -1}, {SlotsPerNode: 1, MinNodes: 3, MaxNodes: 2}} {
		_, err := Decide(p, Snapshot{})
		assert.ErrorIs(t, err, ErrPolicy)
	}
}

// TestPropertyDecisions checks over random fleets that a decision never leaves the fleet
// short when it could add capacity, never drains below the need, and respects the bounds.
func TestPropertyDecisions(t *testing.T) {
	for seed := uint64(1); seed <= 500; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := Policy{StandbySlots: rng.IntN(20), SlotsPerNode: 1 + rng.IntN(16), MinNodes: rng.IntN(3),
			UnhealthyGrace: time.Duration(rng.IntN(10)) * time.Minute, MaxScaleInPerDecision: rng.IntN(4)}
		if rng.IntN(2) == 0 {
			p.MaxNodes = p.MinNodes + rng.IntN(20)
		}
		s := Snapshot{Now: t0, Pending: rng.IntN(30)}
		for i := range rng.IntN(15) {
			n := Node{Name: fmt.Sprintf("n%02d", i), State: State(rng.IntN(4)), Slots: 1 + rng.IntN(16),
				Since: t0.Add(-time.Duration(rng.IntN(15)) * time.Minute)}
			n.Used = rng.IntN(n.Slots + 1)
			s.Nodes = append(s.Nodes, n)
		}
		acts, err := Decide(p, s)
		require.NoError(t, err)
		again, _ := Decide(p, s)
		require.Equal(t, acts, again, "deterministic")
		// apply the decision to the snapshot
		byName := map[string]*Node{}
		for i := range s.Nodes {
			byName[s.Nodes[i].Name] = &s.Nodes[i]
		}
		added := 0
		for _, a := range acts {
			switch a.Kind {
			case ScaleOut:
				require.Positive(t, a.Count)
				added += a.Count
			case Undrain:
				require.Equal(t, Draining, byName[a.Node].State)
				byName[a.Node].State = Ready
			case Drain:
				require.Equal(t, Ready, byName[a.Node].State)
				byName[a.Node].State = Draining
			case Remove:
				require.Equal(t, Draining, byName[a.Node].State)
				require.Zero(t, byName[a.Node].Used)
				byName[a.Node].State = -1
			case Replace:
				require.Equal(t, Unhealthy, byName[a.Node].State)
				require.GreaterOrEqual(t, t0.Sub(byName[a.Node].Since), p.UnhealthyGrace)
				byName[a.Node].State = Provisioning
				byName[a.Node].Slots, byName[a.Node].Used = p.SlotsPerNode, 0
			}
		}
		free, active := added*p.SlotsPerNode, added
		for _, n := range s.Nodes {
			switch n.State {
			case Ready:
				free += n.Slots - n.Used
				active++
			case Provisioning:
				free += n.Slots
				active++
			case Unhealthy:
				active++
			}
		}
		need := s.Pending + p.StandbySlots
		atMax := p.MaxNodes > 0 && active >= p.MaxNodes
		if !atMax {
			require.GreaterOrEqual(t, free, need, "seed %d: short of capacity after %v", seed, kinds(acts))
			require.GreaterOrEqual(t, active, p.MinNodes, "seed %d", seed)
		}
		if p.MaxNodes > 0 && added > 0 {
			require.LessOrEqual(t, active, p.MaxNodes, "seed %d", seed)
		}
	}
}

type recordExec struct {
	done []Action
	fail string
}

func (r *recordExec) Execute(_ context.Context, a Action) error {
	if a.Node == r.fail {
		return errors.New("cloud says no")
	}
	r.done = append(r.done, a)
	return nil
}

func TestApply(t *testing.T) {
	ex := &recordExec{fail: "b"}
	err := Apply(context.Background(), ex, []Action{{Kind: Drain, Node: "a"}, {Kind: Drain, Node: "b"}, {Kind: Remove, Node: "c"}})
	assert.ErrorContains(t, err, "drain b: : cloud says no")
	assert.Len(t, ex.done, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Apply(ctx, ex, []Action{{Kind: Drain, Node: "x"}}), context.Canceled)
}

func TestFromScheduler(t *testing.T) {
	slot := scheduler.Resources{scheduler.CPU: 2000, scheduler.Memory: 4 << 30}
	total, used := SlotsOf(scheduler.Resources{scheduler.CPU: 16000, scheduler.Memory: 24 << 30},
		scheduler.Resources{scheduler.CPU: 3000, scheduler.Memory: 4 << 30}, slot)
	assert.Equal(t, 6, total) // memory bound: 24/4
	assert.Equal(t, 1, used)  // 5 slots of memory still free
	s := FromScheduler(t0, []scheduler.NodeStatus{
		{Node: scheduler.Node{Name: "a", Capacity: scheduler.Resources{scheduler.CPU: 8000, scheduler.Memory: 16 << 30}}},
		{Node: scheduler.Node{Name: "b", Draining: true}},
		{Node: scheduler.Node{Name: "c", Unhealthy: true}},
		{Node: scheduler.Node{Name: "d", Unschedulable: true}},
	}, slot, 3, func(string) time.Time { return t0 })
	require.Len(t, s.Nodes, 3)
	assert.Equal(t, Node{Name: "a", State: Ready, Slots: 4, Since: t0}, s.Nodes[0])
	assert.Equal(t, Draining, s.Nodes[1].State)
	assert.Equal(t, Unhealthy, s.Nodes[2].State)
	assert.Equal(t, 3, s.Pending)
}

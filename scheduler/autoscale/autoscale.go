package autoscale

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/shadowless-dev/shadowless/scheduler"
)

// State is a node's state as the autoscaler sees it.
type State int

// Node states.
const (
	// Ready: in service.
	Ready State = iota
	// Provisioning: asked for, not yet in service; its slots count as coming capacity.
	Provisioning
	// Draining: takes no new sessions; removed once empty.
	Draining
	// Unhealthy: failed health checks; replaced after Policy.UnhealthyGrace.
	Unhealthy
)

var stateNames = []string{"ready", "provisioning", "draining", "unhealthy"}

// String returns the state's name.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("state(%d)", int(s))
	}
	return stateNames[s]
}

// Node is one host in a snapshot.
type Node struct {
	Name  string
	State State
	// Slots is how many standard sessions the node can hold; Used how many it holds.
	Slots, Used int
	// Since is when the node entered its current state.
	Since time.Time
}

// Snapshot is the fleet at one moment.
type Snapshot struct {
	Now   time.Time
	Nodes []Node
	// Pending is the number of sessions waiting for capacity.
	Pending int
}

// Policy says how big the fleet should be.
type Policy struct {
	// StandbySlots is how many free session slots to keep ready beyond pending demand.
	StandbySlots int
	// SlotsPerNode is how many sessions a newly provisioned node holds (≥ 1).
	SlotsPerNode int
	// MinNodes and MaxNodes bound the fleet (nodes not draining); MaxNodes 0 means no limit.
	MinNodes, MaxNodes int
	// UnhealthyGrace is how long a node may stay unhealthy before it is replaced.
	UnhealthyGrace time.Duration
	// MaxScaleInPerDecision limits how many nodes one decision drains (default 1), so the
	// fleet shrinks gradually.
	MaxScaleInPerDecision int
}

// Kind is what an action does.
type Kind int

// Action kinds.
const (
	// ScaleOut provisions Count new nodes.
	ScaleOut Kind = iota
	// Undrain returns a draining node to service (cheaper than a new node).
	Undrain
	// Drain stops new sessions on Node so it empties for removal.
	Drain
	// Remove deletes the drained, empty Node.
	Remove
	// Replace deletes the unhealthy Node and provisions a new one in its place.
	Replace
)

var kindNames = []string{"scale-out", "undrain", "drain", "remove", "replace"}

// String returns the kind's name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Action is one step for the Executor, with the reason in words.
type Action struct {
	Kind   Kind
	Node   string
	Count  int
	Reason string
}

// String renders e.g. "drain h3: 40 free slots, 12 needed".
func (a Action) String() string {
	if a.Kind == ScaleOut {
		return fmt.Sprintf("%s %d: %s", a.Kind, a.Count, a.Reason)
	}
	return fmt.Sprintf("%s %s: %s", a.Kind, a.Node, a.Reason)
}

// ErrPolicy is wrapped by policy validation errors.
var ErrPolicy = errors.New("invalid autoscale policy")

// Validate checks the policy.
func (p Policy) Validate() error {
	switch {
	case p.SlotsPerNode < 1:
		return fmt.Errorf("%w: SlotsPerNode %d, want ≥ 1", ErrPolicy, p.SlotsPerNode)
	case p.StandbySlots < 0 || p.MinNodes < 0 || p.MaxNodes < 0 || p.UnhealthyGrace < 0 || p.MaxScaleInPerDecision < 0:
		return fmt.Errorf("%w: negative setting", ErrPolicy)
	case p.MaxNodes > 0 && p.MaxNodes < p.MinNodes:
		return fmt.Errorf("%w: MaxNodes %d below MinNodes %d", ErrPolicy, p.MaxNodes, p.MinNodes)
	}
	return nil
}

// Decide computes the actions that bring the fleet in the snapshot to the policy. It is pure:
// the same inputs give the same actions, in a deterministic order (replacements, removals,
// undrains, scale-out, drains). It does not scale in while capacity is being provisioned, so
// a scale-out is not undone before it lands.
func Decide(p Policy, s Snapshot) ([]Action, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	nodes := append([]Node(nil), s.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	var out []Action
	free, active := 0, 0
	coming := false // capacity being provisioned: do not shrink until it has landed
	var draining, ready []Node
	for _, n := range nodes {
		switch n.State {
		case Ready:
			free += max(0, n.Slots-n.Used)
			active++
			ready = append(ready, n)
		case Provisioning:
			free += n.Slots
			active++
			coming = true
		case Unhealthy:
			active++
			if age := s.Now.Sub(n.Since); age >= p.UnhealthyGrace {
				out = append(out, Action{Kind: Replace, Node: n.Name,
					Reason: fmt.Sprintf("unhealthy for %v (grace %v)", age.Round(time.Second), p.UnhealthyGrace)})
				free += p.SlotsPerNode // the replacement's capacity is on its way
				coming = true
			}
		case Draining:
			if n.Used == 0 {
				out = append(out, Action{Kind: Remove, Node: n.Name, Reason: "drained and empty"})
			} else {
				draining = append(draining, n)
			}
		}
	}
	need := s.Pending + p.StandbySlots
	if free < need || active < p.MinNodes {
		// undrain first: those nodes are already running
		sort.SliceStable(draining, func(i, j int) bool {
			return draining[i].Slots-draining[i].Used > draining[j].Slots-draining[j].Used
		})
		for _, n := range draining {
			if free >= need && active >= p.MinNodes {
				break
			}
			if p.MaxNodes > 0 && active >= p.MaxNodes {
				break
			}
			out = append(out, Action{Kind: Undrain, Node: n.Name,
				Reason: fmt.Sprintf("%d free slots, %d needed (%d pending + %d standby)", free, need, s.Pending, p.StandbySlots)})
			free += max(0, n.Slots-n.Used)
			active++
		}
		count := 0
		if free < need {
			count = (need - free + p.SlotsPerNode - 1) / p.SlotsPerNode
		}
		count = max(count, p.MinNodes-active)
		if p.MaxNodes > 0 {
			count = min(count, p.MaxNodes-active)
		}
		if count > 0 {
			out = append(out, Action{Kind: ScaleOut, Count: count,
				Reason: fmt.Sprintf("%d free slots, %d needed (%d pending + %d standby), %d nodes", free, need, s.Pending, p.StandbySlots, active)})
		}
		return out, nil
	}
	if coming {
		return out, nil
	}
	// scale in: drain the emptiest ready nodes while what remains still covers the need
	limit := p.MaxScaleInPerDecision
	if limit == 0 {
		limit = 1
	}
	sort.SliceStable(ready, func(i, j int) bool { return ready[i].Used < ready[j].Used })
	drained := 0
	for _, n := range ready {
		if drained == limit || active-1 < p.MinNodes {
			break
		}
		left := free - max(0, n.Slots-n.Used)
		if left < need {
			continue
		}
		out = append(out, Action{Kind: Drain, Node: n.Name,
			Reason: fmt.Sprintf("%d sessions; %d free slots without it, %d needed", n.Used, left, need)})
		free = left
		active--
		drained++
	}
	return out, nil
}

// Executor carries out actions.
type Executor interface {
	Execute(ctx context.Context, a Action) error
}

// Apply sends the actions to the executor in order. It goes on after a failed action (the
// others are independent) and returns the failures joined.
func Apply(ctx context.Context, ex Executor, actions []Action) error {
	var errs []error
	for _, a := range actions {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := ex.Execute(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("autoscale: %s: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

// SlotsOf converts a scheduler node's resources into standard session slots: how many
// sessions of size slot the node holds in total, and how many of them are in use (total
// minus what still fits in the free resources).
func SlotsOf(capacity, allocated, slot scheduler.Resources) (total, used int) {
	total, free := -1, -1
	for r := range slot {
		if slot[r] <= 0 {
			continue
		}
		t := int(capacity[r] / slot[r])
		f := int(max(0, capacity[r]-allocated[r]) / slot[r])
		if total < 0 || t < total {
			total = t
		}
		if free < 0 || f < free {
			free = f
		}
	}
	if total < 0 {
		return 0, 0
	}
	return total, max(0, total-free)
}

// FromScheduler builds a snapshot from the scheduler's node list; since says when each node
// entered its state (for the unhealthy grace), and pending is the queued demand. Cordoned
// nodes that are neither draining nor unhealthy are left out: an operator holds them.
func FromScheduler(now time.Time, nodes []scheduler.NodeStatus, slot scheduler.Resources, pending int, since func(name string) time.Time) Snapshot {
	s := Snapshot{Now: now, Pending: pending}
	for _, ns := range nodes {
		if ns.Node.Unschedulable && !ns.Node.Draining && !ns.Node.Unhealthy {
			continue // cordoned by an operator: not the autoscaler's to resize or remove
		}
		n := Node{Name: ns.Node.Name, State: Ready}
		n.Slots, n.Used = SlotsOf(ns.Node.Capacity, ns.Allocated, slot)
		switch {
		case ns.Node.Unhealthy:
			n.State = Unhealthy
		case ns.Node.Draining:
			n.State = Draining
		}
		if since != nil {
			n.Since = since(n.Name)
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s
}

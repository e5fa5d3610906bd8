package autoscale_test

import (
	"fmt"
	"time"

	"github.com/shadowless-dev/shadowless/scheduler/autoscale"
)

// Decide what a small fleet needs: one node has been unhealthy past the grace period, and the
// morning rush has 20 sessions waiting.
func ExampleDecide() {
	now := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	policy := autoscale.Policy{StandbySlots: 8, SlotsPerNode: 16, MinNodes: 2, MaxNodes: 20, UnhealthyGrace: 5 * time.Minute}
	actions, err := autoscale.Decide(policy, autoscale.Snapshot{Now: now, Pending: 20, Nodes: []autoscale.Node{
		{Name: "h1", State: autoscale.Ready, Slots: 16, Used: 15},
		{Name: "h2", State: autoscale.Ready, Slots: 16, Used: 16},
		{Name: "h3", State: autoscale.Unhealthy, Slots: 16, Since: now.Add(-7 * time.Minute)},
	}})
	if err != nil {
		panic(err)
	}
	for _, a := range actions {
		fmt.Println(a)
	}

	// Evening: the fleet is mostly idle; drain the emptiest node.
	actions, _ = autoscale.Decide(policy, autoscale.Snapshot{Now: now.Add(10 * time.Hour), Nodes: []autoscale.Node{
		{Name: "h1", State: autoscale.Ready, Slots: 16, Used: 3},
		{Name: "h2", State: autoscale.Ready, Slots: 16, Used: 1},
		{Name: "h4", State: autoscale.Ready, Slots: 16, Used: 0},
	}})
	for _, a := range actions {
		fmt.Println(a)
	}
	// Output:
	// replace h3: unhealthy for 7m0s (grace 5m0s)
	// scale-out 1: 17 free slots, 28 needed (20 pending + 8 standby), 3 nodes
	// drain h4: 0 sessions; 28 free slots without it, 8 needed
}

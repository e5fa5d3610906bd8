package broker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shadowless-dev/shadowless/scheduler/broker"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

type actions struct{}

func (actions) ClearUserData(_ context.Context, vm string, users []string) error {
	fmt.Printf("clear %v's data on %s\n", users, vm)
	return nil
}

func (actions) Restart(_ context.Context, vm string, a broker.Maintenance) error {
	fmt.Printf("%s %s\n", a, vm)
	return nil
}

type printer struct{}

func (printer) Notify(e broker.Event) {
	fmt.Printf("event: %s %s (from %q to %q)\n", e.Kind, e.User, e.From, e.VM)
}

// A shared group: least-loaded placement, reconnect affinity, a clear answer when the group
// is full, and a forced reset that moves users off the VM and clears it before anyone else
// gets it.
func ExampleBroker_Connect() {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	b := broker.New(clk, actions{}, broker.WithNotifier(printer{}))
	_ = b.AddGroup(broker.GroupConfig{Name: "call-centre", Mode: broker.Shared, MaxSessions: 2, DisconnectTimeout: 10 * time.Minute})
	_ = b.AddVM("call-centre", "vm-a")
	_ = b.AddVM("call-centre", "vm-b")

	for _, u := range []string{"ann", "bob", "cid", "dan"} {
		a, _ := b.Connect(ctx, "call-centre", u)
		fmt.Printf("%s → %s\n", u, a.VM)
	}
	_ = b.Disconnect("call-centre", "ann")
	clk.now = clk.now.Add(5 * time.Minute)
	a, _ := b.Connect(ctx, "call-centre", "ann")
	fmt.Printf("ann reconnects → %s (reconnected: %v)\n", a.VM, a.Reconnected)

	_, err := b.Connect(ctx, "call-centre", "eve")
	var nv *broker.NoVMError
	if errors.As(err, &nv) {
		fmt.Println(err)
	}
	_ = b.AddVM("call-centre", "vm-c") // eve, queued, gets it

	_ = b.Drain(ctx, "vm-a", broker.Reset, true)
	_ = b.MaintenanceDone("vm-a") // back from the reset; cid, queued, gets it
	// Output:
	// ann → vm-a
	// bob → vm-b
	// cid → vm-a
	// dan → vm-b
	// ann reconnects → vm-a (reconnected: true)
	// group "call-centre": no VM available for eve: all 2 available VMs are full; queued at position 1
	// event: assigned eve (from "" to "vm-c")
	// event: reassigned ann (from "vm-a" to "vm-c")
	// event: queued cid (from "vm-a" to "")
	// clear [ann cid]'s data on vm-a
	// reset vm-a
	// event: assigned cid (from "" to "vm-a")
}

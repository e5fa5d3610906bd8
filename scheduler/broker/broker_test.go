package broker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeActions records calls; b, when set, lets it check the VM's state during the call.
type fakeActions struct {
	mu        sync.Mutex
	calls     []string
	failClear error
	b         *Broker
	states    []VMState
}

func (f *fakeActions) record(s string, vm string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
	if f.b != nil {
		st := vmState(f.b, vm)
		f.mu.Lock()
		f.states = append(f.states, st)
		f.mu.Unlock()
	}
}

func vmState(b *Broker, name string) VMState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.vms[name].state
}

func (f *fakeActions) ClearUserData(_ context.Context, vm string, users []string) error {
	f.record(fmt.Sprintf("clear %s %v", vm, users), vm)
	return f.failClear
}

func (f *fakeActions) Restart(_ context.Context, vm string, a Maintenance) error {
	f.record(fmt.Sprintf("%s %s", a, vm), vm)
	return nil
}

type events struct {
	mu sync.Mutex
	ev []Event
}

func (e *events) Notify(ev Event) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
}

func (e *events) take() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.ev
	e.ev = nil
	return out
}

func setup(t *testing.T, cfg GroupConfig, vms ...string) (*Broker, *fakeClock, *fakeActions, *events) {
	t.Helper()
	clk, act, ev := newClock(), &fakeActions{}, &events{}
	b := New(clk, act, WithNotifier(ev))
	act.b = b
	require.NoError(t, b.AddGroup(cfg))
	for _, v := range vms {
		require.NoError(t, b.AddVM(cfg.Name, v))
	}
	return b, clk, act, ev
}

func sessionsOn(t *testing.T, b *Broker, group, vm string) []string {
	t.Helper()
	st, err := b.Status(group)
	require.NoError(t, err)
	for _, v := range st.VMs {
		if v.Name == vm {
			var out []string
			for _, s := range v.Sessions {
				out = append(out, s.User)
			}
			return out
		}
	}
	t.Fatalf("no VM %s", vm)
	return nil
}

func TestDedicated(t *testing.T) {
	ctx := context.Background()
	b, _, act, ev := setup(t, GroupConfig{Name: "eng", Mode: Dedicated, DisconnectTimeout: time.Minute}, "vm1", "vm2")
	a, err := b.Connect(ctx, "eng", "alice")
	require.NoError(t, err)
	assert.Equal(t, "vm1", a.VM)
	a2, err := b.Connect(ctx, "eng", "bob")
	require.NoError(t, err)
	assert.Equal(t, "vm2", a2.VM)

	// logout keeps the binding: alice gets vm1 again, even after a long time
	require.NoError(t, b.Logout(ctx, "eng", "alice"))
	a, err = b.Connect(ctx, "eng", "alice")
	require.NoError(t, err)
	assert.Equal(t, "vm1", a.VM)
	assert.False(t, a.Reconnected)
	require.NoError(t, b.Disconnect("eng", "alice"))
	a, err = b.Connect(ctx, "eng", "alice")
	require.NoError(t, err)
	assert.True(t, a.Reconnected)

	// carol finds every VM bound
	_, err = b.Connect(ctx, "eng", "carol")
	var nv *NoVMError
	require.ErrorAs(t, err, &nv)
	assert.ErrorIs(t, err, ErrNoVM)
	assert.Equal(t, AllFull, nv.Reason)
	assert.Equal(t, 1, nv.QueuePosition)
	assert.Equal(t, `group "eng": no VM available for carol: all 2 available VMs are full; queued at position 1`, err.Error())

	// unassigning bob clears his data, then carol gets vm2
	require.NoError(t, b.Unassign(ctx, "eng", "bob"))
	assert.Equal(t, []string{"clear vm2 [bob]"}, act.calls)
	assert.Equal(t, []VMState{Cleaning}, act.states)
	assert.Equal(t, []Event{{Kind: Assigned, Group: "eng", User: "carol", VM: "vm2"}}, ev.take())
	a, err = b.Connect(ctx, "eng", "carol")
	require.NoError(t, err)
	assert.Equal(t, "vm2", a.VM)
	assert.ErrorIs(t, b.Unassign(ctx, "eng", "bob"), ErrNoSession)

	// alice's own VM restarting: she is told so, and gets it back afterwards
	require.NoError(t, b.Drain(ctx, "vm1", Reboot, true))
	_, err = b.Connect(ctx, "eng", "alice")
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, OwnVMUnavailable, nv.Reason)
	assert.Contains(t, err.Error(), "the user's dedicated VM vm1 is restarting")
	assert.ErrorIs(t, b.Unassign(ctx, "eng", "alice"), ErrInvalid, "not while her VM restarts")
	require.NoError(t, b.MaintenanceDone("vm1"))
	a, err = b.Connect(ctx, "eng", "alice")
	require.NoError(t, err)
	assert.Equal(t, "vm1", a.VM)
	assert.NotContains(t, act.calls, "clear vm1 [alice]", "a dedicated VM keeps its owner's data across a reboot")
}

func TestSharedLeastLoadedAndFull(t *testing.T) {
	ctx := context.Background()
	b, _, _, _ := setup(t, GroupConfig{Name: "call", Mode: Shared, MaxSessions: 2, DisconnectTimeout: time.Minute}, "a", "b")
	got := map[string]int{}
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		a, err := b.Connect(ctx, "call", u)
		require.NoError(t, err)
		got[a.VM]++
	}
	assert.Equal(t, map[string]int{"a": 2, "b": 2}, got)
	_, err := b.Connect(ctx, "call", "u5")
	var nv *NoVMError
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, AllFull, nv.Reason)
	// a logout frees a slot: u5 (queued) gets it
	require.NoError(t, b.Logout(ctx, "call", "u1"))
	a, err := b.Connect(ctx, "call", "u5")
	require.NoError(t, err)
	assert.False(t, a.Reconnected)
	assert.Len(t, sessionsOn(t, b, "call", a.VM), 2)
}

func TestReconnectAffinity(t *testing.T) {
	ctx := context.Background()
	b, clk, _, ev := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 10, DisconnectTimeout: 5 * time.Minute}, "a", "b")
	a, err := b.Connect(ctx, "g", "alice")
	require.NoError(t, err)
	first := a.VM
	require.NoError(t, b.Disconnect("g", "alice"))
	// others join meanwhile; alice's VM becomes the busier one
	for i := range 3 {
		_, err := b.Connect(ctx, "g", fmt.Sprintf("x%d", i))
		require.NoError(t, err)
	}
	clk.Advance(4 * time.Minute)
	a, err = b.Connect(ctx, "g", "alice")
	require.NoError(t, err)
	assert.Equal(t, first, a.VM)
	assert.True(t, a.Reconnected)

	// after the timeout the slot is gone
	require.NoError(t, b.Disconnect("g", "alice"))
	clk.Advance(5 * time.Minute)
	require.NoError(t, b.Tick(ctx))
	assert.NotContains(t, sessionsOn(t, b, "g", first), "alice")
	assert.Contains(t, ev.take(), Event{Kind: Expired, Group: "g", User: "alice", From: first})
	a, err = b.Connect(ctx, "g", "alice")
	require.NoError(t, err)
	assert.False(t, a.Reconnected)

	// zero timeout releases at disconnect
	b2, _, _, _ := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 1}, "a")
	_, err = b2.Connect(ctx, "g", "u")
	require.NoError(t, err)
	require.NoError(t, b2.Disconnect("g", "u"))
	_, err = b2.Connect(ctx, "g", "v")
	require.NoError(t, err)
	assert.ErrorIs(t, b2.Disconnect("g", "nobody"), ErrNoSession)
}

func TestAuthorizerRevokes(t *testing.T) {
	ctx := context.Background()
	allowed := map[string]bool{"alice": true}
	var mu sync.Mutex
	b := New(newClock(), &fakeActions{}, WithAuthorizer(func(_, u string) bool {
		mu.Lock()
		defer mu.Unlock()
		return allowed[u]
	}))
	require.NoError(t, b.AddGroup(GroupConfig{Name: "g", Mode: Shared, MaxSessions: 1, DisconnectTimeout: time.Hour}))
	require.NoError(t, b.AddVM("g", "a"))
	_, err := b.Connect(ctx, "g", "alice")
	require.NoError(t, err)
	require.NoError(t, b.Disconnect("g", "alice"))
	_, err = b.Connect(ctx, "g", "bob")
	assert.ErrorIs(t, err, ErrNotAuthorized)
	mu.Lock()
	allowed["alice"] = false
	allowed["bob"] = true
	mu.Unlock()
	_, err = b.Connect(ctx, "g", "alice")
	assert.ErrorIs(t, err, ErrNotAuthorized)
	a, err := b.Connect(ctx, "g", "bob")
	require.NoError(t, err, "alice's held slot was released when her access was revoked")
	assert.Equal(t, "a", a.VM)
}

func TestForcedMaintenanceReassignsAndClears(t *testing.T) {
	ctx := context.Background()
	b, _, act, ev := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 3, DisconnectTimeout: time.Minute}, "a", "b")
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		_, err := b.Connect(ctx, "g", u)
		require.NoError(t, err)
	}
	onA := sessionsOn(t, b, "g", "a")
	require.Len(t, onA, 2)
	require.NoError(t, b.Logout(ctx, "g", onA[0])) // a previous user who already left
	require.NoError(t, b.Drain(ctx, "a", Reset, true))
	// the one still on a moved to b; b had room for one more only
	assert.Equal(t, []Event{{Kind: Reassigned, Group: "g", User: onA[1], VM: "b", From: "a"}}, ev.take())
	assert.Equal(t, []string{fmt.Sprintf("clear a %v", onA), "reset a"}, act.calls)
	assert.Equal(t, []VMState{Cleaning, Restarting}, act.states)
	a, err := b.Connect(ctx, "g", onA[1])
	require.NoError(t, err)
	assert.Equal(t, "b", a.VM)
	assert.False(t, a.Reconnected)

	// a new user cannot get a (restarting) and b is full
	_, err = b.Connect(ctx, "g", "u9")
	var nv *NoVMError
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, Mixed, nv.Reason)
	assert.Equal(t, `group "g": no VM available for u9: 0/2 VMs available: 1 full, 1 in maintenance; queued at position 1`, err.Error())
	require.NoError(t, b.MaintenanceDone("a"))
	assert.Equal(t, []Event{{Kind: Assigned, Group: "g", User: "u9", VM: "a"}}, ev.take())
	assert.ErrorIs(t, b.MaintenanceDone("a"), ErrInvalid)
}

func TestNaturalAndScheduledMaintenance(t *testing.T) {
	ctx := context.Background()
	b, clk, act, ev := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 5, DisconnectTimeout: time.Minute}, "a", "b")
	_, err := b.Connect(ctx, "g", "u1") // on a
	require.NoError(t, err)
	require.NoError(t, b.Drain(ctx, "a", Reboot, false))
	a, err := b.Connect(ctx, "g", "u2")
	require.NoError(t, err)
	assert.Equal(t, "b", a.VM, "a draining VM takes no new users")
	a, err = b.Connect(ctx, "g", "u1")
	require.NoError(t, err)
	assert.Equal(t, "a", a.VM, "but keeps the ones it has")
	require.NoError(t, b.Tick(ctx))
	assert.Empty(t, act.calls)
	require.NoError(t, b.Logout(ctx, "g", "u1"))
	require.NoError(t, b.Tick(ctx))
	assert.Equal(t, []string{"clear a [u1]", "reboot a"}, act.calls)
	require.NoError(t, b.MaintenanceDone("a"))

	// scheduled: drain from 22:00, force at 22:30
	act.calls = nil
	ev.take()
	at := clk.Now().Add(time.Hour)
	require.NoError(t, b.ScheduleMaintenance("b", Reset, at, 30*time.Minute))
	require.NoError(t, b.Tick(ctx))
	st, _ := b.Status("g")
	assert.Equal(t, Available, st.VMs[1].State)
	assert.True(t, st.VMs[1].MaintenancePending)
	clk.Advance(time.Hour)
	require.NoError(t, b.Tick(ctx))
	st, _ = b.Status("g")
	assert.Equal(t, Draining, st.VMs[1].State)
	clk.Advance(30 * time.Minute)
	require.NoError(t, b.Tick(ctx))
	assert.Equal(t, []string{"clear b [u2]", "reset b"}, act.calls)
	assert.Equal(t, []Event{{Kind: Reassigned, Group: "g", User: "u2", VM: "a", From: "b"}}, ev.take())
}

func TestNoVMReasons(t *testing.T) {
	ctx := context.Background()
	b, _, act, _ := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 1})
	_, err := b.Connect(ctx, "g", "u")
	var nv *NoVMError
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, NoVMs, nv.Reason)
	require.NoError(t, b.AddVM("g", "a"))
	require.NoError(t, b.AddVM("g", "b"))
	require.NoError(t, b.Logout(ctx, "g", "u")) // leave the queue
	require.NoError(t, b.SetHealthy("a", false))
	require.NoError(t, b.SetHealthy("b", false))
	_, err = b.Connect(ctx, "g", "u")
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, NoneHealthy, nv.Reason)
	assert.Contains(t, err.Error(), "none of the 2 VMs is healthy")
	require.NoError(t, b.Logout(ctx, "g", "u"))
	require.NoError(t, b.SetHealthy("a", true))
	require.NoError(t, b.SetHealthy("b", true))
	require.NoError(t, b.Drain(ctx, "a", Reboot, false))
	assert.ErrorIs(t, b.Drain(ctx, "a", Reboot, false), ErrInvalid, "already restarting after the first")
	act.calls = nil
	_, err = b.Connect(ctx, "g", "v") // takes b
	require.NoError(t, err)
	require.NoError(t, b.ScheduleMaintenance("b", Reboot, time.Time{}, time.Hour))
	require.NoError(t, b.Tick(ctx))
	_, err = b.Connect(ctx, "g", "u")
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, Mixed, nv.Reason)
	assert.Equal(t, 1, nv.Draining)
	assert.Equal(t, 1, nv.InMaintenance)

	// a failing clean marks the VM unhealthy and reports it
	b2, _, act2, _ := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 1}, "a")
	_, err = b2.Connect(ctx, "g", "u")
	require.NoError(t, err)
	act2.failClear = errors.New("disk gone")
	require.NoError(t, b2.Logout(ctx, "g", "u"))
	err = b2.Drain(ctx, "a", Reboot, false)
	assert.ErrorContains(t, err, "disk gone")
	_, err = b2.Connect(ctx, "g", "w")
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, NoneHealthy, nv.Reason)
}

func TestConfigErrors(t *testing.T) {
	b := New(newClock(), &fakeActions{})
	assert.ErrorIs(t, b.AddGroup(GroupConfig{}), ErrInvalid)
	assert.ErrorIs(t, b.AddGroup(GroupConfig{Name: "s", Mode: Shared}), ErrInvalid)
	require.NoError(t, b.AddGroup(GroupConfig{Name: "s", Mode: Shared, MaxSessions: 2}))
	assert.ErrorIs(t, b.AddGroup(GroupConfig{Name: "s", Mode: Shared, MaxSessions: 2}), ErrExists)
	assert.ErrorIs(t, b.AddVM("nope", "a"), ErrUnknownGroup)
	require.NoError(t, b.AddVM("s", "a"))
	assert.ErrorIs(t, b.AddVM("s", "a"), ErrExists)
	assert.ErrorIs(t, b.RemoveVM("zz"), ErrUnknownVM)
	assert.ErrorIs(t, b.SetHealthy("zz", true), ErrUnknownVM)
	_, err := b.Connect(context.Background(), "nope", "u")
	assert.ErrorIs(t, err, ErrUnknownGroup)
	_, err = b.Status("nope")
	assert.ErrorIs(t, err, ErrUnknownGroup)
	assert.ErrorIs(t, b.ScheduleMaintenance("a", Reboot, time.Time{}, -1), ErrInvalid)
}

func TestRemoveVMQueuesUsers(t *testing.T) {
	ctx := context.Background()
	b, _, _, ev := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 1}, "a")
	_, err := b.Connect(ctx, "g", "u")
	require.NoError(t, err)
	require.NoError(t, b.RemoveVM("a"))
	assert.Equal(t, []Event{{Kind: Queued, Group: "g", User: "u", From: "a"}}, ev.take())
	require.NoError(t, b.AddVM("g", "c"))
	assert.Equal(t, []Event{{Kind: Assigned, Group: "g", User: "u", VM: "c"}}, ev.take())
}

// TestPropertyBrokerInvariants drives random operations on random groups and checks after
// every step: never two users on a dedicated VM, never more than the maximum on a shared VM,
// a user holds at most one slot, reconnect within the timeout gets the same VM, and after the
// timeout (and a Tick) the slot is gone.
func TestPropertyBrokerInvariants(t *testing.T) {
	ctx := context.Background()
	reconnects, full := 0, 0
	for seed := uint64(1); seed <= 60; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		mode := Dedicated
		if seed%2 == 0 {
			mode = Shared
		}
		timeout := time.Duration(1+rng.IntN(10)) * time.Minute
		cfg := GroupConfig{Name: "g", Mode: mode, MaxSessions: 1 + rng.IntN(4), DisconnectTimeout: timeout}
		nvm := 1 + rng.IntN(5)
		var vms []string
		for i := range nvm {
			vms = append(vms, fmt.Sprintf("vm%d", i))
		}
		b, clk, _, _ := setup(t, cfg, vms...)
		users := make([]string, 3+rng.IntN(15))
		for i := range users {
			users[i] = fmt.Sprintf("u%02d", i)
		}
		type disc struct {
			vm string
			at time.Time
		}
		disconnected := map[string]disc{}
		for step := range 400 {
			u := users[rng.IntN(len(users))]
			switch op := rng.IntN(100); {
			case op < 35:
				a, err := b.Connect(ctx, "g", u)
				if d, ok := disconnected[u]; ok {
					if clk.Now().Sub(d.at) < timeout && vmState(b, d.vm) <= Draining {
						require.NoError(t, err, "seed %d step %d: reconnect within the timeout", seed, step)
						require.Equal(t, d.vm, a.VM, "seed %d step %d: reconnect gets the same VM", seed, step)
						require.True(t, a.Reconnected)
						reconnects++
					}
					delete(disconnected, u)
				}
				if err != nil {
					require.ErrorIs(t, err, ErrNoVM)
					full++
				}
			case op < 55:
				st, _ := b.Status("g")
				var held *SessionStatus
				var vmName string
				for _, v := range st.VMs {
					for i, s := range v.Sessions {
						if s.User == u {
							held, vmName = &v.Sessions[i], v.Name
						}
					}
				}
				err := b.Disconnect("g", u)
				if held != nil && held.State == Connected {
					require.NoError(t, err)
					disconnected[u] = disc{vmName, clk.Now()}
				}
			case op < 70:
				_ = b.Logout(ctx, "g", u)
				delete(disconnected, u)
			case op < 85:
				clk.Advance(time.Duration(rng.IntN(4)) * time.Minute)
				require.NoError(t, b.Tick(ctx))
				// after a Tick no slot outlives its deadline: past the timeout the VM is not kept
				st, _ := b.Status("g")
				for _, v := range st.VMs {
					for _, s := range v.Sessions {
						if s.State != Connected {
							require.True(t, s.Deadline.After(clk.Now()), "seed %d step %d: %s's slot outlived its deadline", seed, step, s.User)
						}
					}
				}
			case op < 90 && mode == Dedicated:
				_ = b.Unassign(ctx, "g", u)
				delete(disconnected, u)
			case op < 95:
				v := vms[rng.IntN(len(vms))]
				if vmState(b, v) == Restarting {
					require.NoError(t, b.MaintenanceDone(v))
				} else if vmState(b, v) <= Draining {
					require.NoError(t, b.Drain(ctx, v, Maintenance(rng.IntN(2)), rng.IntN(2) == 0))
				}
				// users moved off a VM by maintenance lose reconnect affinity to it
				for du, d := range disconnected {
					if vmState(b, d.vm) > Draining || !contains(sessionsOn(t, b, "g", d.vm), du) {
						delete(disconnected, du)
					}
				}
			default:
				v := vms[rng.IntN(len(vms))]
				require.NoError(t, b.SetHealthy(v, rng.IntN(3) != 0))
			}
			checkInvariants(t, b, cfg, clk.Now(), seed, step)
		}
	}
	require.Greater(t, reconnects, 100, "the walk must exercise reconnects")
	require.Greater(t, full, 100, "the walk must exercise full groups")
	t.Logf("%d reconnects checked, %d refusals", reconnects, full)
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func checkInvariants(t *testing.T, b *Broker, cfg GroupConfig, now time.Time, seed uint64, step int) {
	t.Helper()
	st, err := b.Status("g")
	require.NoError(t, err)
	seen := map[string]string{}
	owners := map[string]string{}
	for _, v := range st.VMs {
		if cfg.Mode == Dedicated {
			require.LessOrEqual(t, len(v.Sessions), 1, "seed %d step %d: two users on dedicated %s", seed, step, v.Name)
			for _, s := range v.Sessions {
				require.Equal(t, v.Owner, s.User, "seed %d step %d: a dedicated VM serves only its owner", seed, step)
			}
			if v.Owner != "" {
				require.Empty(t, owners[v.Owner], "seed %d step %d: %s owns two VMs", seed, step, v.Owner)
				owners[v.Owner] = v.Name
			}
		} else {
			require.LessOrEqual(t, len(v.Sessions), cfg.MaxSessions, "seed %d step %d: %s over its maximum", seed, step, v.Name)
		}
		if v.State == Cleaning || v.State == Restarting {
			require.Empty(t, v.Sessions, "seed %d step %d: %s is %s but has users", seed, step, v.Name, v.State)
		}
		for _, s := range v.Sessions {
			require.Empty(t, seen[s.User], "seed %d step %d: %s holds two slots", seed, step, s.User)
			seen[s.User] = v.Name
			if s.State != Connected {
				// expired slots may linger only until the next call that expires them
				require.False(t, s.Deadline.IsZero())
			}
		}
	}
	_ = now
}

// TestConcurrentBroker hammers one broker from many goroutines (run it with -race).
func TestConcurrentBroker(t *testing.T) {
	ctx := context.Background()
	b, clk, _, _ := setup(t, GroupConfig{Name: "g", Mode: Shared, MaxSessions: 3, DisconnectTimeout: time.Minute}, "a", "b", "c")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			for range 300 {
				u := fmt.Sprintf("u%d", rng.IntN(20))
				switch rng.IntN(4) {
				case 0, 1:
					_, _ = b.Connect(ctx, "g", u)
				case 2:
					_ = b.Disconnect("g", u)
				default:
					_ = b.Logout(ctx, "g", u)
					clk.Advance(time.Second)
					_ = b.Tick(ctx)
				}
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, b, GroupConfig{Mode: Shared, MaxSessions: 3}, clk.Now(), 0, 0)
}

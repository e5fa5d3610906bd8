package broker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Drain starts maintenance of a VM: it takes no new users at once. Without force the
// maintenance runs when the VM is empty (Drain itself runs it if the VM is already empty;
// otherwise Tick does once the last user leaves). With force it runs now: users still on the
// VM are moved to other available VMs of the group (or queued), the previous users' data is
// cleared, and the VM is restarted with the given action.
func (b *Broker) Drain(ctx context.Context, name string, action Maintenance, force bool) error {
	b.mu.Lock()
	v, ok := b.vms[name]
	if !ok {
		b.unlock()
		return fmt.Errorf("broker: %w %s", ErrUnknownVM, name)
	}
	if v.state == Cleaning || v.state == Restarting {
		b.unlock()
		return fmt.Errorf("broker: VM %s is already %s: %w", name, v.state, ErrInvalid)
	}
	v.pending, v.action, v.startAt, v.forceAt = true, action, time.Time{}, time.Time{}
	if v.state == Available {
		v.state = Draining
	}
	run := force || len(v.sessions) == 0
	b.unlock()
	if run {
		return b.runMaintenance(ctx, v)
	}
	return nil
}

// ScheduleMaintenance arranges a reboot or reset: from at the VM drains (no new users); the
// maintenance runs when the VM is empty, or at at+grace whoever is still on it (they are
// moved as with a forced Drain). A zero at means now. Tick carries the schedule out.
func (b *Broker) ScheduleMaintenance(name string, action Maintenance, at time.Time, grace time.Duration) error {
	if grace < 0 {
		return fmt.Errorf("broker: %w: negative grace %v", ErrInvalid, grace)
	}
	b.mu.Lock()
	defer b.unlock()
	v, ok := b.vms[name]
	if !ok {
		return fmt.Errorf("broker: %w %s", ErrUnknownVM, name)
	}
	if at.IsZero() {
		at = b.clock.Now()
	}
	v.pending, v.action, v.startAt, v.forceAt = true, action, at, at.Add(grace)
	return nil
}

// Tick does the time-driven work: releases slots of users disconnected longer than the
// timeout, starts scheduled drains, and runs maintenance of VMs that are drained (or whose
// grace ran out). Call it periodically (every few seconds). It returns the errors of the
// maintenance steps that failed, joined.
func (b *Broker) Tick(ctx context.Context) error {
	b.mu.Lock()
	now := b.clock.Now()
	var due []*vm
	for _, g := range b.groups {
		b.expire(g, now)
		for _, v := range g.order {
			if !v.pending {
				continue
			}
			if v.state == Available && !now.Before(v.startAt) {
				v.state = Draining
			}
			if v.state == Draining && (len(v.sessions) == 0 || (!v.forceAt.IsZero() && !now.Before(v.forceAt))) {
				due = append(due, v)
			}
		}
		b.promote(g)
	}
	b.unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].name < due[j].name })
	var errs []error
	for _, v := range due {
		if err := b.runMaintenance(ctx, v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runMaintenance moves the users off v, clears their data and restarts v.
func (b *Broker) runMaintenance(ctx context.Context, v *vm) error {
	b.mu.Lock()
	if b.vms[v.name] != v || !v.pending || (v.state != Draining && v.state != Unhealthy) {
		b.unlock()
		return nil
	}
	g := v.group
	now := b.clock.Now()
	for _, u := range b.evict(v) {
		if g.cfg.Mode == Dedicated {
			b.enqueue(g, u, v.name) // they wait for their own VM
			continue
		}
		if t := pick(g); t != nil {
			b.place(g, u, t, Reserved, now)
			b.emit(Event{Kind: Reassigned, Group: g.cfg.Name, User: u, VM: t.name, From: v.name})
		} else {
			b.enqueue(g, u, v.name)
		}
	}
	v.state = Cleaning
	var users []string
	if g.cfg.Mode == Shared {
		users = dirtyUsers(v)
	}
	action := v.action
	b.unlock()

	if len(users) > 0 {
		if err := b.actions.ClearUserData(ctx, v.name, users); err != nil {
			b.fail(v)
			return fmt.Errorf("broker: clearing user data on %s before %s: %w", v.name, action, err)
		}
	}
	b.mu.Lock()
	if g.cfg.Mode == Shared {
		clear(v.dirty)
	}
	if v.state != Cleaning { // marked unhealthy or removed meanwhile: leave it to the operator
		st := v.state
		b.unlock()
		return fmt.Errorf("broker: %s of %s abandoned: the VM became %s: %w", action, v.name, st, ErrInvalid)
	}
	v.state = Restarting
	b.unlock()
	if err := b.actions.Restart(ctx, v.name, action); err != nil {
		b.fail(v)
		return fmt.Errorf("broker: %s of %s: %w", action, v.name, err)
	}
	return nil
}

func (b *Broker) fail(v *vm) {
	b.mu.Lock()
	v.state = Unhealthy
	v.pending = false
	b.unlock()
}

// MaintenanceDone reports that a restarted VM is back: it becomes available and queued users
// are assigned.
func (b *Broker) MaintenanceDone(name string) error {
	b.mu.Lock()
	defer b.unlock()
	v, ok := b.vms[name]
	if !ok {
		return fmt.Errorf("broker: %w %s", ErrUnknownVM, name)
	}
	if v.state != Restarting {
		return fmt.Errorf("broker: VM %s is %s, not restarting: %w", name, v.state, ErrInvalid)
	}
	v.state = Available
	v.pending = false
	b.promote(v.group)
	return nil
}

// SessionStatus is one user's slot on a VM.
type SessionStatus struct {
	User  string
	State SessionState
	// Deadline is when a disconnected or reserved slot is released.
	Deadline time.Time
}

// VMStatus is one VM's state.
type VMStatus struct {
	Name  string
	State VMState
	// Owner is the bound user of a dedicated VM.
	Owner string
	// MaintenancePending is true between Drain/ScheduleMaintenance and MaintenanceDone.
	MaintenancePending bool
	Sessions           []SessionStatus
}

// GroupStatus is a snapshot of a group.
type GroupStatus struct {
	Config GroupConfig
	VMs    []VMStatus
	// Queue lists waiting users, first in line first.
	Queue []string
}

// Status returns a snapshot of a group.
func (b *Broker) Status(groupName string) (GroupStatus, error) {
	b.mu.Lock()
	defer b.unlock()
	g, ok := b.groups[groupName]
	if !ok {
		return GroupStatus{}, fmt.Errorf("broker: %w %q", ErrUnknownGroup, groupName)
	}
	gs := GroupStatus{Config: g.cfg, Queue: append([]string(nil), g.queue...)}
	for _, v := range g.order {
		vs := VMStatus{Name: v.name, State: v.state, Owner: v.owner, MaintenancePending: v.pending}
		for _, s := range v.sessions {
			vs.Sessions = append(vs.Sessions, SessionStatus{User: s.user, State: s.state, Deadline: s.deadline})
		}
		sort.Slice(vs.Sessions, func(i, j int) bool { return vs.Sessions[i].User < vs.Sessions[j].User })
		gs.VMs = append(gs.VMs, vs)
	}
	return gs, nil
}

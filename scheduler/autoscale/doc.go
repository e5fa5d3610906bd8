// Package autoscale sizes a fleet of session hosts to demand. Decide is a pure function: from
// a snapshot of the fleet (each node's session slots, its state, how long it has been in it)
// and a Policy it computes the actions that keep a standby of free slots, scale out when
// demand rises, scale in by draining the emptiest nodes, remove drained nodes once empty and
// replace nodes that stayed unhealthy too long. Apply sends the actions to an Executor, which
// does the real work (cloud API, hypervisor, scheduler state). Pair it with the scheduler's
// MostAllocated scoring so load packs onto fewer nodes and others run empty for scale-in.
package autoscale

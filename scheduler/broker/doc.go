// Package broker assigns the virtual machines of desktop groups to users.
//
// A group is either dedicated (each user is bound to one VM of their own, and keeps it across
// logins until unassigned) or shared (one VM serves many users, up to a maximum number of
// sessions; a new user gets the least-loaded available VM, as Guacamole's balancing groups
// do). A user who disconnects keeps their slot for the group's disconnect timeout and gets the
// same VM back if they reconnect in time while still authorized; logout releases the slot.
//
// Maintenance of a VM (a scheduled or manual reboot or reset) drains it: no new users, the
// users still on it are moved to other VMs of the group (or queued), the previous users' data
// is cleared through the Actions hook before anyone else gets the VM, and the VM is restarted
// through the same interface; MaintenanceDone returns it to service. When no VM can be given,
// Connect returns a *NoVMError that says why (all full, all draining, none healthy ...) and
// queues the user; queued users are assigned, in order, as capacity returns.
//
// The Broker does no I/O itself: time comes from a Clock, side effects go through Actions,
// and events (assigned, reassigned, expired) go to a Notifier. It is safe for concurrent use.
package broker

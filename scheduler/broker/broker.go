package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Clock tells the time; tests use a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Mode is how a group shares its VMs.
type Mode int

// Group modes.
const (
	// Dedicated: one user per VM, bound persistently until Unassign.
	Dedicated Mode = iota
	// Shared: many users per VM, up to GroupConfig.MaxSessions.
	Shared
)

// String returns "dedicated" or "shared".
func (m Mode) String() string {
	if m == Shared {
		return "shared"
	}
	return "dedicated"
}

// GroupConfig describes a desktop group.
type GroupConfig struct {
	// Name identifies the group.
	Name string
	// Mode is Dedicated or Shared.
	Mode Mode
	// MaxSessions is the most users one VM of a shared group serves at once (≥ 1).
	MaxSessions int
	// DisconnectTimeout is how long a disconnected user keeps their slot and gets the same VM
	// back on reconnect. Zero releases the slot at disconnect.
	DisconnectTimeout time.Duration
	// ReservationTimeout is how long a slot given to a queued or reassigned user is held for
	// them to connect (default: DisconnectTimeout, or one minute when that is zero).
	ReservationTimeout time.Duration
	// ClearOnLogout clears a user's data on a shared VM as they log out, not only at
	// maintenance.
	ClearOnLogout bool
}

// VMState is where a VM is in its life.
type VMState int

// VM states.
const (
	// Available: takes users.
	Available VMState = iota
	// Draining: keeps its users, takes no new ones; maintenance follows.
	Draining
	// Cleaning: the previous users' data is being cleared.
	Cleaning
	// Restarting: being rebooted or reset; MaintenanceDone brings it back.
	Restarting
	// Unhealthy: failed checks or a maintenance step; takes no users.
	Unhealthy
)

var vmStateNames = []string{"available", "draining", "cleaning", "restarting", "unhealthy"}

// String returns the state's lower-case name.
func (s VMState) String() string {
	if s < 0 || int(s) >= len(vmStateNames) {
		return fmt.Sprintf("state(%d)", int(s))
	}
	return vmStateNames[s]
}

// Maintenance is what to do to a VM once it is drained.
type Maintenance int

// Maintenance actions.
const (
	// Reboot restarts the guest OS.
	Reboot Maintenance = iota
	// Reset returns the VM to its image (discarding its disk changes) and starts it.
	Reset
)

// String returns "reboot" or "reset".
func (m Maintenance) String() string {
	if m == Reset {
		return "reset"
	}
	return "reboot"
}

// Actions carries out the broker's side effects. Calls are made without the broker's lock
// held, while the VM is in a state (Cleaning, Restarting) in which nobody can be given it.
type Actions interface {
	// ClearUserData removes what the users left on the VM (profiles, temporary files,
	// redirected drives) before anyone else is given the VM.
	ClearUserData(ctx context.Context, vm string, users []string) error
	// Restart reboots or resets the VM. The VM returns to service when the caller reports
	// MaintenanceDone.
	Restart(ctx context.Context, vm string, action Maintenance) error
}

// EventKind says what happened to a user.
type EventKind int

// Event kinds.
const (
	// Assigned: a queued user was given a VM; their client should connect.
	Assigned EventKind = iota
	// Reassigned: the user's VM went into maintenance; they were moved to another VM.
	Reassigned
	// Queued: the user lost their VM to maintenance and no other VM had room; they wait.
	Queued
	// Expired: a disconnected user's slot was released after the disconnect timeout.
	Expired
)

var eventNames = []string{"assigned", "reassigned", "queued", "expired"}

// String returns the kind's name.
func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventNames) {
		return fmt.Sprintf("event(%d)", int(k))
	}
	return eventNames[k]
}

// Event tells the caller (who tells the user's client) about a change it did not ask for.
type Event struct {
	Kind  EventKind
	Group string
	User  string
	// VM is the user's VM after the event ("" when queued or expired).
	VM string
	// From is the VM the user had before (reassigned, queued, expired).
	From string
}

// Notifier receives events, outside the broker's lock, in order.
type Notifier interface {
	Notify(Event)
}

// Errors callers branch on.
var (
	// ErrNoVM is wrapped by every *NoVMError.
	ErrNoVM = errors.New("no VM available")
	// ErrUnknownGroup: no group has that name.
	ErrUnknownGroup = errors.New("unknown group")
	// ErrUnknownVM: no VM has that name.
	ErrUnknownVM = errors.New("unknown VM")
	// ErrNoSession: the user has no session (or queue place) in the group.
	ErrNoSession = errors.New("no session")
	// ErrNotAuthorized: the authorizer refused the user.
	ErrNotAuthorized = errors.New("user not authorized for group")
	// ErrExists: a group or VM with that name already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a configuration or call that cannot be honoured.
	ErrInvalid = errors.New("invalid")
)

// Reason is why no VM could be given.
type Reason int

// Reasons, from the most to the least specific.
const (
	// NoVMs: the group has no VMs at all.
	NoVMs Reason = iota
	// AllFull: every available VM is at its session limit (shared) or bound to another user
	// (dedicated).
	AllFull
	// AllDraining: the VMs that could take users are draining for maintenance.
	AllDraining
	// InMaintenance: every VM is being cleaned or restarted.
	InMaintenance
	// NoneHealthy: every VM is unhealthy.
	NoneHealthy
	// OwnVMUnavailable: the user's dedicated VM is not available now (the VM's state says why).
	OwnVMUnavailable
	// Mixed: the VMs are out of service for a mix of reasons; see the counts.
	Mixed
)

// NoVMError says why a user could not be given a VM and whether they were queued.
type NoVMError struct {
	Group  string
	User   string
	Reason Reason
	// Total is the number of VMs in the group; the other counts split it by state.
	Total, Full, Draining, InMaintenance, Unhealthy int
	// VM and State are set for OwnVMUnavailable.
	VM    string
	State VMState
	// QueuePosition is the user's place in the group's queue (1 = next), 0 when not queued.
	QueuePosition int
}

// Error says why in one line, e.g.
// `group "eng": no VM available for alice: all 3 VMs are full (4 sessions each); queued at position 2`.
func (e *NoVMError) Error() string {
	var why string
	switch e.Reason {
	case NoVMs:
		why = "the group has no VMs"
	case AllFull:
		why = fmt.Sprintf("all %d available VMs are full", e.Full)
	case AllDraining:
		why = fmt.Sprintf("all %d VMs with room are draining for maintenance", e.Draining)
	case InMaintenance:
		why = fmt.Sprintf("all %d VMs are being cleaned or restarted", e.InMaintenance)
	case NoneHealthy:
		why = fmt.Sprintf("none of the %d VMs is healthy", e.Total)
	case OwnVMUnavailable:
		why = fmt.Sprintf("the user's dedicated VM %s is %s", e.VM, e.State)
	default:
		var parts []string
		for _, c := range []struct {
			n    int
			what string
		}{{e.Full, "full"}, {e.Draining, "draining"}, {e.InMaintenance, "in maintenance"}, {e.Unhealthy, "unhealthy"}} {
			if c.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
			}
		}
		why = fmt.Sprintf("0/%d VMs available: %s", e.Total, strings.Join(parts, ", "))
	}
	s := fmt.Sprintf("group %q: no VM available for %s: %s", e.Group, e.User, why)
	if e.QueuePosition > 0 {
		s += fmt.Sprintf("; queued at position %d", e.QueuePosition)
	}
	return s
}

// Unwrap makes errors.Is(err, ErrNoVM) true.
func (e *NoVMError) Unwrap() error { return ErrNoVM }

// SessionState is whether the user's client is attached.
type SessionState int

// Session states.
const (
	// Connected: the client is attached.
	Connected SessionState = iota
	// Disconnected: the client went away; the slot is held until the deadline.
	Disconnected
	// Reserved: a slot was given to a queued or reassigned user who has not connected yet.
	Reserved
)

var sessionStateNames = []string{"connected", "disconnected", "reserved"}

// String returns the state's name.
func (s SessionState) String() string {
	if s < 0 || int(s) >= len(sessionStateNames) {
		return fmt.Sprintf("session(%d)", int(s))
	}
	return sessionStateNames[s]
}

// Assignment is the answer to Connect.
type Assignment struct {
	Group string
	User  string
	VM    string
	// Reconnected is true when the user got back the VM they already held a slot on.
	Reconnected bool
}

type session struct {
	user     string
	vm       *vm
	state    SessionState
	deadline time.Time // for Disconnected and Reserved
}

type vm struct {
	name     string
	group    *group
	state    VMState
	sessions map[string]*session
	// users who have used the VM since it was last cleared
	dirty map[string]bool
	// dedicated binding
	owner string
	// maintenance
	action     Maintenance
	pending    bool      // maintenance requested
	startAt    time.Time // scheduled start of draining (zero: now)
	forceAt    time.Time // drained or not, proceed at this time (zero: wait for empty)
	restarting bool
}

type group struct {
	cfg      GroupConfig
	vms      map[string]*vm
	order    []*vm // sorted by name, for deterministic choices
	sessions map[string]*session
	bindings map[string]*vm // dedicated: user -> VM
	queue    []string
}

// Option configures a Broker.
type Option func(*Broker)

// WithNotifier sends events to n.
func WithNotifier(n Notifier) Option { return func(b *Broker) { b.notifier = n } }

// WithAuthorizer makes Connect (including reconnects) ask authorize first; a refused user
// loses any slot they held.
func WithAuthorizer(authorize func(group, user string) bool) Option {
	return func(b *Broker) { b.authorize = authorize }
}

// Broker assigns the VMs of desktop groups to users.
type Broker struct {
	clock     Clock
	actions   Actions
	notifier  Notifier
	authorize func(group, user string) bool

	mu     sync.Mutex
	groups map[string]*group
	vms    map[string]*vm
	events []Event
}

// New returns a Broker with no groups.
func New(clock Clock, actions Actions, opts ...Option) *Broker {
	b := &Broker{clock: clock, actions: actions, groups: map[string]*group{}, vms: map[string]*vm{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// unlock releases the lock and delivers queued events.
func (b *Broker) unlock() {
	ev := b.events
	b.events = nil
	b.mu.Unlock()
	if b.notifier != nil {
		for _, e := range ev {
			b.notifier.Notify(e)
		}
	}
}

func (b *Broker) emit(e Event) {
	if b.notifier != nil {
		b.events = append(b.events, e)
	}
}

// AddGroup creates a desktop group.
func (b *Broker) AddGroup(cfg GroupConfig) error {
	if cfg.Name == "" {
		return fmt.Errorf("broker: %w group: empty name", ErrInvalid)
	}
	if cfg.Mode == Dedicated {
		cfg.MaxSessions = 1
	}
	if cfg.MaxSessions < 1 {
		return fmt.Errorf("broker: %w group %q: shared groups need MaxSessions ≥ 1", ErrInvalid, cfg.Name)
	}
	if cfg.DisconnectTimeout < 0 || cfg.ReservationTimeout < 0 {
		return fmt.Errorf("broker: %w group %q: negative timeout", ErrInvalid, cfg.Name)
	}
	if cfg.ReservationTimeout == 0 {
		cfg.ReservationTimeout = cfg.DisconnectTimeout
		if cfg.ReservationTimeout == 0 {
			cfg.ReservationTimeout = time.Minute
		}
	}
	b.mu.Lock()
	defer b.unlock()
	if _, ok := b.groups[cfg.Name]; ok {
		return fmt.Errorf("broker: group %q: %w", cfg.Name, ErrExists)
	}
	b.groups[cfg.Name] = &group{cfg: cfg, vms: map[string]*vm{}, sessions: map[string]*session{}, bindings: map[string]*vm{}}
	return nil
}

// AddVM adds an available VM to a group; queued users may be assigned to it at once.
func (b *Broker) AddVM(groupName, name string) error {
	b.mu.Lock()
	defer b.unlock()
	g, ok := b.groups[groupName]
	if !ok {
		return fmt.Errorf("broker: %w %q", ErrUnknownGroup, groupName)
	}
	if name == "" {
		return fmt.Errorf("broker: %w VM: empty name", ErrInvalid)
	}
	if _, ok := b.vms[name]; ok {
		return fmt.Errorf("broker: VM %s: %w", name, ErrExists)
	}
	v := &vm{name: name, group: g, sessions: map[string]*session{}, dirty: map[string]bool{}}
	g.vms[name] = v
	i := sort.Search(len(g.order), func(i int) bool { return g.order[i].name >= name })
	g.order = slices.Insert(g.order, i, v)
	b.vms[name] = v
	b.promote(g)
	return nil
}

// RemoveVM takes a VM out of its group. Its users lose their slots (dedicated bindings to it
// are dropped) and are queued.
func (b *Broker) RemoveVM(name string) error {
	b.mu.Lock()
	defer b.unlock()
	v, ok := b.vms[name]
	if !ok {
		return fmt.Errorf("broker: %w %s", ErrUnknownVM, name)
	}
	g := v.group
	users := b.evict(v)
	if v.owner != "" {
		delete(g.bindings, v.owner)
	}
	delete(b.vms, name)
	delete(g.vms, name)
	g.order = slices.DeleteFunc(g.order, func(x *vm) bool { return x == v })
	for _, u := range users {
		b.enqueue(g, u, name)
	}
	b.promote(g)
	return nil
}

// evict removes every session from v and returns the users, sorted.
func (b *Broker) evict(v *vm) []string {
	users := make([]string, 0, len(v.sessions))
	for u := range v.sessions {
		users = append(users, u)
		delete(v.group.sessions, u)
	}
	clear(v.sessions)
	sort.Strings(users)
	return users
}

func (b *Broker) enqueue(g *group, user, from string) int {
	if i := slices.Index(g.queue, user); i >= 0 {
		return i + 1
	}
	g.queue = append(g.queue, user)
	if from != "" {
		b.emit(Event{Kind: Queued, Group: g.cfg.Name, User: user, From: from})
	}
	return len(g.queue)
}

// SetHealthy marks a VM healthy (Available, unless maintenance is pending) or unhealthy (no
// new users; its users keep their slots and get it back when it recovers).
func (b *Broker) SetHealthy(name string, healthy bool) error {
	b.mu.Lock()
	defer b.unlock()
	v, ok := b.vms[name]
	if !ok {
		return fmt.Errorf("broker: %w %s", ErrUnknownVM, name)
	}
	switch {
	case !healthy:
		if v.state == Cleaning || v.state == Restarting {
			v.pending = false // the maintenance in flight is abandoned
		}
		v.state = Unhealthy
	case v.state == Unhealthy:
		v.state = Available
		if v.pending {
			v.state = Draining
		}
		b.promote(v.group)
	}
	return nil
}

// expire releases sessions whose deadline has passed (b.mu held).
func (b *Broker) expire(g *group, now time.Time) {
	for u, s := range g.sessions {
		if s.state != Connected && !now.Before(s.deadline) {
			b.dropSession(s)
			b.emit(Event{Kind: Expired, Group: g.cfg.Name, User: u, From: s.vm.name})
		}
	}
}

func (b *Broker) dropSession(s *session) {
	delete(s.vm.sessions, s.user)
	delete(s.vm.group.sessions, s.user)
}

// counts classifies a group's VMs for a NoVMError.
func noVM(g *group, user string) *NoVMError {
	e := &NoVMError{Group: g.cfg.Name, User: user, Total: len(g.order)}
	for _, v := range g.order {
		switch v.state {
		case Available:
			e.Full++
		case Draining:
			e.Draining++
		case Cleaning, Restarting:
			e.InMaintenance++
		case Unhealthy:
			e.Unhealthy++
		}
	}
	switch {
	case e.Total == 0:
		e.Reason = NoVMs
	case e.Full == e.Total:
		e.Reason = AllFull
	case e.Draining == e.Total:
		e.Reason = AllDraining
	case e.InMaintenance == e.Total:
		e.Reason = InMaintenance
	case e.Unhealthy == e.Total:
		e.Reason = NoneHealthy
	default:
		e.Reason = Mixed
	}
	return e
}

// pick returns the VM a new user of g should get, or nil (b.mu held).
func pick(g *group) *vm {
	var best *vm
	for _, v := range g.order {
		if v.state != Available || len(v.sessions) >= g.cfg.MaxSessions {
			continue
		}
		if g.cfg.Mode == Dedicated {
			if v.owner == "" {
				return v
			}
			continue
		}
		if best == nil || len(v.sessions) < len(best.sessions) {
			best = v
		}
	}
	return best
}

func (b *Broker) place(g *group, user string, v *vm, st SessionState, now time.Time) *session {
	s := &session{user: user, vm: v, state: st}
	if st != Connected {
		s.deadline = now.Add(g.cfg.ReservationTimeout)
	}
	v.sessions[user] = s
	v.dirty[user] = true
	g.sessions[user] = s
	if g.cfg.Mode == Dedicated {
		v.owner = user
		g.bindings[user] = v
	}
	return s
}

// promote gives free slots to queued users in order (b.mu held).
func (b *Broker) promote(g *group) {
	now := b.clock.Now()
	kept := g.queue[:0]
	for _, u := range g.queue {
		var v *vm
		if g.cfg.Mode == Dedicated {
			if own, ok := g.bindings[u]; ok {
				if own.state == Available {
					v = own
				}
			} else {
				v = pick(g)
			}
		} else {
			v = pick(g)
		}
		if v == nil {
			kept = append(kept, u)
			continue
		}
		b.place(g, u, v, Reserved, now)
		b.emit(Event{Kind: Assigned, Group: g.cfg.Name, User: u, VM: v.name})
	}
	clear(g.queue[len(kept):])
	g.queue = kept
}

// Connect gives the user a VM of the group: their held slot if they have one (reconnect
// affinity), their own VM in a dedicated group, or else the least-loaded available VM. When
// none can be given it returns a *NoVMError and queues the user.
func (b *Broker) Connect(ctx context.Context, groupName, user string) (Assignment, error) {
	if err := ctx.Err(); err != nil {
		return Assignment{}, err
	}
	b.mu.Lock()
	defer b.unlock()
	g, ok := b.groups[groupName]
	if !ok {
		return Assignment{}, fmt.Errorf("broker: %w %q", ErrUnknownGroup, groupName)
	}
	if user == "" {
		return Assignment{}, fmt.Errorf("broker: %w user: empty name", ErrInvalid)
	}
	now := b.clock.Now()
	b.expire(g, now)
	if b.authorize != nil && !b.authorize(groupName, user) {
		if s, ok := g.sessions[user]; ok {
			b.dropSession(s)
			b.promote(g)
		}
		g.queue = slices.DeleteFunc(g.queue, func(u string) bool { return u == user })
		return Assignment{}, fmt.Errorf("broker: %s in group %q: %w", user, groupName, ErrNotAuthorized)
	}
	a := Assignment{Group: groupName, User: user}
	if s, ok := g.sessions[user]; ok {
		switch s.vm.state {
		case Available, Draining: // a draining VM keeps serving the users it has
			a.Reconnected = s.state != Reserved
			s.state = Connected
			s.deadline = time.Time{}
			a.VM = s.vm.name
			return a, nil
		}
		if g.cfg.Mode == Shared { // the VM broke under them: start over elsewhere
			b.dropSession(s)
		}
	}
	if g.cfg.Mode == Dedicated {
		if own, ok := g.bindings[user]; ok {
			if own.state == Available {
				b.place(g, user, own, Connected, now)
				a.VM = own.name
				return a, nil
			}
			e := noVM(g, user)
			e.Reason, e.VM, e.State = OwnVMUnavailable, own.name, own.state
			e.QueuePosition = b.enqueue(g, user, "")
			return a, e
		}
	}
	if i := slices.Index(g.queue, user); i > 0 {
		// someone is ahead in the queue; keep the order fair
		e := noVM(g, user)
		e.QueuePosition = i + 1
		return a, e
	}
	v := pick(g)
	if v == nil {
		e := noVM(g, user)
		e.QueuePosition = b.enqueue(g, user, "")
		return a, e
	}
	g.queue = slices.DeleteFunc(g.queue, func(u string) bool { return u == user })
	b.place(g, user, v, Connected, now)
	a.VM = v.name
	return a, nil
}

// Disconnect records that the user's client went away. The slot is held for the group's
// DisconnectTimeout (released at once when it is zero).
func (b *Broker) Disconnect(groupName, user string) error {
	b.mu.Lock()
	defer b.unlock()
	g, s, err := b.sessionOf(groupName, user)
	if err != nil {
		return err
	}
	if g.cfg.DisconnectTimeout == 0 {
		b.dropSession(s)
		b.promote(g)
		return nil
	}
	s.state = Disconnected
	s.deadline = b.clock.Now().Add(g.cfg.DisconnectTimeout)
	return nil
}

func (b *Broker) sessionOf(groupName, user string) (*group, *session, error) {
	g, ok := b.groups[groupName]
	if !ok {
		return nil, nil, fmt.Errorf("broker: %w %q", ErrUnknownGroup, groupName)
	}
	b.expire(g, b.clock.Now())
	s, ok := g.sessions[user]
	if !ok {
		return g, nil, fmt.Errorf("broker: %s in group %q: %w", user, groupName, ErrNoSession)
	}
	return g, s, nil
}

// Logout ends the user's session and releases their slot (a dedicated binding stays). A
// queued user leaves the queue. With ClearOnLogout the user's data on a shared VM is cleared.
func (b *Broker) Logout(ctx context.Context, groupName, user string) error {
	b.mu.Lock()
	g, s, err := b.sessionOf(groupName, user)
	if err != nil {
		if g != nil {
			if i := slices.Index(g.queue, user); i >= 0 {
				g.queue = slices.Delete(g.queue, i, i+1)
				b.unlock()
				return nil
			}
		}
		b.unlock()
		return err
	}
	v := s.vm
	b.dropSession(s)
	clearNow := g.cfg.Mode == Shared && g.cfg.ClearOnLogout
	if clearNow {
		delete(v.dirty, user)
	}
	b.promote(g)
	b.unlock()
	if clearNow {
		if err := b.actions.ClearUserData(ctx, v.name, []string{user}); err != nil {
			return fmt.Errorf("broker: clearing %s's data on %s: %w", user, v.name, err)
		}
	}
	return nil
}

// Unassign ends a dedicated binding: the user's session (if any) ends, their data is cleared
// and the VM becomes available to another user.
func (b *Broker) Unassign(ctx context.Context, groupName, user string) error {
	b.mu.Lock()
	g, ok := b.groups[groupName]
	if !ok {
		b.unlock()
		return fmt.Errorf("broker: %w %q", ErrUnknownGroup, groupName)
	}
	v, ok := g.bindings[user]
	if !ok {
		b.unlock()
		return fmt.Errorf("broker: %s has no dedicated VM in %q: %w", user, groupName, ErrNoSession)
	}
	if v.state == Cleaning || v.state == Restarting {
		b.unlock()
		return fmt.Errorf("broker: %s's VM %s is %s; unassign after its maintenance: %w", user, v.name, v.state, ErrInvalid)
	}
	if s, ok := g.sessions[user]; ok {
		b.dropSession(s)
	}
	delete(g.bindings, user)
	v.owner = ""
	prev := v.state
	v.state = Cleaning
	users := dirtyUsers(v)
	b.unlock()
	err := b.actions.ClearUserData(ctx, v.name, users)
	b.mu.Lock()
	defer b.unlock()
	if err != nil {
		v.state = Unhealthy
		return fmt.Errorf("broker: clearing %s's data on %s: %w", user, v.name, err)
	}
	clear(v.dirty)
	if v.state == Cleaning {
		v.state = prev // Available, Draining or Unhealthy, as before
	}
	b.promote(g)
	return nil
}

func dirtyUsers(v *vm) []string {
	users := make([]string, 0, len(v.dirty))
	for u := range v.dirty {
		users = append(users, u)
	}
	sort.Strings(users)
	return users
}

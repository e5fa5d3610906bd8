package rbac

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Permission is one thing an administrator may do, written "area:verb".
type Permission string

// The permissions of the admin console.
const (
	UsersRead      Permission = "users:read"
	UsersWrite     Permission = "users:write"
	ResourcesRead  Permission = "resources:read" // hosts, images, desktop and app groups
	ResourcesWrite Permission = "resources:write"
	PoliciesRead   Permission = "policies:read"
	PoliciesWrite  Permission = "policies:write"
	GrantsRead     Permission = "grants:read"
	GrantsWrite    Permission = "grants:write" // give and take roles
	RolesWrite     Permission = "roles:write"  // define custom roles
	// AuditReadAdmins reads what system and security administrators did.
	AuditReadAdmins Permission = "audit:read-admins"
	// AuditReadAuditors reads what auditors did.
	AuditReadAuditors Permission = "audit:read-auditors"
)

// Duty is one of the separated administrative duties. No principal's permissions may span
// two of them, so no single account can both change the system and hide it.
type Duty uint8

// The duties. DutyNone marks read permissions any duty may hold.
const (
	DutyNone Duty = iota
	DutySystem
	DutySecurity
	DutyAudit
)

// String names the duty.
func (d Duty) String() string {
	switch d {
	case DutySystem:
		return "system"
	case DutySecurity:
		return "security"
	case DutyAudit:
		return "audit"
	}
	return "none"
}

var permissionDuty = map[Permission]Duty{
	UsersRead:         DutyNone,
	ResourcesRead:     DutyNone,
	PoliciesRead:      DutyNone,
	GrantsRead:        DutyNone,
	UsersWrite:        DutySystem,
	ResourcesWrite:    DutySystem,
	PoliciesWrite:     DutySecurity,
	GrantsWrite:       DutySecurity,
	RolesWrite:        DutySecurity,
	AuditReadAuditors: DutySecurity,
	AuditReadAdmins:   DutyAudit,
}

// DutyOf returns the duty a permission belongs to, and false for an unknown permission.
func DutyOf(p Permission) (Duty, bool) {
	d, ok := permissionDuty[p]
	return d, ok
}

// Role is a named set of permissions.
type Role struct {
	Name        string
	Permissions []Permission
}

// The built-in roles of the separated-administrator model.
const (
	SystemAdmin   = "system-admin"
	SecurityAdmin = "security-admin"
	Auditor       = "auditor"
)

func builtinRoles() map[string]Role {
	return map[string]Role{
		// Runs the fleet: users and resources, but grants nothing.
		SystemAdmin: {SystemAdmin, []Permission{UsersRead, UsersWrite, ResourcesRead, ResourcesWrite, PoliciesRead}},
		// Decides who may do what: grants, roles and policies, and watches the auditors.
		SecurityAdmin: {SecurityAdmin, []Permission{UsersRead, ResourcesRead, PoliciesRead, PoliciesWrite, GrantsRead, GrantsWrite, RolesWrite, AuditReadAuditors}},
		// Reads what the other two did and changes nothing.
		Auditor: {Auditor, []Permission{UsersRead, GrantsRead, AuditReadAdmins}},
	}
}

// Errors callers branch on.
var (
	ErrForbidden       = errors.New("rbac: forbidden")
	ErrSeparation      = errors.New("rbac: separation of duties")
	ErrUnknownRole     = errors.New("rbac: unknown role")
	ErrInvalidRole     = errors.New("rbac: invalid role")
	ErrSelfGrant       = errors.New("rbac: administrators cannot change their own roles")
	ErrBootstrapPeople = errors.New("rbac: the three first administrators must be three different principals")
)

// Bootstrap names the first holder of each built-in role; the three must differ.
type Bootstrap struct {
	SystemAdmin, SecurityAdmin, Auditor string
}

// Authorizer holds roles and who holds them, and answers permission checks. A principal
// with no role may do nothing. It is safe for concurrent use.
type Authorizer struct {
	mu       sync.RWMutex
	roles    map[string]Role
	bindings map[string][]string // principal → role names
}

// New returns an Authorizer with the built-in roles held by the bootstrap principals.
func New(b Bootstrap) (*Authorizer, error) {
	if b.SystemAdmin == "" || b.SecurityAdmin == "" || b.Auditor == "" ||
		b.SystemAdmin == b.SecurityAdmin || b.SystemAdmin == b.Auditor || b.SecurityAdmin == b.Auditor {
		return nil, ErrBootstrapPeople
	}
	return &Authorizer{
		roles: builtinRoles(),
		bindings: map[string][]string{
			b.SystemAdmin:   {SystemAdmin},
			b.SecurityAdmin: {SecurityAdmin},
			b.Auditor:       {Auditor},
		},
	}, nil
}

// Allowed reports whether the principal holds the permission through any of its roles.
func (a *Authorizer) Allowed(principal string, p Permission) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.allowed(principal, p)
}

func (a *Authorizer) allowed(principal string, p Permission) bool {
	for _, name := range a.bindings[principal] {
		if slices.Contains(a.roles[name].Permissions, p) {
			return true
		}
	}
	return false
}

// Check returns nil when the principal holds the permission and an error wrapping
// ErrForbidden that says what was missing otherwise.
func (a *Authorizer) Check(principal string, p Permission) error {
	if a.Allowed(principal, p) {
		return nil
	}
	return fmt.Errorf("%w: %q lacks %s", ErrForbidden, principal, p)
}

// Roles returns the names of the roles a principal holds, sorted.
func (a *Authorizer) Roles(principal string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	names := slices.Clone(a.bindings[principal])
	sort.Strings(names)
	return names
}

// Duty returns the separated duty a principal's roles give it (DutyNone for read-only or
// no roles).
func (a *Authorizer) Duty(principal string) Duty {
	a.mu.RLock()
	defer a.mu.RUnlock()
	d, _ := a.dutyOf(a.bindings[principal])
	return d
}

// dutyOf returns the single duty a set of roles spans, or an error when it spans several.
func (a *Authorizer) dutyOf(roleNames []string) (Duty, error) {
	var perms []Permission
	for _, name := range roleNames {
		perms = append(perms, a.roles[name].Permissions...)
	}
	return spannedDuty(perms)
}

func spannedDuty(perms []Permission) (Duty, error) {
	duty := DutyNone
	for _, p := range perms {
		d := permissionDuty[p]
		if d == DutyNone || d == duty {
			continue
		}
		if duty != DutyNone {
			return DutyNone, fmt.Errorf("%w: %s duties and %s duties cannot be held together (%s)", ErrSeparation, duty, d, p)
		}
		duty = d
	}
	return duty, nil
}

// Grant gives a role to a principal. The actor needs grants:write and cannot grant to
// itself, and the principal's roles together must stay within one separated duty.
func (a *Authorizer) Grant(actor, principal, role string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.mayChangeGrants(actor, principal); err != nil {
		return err
	}
	if _, ok := a.roles[role]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownRole, role)
	}
	current := a.bindings[principal]
	if slices.Contains(current, role) {
		return nil
	}
	next := append(slices.Clone(current), role)
	if _, err := a.dutyOf(next); err != nil {
		return fmt.Errorf("granting %q to %q: %w", role, principal, err)
	}
	a.bindings[principal] = next
	return nil
}

// Revoke takes a role from a principal, under the same rules as Grant.
func (a *Authorizer) Revoke(actor, principal, role string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.mayChangeGrants(actor, principal); err != nil {
		return err
	}
	a.bindings[principal] = slices.DeleteFunc(slices.Clone(a.bindings[principal]), func(r string) bool { return r == role })
	if len(a.bindings[principal]) == 0 {
		delete(a.bindings, principal)
	}
	return nil
}

func (a *Authorizer) mayChangeGrants(actor, principal string) error {
	if !a.allowed(actor, GrantsWrite) {
		return fmt.Errorf("%w: %q lacks %s", ErrForbidden, actor, GrantsWrite)
	}
	if actor == principal {
		return ErrSelfGrant
	}
	return nil
}

// DefineRole adds or replaces a custom role. The actor needs roles:write; built-in roles
// cannot be redefined; a role's permissions must be known and stay within one duty. When a
// role is redefined, every holder must still respect separation of duties.
func (a *Authorizer) DefineRole(actor string, r Role) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.allowed(actor, RolesWrite) {
		return fmt.Errorf("%w: %q lacks %s", ErrForbidden, actor, RolesWrite)
	}
	if r.Name == "" {
		return fmt.Errorf("%w: a role needs a name", ErrInvalidRole)
	}
	if _, builtin := builtinRoles()[r.Name]; builtin {
		return fmt.Errorf("%w: %q is built in", ErrInvalidRole, r.Name)
	}
	for _, p := range r.Permissions {
		if _, ok := permissionDuty[p]; !ok {
			return fmt.Errorf("%w: %q: unknown permission %q", ErrInvalidRole, r.Name, p)
		}
	}
	if _, err := spannedDuty(r.Permissions); err != nil {
		return fmt.Errorf("role %q: %w", r.Name, err)
	}
	previous, existed := a.roles[r.Name]
	a.roles[r.Name] = Role{Name: r.Name, Permissions: slices.Clone(r.Permissions)}
	for principal, names := range a.bindings {
		if !slices.Contains(names, r.Name) {
			continue
		}
		if _, err := a.dutyOf(names); err != nil {
			if existed {
				a.roles[r.Name] = previous
			} else {
				delete(a.roles, r.Name)
			}
			return fmt.Errorf("redefining %q for holder %q: %w", r.Name, principal, err)
		}
	}
	return nil
}

// MayReadAuditOf reports whether a principal may read audit entries written by an actor
// of the given duty: auditors read system and security administrators' entries, security
// administrators read auditors' entries, and nobody reads their own duty's entries.
func (a *Authorizer) MayReadAuditOf(principal string, actorDuty Duty) bool {
	switch actorDuty {
	case DutySystem, DutySecurity, DutyNone:
		return a.Allowed(principal, AuditReadAdmins)
	case DutyAudit:
		return a.Allowed(principal, AuditReadAuditors)
	}
	return false
}

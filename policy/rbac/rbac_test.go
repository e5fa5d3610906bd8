package rbac

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newAuth(t *testing.T) *Authorizer {
	t.Helper()
	a, err := New(Bootstrap{SystemAdmin: "sys", SecurityAdmin: "sec", Auditor: "aud"})
	require.NoError(t, err)
	return a
}

func TestBootstrapNeedsThreePeople(t *testing.T) {
	for _, b := range []Bootstrap{{}, {"a", "a", "b"}, {"a", "b", "a"}, {"a", "b", "b"}, {"a", "b", ""}} {
		_, err := New(b)
		require.ErrorIs(t, err, ErrBootstrapPeople, "%+v", b)
	}
}

func TestSystemAdminRunsTheFleetButCannotGrant(t *testing.T) {
	a := newAuth(t)
	assert.True(t, a.Allowed("sys", UsersWrite))
	assert.True(t, a.Allowed("sys", ResourcesWrite))
	assert.False(t, a.Allowed("sys", PoliciesWrite))
	assert.False(t, a.Allowed("sys", AuditReadAdmins))
	require.ErrorIs(t, a.Grant("sys", "bob", SystemAdmin), ErrForbidden)
	require.ErrorIs(t, a.DefineRole("sys", Role{Name: "x", Permissions: []Permission{UsersRead}}), ErrForbidden)
	err := a.Check("sys", GrantsWrite)
	require.ErrorIs(t, err, ErrForbidden)
	assert.Contains(t, err.Error(), `"sys" lacks grants:write`)
}

func TestSecurityAdminGrantsButRunsNothing(t *testing.T) {
	a := newAuth(t)
	assert.False(t, a.Allowed("sec", UsersWrite))
	assert.False(t, a.Allowed("sec", ResourcesWrite))
	assert.False(t, a.Allowed("sec", AuditReadAdmins))
	require.NoError(t, a.Grant("sec", "bob", SystemAdmin))
	assert.True(t, a.Allowed("bob", UsersWrite))
	require.NoError(t, a.Revoke("sec", "bob", SystemAdmin))
	assert.False(t, a.Allowed("bob", UsersWrite))
	assert.Empty(t, a.Roles("bob"))
	require.ErrorIs(t, a.Grant("sec", "bob", "no-such-role"), ErrUnknownRole)
}

func TestAuditorReadsAndChangesNothing(t *testing.T) {
	a := newAuth(t)
	assert.True(t, a.Allowed("aud", AuditReadAdmins))
	for _, p := range []Permission{UsersWrite, ResourcesWrite, PoliciesWrite, GrantsWrite, RolesWrite, AuditReadAuditors} {
		assert.False(t, a.Allowed("aud", p), p)
	}
	require.ErrorIs(t, a.Grant("aud", "bob", Auditor), ErrForbidden)
	assert.True(t, a.MayReadAuditOf("aud", DutySystem))
	assert.True(t, a.MayReadAuditOf("aud", DutySecurity))
	assert.False(t, a.MayReadAuditOf("aud", DutyAudit), "auditors do not audit themselves")
	assert.True(t, a.MayReadAuditOf("sec", DutyAudit), "the security administrator watches the auditors")
	assert.False(t, a.MayReadAuditOf("sec", DutySecurity))
	assert.False(t, a.MayReadAuditOf("sys", DutySystem))
}

func TestNobodyChangesTheirOwnRoles(t *testing.T) {
	a := newAuth(t)
	require.ErrorIs(t, a.Grant("sec", "sec", Auditor), ErrSelfGrant)
	require.ErrorIs(t, a.Revoke("sec", "sec", SecurityAdmin), ErrSelfGrant)
	assert.Equal(t, []string{SecurityAdmin}, a.Roles("sec"))
}

func TestSeparationOfDuties(t *testing.T) {
	a := newAuth(t)
	require.NoError(t, a.Grant("sec", "sec2", SecurityAdmin))
	// No principal may hold two separated roles.
	err := a.Grant("sec", "sys", SecurityAdmin)
	require.ErrorIs(t, err, ErrSeparation)
	require.ErrorIs(t, a.Grant("sec2", "sec", Auditor), ErrSeparation)
	require.ErrorIs(t, a.Grant("sec", "aud", SystemAdmin), ErrSeparation)
	assert.Equal(t, DutySystem, a.Duty("sys"))
	assert.Equal(t, []string{SystemAdmin}, a.Roles("sys"))

	// A custom role may not span duties, nor smuggle one in through a holder.
	err = a.DefineRole("sec", Role{Name: "super", Permissions: []Permission{UsersWrite, GrantsWrite}})
	require.ErrorIs(t, err, ErrSeparation)
	require.NoError(t, a.DefineRole("sec", Role{Name: "helpdesk", Permissions: []Permission{UsersRead, UsersWrite}}))
	require.NoError(t, a.Grant("sec", "carol", "helpdesk"))
	require.ErrorIs(t, a.Grant("sec", "carol", Auditor), ErrSeparation)
	require.NoError(t, a.Grant("sec", "dave", Auditor))
	require.ErrorIs(t, a.Grant("sec", "dave", "helpdesk"), ErrSeparation)
	// Redefining a role so that a holder who is also an auditor would gain system duty
	// fails and keeps the old definition.
	require.NoError(t, a.DefineRole("sec", Role{Name: "viewer", Permissions: []Permission{UsersRead}}))
	require.NoError(t, a.Grant("sec", "frank", "viewer"))
	require.NoError(t, a.Grant("sec", "frank", Auditor))
	err = a.DefineRole("sec", Role{Name: "viewer", Permissions: []Permission{UsersWrite}})
	require.ErrorIs(t, err, ErrSeparation)
	assert.False(t, a.Allowed("frank", UsersWrite))
}

func TestCustomRolesAreLeastPrivilege(t *testing.T) {
	a := newAuth(t)
	assert.False(t, a.Allowed("nobody", UsersRead), "no role, no permission")
	require.ErrorIs(t, a.DefineRole("sec", Role{Name: SystemAdmin, Permissions: []Permission{UsersRead}}), ErrInvalidRole)
	require.ErrorIs(t, a.DefineRole("sec", Role{Name: "x", Permissions: []Permission{"users:delete-everything"}}), ErrInvalidRole)
	require.ErrorIs(t, a.DefineRole("sec", Role{Permissions: []Permission{UsersRead}}), ErrInvalidRole)
	require.NoError(t, a.DefineRole("sec", Role{Name: "desk-ops", Permissions: []Permission{ResourcesRead, ResourcesWrite}}))
	require.NoError(t, a.Grant("sec", "gina", "desk-ops"))
	assert.True(t, a.Allowed("gina", ResourcesWrite))
	assert.False(t, a.Allowed("gina", UsersWrite))
	assert.False(t, a.Allowed("gina", GrantsWrite))
}

// Package rbac is the administrator permission model of Shadowless: separated roles —
// system administrator (users and resources, no granting), security administrator (grants,
// roles and policies) and auditor (reads the others' logs, changes nothing) — plus custom
// roles. No principal's permissions may span two separated duties, nobody changes their
// own roles, and a principal with no role may do nothing.
package rbac

package scheduler

import (
	"fmt"
	"slices"
	"strings"
)

// Operator is how a Requirement tests a label.
type Operator string

// Selector operators.
const (
	// In: the label is set and its value is one of Values.
	In Operator = "In"
	// NotIn: the label is unset or its value is none of Values.
	NotIn Operator = "NotIn"
	// Exists: the label is set.
	Exists Operator = "Exists"
	// DoesNotExist: the label is not set.
	DoesNotExist Operator = "DoesNotExist"
)

// Requirement is one test on one node label.
type Requirement struct {
	Key      string
	Operator Operator
	Values   []string
}

// Matches reports whether a node with these labels satisfies the requirement.
func (r Requirement) Matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Operator {
	case In:
		return ok && slices.Contains(r.Values, v)
	case NotIn:
		return !ok || !slices.Contains(r.Values, v)
	case Exists:
		return ok
	case DoesNotExist:
		return !ok
	}
	return false
}

// String renders the requirement in ParseSelector syntax.
func (r Requirement) String() string {
	switch r.Operator {
	case In:
		if len(r.Values) == 1 {
			return r.Key + "=" + r.Values[0]
		}
		return r.Key + " in (" + strings.Join(r.Values, ",") + ")"
	case NotIn:
		if len(r.Values) == 1 {
			return r.Key + "!=" + r.Values[0]
		}
		return r.Key + " notin (" + strings.Join(r.Values, ",") + ")"
	case Exists:
		return r.Key
	case DoesNotExist:
		return "!" + r.Key
	}
	return r.Key + " ?" + string(r.Operator)
}

// Selector is a conjunction of requirements: a node matches when it satisfies all of them.
// The empty selector matches every node.
type Selector []Requirement

// Matches reports whether a node with these labels satisfies every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

// String renders the selector in ParseSelector syntax.
func (s Selector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ParseSelector parses a label selector: comma-separated requirements of the forms
// "key=value", "key!=value", "key in (a,b)", "key notin (a,b)", "key" (exists) and "!key"
// (does not exist). Example: "zone in (a,b),gpu,!spot".
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	rest := strings.TrimSpace(s)
	for rest != "" {
		// split off one requirement, respecting parentheses
		depth, end := 0, len(rest)
		for i, c := range rest {
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			} else if c == ',' && depth == 0 {
				end = i
				break
			}
		}
		part := strings.TrimSpace(rest[:end])
		if end < len(rest) {
			rest = strings.TrimSpace(rest[end+1:])
		} else {
			rest = ""
		}
		r, err := parseRequirement(part)
		if err != nil {
			return nil, fmt.Errorf("selector %q: %w", s, err)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

func parseRequirement(p string) (Requirement, error) {
	if p == "" {
		return Requirement{}, fmt.Errorf("empty requirement")
	}
	if k, v, ok := strings.Cut(p, "!="); ok {
		return req(k, NotIn, v)
	}
	if k, v, ok := strings.Cut(p, "="); ok {
		return req(k, In, strings.TrimPrefix(v, "=")) // "k==v" is "k=v"
	}
	for _, op := range []struct {
		word string
		op   Operator
	}{{" notin ", NotIn}, {" in ", In}} {
		if k, v, ok := strings.Cut(p, op.word); ok {
			v = strings.TrimSpace(v)
			if !strings.HasPrefix(v, "(") || !strings.HasSuffix(v, ")") {
				return Requirement{}, fmt.Errorf("%q: want values in parentheses", p)
			}
			vals := strings.Split(v[1:len(v)-1], ",")
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
				if vals[i] == "" {
					return Requirement{}, fmt.Errorf("%q: empty value", p)
				}
			}
			return req(k, op.op, vals...)
		}
	}
	if strings.HasPrefix(p, "!") {
		return req(p[1:], DoesNotExist)
	}
	return req(p, Exists)
}

func req(k string, op Operator, vals ...string) (Requirement, error) {
	k = strings.TrimSpace(k)
	if k == "" || strings.ContainsAny(k, " ()!=,") {
		return Requirement{}, fmt.Errorf("bad label key %q", k)
	}
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
		if strings.ContainsAny(vals[i], " ()!=,") {
			return Requirement{}, fmt.Errorf("bad label value %q", vals[i])
		}
	}
	return Requirement{Key: k, Operator: op, Values: vals}, nil
}

// PreferredTerm is a soft affinity: nodes matching Selector gain Weight (1..100) in the
// NodeAffinity score.
type PreferredTerm struct {
	Weight   int
	Selector Selector
}

// NodeAffinity constrains a request to affinity groups of nodes.
type NodeAffinity struct {
	// Required terms are ORed: a node must match at least one (when any are given).
	Required []Selector
	// Preferred terms add to the score of the nodes they match.
	Preferred []PreferredTerm
}

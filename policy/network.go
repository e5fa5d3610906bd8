package policy

import (
	"fmt"
	"net/netip"
)

// EgressRule matches outbound connections from the session's desktop.
type EgressRule struct {
	Effect Effect
	// Prefix is the destination range; the zero Prefix matches every address.
	Prefix netip.Prefix
	// FromPort and ToPort bound the destination port, inclusive; both 0 match every port.
	FromPort, ToPort uint16
}

// String renders the rule for explanations, e.g. "allow 10.0.0.0/8:443".
func (r EgressRule) String() string {
	dst := "any"
	if r.Prefix.IsValid() {
		dst = r.Prefix.String()
	}
	switch {
	case r.FromPort == 0 && r.ToPort == 0:
	case r.FromPort == r.ToPort:
		dst += fmt.Sprintf(":%d", r.FromPort)
	default:
		dst += fmt.Sprintf(":%d-%d", r.FromPort, r.ToPort)
	}
	return r.Effect.String() + " " + dst
}

func (r *EgressRule) matches(addr netip.Addr, port uint16) bool {
	if r.Prefix.IsValid() && !r.Prefix.Contains(addr) {
		return false
	}
	if r.FromPort == 0 && r.ToPort == 0 {
		return true
	}
	return port >= r.FromPort && port <= r.ToPort
}

// evaluateEgress returns the effect of an ordered rule list for a destination and the
// deciding rule's index, -1 when the fallback decided.
func evaluateEgress(rules []EgressRule, fallback Effect, addr netip.Addr, port uint16) (Effect, int) {
	for i := range rules {
		if rules[i].matches(addr, port) {
			return rules[i].Effect, i
		}
	}
	return fallback, -1
}

package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Any is the wildcard value of a USBRule match field.
const Any = -1

// USBRule matches USB devices by class triple and identity. A field set to Any matches every
// value. The textual form follows Citrix's USB policy syntax, one rule a line:
//
//	DENY:  class=09            # hubs
//	ALLOW: vid=046D pid=C52B   # one receiver
//	ALLOW:                     # everything else
type USBRule struct {
	Effect                    Effect
	Class, Subclass, Protocol int
	Vendor, Product, Release  int
	// Text is the rule as written, kept for explanations.
	Text string
}

// USB is an ordered USB rule list: the first matching rule decides, and a device no rule
// matches is denied.
type USB struct {
	Rules []USBRule
}

// USBInterface is the class triple of one interface of a device's active configuration.
type USBInterface struct {
	Class, Subclass, Protocol uint8
}

// USBDevice describes a device asking to be redirected.
type USBDevice struct {
	Vendor, Product, Release  uint16
	Class, Subclass, Protocol uint8
	Interfaces                []USBInterface
}

// usbClassPerInterface is the device class that defers the class to each interface.
const usbClassPerInterface = 0x00

// DefaultUSBRules are the rules applied when no policy speaks about USB: hubs, boot-protocol
// keyboards and mice (they travel as input events instead), smart cards (they need
// smart-card redirection), wireless controllers and communication devices are denied, and
// everything else is allowed.
func DefaultUSBRules() []USBRule {
	rules, err := ParseUSBRules(`
DENY:  class=09              # hubs
DENY:  class=03 subclass=01  # boot keyboards and mice
DENY:  class=0B              # smart cards
DENY:  class=E0              # wireless controllers
DENY:  class=02              # communication devices
ALLOW:                       # everything else
`)
	if err != nil {
		// The text above is a constant that the tests parse; failing here is a programming error.
		panic(err)
	}
	return rules
}

// ErrUSBRuleSyntax is wrapped by every error ParseUSBRules returns.
var ErrUSBRuleSyntax = errors.New("policy: bad USB rule")

// ParseUSBRules parses rules in Citrix's USB policy syntax: one rule a line, "ALLOW:" or
// "DENY:" followed by space-separated key=value matches (keys vid, pid, rel, class,
// subclass, prot; values hexadecimal), '#' starting a comment. Blank lines are ignored.
func ParseUSBRules(text string) ([]USBRule, error) {
	var rules []USBRule
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		rule, err := parseUSBRule(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrUSBRuleSyntax, n+1, err)
		}
		rules = append(rules, rule)
	}
	return rules, nil
}

func parseUSBRule(line string) (USBRule, error) {
	verb, rest, ok := strings.Cut(line, ":")
	if !ok {
		return USBRule{}, fmt.Errorf("%q: want ALLOW: or DENY:", line)
	}
	rule := USBRule{Class: Any, Subclass: Any, Protocol: Any, Vendor: Any, Product: Any, Release: Any, Text: line}
	switch strings.ToUpper(strings.TrimSpace(verb)) {
	case "ALLOW":
		rule.Effect = Allow
	case "DENY":
		rule.Effect = Deny
	default:
		return USBRule{}, fmt.Errorf("%q: want ALLOW or DENY", verb)
	}
	for _, field := range strings.Fields(rest) {
		key, value, ok := strings.Cut(field, "=")
		if !ok {
			return USBRule{}, fmt.Errorf("%q: want key=value", field)
		}
		var target *int
		bits := 8
		switch strings.ToLower(key) {
		case "vid":
			target, bits = &rule.Vendor, 16
		case "pid":
			target, bits = &rule.Product, 16
		case "rel":
			target, bits = &rule.Release, 16
		case "class":
			target = &rule.Class
		case "subclass":
			target = &rule.Subclass
		case "prot":
			target = &rule.Protocol
		default:
			return USBRule{}, fmt.Errorf("unknown key %q (want vid, pid, rel, class, subclass or prot)", key)
		}
		if *target != Any {
			return USBRule{}, fmt.Errorf("key %q given twice", key)
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(value), "0x"), 16, bits)
		if err != nil {
			return USBRule{}, fmt.Errorf("%s=%q: want a %d-bit hexadecimal number", key, value, bits)
		}
		*target = int(v)
	}
	return rule, nil
}

func (r *USBRule) matches(vendor, product, release uint16, class, subclass, protocol uint8) bool {
	return matchField(r.Vendor, int(vendor)) && matchField(r.Product, int(product)) &&
		matchField(r.Release, int(release)) && matchField(r.Class, int(class)) &&
		matchField(r.Subclass, int(subclass)) && matchField(r.Protocol, int(protocol))
}

func matchField(want, got int) bool { return want == Any || want == got }

// firstMatch returns the index of the first rule matching the class triple, or -1.
func firstMatch(rules []USBRule, dev *USBDevice, class, subclass, protocol uint8) int {
	for i := range rules {
		if rules[i].matches(dev.Vendor, dev.Product, dev.Release, class, subclass, protocol) {
			return i
		}
	}
	return -1
}

// evaluate applies one rule list to a device. The device-level class triple is checked
// unless it defers to its interfaces (class 0), and every interface is checked: a composite
// device is denied when any interface's first matching rule denies it. It returns whether
// the device is allowed and the deciding rule's index (-1 when no rule matched).
func evaluateUSB(rules []USBRule, dev *USBDevice) (bool, int) {
	decided := -1
	if dev.Class != usbClassPerInterface || len(dev.Interfaces) == 0 {
		i := firstMatch(rules, dev, dev.Class, dev.Subclass, dev.Protocol)
		if i < 0 || rules[i].Effect == Deny {
			return false, i
		}
		decided = i
	}
	for _, iface := range dev.Interfaces {
		i := firstMatch(rules, dev, iface.Class, iface.Subclass, iface.Protocol)
		if i < 0 || rules[i].Effect == Deny {
			return false, i
		}
		if decided < 0 {
			decided = i
		}
	}
	return true, decided
}

package device

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrDenied is returned when a filter or a policy decision refuses a device.
var ErrDenied = errors.New("usb: device denied by filter")

// InterfaceClass is the class triple of one interface.
type InterfaceClass struct {
	Number, Class, SubClass, Protocol uint8
}

// Identity is what filters and policies look at: the device's class, ids, release and the
// classes of the interfaces of its active (or first) configuration.
type Identity struct {
	Class, SubClass, Protocol uint8
	Vendor, Product, Version  uint16
	Interfaces                []InterfaceClass
}

// IdentityOf builds the Identity of a device from its descriptors, looking at the
// configuration config (or the first one when config is not found).
func IdentityOf(d Descriptors, config uint8) Identity {
	id := Identity{Class: d.Device.Class, SubClass: d.Device.SubClass, Protocol: d.Device.Protocol,
		Vendor: d.Device.Vendor, Product: d.Device.Product, Version: d.Device.Release}
	for _, i := range ActiveEndpoints(d, config, func(uint8) uint8 { return 0 }) {
		id.Interfaces = append(id.Interfaces, InterfaceClass{i.Number, i.Class, i.SubClass, i.Protocol})
	}
	return id
}

// Rule is one usbredir filter rule: class, vendor, product, version (bcdDevice) and a
// verdict; -1 in a field matches anything.
type Rule struct {
	Class, Vendor, Product, Version int
	Allow                           bool
}

// Filter is an ordered rule list in the usbredir filter syntax. The first matching rule
// wins. A device is checked by its device class (unless that is 0x00 "per interface" or
// 0xEF "miscellaneous") and then by each interface's class; it is allowed only if every
// check allows it, so a composite device is denied when any interface's first match
// denies. When no rule matches a check, DefaultAllow decides.
type Filter struct {
	Rules        []Rule
	DefaultAllow bool
}

// ParseFilter parses rules in usbredir syntax: "class,vendor,product,version,allow"
// rules separated by '|', numbers decimal or 0x-hex, -1 as wildcard, allow 0 or 1.
// The empty string gives a filter with no rules.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	s = strings.TrimSpace(s)
	if s == "" {
		return f, nil
	}
	for n, rs := range strings.Split(s, "|") {
		fields := strings.Split(strings.TrimSpace(rs), ",")
		if len(fields) != 5 {
			return Filter{}, fmt.Errorf("filter rule %d %q: want 5 fields class,vendor,product,version,allow, got %d", n+1, rs, len(fields))
		}
		var v [5]int
		limits := [5]int{0xff, 0xffff, 0xffff, 0xffff, 1}
		names := [5]string{"class", "vendor", "product", "version", "allow"}
		for i, fs := range fields {
			x, err := strconv.ParseInt(strings.TrimSpace(fs), 0, 32)
			if err != nil {
				return Filter{}, fmt.Errorf("filter rule %d %q: %s %q is not a number", n+1, rs, names[i], fs)
			}
			if (x < -1 || x > int64(limits[i])) || (i == 4 && x < 0) {
				return Filter{}, fmt.Errorf("filter rule %d %q: %s %d out of range (-1..%#x)", n+1, rs, names[i], x, limits[i])
			}
			v[i] = int(x)
		}
		f.Rules = append(f.Rules, Rule{Class: v[0], Vendor: v[1], Product: v[2], Version: v[3], Allow: v[4] == 1})
	}
	return f, nil
}

// String formats the filter in usbredir syntax (hex ids).
func (f Filter) String() string {
	parts := make([]string, len(f.Rules))
	for i, r := range f.Rules {
		allow := 0
		if r.Allow {
			allow = 1
		}
		parts[i] = fmt.Sprintf("%s,%s,%s,%s,%d", hexOrAny(r.Class), hexOrAny(r.Vendor), hexOrAny(r.Product), hexOrAny(r.Version), allow)
	}
	return strings.Join(parts, "|")
}

func hexOrAny(v int) string {
	if v < 0 {
		return "-1"
	}
	return fmt.Sprintf("0x%02x", v)
}

func (f Filter) match(class uint8, id Identity) (allow, matched bool) {
	for _, r := range f.Rules {
		if (r.Class == -1 || r.Class == int(class)) && (r.Vendor == -1 || r.Vendor == int(id.Vendor)) &&
			(r.Product == -1 || r.Product == int(id.Product)) && (r.Version == -1 || r.Version == int(id.Version)) {
			return r.Allow, true
		}
	}
	return f.DefaultAllow, false
}

// Check decides whether the device may be redirected; the error says why not and wraps
// ErrDenied. Hubs and wireless controllers are always denied (see SafeDefaults).
func (f Filter) Check(id Identity) error {
	if err := SafeDefaults(id); err != nil {
		return err
	}
	if id.Class != ClassPerInterface && id.Class != ClassMisc {
		if allow, matched := f.match(id.Class, id); !allow {
			return fmt.Errorf("%w: device class %#02x (%s)", ErrDenied, id.Class, why(matched))
		}
	}
	for _, i := range id.Interfaces {
		if allow, matched := f.match(i.Class, id); !allow {
			return fmt.Errorf("%w: interface %d class %#02x (%s)", ErrDenied, i.Number, i.Class, why(matched))
		}
	}
	return nil
}

func why(matched bool) string {
	if matched {
		return "a deny rule matched first"
	}
	return "no rule matched and the default is deny"
}

// SafeDefaults denies what must never be redirected whatever the rules say: hubs (class
// 0x09) and wireless controllers (class 0xE0, e.g. Bluetooth), as device or interface.
func SafeDefaults(id Identity) error {
	deny := func(c uint8) bool { return c == ClassHub || c == ClassWireless }
	if deny(id.Class) {
		return fmt.Errorf("%w: device class %#02x is never redirected (hub or wireless controller)", ErrDenied, id.Class)
	}
	for _, i := range id.Interfaces {
		if deny(i.Class) {
			return fmt.Errorf("%w: interface %d class %#02x is never redirected (hub or wireless controller)", ErrDenied, i.Number, i.Class)
		}
	}
	return nil
}

// Decision is a caller-supplied attach-time policy: return nil to allow the device or an
// error (ideally wrapping ErrDenied) saying why not.
type Decision func(Identity) error

// Policy combines a filter and an optional decision: both must allow.
type Policy struct {
	Filter Filter
	Decide Decision
}

// Check applies the filter, then the decision.
func (p Policy) Check(id Identity) error {
	if err := p.Filter.Check(id); err != nil {
		return err
	}
	if p.Decide != nil {
		if err := p.Decide(id); err != nil {
			return fmt.Errorf("policy: %w", err)
		}
	}
	return nil
}

package policy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"cel.dev/cel-go/cel"
	"github.com/robfig/cron/v3"
)

// PolicySet is every policy of an organisation at one version. The version travels into
// each Decision so a session can tell that its decision is out of date.
type PolicySet struct {
	Version  uint64
	Policies []Policy
}

// Subject is who a session belongs to and what it was launched from: it selects the
// policies whose Scope and Target match.
type Subject struct {
	Organization string
	Groups       []string
	User         string
	// DesktopGroup is the desktop group or application group of the session.
	DesktopGroup string
}

// ErrInvalidPolicy is wrapped by every validation error NewEngine returns.
var ErrInvalidPolicy = errors.New("policy: invalid policy")

// Engine resolves sessions' decisions from one PolicySet. Conditions and schedules are
// compiled once, in NewEngine; an Engine is immutable and safe for concurrent use.
type Engine struct {
	version  uint64
	policies []compiledPolicy
	defaults compiledPolicy
}

type compiledPolicy struct {
	*Policy
	condition cel.Program // nil when the policy always applies
	schedules []compiledSchedule
}

type compiledSchedule struct {
	Schedule
	cron cron.Schedule
}

// BuiltinPolicyID is the policy ID explanations give when a built-in default decided,
// because no policy spoke about that area.
const BuiltinPolicyID = "builtin-defaults"

// DefaultPolicy returns the settings that apply in each area no policy speaks about:
// clipboard text and HTML both ways up to 10 MiB, uploads but no downloads, full display
// quality, no watermark, no timers, open egress, DefaultUSBRules, and every peripheral but
// Bluetooth. A policy that speaks about an area replaces its default entirely, so an
// administrator can be more permissive than the default as well as stricter.
func DefaultPolicy() Policy {
	return Policy{
		ID:           BuiltinPolicyID,
		Scope:        ScopeOrganization,
		Clipboard:    &Clipboard{Direction: DirectionBoth, Formats: FormatText | FormatHTML, MaxBytes: 10 << 20},
		USB:          &USB{Rules: DefaultUSBRules()},
		FileTransfer: &FileTransfer{Upload: true},
		Display:      &Display{MaxQuality: QualityLossless},
		Watermark:    &Watermark{Mode: WatermarkOff},
		Timers:       &Timers{},
		Network:      &Network{Default: Allow},
		Peripherals:  &Peripherals{Allowed: PeripheralsAll &^ PeripheralBluetooth},
	}
}

// NewEngine validates a policy set and compiles its conditions and schedules.
func NewEngine(set PolicySet) (*Engine, error) {
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("policy: condition environment: %w", err)
	}
	defaults := DefaultPolicy()
	e := &Engine{
		version:  set.Version,
		policies: make([]compiledPolicy, 0, len(set.Policies)),
		defaults: compiledPolicy{Policy: &defaults},
	}
	seen := make(map[string]bool, len(set.Policies))
	for i := range set.Policies {
		p := set.Policies[i] // copied: later changes to the caller's slice do not reach us
		if err := validate(&p); err != nil {
			return nil, err
		}
		if seen[p.ID] {
			return nil, fmt.Errorf("%w: policy id %q used twice", ErrInvalidPolicy, p.ID)
		}
		seen[p.ID] = true
		cp := compiledPolicy{Policy: &p}
		if p.When != "" {
			if cp.condition, err = compileCondition(env, p.When); err != nil {
				return nil, fmt.Errorf("policy %q: %w", p.ID, err)
			}
		}
		if p.Timers != nil {
			for _, s := range p.Timers.Schedules {
				sched, err := cron.ParseStandard(s.Cron)
				if err != nil {
					return nil, fmt.Errorf("%w: policy %q: schedule %q: %v", ErrInvalidPolicy, p.ID, s.Cron, err)
				}
				cp.schedules = append(cp.schedules, compiledSchedule{Schedule: s, cron: sched})
			}
		}
		e.policies = append(e.policies, cp)
	}
	// Widest scope first, so that among equally strict settings the widest scope is credited.
	slices.SortStableFunc(e.policies, func(a, b compiledPolicy) int { return cmp.Compare(a.Scope, b.Scope) })
	return e, nil
}

// Version returns the version of the policy set the engine was built from.
func (e *Engine) Version() uint64 { return e.version }

func validate(p *Policy) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: policy %q: %s", ErrInvalidPolicy, p.ID, fmt.Sprintf(format, args...))
	}
	if p.ID == "" {
		return fmt.Errorf("%w: a policy needs an id", ErrInvalidPolicy)
	}
	if p.Scope < ScopeOrganization || p.Scope > ScopeDesktopGroup {
		return bad("unknown scope %d", p.Scope)
	}
	if p.Target == "" {
		return bad("no target for its %v scope", p.Scope)
	}
	if c := p.Clipboard; c != nil {
		if c.Direction&^DirectionBoth != 0 || c.Formats&^FormatAll != 0 || c.MaxBytes < 0 {
			return bad("clipboard: direction, formats or size out of range")
		}
	}
	if f := p.FileTransfer; f != nil && f.MaxBytes < 0 {
		return bad("file transfer: negative size limit")
	}
	if d := p.Display; d != nil {
		if d.MaxQuality < QualityLow || d.MaxQuality > QualityLossless || d.MaxFPS < 0 {
			return bad("display: quality or frame rate out of range")
		}
	}
	if w := p.Watermark; w != nil {
		if w.Mode > WatermarkOn || w.Transparency < 0 || w.Transparency > 100 {
			return bad("watermark: mode or transparency (0-100) out of range")
		}
	}
	if t := p.Timers; t != nil {
		if t.DisconnectAfterIdle < 0 || t.ShutdownAfterIdle < 0 {
			return bad("timers: negative idle limit")
		}
		for _, s := range t.Schedules {
			if s.Action < ActionBoot || s.Action > ActionShutdown {
				return bad("timers: unknown action %d", s.Action)
			}
		}
	}
	if u := p.USB; u != nil {
		for i, r := range u.Rules {
			if !usbFieldOK(r.Class, 0xff) || !usbFieldOK(r.Subclass, 0xff) || !usbFieldOK(r.Protocol, 0xff) ||
				!usbFieldOK(r.Vendor, 0xffff) || !usbFieldOK(r.Product, 0xffff) || !usbFieldOK(r.Release, 0xffff) {
				return bad("usb rule %d: a field is neither Any nor in range", i+1)
			}
		}
	}
	if n := p.Network; n != nil {
		for i, r := range n.Egress {
			if r.FromPort > r.ToPort {
				return bad("egress rule %d: port range %d-%d is empty", i+1, r.FromPort, r.ToPort)
			}
		}
	}
	if pe := p.Peripherals; pe != nil && pe.Allowed&^PeripheralsAll != 0 {
		return bad("peripherals: unknown kind")
	}
	return nil
}

func usbFieldOK(v, max int) bool { return v == Any || (v >= 0 && v <= max) }

// applies reports whether a policy is attached to the subject.
func (p *compiledPolicy) applies(subj *Subject) bool {
	switch p.Scope {
	case ScopeOrganization:
		return p.Target == subj.Organization
	case ScopeGroup:
		return slices.Contains(subj.Groups, p.Target)
	case ScopeUser:
		return p.Target == subj.User
	case ScopeDesktopGroup:
		return p.Target == subj.DesktopGroup
	}
	return false
}

// Resolve combines every policy attached to the subject whose condition holds into the
// session's Decision. In each area the stricter setting wins, field by field; an area no
// applicable policy speaks about takes DefaultPolicy's setting. Resolve is meant to run once
// per session (and again when the policy set changes), not per event.
func (e *Engine) Resolve(subj Subject, attrs Attributes) (*Decision, error) {
	var vars map[string]any
	var applied []*compiledPolicy
	for i := range e.policies {
		p := &e.policies[i]
		if !p.applies(&subj) {
			continue
		}
		if p.condition != nil {
			if vars == nil {
				vars = activation(subj, attrs)
			}
			ok, err := evalCondition(p.condition, vars)
			if err != nil {
				return nil, fmt.Errorf("%w: policy %q: %v", ErrCondition, p.ID, err)
			}
			if !ok {
				continue
			}
		}
		applied = append(applied, p)
	}
	return newDecision(e.version, subj, applied, &e.defaults), nil
}
